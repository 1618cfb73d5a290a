import type { Command } from 'commander';
import type { Pool, PoolClient } from '../../db/pool';
import { extractIdentifiers } from '../../identity/identifiers';
import { lockIdentityKeys, lockKeys, PERSON_SPEC } from '../../identity/resolver';
import type { FoldSettings } from '../../snapshots/store';
import { separatedPairs } from '../identity/decisions';
import { inTransaction } from '../identity/locks';
import { hardConflict, mergePersons } from '../identity/manual-merge';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { databaseAction, foldSettingsFrom } from '../runtime';

const SCAN_BATCH = 5000;
const EXAMPLES = 50;
export const DEDUPE_MERGE_REASON = 'alias_dedupe';

/** How a value of each identifier kind is read again: the payload field that carries it. */
const PROBES: Record<string, (text: string) => Record<string, unknown>> = {
  sales_nav_id: (text) => ({ SalesProfile: `https://www.linkedin.com/sales/lead/${text}` }),
  member_id: (text) => ({ id: text }),
  duxsoup_id: (text) => ({ id: text }),
  username: (text) => ({ Profile: `https://www.linkedin.com/in/${text}` }),
  profile_url: (text) => ({ Profile: text }),
  public_url: (text) => ({ PublicProfile: text }),
  sales_url: (text) => ({ SalesProfile: text }),
  recruiter_url: (text) => ({ RecruiterProfile: text }),
  email: (text) => ({ Email: text }),
};

/**
 * The value an alias would have if its identifier arrived today: its display form (as first seen) read again by the
 * current extractor. Null when today's rules no longer see an identifier of that kind in it; the stored value for
 * kinds the extractor does not produce.
 */
export function renormalisedAlias(alias: { kind: string; value: string; display: string }): string | null {
  const probe = PROBES[alias.kind];
  if (!probe) return alias.value;
  for (const text of [alias.display, alias.value]) {
    const found = extractIdentifiers(probe(text)).find((identifier) => identifier.kind === alias.kind);
    if (found) return found.value;
  }
  return null;
}

export type AliasAction = 'rename' | 'duplicate' | 'merge' | 'conflict' | 'invalid';

export interface StaleAlias {
  kind: string;
  value: string;
  normalised: string | null;
  person_id: string;
  action: AliasAction;
  /** The person holding the normalised value, when another one does. */
  other_person_id?: string;
}

export interface DedupeAliasesSummary extends Record<string, unknown> {
  dry_run: boolean;
  aliases_scanned: number;
  stale: number;
  /** Stored under the normalised value (nobody held it). */
  renamed: number;
  /** Dropped: the same person already holds the normalised value. */
  duplicates_removed: number;
  /** Another person holds the normalised value: the same identifier, so the same human; merged when compatible. */
  merges: number;
  /** ... unless their Sales Navigator ids or member numbers differ, or an operator split them: reported only. */
  conflicts: number;
  /** Today's rules see no identifier in the value at all: reported, left alone. */
  invalid: number;
  examples: StaleAlias[];
  interrupted: boolean;
}

interface AliasRow {
  kind: string;
  value: string;
  display: string;
  person_id: string;
}

/**
 * Aliases stored before a normaliser changed (a URL kept with a trailing slash, an id in another case, ...) no
 * longer match the same identifier arriving today, which would then create a second person. Every alias is read
 * again with today's rules; the stale ones are renamed, dropped as duplicates, or (when another person holds the
 * normalised value) their persons are merged, exactly as an observation naming both would merge them.
 */
export async function dedupeAliases(
  pool: Pool,
  options: { execute: boolean; settings: FoldSettings; signal?: AbortSignal },
  progress: Progress,
): Promise<DedupeAliasesSummary> {
  const summary: DedupeAliasesSummary = {
    dry_run: !options.execute,
    aliases_scanned: 0,
    stale: 0,
    renamed: 0,
    duplicates_removed: 0,
    merges: 0,
    conflicts: 0,
    invalid: 0,
    examples: [],
    interrupted: false,
  };
  const total = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM person_aliases');
  progress.start(total.rows[0]!.n, 'aliases');
  const planned = new Map<string, string>(); // dry run: normalised keys a rename would create, and their holder
  const separated = await separatedPairs(pool);
  let after = { kind: '', value: '' };
  for (;;) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const { rows } = await pool.query<AliasRow>(
      `SELECT kind, value, display, person_id FROM person_aliases
        WHERE (kind, value) > ($1, $2) ORDER BY kind, value LIMIT $3`,
      [after.kind, after.value, SCAN_BATCH],
    );
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]!;
    after = { kind: last.kind, value: last.value };
    summary.aliases_scanned += rows.length;
    for (const row of rows) {
      const normalised = renormalisedAlias(row);
      if (normalised === row.value) continue;
      summary.stale += 1;
      const stale = options.execute
        ? await fixAlias(pool, row, normalised, separated, options.settings)
        : await classify(pool, row, normalised, separated, planned);
      count(summary, stale);
    }
    progress.increment(rows.length);
  }
  progress.stop();
  return summary;
}

