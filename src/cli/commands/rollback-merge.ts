import type { Command } from 'commander';
import type { Pool } from '../../db/pool';
import type { FoldSettings } from '../../snapshots/store';
import { recordDecision } from '../identity/decisions';
import { inTransaction } from '../identity/locks';
import type { RollbackPlan } from '../identity/rollback';
import { loadMerge, MergeNotFound, planRollback, RollbackRefused, rollbackMerge } from '../identity/rollback';
import type { CommandResult } from '../runtime';
import { CliError, databaseAction, foldSettingsFrom } from '../runtime';

export const UNMERGE_REASON = 'rollback-merge';
const LISTED = 20;

export interface RollbackSummary extends Record<string, unknown> {
  dry_run: boolean;
  merge_id: number;
  can_roll_back: boolean;
  rolled_back: boolean;
  problems: string[];
  survivor_id: string;
  restored_person_ids: string[];
  aliases_restored: number;
  observations_restored: number;
  tombstones_repointed: number;
  survivor_restored_exactly: boolean;
  decision_id: number | null;
}

/** Dry run: what a rollback would restore, or why it cannot. Execute: rolls back and records the unmerge. */
export async function rollbackMergeById(
  pool: Pool,
  options: { mergeId: number; execute: boolean; settings: FoldSettings; reason?: string },
): Promise<RollbackSummary> {
  if (!options.execute)
    return summaryOf(await planRollback(pool, await loadMerge(pool, options.mergeId)), false);
  const { plan, decisionId } = await inTransaction(pool, async (client) => {
    const carried = await rollbackMerge(client, options.mergeId, options.settings);
    const images = (await loadMerge(client, options.mergeId)).images;
    const decision = await recordDecision(client, {
      kind: 'unmerge',
      survivorId: carried.survivorId,
      personIds: carried.mergedIds,
      aliases: Object.fromEntries(
        images.map((image) => [image.entity.id, image.aliases.map(({ kind, value }) => ({ kind, value }))]),
      ),
      mergeId: options.mergeId,
      reason: options.reason ?? UNMERGE_REASON,
    });
    return { plan: carried, decisionId: decision };
  });
  return { ...summaryOf(plan, true), decision_id: decisionId };
}

function summaryOf(plan: RollbackPlan, executed: boolean): RollbackSummary {
  return {
    dry_run: !executed,
    merge_id: plan.mergeId,
    can_roll_back: plan.problems.length === 0,
    rolled_back: executed,
    problems: plan.problems,
    survivor_id: plan.survivorId,
    restored_person_ids: plan.mergedIds,
    aliases_restored: plan.aliasesRestored,
    observations_restored: plan.observationsRestored,
    tombstones_repointed: plan.repointed.length,
    survivor_restored_exactly: plan.survivorExact,
    decision_id: null,
  };
}

export interface ListedMerge {
  id: number;
  created_at: string;
  reason: string;
  survivor_id: string;
  merged_ids: string[];
  observation_id: number | null;
  can_roll_back: boolean;
  problems: string[];
}

/** The most recent person merges not rolled back, each with whether it can be rolled back now. */
export async function listMerges(pool: Pool, limit = LISTED): Promise<ListedMerge[]> {
  const { rows } = await pool.query<{ id: number }>(
    `SELECT id FROM merges WHERE entity = 'person' AND rolled_back_at IS NULL ORDER BY id DESC LIMIT $1`,
    [limit],
  );
  const listed: ListedMerge[] = [];
  for (const { id } of rows) {
    const merge = await loadMerge(pool, id);
    const plan = await planRollback(pool, merge);
    listed.push({
      id,
      created_at: merge.createdAt,
      reason: merge.reason,
      survivor_id: merge.survivorId,
      merged_ids: merge.mergedIds,
      observation_id: merge.observationId,
      can_roll_back: plan.problems.length === 0,
      problems: plan.problems,
    });
  }
  return listed;
}

interface CliOptions {
  execute?: boolean;
  list?: boolean;
}

export function register(program: Command): void {
  program
    .command('rollback-merge')
    .summary('undo a person merge exactly (--list shows recent merges)')
    .description(
      'undo a person merge exactly from its before-images: the merged persons, their aliases and observations ' +
        'come back, everybody involved is refolded, and the unmerge is recorded so a rebuild replays it',
    )
    .argument('[mergeId]', 'id of the merge (see --list)')
    .option('--list', `list the ${LISTED} most recent merges not rolled back, and whether each can be`)
    .option('--execute', 'roll back (default: dry run, reports what would be restored)')
    .addHelpText(
      'after',
      `
A rollback is refused (exit code 1, with the reason) when something since makes an exact restore impossible:
a later merge involving the same persons that is not rolled back (roll back newest first), a merged person
revived, or an alias or observation of the before-images no longer held by the survivor. Observations that
arrived after the merge (including the one that caused it) stay with the survivor, which is refolded.`,
    )
    .action(
      databaseAction<CliOptions>('rollback-merge', async (context, options, args): Promise<CommandResult> => {
        if (options.list) return { summary: { merges: await listMerges(context.pool) } };
        const mergeId = Number(args[0]);
        if (!args[0] || !Number.isSafeInteger(mergeId) || mergeId <= 0)
          throw new CliError('give the id of a merge (rollback-merge <mergeId>), or --list');
        try {
          const summary = await rollbackMergeById(context.pool, {
            mergeId,
            execute: options.execute === true,
            settings: foldSettingsFrom(context.config),
          });
          return { summary, exitCode: summary.can_roll_back ? 0 : 1 };
        } catch (error) {
          if (error instanceof RollbackRefused || error instanceof MergeNotFound)
            throw new CliError(error.message);
          throw error;
        }
      }),
    );
}
