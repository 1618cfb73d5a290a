import { z } from 'zod';
import { ApiError } from '../api/errors';
import type { Pool } from '../db/pool';
import { compileFilterDetailed } from './filter';
import { compileProjection } from './projection';
import type { Projection } from './projection';
import type { CarriedCount, CompiledSort } from './sort';
import {
  compileSort,
  cursorColumnsSql,
  cursorValuesOf,
  decodeCursor,
  encodeCursor,
  keysetCondition,
  queryFingerprint,
  stripCursorColumns,
} from './sort';
import type { FieldCatalogue } from './types';

export const QUERY_LIMITS = { defaultLimit: 100, maxLimit: 1000 } as const;

/** The body of POST /api/query/{people,companies}; each part is validated by its own compiler. */
export const queryBodySchema = z
  .object({
    filters: z.unknown().optional(),
    sort: z.unknown().optional(),
    limit: z.unknown().optional(),
    skip: z.unknown().optional(),
    cursor: z.unknown().optional(),
    fields: z.unknown().optional(),
  })
  .strict();

export interface QueryOptions {
  /** totalCount is exact up to this many rows; above it the answer says totalCountCapped. */
  countLimit: number;
  /** Counting longer than this gives up and reports the planner's estimate (totalCountEstimated). */
  countTimeoutMs: number;
  /** A count the planner prices above this (in its cost units) is not started: the estimate is reported. */
  countMaxCost: number;
}

export interface QueryPage {
  data: Record<string, unknown>[];
  pagination: {
    count: number;
    limit: number;
    skip: number;
    totalCount: number;
    totalCountCapped: boolean;
    totalCountEstimated: boolean;
    hasMore: boolean;
    nextSkip: number | null;
    nextCursor: string | null;
  };
}

export interface CompiledSelect {
  /** `SELECT <projection> FROM <table> WHERE <live> AND <filter> ORDER BY <sort>` (no LIMIT). */
  sql: string;
  params: unknown[];
  names: string[];
  /** Patterns to check with `assertRegexesCompile` before running the query. */
  regexes: string[];
}

/** A whole filtered, projected and sorted SELECT: what exports stream from. */
export function compileSelect(
  catalogue: FieldCatalogue,
  request: { filters?: unknown; fields?: unknown; sort?: unknown },
): CompiledSelect {
  const params: unknown[] = [];
  const filter = compileFilterDetailed(catalogue, request.filters, params);
  const projection = compileProjection(catalogue, request.fields);
  const sort = compileSort(catalogue, request.sort);
  return {
    sql: `SELECT ${projection.sql} FROM ${catalogue.table} ${catalogue.alias}
           WHERE ${catalogue.liveCondition} AND ${filter.sql} ORDER BY ${sort.orderBy}`,
    params,
    names: projection.names,
    regexes: filter.regexes,
  };
}

/** Runs one page of a query request (the raw JSON body). Throws ApiError for every bad input. */
export async function runQuery(
  pool: Pool,
  catalogue: FieldCatalogue,
  body: unknown,
  options: QueryOptions,
): Promise<QueryPage> {
  const parsed = queryBodySchema.safeParse(body ?? {});
  if (!parsed.success) {
    throw new ApiError(
      'INVALID_REQUEST',
      'expected {filters, sort, limit, skip, cursor, fields}',
      parsed.error.issues.map(({ path, message }) => ({ path: path.join('.'), message })),
    );
  }
  const request = parsed.data;
  const limit = parseLimit(request.limit);
  const skip = parseSkip(request.skip);
  const params: unknown[] = [];
  const filter = compileFilterDetailed(catalogue, request.filters, params);
  const projection = withId(compileProjection(catalogue, request.fields), catalogue);
  const sort = compileSort(catalogue, request.sort);
  const fingerprint = queryFingerprint(catalogue.entity, request.filters, sort);
  const from = `${catalogue.table} ${catalogue.alias}`;
  const where = `${catalogue.liveCondition} AND ${filter.sql}`;

  const pageParams = [...params];
  let pageWhere = where;
  let carried: CarriedCount | null = null;
  if (request.cursor !== undefined && request.cursor !== null) {
    if (skip !== 0)
      throw new ApiError('INVALID_CURSOR', 'a cursor continues from its own position: drop skip');
    const cursor = decodeCursor(request.cursor, sort, fingerprint);
    pageWhere += ` AND ${keysetCondition(sort, cursor.values, pageParams)}`;
    carried = cursor.total;
  }
  pageParams.push(limit + 1, skip);
  const pageSql = `SELECT ${projection.sql}, ${cursorColumnsSql(sort)} FROM ${from} WHERE ${pageWhere}
                    ORDER BY ${sort.orderBy} LIMIT $${pageParams.length - 1} OFFSET $${pageParams.length}`;

  await assertRegexesCompile(pool, filter.regexes);
  const [page, total] = await withRegexErrors(() =>
    Promise.all([
      pool.query<Record<string, unknown>>(pageSql, pageParams),
      carried ?? countMatches(pool, { from, where, params }, options),
    ]),
  );
  const hasMore = page.rows.length > limit;
  const rows = page.rows.slice(0, limit);
  if (total.estimated && !carried) {
    // An estimate below what this page proves would be a visible lie.
    total.count = Math.max(total.count, skip + rows.length + (hasMore ? 1 : 0));
  }
  const last = rows[rows.length - 1];
  const nextCursor = hasMore && last ? encodeCursor(cursorValuesOf(last, sort), total, fingerprint) : null;
  return {
    data: rows.map(stripCursorColumns),
    pagination: {
      count: rows.length,
      limit,
      skip,
      totalCount: total.count,
      totalCountCapped: total.capped,
      totalCountEstimated: total.estimated,
      hasMore,
      nextSkip: hasMore && !request.cursor ? skip + rows.length : null,
      nextCursor,
    },
  };
}

