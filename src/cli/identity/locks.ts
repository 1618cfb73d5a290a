import type { PoolClient } from '../../db/pool';
import { lockIdentityKeys, lockKeys, PERSON_SPEC } from '../../identity/resolver';

export interface AliasKey {
  kind: string;
  value: string;
}

export interface LockedPerson {
  id: string;
  anchor: number;
  mergedInto: string | null;
  aliases: AliasKey[];
}

const MAX_LOCK_ROUNDS = 5;

/**
 * Takes what Phase 2 takes before it touches a person, in the same order: the advisory locks of every identifier
 * the persons hold, then their rows (by id). Holding the identifier locks, no observation can attach to or merge
 * with these persons until we commit. Rows missing from the result do not exist. Must run in a transaction.
 */
export async function lockPersons(
  client: PoolClient,
  personIds: readonly string[],
  extraAliases: readonly AliasKey[] = [],
): Promise<Map<string, LockedPerson>> {
  const locked = new Set<string>();
  let aliases: (AliasKey & { person_id: string })[] = [];
  for (let round = 0; ; round += 1) {
    const found = await client.query<AliasKey & { person_id: string }>(
      `SELECT person_id, kind, value FROM person_aliases WHERE person_id = ANY($1::uuid[]) ORDER BY kind, value`,
      [personIds],
    );
    aliases = found.rows;
    const keys = lockKeys(PERSON_SPEC, [...aliases, ...extraAliases].map(asAliasInput)).filter(
      (key) => !locked.has(key),
    );
    if (keys.length === 0) break;
    // An identifier attached between our read and our lock is caught by the next read.
    if (round === MAX_LOCK_ROUNDS)
      throw Object.assign(new Error('persons kept changing while locking them; retry'), { code: '40001' });
    await lockIdentityKeys(client, keys);
    keys.forEach((key) => locked.add(key));
  }
  const rows = await client.query<{ id: string; anchor: number; merged_into: string | null }>(
    `SELECT id, anchor_observation_id AS anchor, merged_into FROM persons
      WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [personIds],
  );
  return new Map(
    rows.rows.map((row) => [
      row.id,
      {
        id: row.id,
        anchor: row.anchor,
        mergedInto: row.merged_into,
        aliases: aliases
          .filter((alias) => alias.person_id === row.id)
          .map(({ kind, value }) => ({ kind, value })),
      },
    ]),
  );
}

function asAliasInput(alias: AliasKey): { kind: string; value: string; display: string } {
  return { kind: alias.kind, value: alias.value, display: alias.value };
}

const RETRYABLE = new Set(['40001', '40P01']);

/** Runs `work` in a transaction, again (a few times) when it lost a deadlock or a race. */
export async function inTransaction<T>(
  pool: { connect(): Promise<PoolClient> },
  work: (client: PoolClient) => Promise<T>,
  attempts = 4,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (!(code && RETRYABLE.has(code)) || attempt >= attempts) throw error;
    } finally {
      client.release();
    }
  }
}
