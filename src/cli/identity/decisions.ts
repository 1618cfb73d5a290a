import os from 'node:os';
import type { Pool, PoolClient } from '../../db/pool';
import type { FoldSettings } from '../../snapshots/store';
import type { AliasKey } from './locks';
import { inTransaction } from './locks';
import { mergePersons } from './manual-merge';
import { RollbackRefused, rollbackMerge } from './rollback';

/**
 * Manual identity decisions are inputs, like observations: what an operator merged (merge-duplicates) or split
 * again (rollback-merge) is stored in manual_identity_decisions, and a rebuild from the observation log replays
 * them afterwards (replayManualDecisions) so that it reproduces them.
 */
export interface NewDecision {
  kind: 'merge' | 'unmerge';
  survivorId: string;
  personIds: readonly string[];
  aliases: Record<string, readonly AliasKey[]>;
  mergeId: number | null;
  reason: string;
}

export async function recordDecision(client: PoolClient, decision: NewDecision): Promise<number> {
  const reverses =
    decision.kind === 'unmerge' && decision.mergeId !== null
      ? await client.query<{ id: number }>(
          `SELECT id FROM manual_identity_decisions WHERE kind = 'merge' AND merge_id = $1 ORDER BY id DESC LIMIT 1`,
          [decision.mergeId],
        )
      : null;
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO manual_identity_decisions (kind, survivor_id, person_ids, aliases, merge_id, reverses_id, reason,
                                            decided_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
    [
      decision.kind,
      decision.survivorId,
      decision.personIds,
      JSON.stringify(decision.aliases),
      decision.mergeId,
      reverses?.rows[0]?.id ?? null,
      decision.reason,
      operator(),
    ],
  );
  return rows[0]!.id;
}

function operator(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return null;
  }
}

/**
 * Pairs of persons an operator split apart (an unmerge), as `a|b` in both orders: tools that merge on their own
 * judgement (merge-duplicates, relink, dedupe-aliases) never join them again.
 */
export async function separatedPairs(db: Pool | PoolClient): Promise<Set<string>> {
  const { rows } = await db.query<{ survivor_id: string; person_ids: string[] }>(
    `SELECT survivor_id, person_ids FROM manual_identity_decisions WHERE kind = 'unmerge'`,
  );
  const pairs = new Set<string>();
  for (const row of rows) {
    const all = [row.survivor_id, ...row.person_ids];
    for (const a of all) for (const b of all) if (a !== b) pairs.add(`${a}|${b}`);
  }
  return pairs;
}

interface DecisionRow {
  id: number;
  kind: 'merge' | 'unmerge';
  survivor_id: string;
  person_ids: string[];
  aliases: Record<string, AliasKey[]>;
  reverses_id: number | null;
  reason: string;
}

export interface ReplayProblem {
  decision: number;
  kind: 'merge' | 'unmerge';
  reason: string;
}

export interface DecisionReplaySummary {
  decisions: number;
  merged: number;
  unmerged: number;
  /** Already in effect: the persons are one (merge) or apart (unmerge). */
  in_effect: number;
  /** A merge and the unmerge that reversed it: neither is replayed. */
  cancelled: number;
  problems: ReplayProblem[];
}

/**
 * Replays every manual decision, oldest first, onto the persons as they are now (after a rebuild has reprocessed the
 * observation log). A merge finds its persons again (by id, which is deterministic, else by their recorded
 * aliases) and merges them if they are apart; an unmerge of a manual merge cancels with it; an unmerge of a merge the
 * evidence made finds the same merge again (rebuilt from the same observations) and rolls it back. Idempotent: a
 * decision already in effect changes nothing. Runs inside the caller's transaction, each decision under a savepoint:
 * one that cannot apply any more is reported in `problems` and the others still apply.
 */