/** SQLSTATE of a statement cancelled by statement_timeout. */
const QUERY_CANCELED = '57014';

interface PlanNode {
  'Node Type': string;
  'Total Cost': number;
  'Plan Rows': number;
  Plans?: PlanNode[];
}

/**
 * Counting a big match evaluates the filter on every candidate row, which can cost far more than the page itself:
 * the count is exact up to `countLimit` rows, else PostgreSQL's estimate. A count the planner prices above
 * `countMaxCost` is not started (building a GIN bitmap for a regex cannot be interrupted: one took 280 ms past a
 * 20 ms timeout at a million people), and one that runs past `countTimeoutMs` is cancelled. JIT is off in here:
 * compiling takes 15 ms and more, cannot be cancelled either, and buys nothing for a count cut short at
 * `countLimit` or for an EXPLAIN that never runs.
 */
async function countMatches(
  pool: Pool,
  query: { from: string; where: string; params: unknown[] },
  options: QueryOptions,
): Promise<CarriedCount> {
  const countSql = `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${query.from} WHERE ${query.where}
                     LIMIT $${query.params.length + 1}) AS matched`;
  const params = [...query.params, options.countLimit + 1];
  const client = await pool.connect();
  let inTransaction = false;
  try {
    await client.query('BEGIN READ ONLY');
    inTransaction = true;
    await client.query(`SELECT set_config('jit', 'off', true)`);
    const { rows: explained } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${countSql}`,
      params,
    );
    const plan = explained[0]!['QUERY PLAN'][0].Plan;
    const estimated: CarriedCount = { count: matchEstimate(plan), capped: false, estimated: true };
    if (plan['Total Cost'] > options.countMaxCost) return estimated;
    await client.query(`SELECT set_config('statement_timeout', $1, true)`, [String(options.countTimeoutMs)]);
    await client.query('SAVEPOINT counting');
    try {
      const { rows } = await client.query<{ n: number }>(countSql, params);
      const n = rows[0]?.n ?? 0;
      return { count: Math.min(n, options.countLimit), capped: n > options.countLimit, estimated: false };
    } catch (error) {
      if ((error as { code?: unknown }).code !== QUERY_CANCELED) throw error;
      await client.query('ROLLBACK TO SAVEPOINT counting');
      return estimated;
    }
  } finally {
    if (inTransaction) await client.query('COMMIT').catch(() => undefined);
    client.release();
  }
}

/** The planner's estimate of all the matching rows: what the count's LIMIT reads from. */
function matchEstimate(plan: PlanNode): number {
  let node: PlanNode | undefined = plan;
  while (node && node['Node Type'] !== 'Limit') node = node.Plans?.[0];
  return Math.round(node?.Plans?.[0]?.['Plan Rows'] ?? plan['Plan Rows']);
}

function withId(projection: Projection, catalogue: FieldCatalogue): Projection {
  if (projection.names.includes('id')) return projection;
  return { names: ['id', ...projection.names], sql: `${catalogue.idSql} AS "id", ${projection.sql}` };
}

function parseLimit(value: unknown): number {
  if (value === undefined || value === null) return QUERY_LIMITS.defaultLimit;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ApiError('INVALID_LIMIT', `limit must be an integer from 1 to ${QUERY_LIMITS.maxLimit}`);
  }
  if (value > QUERY_LIMITS.maxLimit) {
    throw new ApiError(
      'LIMIT_EXCEEDED',
      `limit may be at most ${QUERY_LIMITS.maxLimit}; use cursor to page on`,
    );
  }
  return value;
}

function parseSkip(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ApiError('INVALID_SKIP', 'skip must be a non-negative integer');
  }
  return value;
}

/** SQLSTATE of "invalid regular expression". */
const INVALID_REGEX_STATE = '2201B';

export function isInvalidRegexError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === INVALID_REGEX_STATE;
}

/**
 * PostgreSQL compiles a pattern only when a row reaches it, so an empty result would hide a bad one:
 * compile every pattern up front. Throws ApiError INVALID_REGEX.
 */
export async function assertRegexesCompile(pool: Pool, patterns: string[]): Promise<void> {
  if (patterns.length === 0) return;
  await withRegexErrors(() =>
    pool.query(`SELECT count(*) FROM unnest($1::text[]) AS r(pattern) WHERE '' ~ r.pattern`, [patterns]),
  );
}

async function withRegexErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isInvalidRegexError(error)) {
      throw new ApiError('INVALID_REGEX', `$regex: ${(error as Error).message}`);
    }
    throw error;
  }
}

export type { CompiledSort };
