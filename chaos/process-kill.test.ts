import type { TestDatabase } from '../__tests__/helpers/database';
import { createTestDatabase } from '../__tests__/helpers/database';
import { runKillScenario } from './helpers/kill-scenario';
import { printLedger } from './helpers/ledger';
import { chaosSeed, envNumber } from './helpers/random';

const DURATION_SECONDS = envNumber('CHAOS_DURATION_SECONDS', 60);
const RATE = 200;

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

describe('process kill: SIGKILL every 5-15 s under 200 webhooks/s', () => {
  it('stores every distinct event exactly once, and every acknowledgement matches its row', async () => {
    const seed = chaosSeed();
    const result = await runKillScenario({ db, rate: RATE, durationMs: DURATION_SECONDS * 1000, seed });
    const { ledger: _ledger, ...details } = result;
    printLedger('process kill', result.ledger, {
      seed,
      durationSeconds: DURATION_SECONDS,
      rate: RATE,
      ...details,
    });
    expect(result.kills).toBeGreaterThanOrEqual(DURATION_SECONDS >= 20 ? 1 : 0);
    expect(result.crashes).toEqual([]);
    expect(result.ledger).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0, unacked: 0 });
    expect(result.ledger.sent).toBe(Math.round(RATE * DURATION_SECONDS));
    expect(result.ledger.acked2xx).toBe(result.ledger.sent);
    expect(result.ledger.stored).toBe(result.ledger.sent);
  });
});
