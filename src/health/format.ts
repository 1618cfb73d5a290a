import type { Pool } from '../db/pool';

export type Queryable = Pool;

/** `part / whole` as a percentage with one decimal; null when there is nothing to divide by. */
export function percent(part: number, whole: number): number | null {
  if (whole <= 0) return null;
  return Math.round((part / whole) * 1000) / 10;
}

export function isoOrNull(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}

/** Whole seconds from `value` to `now`; null when there is no value. */
export function ageSeconds(value: Date | null | undefined, now: Date): number | null {
  return value ? Math.max(0, Math.round((now.getTime() - value.getTime()) / 1000)) : null;
}

/** A count that is exact, or a planner estimate when counting exactly would cost too much. */
export interface Count {
  value: number;
  estimated: boolean;
}

/** Tables whose size may be estimated; identifiers only ever come from this list. */
const ESTIMABLE_TABLES = ['observation_log', 'person_aliases'] as const;
export type EstimableTable = (typeof ESTIMABLE_TABLES)[number];

/** Below this many rows (by the planner's statistics) a table is counted exactly. */
export const EXACT_COUNT_LIMIT = 200_000;

/**
 * Exact for small tables; above EXACT_COUNT_LIMIT rows, `pg_class.reltuples` (kept by ANALYZE and autovacuum:
 * typically within a few percent), flagged `estimated`. A table never analysed (reltuples -1) is counted.
 */
export async function countOrEstimate(
  db: Queryable,
  table: EstimableTable,
  exactLimit = EXACT_COUNT_LIMIT,
): Promise<Count> {
  if (!ESTIMABLE_TABLES.includes(table)) throw new Error(`not an estimable table: ${String(table)}`);
  const { rows } = await db.query<{ reltuples: number }>(
    'SELECT reltuples::float8 AS reltuples FROM pg_class WHERE oid = to_regclass($1)',
    [table],
  );
  const estimate = rows[0]?.reltuples ?? -1;
  if (estimate > exactLimit) return { value: Math.round(estimate), estimated: true };
  const exact = await db.query<{ count: number }>(`SELECT count(*) AS count FROM ${table}`);
  return { value: exact.rows[0]!.count, estimated: false };
}

/**
 * Whole-table counts several reports need, computed at most once per instance of this class: the dashboard
 * shares one across its sections, so each full index scan happens once per dashboard.
 */
export class SharedCounts {
  private live: Promise<number> | undefined;
  private profile: Promise<{ visits: number; scans: number }> | undefined;

  constructor(private readonly db: Queryable) {}

  /** Live persons: one index-only scan of a partial index on live persons. */
  livePersons(): Promise<number> {
    this.live ??= this.db
      .query<{ count: number }>('SELECT count(*) AS count FROM persons WHERE merged_into IS NULL')
      .then((result) => result.rows[0]!.count);
    return this.live;
  }

  /** Visits and scans, all time: two index-only range scans of observations (kind, received_at). */
  profileObservations(): Promise<{ visits: number; scans: number }> {
    this.profile ??= this.db
      .query<{ visits: number; scans: number }>(
        `SELECT (SELECT count(*) FROM observation_log WHERE kind = 'visit') AS visits,
                (SELECT count(*) FROM observation_log WHERE kind = 'scan') AS scans`,
      )
      .then((result) => result.rows[0]!);
    return this.profile;
  }
}
