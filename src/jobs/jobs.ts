import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../config';
import { cleanupExpiredExports } from '../exports';
import { runHealthCheck } from '../health';
import { sweepPending } from '../ingest/sweeper';
import { deadLetterPolicyFromConfig } from './dead-letter-policy';
import type { Phase2Runner } from './dead-letters';
import { replayDueDeadLetters } from './dead-letters';
import type { Job } from './types';
import { runHubspotSync, syncSchedule } from '../sources/hubspot';

const SWEEP_BATCH = 200;

/** Every job the scheduler knows, on its configured schedule (SCHEDULER_JOBS chooses among them). */
export function builtInJobs(deps: { config: Config; phase2: Phase2Runner }): Job[] {
  const { config, phase2 } = deps;
  return [
    {
      // Every instance also sweeps a batch every PENDING_SWEEP_INTERVAL_SECONDS; this run drains a backlog.
      name: 'pending-sweep',
      schedule: config.PENDING_SWEEP_CRON,
      run: async ({ pool, signal }) => {
        const total = { examined: 0, processed: 0, failed: 0 };
        while (!signal.aborted) {
          const swept = await sweepPending(pool, phase2, {
            olderThanSeconds: config.PENDING_SWEEP_AGE_SECONDS,
            batchSize: SWEEP_BATCH,
          });
          total.examined += swept.examined;
          total.processed += swept.processed;
          total.failed += swept.failed;
          if (swept.examined < SWEEP_BATCH || swept.processed === 0) break;
        }
        return total;
      },
    },
    {
      name: 'dead-letter-replay',
      schedule: config.DEAD_LETTER_REPLAY_CRON,
      run: ({ pool, signal }) =>
        replayDueDeadLetters(pool, phase2, deadLetterPolicyFromConfig(config), {
          limit: config.DEAD_LETTER_REPLAY_BATCH,
          signal,
        }),
    },
    {
      // Alert rules, e-mail / SMS notices (de-duplicated by condition) and recovery notices: src/health.
      name: 'health-check',
      schedule: config.HEALTH_CHECK_CRON,
      run: async (context) => (await runHealthCheck(context)).counts,
    },
    {
      name: 'export-cleanup',
      schedule: config.EXPORT_CLEANUP_CRON,
      run: async ({ pool }) => ({ ...(await cleanupExpiredExports(pool)) }),
    },
    // --- hubspot: every sync job, resuming from its checkpoints; only when HUBSPOT_TOKEN is set ---
    ...(config.HUBSPOT_TOKEN
      ? [
          {
            name: 'hubspot-sync',
            schedule: syncSchedule(config.HUBSPOT_SYNC_INTERVAL_MINUTES),
            run: runHubspotSync,
          },
        ]
      : []),
    {
      // Diagnostic: only sleeps (in small steps, so it notices an abort). Scheduled only when SCHEDULER_JOBS
      // names it; used to watch leadership and run exclusivity on a deployment (and in the tests).
      name: 'probe',
      schedule: config.SCHEDULER_PROBE_CRON,
      run: async ({ signal }) => {
        const started = Date.now();
        while (Date.now() - started < config.SCHEDULER_PROBE_MS) {
          signal.throwIfAborted();
          await delay(Math.min(20, config.SCHEDULER_PROBE_MS));
        }
        signal.throwIfAborted();
        return { slept_ms: Date.now() - started };
      },
    },
  ];
}
