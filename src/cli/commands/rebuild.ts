import type { Command } from 'commander';
import { durationMs } from '../../config';
import { phase2FromConfig } from '../../ingest/phase2';
import { rebuildFromLog } from '../../rebuild';
import { drainRefreshQueue } from '../../snapshots/refresh';
import { replayManualDecisionsInTransaction } from '../identity/decisions';
import type { CommandResult } from '../runtime';
import { databaseAction, positiveInteger } from '../runtime';

interface CliOptions {
  execute?: boolean;
  resume?: boolean;
  batchSize?: number;
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
    .addHelpText(
      'after',
      `
Observations the batch resolver can take (new persons, plain updates) are written set-based; merges, conflicts
and job changes go through the live full path one at a time. Each batch commits with a checkpoint, so an
interrupted rebuild resumes with --resume. Stop the service (or run it with PHASE2_MODE=deferred) while
rebuilding: webhooks are still stored, and the sweeper resolves them once the rebuild is done.`,
    )
    .action(
      databaseAction<CliOptions>('rebuild', async (context, options): Promise<CommandResult> => {
        const { pool, config } = context;
        const counts = await pool.query<{ observations: number; persons: number; unfinished: number }>(
          `SELECT (SELECT count(*)::int FROM observations WHERE status <> 'ignored') AS observations,
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
