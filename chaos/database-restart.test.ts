import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { EmbeddedPostgres } from '../src/db/embedded';
import { startEmbeddedPostgres } from '../src/db/embedded';
import type { Pool } from '../src/db';
import { createPool } from '../src/db/pool';
import { visitEvent } from './helpers/events';
import { HttpClient } from './helpers/http';
import { computeLedger, printLedger } from './helpers/ledger';
import { chaosSeed, seededRandom } from './helpers/random';
import { RetryingSender, sendAtRate } from './helpers/sender';
import type { Service } from './helpers/service';
import { distinctErrors, startService, stopService } from './helpers/service';
import { countBy, isAck, slowest, within } from './helpers/timeline';

const RATE = 100;
const HEALTHY_BEFORE_MS = 6_000;
const DOWN_MS = 6_000;
const HEALTHY_AFTER_MS = 10_000;

/** A PostgreSQL server of this scenario's own (stopping the run's server would disturb every other test). */
let dir: string;
let postgres: EmbeddedPostgres;
let service: Service | null = null;
let pool: Pool | null = null;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-chaos-pg-'));
  fs.chmodSync(dir, 0o755);
  postgres = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'duxsoup_chaos' });
});
afterAll(async () => {
  await pool?.end();
  if (service) await stopService(service);
  await postgres.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('database restart: PostgreSQL is stopped and started under load', () => {
  it('answers 503 (never 2xx) while it cannot commit, recovers without a restart, and stores every acked event', async () => {
    const seed = chaosSeed();
    const running = await startService({
      DATABASE_URL: postgres.url,
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      DATABASE_QUERY_TIMEOUT_MS: '3000',
    });
    service = running;
    const pid = running.child.pid;
    const http = new HttpClient(256, 15_000);
    const loadMs = HEALTHY_BEFORE_MS + DOWN_MS + HEALTHY_AFTER_MS;
    let giveUpAt = Date.now() + loadMs + 45_000;
    // A crashed service will not come back: stop retrying at once rather than at the deadline.
    void running.exited.then(() => (giveUpAt = 0));
    const sender = new RetryingSender(http, {
      url: () => `${running.baseUrl}/api/webhook`,
      giveUpAt: () => giveUpAt,
      random: seededRandom(seed),
    });

    const load = sendAtRate(sender, visitEvent, RATE, loadMs);
    await delay(HEALTHY_BEFORE_MS);
    const stopBegan = Date.now();
    await postgres.stop();
    const stopped = Date.now();
    await delay(DOWN_MS);
    const restartBegan = Date.now();
    postgres = await startEmbeddedPostgres({
      dataDir: postgres.dataDir,
      port: postgres.port,
      database: 'duxsoup_chaos',
    });
    const restarted = Date.now();
    await load;
    await sender.drain();
    http.close();

    pool = createPool({
      connectionString: postgres.url,
      max: 2,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 30000,
    });
    const ledger = await computeLedger(pool, sender.records.values());
    const whileDown = within(sender.attempts, stopped, restartBegan);
    const afterRestart = sender.attempts.filter((attempt) => attempt.startedAt >= restarted);
    const firstAckAfterRestart = afterRestart
      .filter(isAck)
      .reduce((min, a) => Math.min(min, a.startedAt + a.ms), Infinity);
    printLedger('database restart', ledger, {
      seed,
      rate: RATE,
      stopMs: stopped - stopBegan,
      downMs: restartBegan - stopped,
      startMs: restarted - restartBegan,
      recoveryMs: firstAckAfterRestart - restarted,
      answersWhileDown: countBy(whileDown),
      slowestWhileDownMs: slowest(whileDown),
      statusCounts: sender.statusCounts(),
      attempts: sender.attempts.length,
    });

    if (running.child.exitCode !== null || running.child.signalCode !== null) {
      console.log(
        `the service exited (${running.child.exitCode ?? running.child.signalCode}); its errors:\n${distinctErrors(running.output())}`,
      );
    }
    // While the server was down, every request was answered, and answered 503.
    expect(whileDown.length).toBeGreaterThan(RATE);
    expect(countBy(whileDown)).toEqual({ 503: whileDown.length });
    // Nothing but acknowledgements and 503s, ever; no request went unanswered.
    expect(Object.keys(sender.statusCounts()).sort()).toEqual(['200', '503']);
    // Recovered without a restart: the same process acknowledges again after the server came back.
    expect(running.child.exitCode).toBeNull();
    expect(running.child.pid).toBe(pid);
    expect(afterRestart.filter(isAck).length).toBeGreaterThan(RATE);
    expect(ledger).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0, unacked: 0 });
    expect(ledger.acked2xx).toBe(ledger.sent);
    expect(ledger.stored).toBe(ledger.sent);
  });
});
