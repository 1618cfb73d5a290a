import path from 'node:path';
import type { TestDatabase } from '../__tests__/helpers/database';
import { createTestDatabase } from '../__tests__/helpers/database';
import { runKillScenario } from './helpers/kill-scenario';
import { printLedger } from './helpers/ledger';
import { chaosSeed, envNumber } from './helpers/random';

/** Long enough for at least one kill (the first comes within 15 s), short enough to keep the job in budget. */
const DURATION_SECONDS = Math.min(envNumber('CHAOS_DURATION_SECONDS', 60), 20);
const RATE = 200;
const ACK_BEFORE_COMMIT_MS = 500;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('negative control: the kill scenario against a build that acknowledges before it commits', () => {
  it('the ledger reports acknowledged events as lost', async () => {
    const seed = chaosSeed();
    const result = await runKillScenario({
      db,
      entry: path.join(__dirname, 'helpers', 'ack-before-commit-server.ts'),
      env: { CHAOS_ACK_BEFORE_COMMIT_MS: String(ACK_BEFORE_COMMIT_MS) },
      rate: RATE,
      durationMs: DURATION_SECONDS * 1000,
      seed,
      minKillGapMs: 5_000,
      maxKillGapMs: Math.min(15_000, DURATION_SECONDS * 1000 - 1000),
    });
    const { ledger: _ledger, ...details } = result;
    printLedger('negative control: ack before commit', result.ledger, {
      seed,
      durationSeconds: DURATION_SECONDS,
      rate: RATE,
      ackBeforeCommitMs: ACK_BEFORE_COMMIT_MS,
      ...details,
    });
    expect(result.kills).toBeGreaterThanOrEqual(1);
    expect(result.ledger.lost).toBeGreaterThan(0);
  });
});
