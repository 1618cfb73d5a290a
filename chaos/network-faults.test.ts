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
import { TcpProxy } from './helpers/tcp-proxy';
import { countBy, isAck, slowest, within } from './helpers/timeline';

const RATE = 50;
const CONNECT_TIMEOUT_MS = 1000;
const QUERY_TIMEOUT_MS = 2000;
/**
 * When the database stops answering, a request gives up after at most two database steps, each bounded by one
 * wait for a connection (connect timeout) and one statement (query timeout): its commit (or the group commit it
 * queued behind) and then Phase 2, whose failure leaves the acknowledged observation pending. Plus slack for a
 * loaded machine.
 */
const ANSWER_BOUND_MS = 2 * (CONNECT_TIMEOUT_MS + QUERY_TIMEOUT_MS) + 2000;
/** One way, on every chunk: a 50 ms round trip, as between regions. */
const LATENCY_MS = 25;
const PHASES = { healthy: 5_000, latency: 6_000, blackhole: 6_000, reset: 5_000, healed: 10_000 };

let db: TestDatabase;
let proxy: TcpProxy;
let service: Service | null = null;

beforeAll(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
});
afterAll(async () => {
  if (service) await stopService(service);
  await proxy.stop();
  await db.drop();
});

describe('network faults between the service and PostgreSQL (latency, blackhole, reset)', () => {
  it('never acknowledges what it cannot commit, never hangs past its timeouts, and recovers once healed', async () => {
    const seed = chaosSeed();
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const running = await startService({
      DATABASE_URL: viaProxy.toString(),
      DATABASE_CONNECT_TIMEOUT_MS: String(CONNECT_TIMEOUT_MS),
      DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
    });
    service = running;
    const pid = running.child.pid;
    const http = new HttpClient(256, 30_000);
    const loadMs = Object.values(PHASES).reduce((sum, ms) => sum + ms, 0);
    const giveUpAt = Date.now() + loadMs + 45_000;
    const sender = new RetryingSender(http, {
      url: () => `${running.baseUrl}/api/webhook`,
      giveUpAt: () => giveUpAt,
      random: seededRandom(seed),
    });

    const load = sendAtRate(sender, visitEvent, RATE, loadMs);
    await delay(PHASES.healthy);
    const at = { latency: Date.now(), blackhole: 0, reset: 0, healed: 0 };
    proxy.pass(LATENCY_MS);
    await delay(PHASES.latency);
    at.blackhole = Date.now();
    proxy.blackhole();
    await delay(PHASES.blackhole);
    at.reset = Date.now();
    proxy.reset();
    await delay(PHASES.reset);
    at.healed = Date.now();
    proxy.heal();
    await load;
    await sender.drain();
    http.close();

    const ledger = await computeLedger(db.pool, sender.records.values());
    const latency = within(sender.attempts, at.latency, at.blackhole);
    const blackholed = within(sender.attempts, at.blackhole, at.reset);
    const reset = within(sender.attempts, at.reset, at.healed);
    const healed = sender.attempts.filter((attempt) => attempt.startedAt >= at.healed);
    const issuedInFaults = [
      [at.blackhole, at.reset],
      [at.reset, at.healed],
    ].map(([from, to]) => sender.attempts.filter((a) => a.startedAt >= from! && a.startedAt < to!));
    const firstAckHealed = healed
      .filter(isAck)
      .reduce((min, a) => Math.min(min, a.startedAt + a.ms), Infinity);
    printLedger('network faults', ledger, {
      seed,
      rate: RATE,
      latencyMs: LATENCY_MS,
      answerBoundMs: ANSWER_BOUND_MS,
      answers: {
        latency: countBy(latency),
        blackhole: countBy(blackholed),
        reset: countBy(reset),
        healed: countBy(healed),
      },
      slowestMs: {
        latency: slowest(latency),
        issuedInBlackhole: slowest(issuedInFaults[0]!),
        issuedInReset: slowest(issuedInFaults[1]!),
        overall: slowest(sender.attempts),
      },
      recoveryMs: firstAckHealed - at.healed,
      proxyConnections: proxy.accepted,
      statusCounts: sender.statusCounts(),
      attempts: sender.attempts.length,
    });

    // Latency alone costs time, not acknowledgements.
    expect(latency.filter(isAck).length).toBeGreaterThan(0);
    // Blackholed and reset: nothing can commit, so every answer is a 503, and none is a 2xx.
    for (const window of [blackholed, reset]) {
      expect(window.length).toBeGreaterThan(RATE);
      expect(countBy(window)).toEqual({ 503: window.length });
    }
    // No request facing a fault hung past the configured timeouts (latency alone may queue requests on hot rows
    // for longer: that is load, not a hang), and no request anywhere went unanswered.
    for (const issued of issuedInFaults) expect(slowest(issued)).toBeLessThanOrEqual(ANSWER_BOUND_MS);
    expect(sender.attempts.filter((attempt) => attempt.status === 0)).toEqual([]);
    // Healed: the same process acknowledges again.
    expect(running.child.exitCode).toBeNull();
    expect(running.child.pid).toBe(pid);
    expect(healed.filter(isAck).length).toBeGreaterThan(RATE);
    expect(ledger).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0, unacked: 0 });
    expect(ledger.acked2xx).toBe(ledger.sent);
    expect(ledger.stored).toBe(ledger.sent);
  });
});
