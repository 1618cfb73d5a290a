import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../src/db/embedded';
import type { TestDatabase } from '../../__tests__/helpers/database';
import { visitEvent } from './events';
import { HttpClient } from './http';
import type { Ledger } from './ledger';
import { computeLedger } from './ledger';
import { seededRandom } from './random';
import { RetryingSender, sendAtRate } from './sender';
import type { Service } from './service';
import { distinctErrors, hasExited, killService, startService, stopService } from './service';

export interface KillScenarioOptions {
  db: TestDatabase;
  /** `src/server.ts`, or a test-only wrapper around it (the negative control). */
  entry?: string;
  env?: Record<string, string>;
  rate: number;
  durationMs: number;
  seed: number;
  minKillGapMs?: number;
  maxKillGapMs?: number;
  /** How long the client keeps retrying after the load ends. */
  drainMs?: number;
}

export interface KillScenarioResult {
  ledger: Ledger;
  kills: number;
  /** Milliseconds from each SIGKILL until the restarted service was ready. */
  downtimesMs: number[];
  /** Times the service exited by itself (not our SIGKILL): each is a crash, with its errors. */
  crashes: string[];
  statusCounts: Record<string, number>;
  errors: Record<string, number>;
  attempts: number;
  /** Slowest answer or failure, and the 99th percentile, in ms. */
  slowestMs: number;
  p99Ms: number;
  elapsedMs: number;
}

function latency(ms: number[]): { slowestMs: number; p99Ms: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  return { slowestMs: sorted.at(-1) ?? 0, p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? 0 };
}

/**
 * Load at `rate` events/s while the service is SIGKILLed every minKillGap..maxKillGap ms (seeded) and restarted
 * on the same port; the client resends unacknowledged events until acknowledged. Answers the ledger.
 */
export async function runKillScenario(options: KillScenarioOptions): Promise<KillScenarioResult> {
  const began = Date.now();
  const random = seededRandom(options.seed);
  const port = await freePort();
  const env = {
    DATABASE_URL: options.db.url,
    // The ledger is about Phase 1 (acknowledged means committed). Phase 2 runs in the same process, from the
    // sweeper, so kills land in it too; inline it would cap throughput below 200/s on a 2-core machine
    // sharing the CPU with PostgreSQL and the load generator, and the test would measure queueing instead.
    PHASE2_MODE: 'deferred',
    PENDING_SWEEP_INTERVAL_SECONDS: '1',
    PENDING_SWEEP_AGE_SECONDS: '1',
    ...options.env,
  };
  const start = () => startService(env, { port, ...(options.entry ? { entry: options.entry } : {}) });
  let service: Service = await start();
  const http = new HttpClient(256, 15_000);
  const loadEndsAt = Date.now() + options.durationMs;
  const giveUpAt = loadEndsAt + (options.drainMs ?? 60_000);
  const sender = new RetryingSender(http, {
    url: () => `${service.baseUrl}/api/webhook`,
    giveUpAt: () => giveUpAt,
    random,
  });

  const downtimesMs: number[] = [];
  const crashes: string[] = [];
  const killer = (async () => {
    const minGap = options.minKillGapMs ?? 5_000;
    const maxGap = options.maxKillGapMs ?? 15_000;
    for (;;) {
      const gap = minGap + random() * (maxGap - minGap);
      if (Date.now() + gap >= loadEndsAt) return;
      await delay(gap);
      const killedAt = Date.now();
      if (hasExited(service)) crashes.push(distinctErrors(service.output()));
      await killService(service);
      service = await start();
      downtimesMs.push(Date.now() - killedAt);
    }
  })();

  try {
    await sendAtRate(sender, visitEvent, options.rate, options.durationMs);
    await killer;
    await sender.drain();
    if (hasExited(service)) crashes.push(distinctErrors(service.output()));
    const ledger = await computeLedger(options.db.pool, sender.records.values());
    return {
      ledger,
      kills: downtimesMs.length,
      downtimesMs,
      crashes,
      statusCounts: sender.statusCounts(),
      errors: sender.errorCounts(),
      attempts: sender.attempts.length,
      ...latency(sender.attempts.map((attempt) => attempt.ms)),
      elapsedMs: Date.now() - began,
    };
  } finally {
    await killer.catch(() => undefined);
    http.close();
    await stopService(service);
  }
}
