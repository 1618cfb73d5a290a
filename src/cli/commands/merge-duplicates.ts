import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { stringify } from 'csv-stringify';
import type { Pool, PoolClient } from '../../db/pool';
import { compatible, hardSets, PERSON_SPEC } from '../../identity/resolver';
import { extractCompanyRef } from '../../snapshots/company-ref';
import { foldForKey } from '../../snapshots/normalise';
import type { FoldSettings } from '../../snapshots/store';
import { recordDecision, separatedPairs } from '../identity/decisions';
import type { AliasKey } from '../identity/locks';
import { inTransaction } from '../identity/locks';
import { mergePersons } from '../identity/manual-merge';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, foldSettingsFrom, positiveInteger } from '../runtime';

export const MERGE_REASON = 'duplicate_detection';
const SCAN_BATCH = 5000;
const DETAIL_BATCH = 1000;

export interface MergeDuplicatesOptions {
  execute: boolean;
  /** Review CSV path; null writes none. */
  output: string | null;
  limitGroups?: number;
  settings: FoldSettings;
  signal?: AbortSignal;
}

export interface CandidatePerson {
  id: string;
  anchor: number;
  fullName: string | null;
  currentCompany: string | null;
  location: string | null;
  currentTitle: string | null;
  observationsCount: number;
  aliasCount: number;
  lastObservedAt: Date | null;
  hard: AliasKey[];
}

export interface DuplicateGroup {
  key: string;
  /** Survivor (oldest anchor) first. */
  persons: CandidatePerson[];
}

export interface MergeDuplicatesSummary extends Record<string, unknown> {
  dry_run: boolean;
  persons_scanned: number;
  groups: number;
  persons_in_groups: number;
  /** Persons that share a group key but hold different hard identifiers or were split by an operator. */
  kept_apart: number;
  merged_groups: number;
  merged_persons: number;
  skipped: { group_key: string; reason: string }[];
  output: string | null;
  interrupted: boolean;
}

/**
 * The key two records of one human share when no identifier links them: normalised full name, normalised current
 * company (placeholders such as "Self-employed" identify nobody) and the parsed location, or the title when the
 * location is unknown. Null when any part is missing.
 */
export function duplicateKey(person: {
  fullName: string | null;
  currentCompany: string | null;
  locationKey: string | null;
  currentTitle: string | null;
}): string | null {
  const name = person.fullName ? foldForKey(person.fullName) : '';
  const company = extractCompanyRef({ Company: person.currentCompany })?.aliases.find(
    (alias) => alias.kind === 'name',
  )?.value;
  const title = person.currentTitle ? foldForKey(person.currentTitle) : '';
  const place = person.locationKey ? `location:${person.locationKey}` : title ? `title:${title}` : null;
  if (!name || !company || !place) return null;
  return `${name}|${company}|${place}`;
}

/**
 * Groups of live persons sharing a duplicate key, split so that no group holds two different Sales Navigator ids or
 * member numbers, nor two persons an operator split apart (rollback-merge). Keys are computed in batches into a
 * temporary table and grouped by PostgreSQL, so memory stays flat at any size.
 */
export async function findDuplicateGroups(
  pool: Pool,
  progress: Progress,
  signal?: AbortSignal,
): Promise<{ groups: DuplicateGroup[]; scanned: number; keptApart: number; interrupted: boolean }> {
  const client = await pool.connect();
  try {
    await client.query(
      'CREATE TEMPORARY TABLE IF NOT EXISTS duplicate_keys (key text NOT NULL, person_id uuid NOT NULL)',
    );
    await client.query('TRUNCATE pg_temp.duplicate_keys');
    const scan = await scanKeys(client, progress, signal);
    const grouped = await client.query<{ key: string; ids: string[] }>(
      `SELECT key, array_agg(person_id ORDER BY person_id) AS ids FROM pg_temp.duplicate_keys
        GROUP BY key HAVING count(*) > 1 ORDER BY key`,
    );
    await client.query('DROP TABLE pg_temp.duplicate_keys');
    const details = await personDetails(
      client,
      grouped.rows.flatMap((row) => row.ids),
    );
    const separated = await separatedPairs(client);
    const groups: DuplicateGroup[] = [];
    let keptApart = 0;
    for (const row of grouped.rows) {
      const persons = row.ids.map((id) => details.get(id)).filter((person) => person !== undefined);
      for (const cluster of compatibleClusters(persons, separated)) {
        if (cluster.length > 1) groups.push({ key: row.key, persons: cluster });
        else keptApart += 1;
      }
    }
    return { groups, scanned: scan.scanned, keptApart, interrupted: scan.interrupted };
  } finally {
    client.release();
  }
}

