import type { Command } from 'commander';
import type { Pool } from '../../db/pool';
import { aliasOwnersSql, PERSON_SPEC } from '../../identity/resolver';
import { phase2FromConfig } from '../../ingest/phase2';
import type { Phase2Result } from '../../ingest/phase2';
import type { ContributionOptions } from '../../snapshots/contributions';
import { contributionOf } from '../../snapshots/contributions';
import type { FoldSettings } from '../../snapshots/store';
import { refoldPerson } from '../../snapshots/store';
import { separatedPairs } from '../identity/decisions';
import { inTransaction } from '../identity/locks';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, foldSettingsFrom, positiveInteger } from '../runtime';

const BATCH = 500;

export interface RelinkOptions {
  execute: boolean;
  /** At most this many persons examined. */
  limit?: number;
  contribution: ContributionOptions;
  settings: FoldSettings;
  signal?: AbortSignal;
}

export interface RelinkSummary extends Record<string, unknown> {
  dry_run: boolean;
  persons_examined: number;
  observations_examined: number;
  /** Observations naming an identifier their person does not hold. */
  observations_to_relink: number;
  /** Of those, naming an identifier another person holds (Phase 2 merges them when compatible)... */
  naming_another_person: number;
  /** ... and of those, a person with a Sales Navigator id or member number. */
  naming_a_stable_id_person: number;
  persons_affected: number;
  /** Observations naming a person an operator split from theirs (rollback-merge): left alone. */
  kept_apart: number;
  relinked: number;
  merged: number;
  failed: number;
  interrupted: boolean;
}

interface Phase2Like {
  process(observationId: number): Promise<Phase2Result>;
}

interface ObservationRow {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
  person_id: string;
}

/**
 * Persons known only by URL-type identifiers (no Sales Navigator id, no member number). Aliases are unique, so two
 * persons never share an identifier, and Phase 2 already merges persons as soon as one observation names both: what
 * can still be missing is what an observation says that was not extracted when it was processed (an older
 * extractor missed a Sales Nav id in a URL form, an e-mail, a member number in `id`). For each observation of such a
 * person, today's extraction is compared with the person's aliases; an observation naming anything new is run
 * through Phase 2 again, which attaches the new identifiers and merges with the person holding them (a stable-id
 * person) when the hard identifiers agree, or records the conflict when they do not.
 */
