import type { Command } from 'commander';
import type { Pool } from '../../db/pool';
import type { Phase2Runner } from '../../jobs/dead-letters';
import { replayObservation } from '../../jobs/dead-letters';
import type { ContributionOptions } from '../../snapshots/contributions';
import { contributionOf } from '../../snapshots/contributions';
import { phase2FromConfig } from '../../ingest/phase2';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, positiveInteger } from '../runtime';

const BATCH = 500;

export interface LinkOrphansOptions {
  execute: boolean;
  limit?: number;
  /** Identifier extraction as Phase 2 does it (for the dry run's verdict on skipped observations). */
  contribution: ContributionOptions;
  signal?: AbortSignal;
}

export interface LinkOrphansSummary extends Record<string, unknown> {
  dry_run: boolean;
  examined: { skipped: number; dead: number };
  /** Skipped observations in which today's extraction finds an identifier: re-resolved (or would be). */
  resolvable_skipped: number;
  /** Skipped observations still without any identifier: left as they are. */
  still_without_identity: number;
  /** Execute only: outcome of the Phase 2 runs. */
  linked: number;
  still_dead: number;
  skipped_again: number;
  busy: number;
  interrupted: boolean;
}

interface Candidate {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
  status: 'skipped' | 'dead';
}

/**
 * Observations that belong to nobody: `skipped` (no identifier was found when they arrived) and `dead` (Phase 2
 * failed). Each is re-resolved through the full Phase 2 (person, company, location) and its dead letter settled.
 * Skipped ones are re-run only when today's identifier extraction finds something in them, so a run changes nothing
 * it cannot improve. The dry run counts what would be re-resolved.
 */
export async function linkOrphans(
  pool: Pool,
  phase2: Phase2Runner,
  options: LinkOrphansOptions,
  progress: Progress,
): Promise<LinkOrphansSummary> {
  const summary: LinkOrphansSummary = {
    dry_run: !options.execute,
    examined: { skipped: 0, dead: 0 },
    resolvable_skipped: 0,
    still_without_identity: 0,
    linked: 0,
    still_dead: 0,
    skipped_again: 0,
    busy: 0,
    interrupted: false,
  };
  const total = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM observation_state WHERE status IN ('skipped', 'dead')`,
  );
  progress.start(Math.min(total.rows[0]!.n, options.limit ?? Infinity), 'orphaned observations');
  let after = 0;
  let examined = 0;
  while (options.limit === undefined || examined < options.limit) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const { rows } = await pool.query<Candidate>(
      `SELECT o.id, o.source, o.kind, o.payload, s.status
         FROM observation_state s JOIN observation_log o ON o.id = s.id
        WHERE s.status IN ('skipped', 'dead') AND s.id > $1 AND o.id > $1 ORDER BY s.id LIMIT $2`,
      [after, Math.min(BATCH, (options.limit ?? Infinity) - examined)],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    for (const row of rows) {
      if (options.signal?.aborted) break;
      examined += 1;
      summary.examined[row.status] += 1;
      const resolvable =
        row.status === 'dead' || contributionOf(row, options.contribution).identifiers.length > 0;
      if (row.status === 'skipped') {
        if (resolvable) summary.resolvable_skipped += 1;
        else summary.still_without_identity += 1;
      }
      if (options.execute && resolvable) await relinkOne(pool, phase2, row.id, summary);
      progress.increment();
    }
  }
  progress.stop();
  return summary;
}

async function relinkOne(
  pool: Pool,
  phase2: Phase2Runner,
  id: number,
  summary: LinkOrphansSummary,
): Promise<void> {
  const replay = await replayObservation(pool, phase2, id);
  if (replay.kind !== 'replayed') return;
  const { result } = replay;
  if (result.processed) summary.linked += 1;
  else if (result.status === 'dead') summary.still_dead += 1;
  else if (result.status === 'skipped') summary.skipped_again += 1;
  else summary.busy += 1;
}

interface CliOptions {
  execute?: boolean;
  limit?: number;
}

export function register(program: Command): void {
  program
    .command('link-orphans')
    .summary('re-resolve skipped and dead observations through Phase 2')
    .description(
      're-resolve observations that belong to nobody (skipped: no identifier found; dead: Phase 2 failed) ' +
        "through the full Phase 2, with today's identifier extraction",
    )
    .option('--execute', 're-resolve them (default: dry run, counts what would be re-resolved)')
    .option('--limit <n>', 'look at most at this many observations', positiveInteger)
    .addHelpText(
      'after',
      `
Skipped observations are re-run only when an identifier can now be extracted from them; dead ones always are
(their dead letters are settled as a replay settles them). Observations still pending are the sweeper's.`,
    )
    .action(
      databaseAction<CliOptions>('link-orphans', async (context, options): Promise<CommandResult> => {
        const phase2 = phase2FromConfig(context.pool, context.config, context.logger);
        const summary = await linkOrphans(
          context.pool,
          phase2,
          {
            execute: options.execute === true,
            limit: options.limit,
            contribution: { defaultPhoneCountry: context.config.DEFAULT_PHONE_COUNTRY },
            signal: context.signal,
          },
          context.progress,
        );
        return { summary };
      }),
    );
}