export async function replayManualDecisions(
  client: PoolClient,
  settings: FoldSettings,
): Promise<DecisionReplaySummary> {
  const { rows } = await client.query<DecisionRow>(
    `SELECT id, kind, survivor_id, person_ids, aliases, reverses_id, reason
       FROM manual_identity_decisions ORDER BY id`,
  );
  const reversed = new Set(rows.map((row) => row.reverses_id).filter((id) => id !== null));
  const summary: DecisionReplaySummary = {
    decisions: rows.length,
    merged: 0,
    unmerged: 0,
    in_effect: 0,
    cancelled: 0,
    problems: [],
  };
  for (const decision of rows) {
    if (reversed.has(decision.id) || (decision.kind === 'unmerge' && decision.reverses_id !== null)) {
      summary.cancelled += 1;
      continue;
    }
    await client.query('SAVEPOINT manual_decision');
    try {
      const outcome =
        decision.kind === 'merge'
          ? await replayMerge(client, decision, settings)
          : await replayUnmerge(client, decision, settings);
      await client.query('RELEASE SAVEPOINT manual_decision');
      if (outcome === 'applied') summary[decision.kind === 'merge' ? 'merged' : 'unmerged'] += 1;
      else if (outcome === 'in_effect') summary.in_effect += 1;
      else summary.problems.push({ decision: decision.id, kind: decision.kind, reason: outcome.problem });
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT manual_decision');
      const reason = error instanceof Error ? error.message : String(error);
      summary.problems.push({ decision: decision.id, kind: decision.kind, reason });
    }
  }
  return summary;
}

/** The same in a transaction of its own. */
export function replayManualDecisionsInTransaction(
  pool: Pool,
  settings: FoldSettings,
): Promise<DecisionReplaySummary> {
  return inTransaction(pool, (client) => replayManualDecisions(client, settings), 1);
}

type ReplayOutcome = 'applied' | 'in_effect' | { problem: string };

async function replayMerge(
  client: PoolClient,
  decision: DecisionRow,
  settings: FoldSettings,
): Promise<ReplayOutcome> {
  const live = await livePersons(client, [decision.survivor_id, ...decision.person_ids], decision.aliases);
  if (live.missing.length > 0) return { problem: `persons not found: ${live.missing.join(', ')}` };
  if (live.ids.length < 2) return 'in_effect';
  const outcome = await mergePersons(client, live.ids, decision.reason, settings);
  if (!outcome.merged) return { problem: outcome.reason };
  await client.query('UPDATE manual_identity_decisions SET merge_id = $2 WHERE id = $1', [
    decision.id,
    outcome.mergeId,
  ]);
  return 'applied';
}

async function replayUnmerge(
  client: PoolClient,
  decision: DecisionRow,
  settings: FoldSettings,
): Promise<ReplayOutcome> {
  // Only a merge into the decision's survivor joins its persons (a rebuild gives that merge the same survivor); a
  // merge of one of them into somebody else since is no business of this decision, nor does it join them.
  const { rows } = await client.query<{ id: number }>(
    `SELECT id FROM merges
      WHERE entity = 'person' AND rolled_back_at IS NULL AND survivor_id = $2 AND merged_ids && $1::uuid[]
      ORDER BY id DESC LIMIT 1`,
    [decision.person_ids, decision.survivor_id],
  );
  const merge = rows[0];
  if (!merge) {
    const apart = await client.query<{ apart: boolean }>(
      `SELECT count(DISTINCT COALESCE(merged_into, id)) = $2 AS apart FROM persons WHERE id = ANY($1::uuid[])`,
      [[decision.survivor_id, ...decision.person_ids], decision.person_ids.length + 1],
    );
    return apart.rows[0]!.apart
      ? 'in_effect'
      : { problem: 'the persons are together but no merge joins them' };
  }
  try {
    await rollbackMerge(client, merge.id, settings);
  } catch (error) {
    if (error instanceof RollbackRefused) return { problem: error.message };
    throw error;
  }
  return 'applied';
}

/** The live persons the decision's persons are now: by id (following a merge), else by their recorded aliases. */
async function livePersons(
  client: PoolClient,
  ids: readonly string[],
  aliases: Record<string, readonly AliasKey[]>,
): Promise<{ ids: string[]; missing: string[] }> {
  const byId = await client.query<{ id: string; live: string }>(
    'SELECT id, COALESCE(merged_into, id) AS live FROM persons WHERE id = ANY($1::uuid[])',
    [ids],
  );
  const live = new Set(byId.rows.map((row) => row.live));
  const found = new Set(byId.rows.map((row) => row.id));
  const missing: string[] = [];
  for (const id of ids.filter((candidate) => !found.has(candidate))) {
    const byAlias = await client.query<{ live: string }>(
      `SELECT DISTINCT COALESCE(p.merged_into, p.id) AS live
         FROM jsonb_to_recordset($1::jsonb) AS k(kind text, value text)
         JOIN person_aliases a ON a.kind = k.kind AND a.value = k.value
         JOIN persons p ON p.id = a.person_id`,
      [JSON.stringify(aliases[id] ?? [])],
    );
    if (byAlias.rows.length === 0) missing.push(id);
    byAlias.rows.forEach((row) => live.add(row.live));
  }
  return { ids: [...live].sort(), missing };
}