export async function relink(
  pool: Pool,
  phase2: Phase2Like,
  options: RelinkOptions,
  progress: Progress,
): Promise<RelinkSummary> {
  const summary: RelinkSummary = {
    dry_run: !options.execute,
    persons_examined: 0,
    observations_examined: 0,
    observations_to_relink: 0,
    naming_another_person: 0,
    naming_a_stable_id_person: 0,
    persons_affected: 0,
    kept_apart: 0,
    relinked: 0,
    merged: 0,
    failed: 0,
    interrupted: false,
  };
  const hardKinds = [...PERSON_SPEC.hardKinds];
  const total = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM persons p
      WHERE p.merged_into IS NULL
        AND NOT EXISTS (SELECT 1 FROM person_aliases a WHERE a.person_id = p.id AND a.kind = ANY($1::text[]))`,
    [hardKinds],
  );
  const separated = await separatedPairs(pool);
  progress.start(Math.min(total.rows[0]!.n, options.limit ?? Infinity), 'persons without stable id');
  let after = '00000000-0000-0000-0000-000000000000';
  while (options.limit === undefined || summary.persons_examined < options.limit) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const persons = await pool.query<{ id: string }>(
      `SELECT p.id FROM persons p
        WHERE p.merged_into IS NULL AND p.id > $1
          AND NOT EXISTS (SELECT 1 FROM person_aliases a WHERE a.person_id = p.id AND a.kind = ANY($2::text[]))
        ORDER BY p.id LIMIT $3`,
      [after, hardKinds, Math.min(BATCH, (options.limit ?? Infinity) - summary.persons_examined)],
    );
    if (persons.rows.length === 0) break;
    const ids = persons.rows.map((row) => row.id);
    after = ids[ids.length - 1]!;
    summary.persons_examined += ids.length;
    const candidates = await observationsNamingSomethingNew(
      pool,
      ids,
      options.contribution,
      separated,
      summary,
    );
    summary.persons_affected += new Set(candidates.map((row) => row.person_id)).size;
    if (options.execute) {
      for (const row of candidates) {
        if (options.signal?.aborted) break;
        await rerun(pool, phase2, row, options.settings, summary);
      }
    }
    progress.increment(ids.length);
  }
  progress.stop();
  return summary;
}

async function observationsNamingSomethingNew(
  pool: Pool,
  personIds: string[],
  contribution: ContributionOptions,
  separated: ReadonlySet<string>,
  summary: RelinkSummary,
): Promise<ObservationRow[]> {
  const aliases = await pool.query<{ person_id: string; kind: string; value: string }>(
    'SELECT person_id, kind, value FROM person_aliases WHERE person_id = ANY($1::uuid[])',
    [personIds],
  );
  const held = new Set(aliases.rows.map((row) => `${row.person_id}|${row.kind}|${row.value}`));
  const observations = await pool.query<ObservationRow>(
    `SELECT id, source, kind, payload, person_id FROM observations
      WHERE person_id = ANY($1::uuid[]) AND status = 'processed' ORDER BY id`,
    [personIds],
  );
  summary.observations_examined += observations.rows.length;
  const candidates: { row: ObservationRow; fresh: { kind: string; value: string }[] }[] = [];
  for (const row of observations.rows) {
    const fresh = contributionOf(row, contribution)
      .identifiers.filter(
        (identifier) => !held.has(`${row.person_id}|${identifier.kind}|${identifier.value}`),
      )
      .map(({ kind, value }) => ({ kind, value }));
    if (fresh.length > 0) candidates.push({ row, fresh });
  }
  if (candidates.length === 0) return [];
  const named = candidates.flatMap((candidate) => candidate.fresh);
  const owners = await pool.query<{ kind: string; value: string; person_id: string; stable: boolean }>(
    `SELECT wanted.kind, wanted.value, owned.owner AS person_id,
            EXISTS (SELECT 1 FROM person_aliases h WHERE h.person_id = owned.owner AND h.kind = ANY($3::text[])) AS stable
       FROM ${aliasOwnersSql(PERSON_SPEC, '$1', '$2')}`,
    [named.map((alias) => alias.kind), named.map((alias) => alias.value), [...PERSON_SPEC.hardKinds]],
  );
  const ownerOf = new Map(owners.rows.map((row) => [`${row.kind}|${row.value}`, row]));
  const kept: ObservationRow[] = [];
  for (const { row, fresh } of candidates) {
    const others = fresh
      .map((alias) => ownerOf.get(`${alias.kind}|${alias.value}`))
      .filter((owner) => owner !== undefined && owner.person_id !== row.person_id);
    // An operator split these persons apart (rollback-merge): this observation must not join them again.
    if (others.some((owner) => separated.has(`${row.person_id}|${owner!.person_id}`))) {
      summary.kept_apart += 1;
      continue;
    }
    summary.observations_to_relink += 1;
    if (others.length > 0) summary.naming_another_person += 1;
    if (others.some((owner) => owner!.stable)) summary.naming_a_stable_id_person += 1;
    kept.push(row);
  }
  return kept;
}

/** Phase 2 again for one processed observation; its former person is refolded if the observation left it. */
async function rerun(
  pool: Pool,
  phase2: Phase2Like,
  row: ObservationRow,
  settings: FoldSettings,
  summary: RelinkSummary,
): Promise<void> {
  const reopened = await pool.query<{ company_id: string | null; location_id: string | null }>(
    `UPDATE observation_state SET status = 'pending', status_reason = NULL
      WHERE id = $1 AND status = 'processed' AND person_id = $2
      RETURNING company_id, location_id`,
    [row.id, row.person_id],
  );
  const before = reopened.rows[0];
  if (!before) return; // moved or re-processed meanwhile
  const result = await phase2.process(row.id);
  // Phase 2 queued this observation's fields for its company and location as if it were new; a full refold queued
  // beside it (the refresher then refolds fully) counts it once, for the old links and the new ones.
  await pool.query(
    `INSERT INTO entity_refresh (entity, id)
     SELECT entity, id FROM unnest($1::text[], $2::uuid[]) AS queued(entity, id) WHERE id IS NOT NULL
     ON CONFLICT DO NOTHING`,
    [
      ['company', 'location', 'company', 'location'],
      [before.company_id, before.location_id, result.company_id ?? null, result.location_id ?? null],
    ],
  );
  if (!result.processed) {
    summary.failed += 1;
    return;
  }
  summary.relinked += 1;
  if (result.people_upsert === 'merged') summary.merged += 1;
  if (result.person_id === row.person_id) return;
  await inTransaction(pool, async (client) => {
    const live = await client.query(
      'SELECT 1 FROM persons WHERE id = $1 AND merged_into IS NULL FOR UPDATE',
      [row.person_id],
    );
    if (live.rowCount === 1) await refoldPerson(client, row.person_id, settings);
  });
}

interface CliOptions {
  execute?: boolean;
  limit?: number;
}

export function register(program: Command): void {
  program
    .command('relink')
    .summary('re-resolve persons known only by URLs whose observations name new identifiers')
    .description(
      're-resolve persons known only by URL-type identifiers (no Sales Navigator id or member number) whose ' +
        'observations name identifiers they do not hold yet, so stable ids that arrived since link them',
    )
    .option('--execute', 're-run Phase 2 for those observations (default: dry run, counts them)')
    .option('--limit <n>', 'examine at most this many persons', positiveInteger)
    .addHelpText(
      'after',
      `
Identifiers are unique to one person and Phase 2 merges persons the moment one observation names both, so two
persons never "share" a URL. What can remain is an observation whose identifiers were extracted by an older
extractor: this command extracts them again, and re-runs Phase 2 for each observation that names something its
person lacks. Phase 2 then attaches the identifiers and merges with the person holding them when the Sales
Navigator ids and member numbers agree (a conflict is recorded when they do not). Observations naming a person
an operator split from theirs with rollback-merge are left alone (kept apart).`,
    )
    .action(
      databaseAction<CliOptions>('relink', async (context, options): Promise<CommandResult> => {
        const summary = await relink(
          context.pool,
          phase2FromConfig(context.pool, context.config, context.logger),
          {
            execute: options.execute === true,
            limit: options.limit,
            contribution: { defaultPhoneCountry: context.config.DEFAULT_PHONE_COUNTRY },
            settings: foldSettingsFrom(context.config),
            signal: context.signal,
          },
          context.progress,
        );
        return { summary };
      }),
    );
}
