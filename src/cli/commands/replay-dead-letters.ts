import type { Command } from 'commander';
import type { Pool } from '../../db/pool';
import { phase2FromConfig } from '../../ingest/phase2';
import type { DeadLetterPolicy } from '../../jobs/dead-letter-policy';
import { deadLetterPolicyFromConfig } from '../../jobs/dead-letter-policy';
import type { Phase2Runner, ReplayCounts } from '../../jobs/dead-letters';
import { replayDueDeadLetters } from '../../jobs/dead-letters';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, positiveInteger } from '../runtime';

/** Claimed and replayed per round: also how often the progress bar moves. */
const ROUND = 10;
const DEFAULT_LIMIT = 1000;

export interface ReplayDeadLettersOptions {
  dryRun: boolean;
  limit: number;
  /** Make every pending dead letter due now, whatever its backoff says. */
  ignoreBackoff: boolean;
  policy: DeadLetterPolicy;
  signal?: AbortSignal;
}

export interface ReplayDeadLettersSummary extends Record<string, unknown> {
  dry_run: boolean;
  before: { pending: number; due: number; failed: number };
  replayed: ReplayCounts;
  interrupted: boolean;
}

/**
 * The scheduled dead-letter replay (src/jobs/dead-letters.ts), on demand: due dead letters are claimed with
 * FOR UPDATE SKIP LOCKED (safe beside the service's own replayer), re-run through the full Phase 2, and resolved or
 * rescheduled with backoff (given up after DEAD_LETTER_MAX_ATTEMPTS or a permanent error).
 */
export async function replayDeadLetters(
  pool: Pool,
  phase2: Phase2Runner,
  options: ReplayDeadLettersOptions,
  progress: Progress,
): Promise<ReplayDeadLettersSummary> {
  const state = await pool.query<{ pending: number; due: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE status = 'pending')::int AS pending,
            count(*) FILTER (WHERE status = 'pending' AND (next_attempt_at <= now() OR $1))::int AS due,
            count(*) FILTER (WHERE status = 'failed')::int AS failed
       FROM dead_letters`,
    [options.ignoreBackoff],
  );
  const before = state.rows[0]!;
  const replayed: ReplayCounts = { claimed: 0, resolved: 0, failed: 0, gave_up: 0, no_identity: 0, busy: 0 };
  const summary: ReplayDeadLettersSummary = { dry_run: options.dryRun, before, replayed, interrupted: false };
  if (options.dryRun) return summary;
  if (options.ignoreBackoff) {
    await pool.query(
      `UPDATE dead_letters SET next_attempt_at = now() WHERE status = 'pending' AND next_attempt_at > now()`,
    );
  }
  progress.start(Math.min(before.due, options.limit), 'dead letters');
  while (replayed.claimed < options.limit) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const round = await replayDueDeadLetters(pool, phase2, options.policy, {
      limit: Math.min(ROUND, options.limit - replayed.claimed),
      signal: options.signal,
    });
    if (round.claimed === 0) break;
    for (const key of Object.keys(replayed)) replayed[key] = (replayed[key] ?? 0) + (round[key] ?? 0);
    progress.increment(round.claimed);
  }
  progress.stop();
  return summary;
}

interface CliOptions {
  dryRun?: boolean;
  limit: number;
  ignoreBackoff?: boolean;
}

export function register(program: Command): void {
  program
    .command('replay-dead-letters')
    .summary('replay due dead letters now (the hourly job, on demand)')
    .description('replay due dead letters through the full Phase 2 now (what the hourly job does)')
    .option('--dry-run', 'only count pending, due and given-up dead letters')
    .option('--limit <n>', 'replay at most this many', positiveInteger, DEFAULT_LIMIT)
    .option('--ignore-backoff', 'make every pending dead letter due now (e.g. after fixing the cause)')
    .addHelpText(
      'after',
      `
Not a dry run by default: a replay only retries what failed and is what the scheduler does every hour. It is
safe beside a running service (dead letters are claimed with FOR UPDATE SKIP LOCKED). Dead letters given up on
(status failed) are not retried: link-orphans --execute re-resolves their observations.`,
    )
    .action(
      databaseAction<CliOptions>('replay-dead-letters', async (context, options): Promise<CommandResult> => {
        const summary = await replayDeadLetters(
          context.pool,
          phase2FromConfig(context.pool, context.config, context.logger),
          {
            dryRun: options.dryRun === true,
            limit: options.limit,
            ignoreBackoff: options.ignoreBackoff === true,
            policy: deadLetterPolicyFromConfig(context.config),
            signal: context.signal,
          },
          context.progress,
        );
        return { summary };
      }),
    );
}
