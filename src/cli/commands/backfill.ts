import type { Command } from 'commander';
import { Argument } from 'commander';
import type { Pool } from '../../db/pool';
import { classifyTitle } from '../../intelligence/seniority';
import type { FoldSettings } from '../../snapshots/store';
import { refoldPerson } from '../../snapshots/store';
import { inTransaction } from '../identity/locks';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, foldSettingsFrom, positiveInteger } from '../runtime';

const SCAN_BATCH = 2000;
const DEFAULT_REFOLD_BATCH = 100;

export const BACKFILLS = ['seniority'] as const;
export type Backfill = (typeof BACKFILLS)[number];

export interface BackfillSeniorityOptions {
  execute: boolean;
  limit?: number;
  /** Persons refolded per transaction. */
  batchSize?: number;
  settings: FoldSettings;
  signal?: AbortSignal;
}

export interface BackfillSenioritySummary extends Record<string, unknown> {
  dry_run: boolean;
  /** Live persons with a title whose snapshot lacks seniorityTier or department. */
  lacking: number;
  /** Of those, persons the classifier now gives what they lack: refolded (or would be). */
  to_refold: number;
  refolded: number;
  /** Refolded and now complete. */
  filled: number;
  interrupted: boolean;
}

/**
 * Persons whose snapshot predates the seniority classifier (or a classifier change): a title but no seniorityTier or
 * department. The classifier is pure, so each is refolded from its observations (refoldPerson), which classifies the
 * title the snapshot keeps; persons whose title the classifier cannot place are left alone.
 */
export async function backfillSeniority(
  pool: Pool,
  options: BackfillSeniorityOptions,
  progress: Progress,
): Promise<BackfillSenioritySummary> {
  const summary: BackfillSenioritySummary = {
    dry_run: !options.execute,
    lacking: 0,
    to_refold: 0,
    refolded: 0,
    filled: 0,
    interrupted: false,
  };
  const total = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM persons
      WHERE merged_into IS NULL AND current_title IS NOT NULL
        AND (snapshot ->> 'seniorityTier' IS NULL OR snapshot ->> 'department' IS NULL)`,
  );
  progress.start(Math.min(total.rows[0]!.n, options.limit ?? Infinity), 'persons lacking seniority');
  let after = '00000000-0000-0000-0000-000000000000';
  while (options.limit === undefined || summary.lacking < options.limit) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const { rows } = await pool.query<{
      id: string;
      current_title: string;
      tier: string | null;
      department: string | null;
    }>(
      `SELECT id, current_title, snapshot ->> 'seniorityTier' AS tier, snapshot ->> 'department' AS department
         FROM persons
        WHERE merged_into IS NULL AND current_title IS NOT NULL
          AND (snapshot ->> 'seniorityTier' IS NULL OR snapshot ->> 'department' IS NULL) AND id > $1
        ORDER BY id LIMIT $2`,
      [after, Math.min(SCAN_BATCH, (options.limit ?? Infinity) - summary.lacking)],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    summary.lacking += rows.length;
    const fixable = rows
      .filter((row) => {
        const classification = classifyTitle(row.current_title);
        return (
          (row.tier === null && classification.tier !== null) ||
          (row.department === null && classification.department !== null)
        );
      })
      .map((row) => row.id);
    summary.to_refold += fixable.length;
    if (options.execute) await refoldBatches(pool, fixable, options, summary);
    progress.increment(rows.length);
  }
  progress.stop();
  return summary;
}

async function refoldBatches(
  pool: Pool,
  ids: readonly string[],
  options: BackfillSeniorityOptions,
  summary: BackfillSenioritySummary,
): Promise<void> {
  const size = options.batchSize ?? DEFAULT_REFOLD_BATCH;
  for (let start = 0; start < ids.length; start += size) {
    if (options.signal?.aborted) return;
    const batch = ids.slice(start, start + size);
    const counts = await inTransaction(pool, async (client) => {
      // Row locks first (id order, as Phase 2 takes them): the refold reads the observations after any concurrent
      // Phase 2 on these persons has committed, so it never writes back an older snapshot.
      const locked = await client.query<{ id: string }>(
        'SELECT id FROM persons WHERE id = ANY($1::uuid[]) AND merged_into IS NULL ORDER BY id FOR UPDATE',
        [batch],
      );
      let filled = 0;
      for (const { id } of locked.rows) {
        const snapshot = await refoldPerson(client, id, options.settings);
        if (snapshot.seniorityTier !== undefined && snapshot.department !== undefined) filled += 1;
      }
      return { refolded: locked.rows.length, filled };
    });
    summary.refolded += counts.refolded;
    summary.filled += counts.filled;
  }
}

interface CliOptions {
  execute?: boolean;
  limit?: number;
  batchSize?: number;
}

export function register(program: Command): void {
  program
    .command('backfill')
    .summary('refold persons lacking derived fields (backfill seniority)')
    .description('recompute derived snapshot fields for persons that lack them')
    .addArgument(new Argument('<what>', 'what to backfill').choices(BACKFILLS))
    .option('--execute', 'refold the persons (default: dry run, counts them)')
    .option('--limit <n>', 'examine at most this many persons', positiveInteger)
    .option('--batch-size <n>', 'persons refolded per transaction', positiveInteger, DEFAULT_REFOLD_BATCH)
    .addHelpText(
      'after',
      `
seniority: live persons with a title but no seniorityTier or department in their snapshot are refolded from
their observations, which classifies the title (src/intelligence/seniority.ts). Titles the classifier cannot
place (placeholders) are counted as lacking and left alone.`,
    )
    .action(
      databaseAction<CliOptions>('backfill', async (context, options): Promise<CommandResult> => {
        const summary = await backfillSeniority(
          context.pool,
          {
            execute: options.execute === true,
            limit: options.limit,
            batchSize: options.batchSize,
            settings: foldSettingsFrom(context.config),
            signal: context.signal,
          },
          context.progress,
        );
        return { summary: { backfill: 'seniority', ...summary } };
      }),
    );
}
