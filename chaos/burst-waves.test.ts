import { setTimeout as delay } from 'node:timers/promises';
import type { TestDatabase } from '../__tests__/helpers/database';
import { createTestDatabase } from '../__tests__/helpers/database';
import { visitEvent } from './helpers/events';
import { HttpClient } from './helpers/http';
import { computeLedger, printLedger } from './helpers/ledger';
import { chaosSeed, seededRandom } from './helpers/random';
import { RetryingSender, sendAtRate } from './helpers/sender';
import type { Service } from './helpers/service';
import { startService, stopService } from './helpers/service';
import { countBy } from './helpers/timeline';

/** The client's socket cap: what one machine realistically holds open towards one service. */
const SOCKET_CAP = 256;
/** graphile-worker's tower-defence waves: one event, then 1 000 at 10 ms gaps, 3 000 at 1 ms, 5 000 at once. */
const WAVES = [
  { name: '1', count: 1, gapMs: 0 },
  { name: '1000 at 10 ms', count: 1000, gapMs: 10 },
  { name: '3000 at 1 ms', count: 3000, gapMs: 1 },
  { name: '5000 at once', count: 5000, gapMs: 0 },
];
const SWEEP_WAIT_MS = 60_000;

let db: TestDatabase;
let service: Service | null = null;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  if (service) await stopService(service);
  await db.drop();
});

async function observationStates(): Promise<Record<string, number>> {
  const { rows } = await db.pool.query<{ status: string; n: number }>(
    'SELECT status, count(*)::int AS n FROM observations GROUP BY status',
  );
  return Object.fromEntries(rows.map((row) => [row.status, row.n]));
}

describe('burst waves', () => {
  it('answers every request (2xx or 503 to retry), stores each event once, and leaves nothing pending', async () => {
    const seed = chaosSeed();
    const running = await startService({
      DATABASE_URL: db.url,
      PENDING_SWEEP_INTERVAL_SECONDS: '1',
      PENDING_SWEEP_AGE_SECONDS: '1',
    });
    service = running;
    const http = new HttpClient(SOCKET_CAP, 60_000);
    let giveUpAt = Infinity;
    const sender = new RetryingSender(http, {
      url: () => `${running.baseUrl}/api/webhook`,
      giveUpAt: () => giveUpAt,
      random: seededRandom(seed),
    });

    let index = 0;
    const waves: Record<string, { ms: number; answers: Record<string, number> }> = {};
    for (const wave of WAVES) {
      const began = Date.now();
      const firstAttempt = sender.attempts.length;
      giveUpAt = began + 120_000;
      const offset = index;
      if (wave.gapMs === 0) {
        for (let i = 0; i < wave.count; i += 1) sender.send(visitEvent(offset + i));
      } else {
        await sendAtRate(sender, (i) => visitEvent(offset + i), 1000 / wave.gapMs, wave.count * wave.gapMs);
      }
      index += wave.count;
      await sender.drain();
      waves[wave.name] = { ms: Date.now() - began, answers: countBy(sender.attempts.slice(firstAttempt)) };
    }
    http.close();

    // Observations whose Phase 2 was cut short (a 503 after the commit) are finished by the sweeper.
    const deadline = Date.now() + SWEEP_WAIT_MS;
    let states = await observationStates();
    while ((states.pending ?? 0) > 0 && Date.now() < deadline) {
      await delay(500);
      states = await observationStates();
    }
    const ledger = await computeLedger(db.pool, sender.records.values());
    printLedger('burst waves', ledger, {
      seed,
      socketCap: SOCKET_CAP,
      waves,
      observationStates: states,
      statusCounts: sender.statusCounts(),
      attempts: sender.attempts.length,
    });

    const total = WAVES.reduce((sum, wave) => sum + wave.count, 0);
    // Every request got an HTTP answer, and only acknowledgements or 503 / 429 (retry later).
    for (const status of Object.keys(sender.statusCounts())) expect(['200', '429', '503']).toContain(status);
    expect(ledger).toMatchObject({ sent: total, acked2xx: total, lost: 0, duplicated: 0, mismatched: 0 });
    expect(ledger.stored).toBe(total);
    // No stuck `pending` observations: every one was resolved to a person.
    expect(states).toEqual({ processed: total });
  });
});
