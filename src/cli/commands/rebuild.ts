import type { Command } from 'commander';
import { durationMs } from '../../config';
import type { Pool } from '../../db/pool';
import { SERVICE_APPLICATION_NAME } from '../../db/pool';
import { LEADER_APPLICATION_NAME } from '../../jobs/leader';
import { phase2FromConfig } from '../../ingest/phase2';
import { rebuildFromLog } from '../../rebuild';
import { drainRefreshQueue } from '../../snapshots/refresh';
import { replayManualDecisionsInTransaction } from '../identity/decisions';
import type { CommandResult } from '../runtime';
import { CliError, databaseAction, positiveInteger } from '../runtime';

interface CliOptions {
  execute?: boolean;
  resume?: boolean;
  batchSize?: number;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('rebuild')
    .summary('rebuild every person, company and location from the observation log')
    .description(
      'clear everything Phase 2 derived (persons, companies, locations, aliases, merges, conflicts, job changes) ' +
        'and rebuild it from the observation log in observation order, exactly as live processing would, then ' +
        'replay the manual merge and unmerge decisions',
    )
    .option('--execute', 'rebuild (default: dry run, reports what would be rebuilt)')
    .option('--resume', 'continue the last unfinished rebuild from its checkpoint instead of starting over')
    .option('--batch-size <n>', 'observations per batch (default 2000)', positiveInteger)
    .option('--force', 'rebuild even though a running service is connected to the database')
    .addHelpText(
      'after',
      `
Observations the batch resolver can take (new persons, plain updates) are written set-based; merges, conflicts
and job changes go through the live full path one at a time. Each batch commits with a checkpoint, so an
interrupted rebuild resumes with --resume. Stop the service while rebuilding, whatever its PHASE2_MODE: its
sweeper would resolve the observations the rebuild has reset to pending, beside the rebuild. The rebuild refuses
to start while service connections are open (--force overrides). A stopped service stores nothing: pause the
Dux-Soup campaigns meanwhile.`,
    )
    .action(
      databaseAction<CliOptions>('rebuild', async (context, options): Promise<CommandResult> => {
        const { pool, config } = context;
        const counts = await pool.query<{ observations: number; persons: number; unfinished: number }>(
          `SELECT (SELECT count(*)::int FROM observation_state WHERE status <> 'ignored') AS observations,
                  (SELECT count(*)::int FROM persons WHERE merged_into IS NULL) AS persons,
                  (SELECT count(*)::int FROM rebuild_runs WHERE status <> 'completed') AS unfinished`,
        );
        const before = counts.rows[0]!;
        if (options.execute !== true) {
          return {
            summary: {
              dry_run: true,
              observations: before.observations,
              live_persons_now: before.persons,
              unfinished_runs: before.unfinished,
            },
          };
        }
        if (options.force !== true) await refuseWhileServiceRuns(pool);
        const settings = {
          policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
          defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
        };
        context.progress.start(before.observations, 'observations');
        const rebuilt = await rebuildFromLog(pool, {
          namespace: config.CANONICAL_ID_NAMESPACE,
          settings,
          processor: phase2FromConfig(pool, config, context.logger),
          resume: options.resume === true,
          batchSize: options.batchSize,
          onProgress: (done) => {
            context.progress.update(done);
            if (context.signal.aborted) throw new Error('interrupted: resume with --resume');
          },
        });
        context.progress.stop();
        const decisions = await replayManualDecisionsInTransaction(pool, settings);
        await drainRefreshQueue(pool, settings);
        const after = await pool.query<{ persons: number }>(
          'SELECT count(*)::int AS persons FROM persons WHERE merged_into IS NULL',
        );
        return {
          summary: {
            dry_run: false,
            ...rebuilt,
            live_persons: after.rows[0]!.persons,
            manual_decisions: decisions,
          },
        };
      }),
    );
}

/** A running service would process, beside the rebuild, the observations the rebuild resets to pending. */
async function refuseWhileServiceRuns(pool: Pool): Promise<void> {
  const { rows } = await pool.query<{ connections: number }>(
    `SELECT count(*)::int AS connections FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = ANY($1::text[])`,
    [[SERVICE_APPLICATION_NAME, LEADER_APPLICATION_NAME]],
  );
  const connections = rows[0]?.connections ?? 0;
  if (connections > 0) {
    throw new CliError(
      `a running duxsoup-etl service holds ${connections} connection(s) to this database: stop it first (its ` +
        'sweeper would process the observations the rebuild resets), or pass --force',
    );
  }
}