async function scanKeys(
  client: PoolClient,
  progress: Progress,
  signal?: AbortSignal,
): Promise<{ scanned: number; interrupted: boolean }> {
  const total = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM persons WHERE merged_into IS NULL',
  );
  progress.start(total.rows[0]!.n, 'scanning persons');
  let after = '00000000-0000-0000-0000-000000000000';
  let scanned = 0;
  for (;;) {
    if (signal?.aborted) return { scanned, interrupted: true };
    const { rows } = await client.query<{
      id: string;
      full_name: string | null;
      current_company: string | null;
      location_key: string | null;
      current_title: string | null;
    }>(
      `SELECT id, full_name, current_company, snapshot ->> 'locationKey' AS location_key, current_title
         FROM persons WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, SCAN_BATCH],
    );
    if (rows.length === 0) break;
    after = rows[rows.length - 1]!.id;
    scanned += rows.length;
    const keyed = rows
      .map((row) => ({
        id: row.id,
        key: duplicateKey({
          fullName: row.full_name,
          currentCompany: row.current_company,
          locationKey: row.location_key,
          currentTitle: row.current_title,
        }),
      }))
      .filter((row): row is { id: string; key: string } => row.key !== null);
    if (keyed.length > 0) {
      await client.query(
        'INSERT INTO pg_temp.duplicate_keys (key, person_id) SELECT * FROM unnest($1::text[], $2::uuid[])',
        [keyed.map((row) => row.key), keyed.map((row) => row.id)],
      );
    }
    progress.increment(rows.length);
  }
  progress.stop();
  return { scanned, interrupted: false };
}

async function personDetails(client: PoolClient, ids: string[]): Promise<Map<string, CandidatePerson>> {
  const details = new Map<string, CandidatePerson>();
  for (let start = 0; start < ids.length; start += DETAIL_BATCH) {
    const { rows } = await client.query<{
      id: string;
      anchor: number;
      full_name: string | null;
      current_company: string | null;
      location: string | null;
      current_title: string | null;
      observations_count: number;
      last_observed_at: Date | null;
      alias_count: number;
      hard: AliasKey[];
    }>(
      `SELECT p.id, p.anchor_observation_id AS anchor, p.full_name, p.current_company,
              p.snapshot ->> 'location' AS location, p.current_title, p.observations_count, p.last_observed_at,
              (SELECT count(*)::int FROM person_aliases a WHERE a.person_id = p.id) AS alias_count,
              (SELECT COALESCE(json_agg(json_build_object('kind', a.kind, 'value', a.value) ORDER BY a.kind, a.value),
                               '[]'::json)
                 FROM person_aliases a WHERE a.person_id = p.id AND a.kind = ANY($2::text[])) AS hard
         FROM persons p WHERE p.id = ANY($1::uuid[]) AND p.merged_into IS NULL`,
      [ids.slice(start, start + DETAIL_BATCH), [...PERSON_SPEC.hardKinds]],
    );
    for (const row of rows) {
      details.set(row.id, {
        id: row.id,
        anchor: row.anchor,
        fullName: row.full_name,
        currentCompany: row.current_company,
        location: row.location,
        currentTitle: row.current_title,
        observationsCount: row.observations_count,
        aliasCount: row.alias_count,
        lastObservedAt: row.last_observed_at,
        hard: row.hard,
      });
    }
  }
  return details;
}

/** Oldest first, each person joins the first cluster it is compatible with (as the resolver accepts candidates). */
export function compatibleClusters(
  persons: readonly CandidatePerson[],
  separated: ReadonlySet<string> = new Set(),
): CandidatePerson[][] {
  const clusters: { members: CandidatePerson[]; hard: Map<string, Set<string>> }[] = [];
  const sorted = [...persons].sort((a, b) => a.anchor - b.anchor || a.id.localeCompare(b.id));
  for (const person of sorted) {
    const hard = hardSets(person.hard);
    const home = clusters.find(
      (cluster) =>
        compatible(cluster.hard, hard) &&
        cluster.members.every((member) => !separated.has(`${member.id}|${person.id}`)),
    );
    if (home) {
      home.members.push(person);
      for (const [kind, values] of hard) {
        const set = home.hard.get(kind) ?? new Set<string>();
        values.forEach((value) => set.add(value));
        home.hard.set(kind, set);
      }
    } else {
      clusters.push({ members: [person], hard });
    }
  }
  return clusters.map((cluster) => cluster.members);
}

/** Finds likely duplicates, writes the review CSV and (with execute) merges each group with an audit trail. */
export async function mergeDuplicates(
  pool: Pool,
  options: MergeDuplicatesOptions,
  progress: Progress,
): Promise<MergeDuplicatesSummary> {
  const found = await findDuplicateGroups(pool, progress, options.signal);
  const groups = options.limitGroups ? found.groups.slice(0, options.limitGroups) : found.groups;
  const summary: MergeDuplicatesSummary = {
    dry_run: !options.execute,
    persons_scanned: found.scanned,
    groups: groups.length,
    persons_in_groups: groups.reduce((sum, group) => sum + group.persons.length, 0),
    kept_apart: found.keptApart,
    merged_groups: 0,
    merged_persons: 0,
    skipped: [],
    output: options.output,
    interrupted: found.interrupted,
  };
  const outcomes = new Map<DuplicateGroup, string>();
  if (options.execute && !found.interrupted) {
    progress.start(groups.length, 'merging groups');
    for (const group of groups) {
      if (options.signal?.aborted) {
        summary.interrupted = true;
        break;
      }
      const outcome = await inTransaction(pool, async (client) => {
        const merged = await mergePersons(
          client,
          group.persons.map((person) => person.id),
          MERGE_REASON,
          options.settings,
          (locked) => keyStillShared(client, locked, group.key),
        );
        if (merged.merged) {
          await recordDecision(client, {
            kind: 'merge',
            survivorId: merged.survivorId,
            personIds: merged.mergedIds,
            aliases: merged.aliases,
            mergeId: merged.mergeId,
            reason: MERGE_REASON,
          });
        }
        return merged;
      });
      if (outcome.merged) {
        summary.merged_groups += 1;
        summary.merged_persons += outcome.mergedIds.length;
        outcomes.set(group, `merged (merge ${outcome.mergeId})`);
      } else {
        summary.skipped.push({ group_key: group.key, reason: outcome.reason });
        outcomes.set(group, `skipped: ${outcome.reason}`);
      }
      progress.increment();
    }
    progress.stop();
  }
  if (options.output) await writeReview(options.output, groups, outcomes, options.execute);
  return summary;
}

/** Under the locks: the persons must still share the key the scan grouped them by. */
async function keyStillShared(
  client: PoolClient,
  ids: readonly string[],
  key: string,
): Promise<string | null> {
  const { rows } = await client.query<{
    id: string;
    full_name: string | null;
    current_company: string | null;
    location_key: string | null;
    current_title: string | null;
  }>(
    `SELECT id, full_name, current_company, snapshot ->> 'locationKey' AS location_key, current_title
       FROM persons WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  const changed = rows.filter(
    (row) =>
      duplicateKey({
        fullName: row.full_name,
        currentCompany: row.current_company,
        locationKey: row.location_key,
        currentTitle: row.current_title,
      }) !== key,
  );
  return changed.length === 0 ? null : `changed since the scan: ${changed.map((row) => row.id).join(', ')}`;
}

const REVIEW_COLUMNS = [
  'group',
  'group_key',
  'role',
  'outcome',
  'person_id',
  'full_name',
  'current_company',
  'location',
  'current_title',
  'observations_count',
  'alias_count',
  'hard_identifiers',
  'anchor_observation_id',
  'last_observed_at',
];

async function writeReview(
  file: string,
  groups: readonly DuplicateGroup[],
  outcomes: ReadonlyMap<DuplicateGroup, string>,
  execute: boolean,
): Promise<void> {
  const rows = groups.flatMap((group, index) =>
    group.persons.map((person, position) => ({
      group: index + 1,
      group_key: group.key,
      role: position === 0 ? 'survivor' : 'merge',
      outcome: outcomes.get(group) ?? (execute ? 'not attempted' : 'would merge'),
      person_id: person.id,
      full_name: person.fullName,
      current_company: person.currentCompany,
      location: person.location,
      current_title: person.currentTitle,
      observations_count: person.observationsCount,
      alias_count: person.aliasCount,
      hard_identifiers: person.hard.map((alias) => `${alias.kind}:${alias.value}`).join(' '),
      anchor_observation_id: person.anchor,
      last_observed_at: person.lastObservedAt?.toISOString() ?? '',
    })),
  );
  await pipeline(
    Readable.from(rows),
    stringify({ header: true, columns: REVIEW_COLUMNS }),
    fs.createWriteStream(file),
  );
}

interface CliOptions {
  execute?: boolean;
  output: string;
  review: boolean;
  limitGroups?: number;
}

export function register(program: Command): void {
  program
    .command('merge-duplicates')
    .summary('find persons that look alike but share no identifier; review CSV, merge with --execute')
    .description(
      'find likely duplicate persons that share no identifier (same normalised full name, current company and ' +
        'location, or title when the location is unknown), write a review CSV and, with --execute, merge each group',
    )
    .option('--execute', 'merge the groups (default: dry run, only the review CSV)')
    .option('--output <file>', 'review CSV, one row per person of each group', 'merge-duplicates.csv')
    .option('--no-review', 'write no review CSV')
    .option('--limit-groups <n>', 'handle at most this many groups', positiveInteger)
    .addHelpText(
      'after',
      `
Persons holding different Sales Navigator ids or member numbers are never grouped, nor persons an operator split
apart with rollback-merge. A merge keeps the person with the oldest observation, audits the merge with full
before-images (undo it with rollback-merge <mergeId>) and is recorded in manual_identity_decisions, so a rebuild
replays it.`,
    )
    .action(
      databaseAction<CliOptions>('merge-duplicates', async (context, options): Promise<CommandResult> => {
        const summary = await mergeDuplicates(
          context.pool,
          {
            execute: options.execute === true,
            output: options.review ? options.output : null,
            limitGroups: options.limitGroups,
            settings: foldSettingsFrom(context.config),
            signal: context.signal,
          },
          context.progress,
        );
        return { summary };
      }),
    );
}