function count(summary: DedupeAliasesSummary, stale: StaleAlias): void {
  const field = {
    rename: 'renamed',
    duplicate: 'duplicates_removed',
    merge: 'merges',
    conflict: 'conflicts',
    invalid: 'invalid',
  } as const;
  summary[field[stale.action]] += 1;
  if (summary.examples.length < EXAMPLES) summary.examples.push(stale);
}

async function classify(
  db: Pool | PoolClient,
  row: AliasRow,
  normalised: string | null,
  separated: ReadonlySet<string>,
  planned?: Map<string, string>,
): Promise<StaleAlias> {
  const base = { kind: row.kind, value: row.value, normalised, person_id: row.person_id };
  if (normalised === null) return { ...base, action: 'invalid' };
  const holder = await db.query<{ person_id: string }>(
    'SELECT person_id FROM person_aliases WHERE kind = $1 AND value = $2',
    [row.kind, normalised],
  );
  const key = `${row.kind}|${normalised}`;
  const other = holder.rows[0]?.person_id ?? planned?.get(key);
  if (other === undefined) {
    planned?.set(key, row.person_id);
    return { ...base, action: 'rename' };
  }
  if (other === row.person_id) return { ...base, action: 'duplicate' };
  const hard = await db.query<{ person_id: string; kind: string; value: string }>(
    'SELECT person_id, kind, value FROM person_aliases WHERE person_id = ANY($1::uuid[]) AND kind = ANY($2::text[])',
    [[row.person_id, other], [...PERSON_SPEC.hardKinds]],
  );
  const persons = [row.person_id, other].map((id) => ({
    id,
    aliases: hard.rows.filter((alias) => alias.person_id === id),
  }));
  const apart = hardConflict(persons) !== null || separated.has(`${row.person_id}|${other}`);
  return { ...base, action: apart ? 'conflict' : 'merge', other_person_id: other };
}

/** Re-classifies under the identifier locks of both values, then applies. */
async function fixAlias(
  pool: Pool,
  row: AliasRow,
  normalised: string | null,
  separated: ReadonlySet<string>,
  settings: FoldSettings,
): Promise<StaleAlias> {
  if (normalised === null) return classify(pool, row, normalised, separated);
  return inTransaction(pool, async (client) => {
    const keys = [
      { kind: row.kind, value: row.value, display: row.value },
      { kind: row.kind, value: normalised, display: normalised },
    ];
    await lockIdentityKeys(client, lockKeys(PERSON_SPEC, keys));
    const current = await client.query<AliasRow>(
      'SELECT kind, value, display, person_id FROM person_aliases WHERE kind = $1 AND value = $2',
      [row.kind, row.value],
    );
    if (!current.rows[0])
      return { kind: row.kind, value: row.value, normalised, person_id: row.person_id, action: 'duplicate' };
    const stale = await classify(client, current.rows[0], normalised, separated);
    if (stale.action === 'rename') {
      await client.query('UPDATE person_aliases SET value = $3 WHERE kind = $1 AND value = $2', [
        row.kind,
        row.value,
        normalised,
      ]);
    } else if (stale.action === 'duplicate') {
      await client.query('DELETE FROM person_aliases WHERE kind = $1 AND value = $2', [row.kind, row.value]);
    } else if (stale.action === 'merge') {
      const merged = await mergePersons(
        client,
        [stale.person_id, stale.other_person_id!],
        DEDUPE_MERGE_REASON,
        settings,
      );
      if (!merged.merged) return { ...stale, action: 'conflict' };
      await client.query('DELETE FROM person_aliases WHERE kind = $1 AND value = $2', [row.kind, row.value]);
    }
    return stale;
  });
}

interface CliOptions {
  execute?: boolean;
}

export function register(program: Command): void {
  program
    .command('dedupe-aliases')
    .summary('fix aliases stored under an older normalisation')
    .description(
      'find person aliases stored under an older normalisation (they no longer match the same identifier ' +
        'arriving today) and fix them',
    )
    .option('--execute', 'fix them (default: dry run, reports them)')
    .addHelpText(
      'after',
      `
Each alias is read again from its display form with today's identifier rules. A stale one is renamed to the
normalised value when nobody holds it, dropped when its person already holds it, and when another person holds
it the two persons are merged (the same identifier is the same human; reason alias_dedupe) unless their Sales
Navigator ids or member numbers differ or an operator split them (reported as conflicts). Values in which today's rules see no identifier
are reported only. A rebuild re-extracts every identifier, so it needs none of this.`,
    )
    .action(
      databaseAction<CliOptions>('dedupe-aliases', async (context, options): Promise<CommandResult> => {
        const summary = await dedupeAliases(
          context.pool,
          {
            execute: options.execute === true,
            settings: foldSettingsFrom(context.config),
            signal: context.signal,
          },
          context.progress,
        );
        return { summary };
      }),
    );
}
