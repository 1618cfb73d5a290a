import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ApiError } from '../api/errors';
import { lookupField } from './catalogue';
import type { FieldCatalogue, FieldSpec, SortKey } from './types';

export const MAX_SORT_KEYS = 3;

export interface CompiledSort {
  keys: SortKey[];
  /** The sort keys then the id, each with its SQL. */
  columns: { spec: FieldSpec; direction: 1 | -1 }[];
  orderBy: string;
}

/** `{field: 1 | -1, ...}` over sortable fields (absent: the catalogue's default). Throws INVALID_SORT. */
export function compileSort(catalogue: FieldCatalogue, sort: unknown): CompiledSort {
  const keys = sort === undefined || sort === null ? [...catalogue.defaultSort] : parseSort(catalogue, sort);
  const columns = keys.map((key) => ({ spec: catalogue.fields[key.field]!, direction: key.direction }));
  const idSpec = catalogue.fields.id!;
  if (!columns.some((column) => column.spec === idSpec)) {
    columns.push({ spec: idSpec, direction: keys[keys.length - 1]?.direction ?? 1 });
  }
  // PostgreSQL's default null placement (NULLS LAST ascending, FIRST descending) lets btree indexes serve both.
  const orderBy = columns
    .map(({ spec, direction }) => `${spec.sql} ${direction === 1 ? 'ASC' : 'DESC'}`)
    .join(', ');
  return { keys, columns, orderBy };
}

function parseSort(catalogue: FieldCatalogue, sort: unknown): SortKey[] {
  if (sort === null || typeof sort !== 'object' || Array.isArray(sort)) {
    throw new ApiError('INVALID_SORT', 'sort must be an object such as {"lastObservedAt": -1}');
  }
  const entries = Object.entries(sort as Record<string, unknown>);
  if (entries.length === 0 || entries.length > MAX_SORT_KEYS) {
    throw new ApiError('INVALID_SORT', `sort takes 1 to ${MAX_SORT_KEYS} fields`);
  }
  const keys: SortKey[] = [];
  for (const [name, direction] of entries) {
    const spec = lookupField(catalogue, name);
    if (!spec || !spec.sortable) {
      throw new ApiError('INVALID_SORT', `sort.${name}: not a sortable field (see GET /api/query/help)`, {
        path: `sort.${name}`,
      });
    }
    if (direction !== 1 && direction !== -1) {
      throw new ApiError('INVALID_SORT', `sort.${name}: direction must be 1 (ascending) or -1 (descending)`, {
        path: `sort.${name}`,
      });
    }
    if (keys.some((key) => key.field === spec.name)) {
      throw new ApiError('INVALID_SORT', `sort.${name}: ${spec.name} is sorted on twice`);
    }
    keys.push({ field: spec.name, direction });
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------------
// Cursors: the sort values and id of the last row of a page, bound to the query they came from
// ---------------------------------------------------------------------------------------------------------

type CursorValue = string | number | boolean | null;

/** What the first page counted, carried by its cursors so deeper pages need not count again. */
export interface CarriedCount {
  count: number;
  /** More rows match than the count limit; `count` is the limit. */
  capped: boolean;
  /** Counting took longer than its time budget; `count` is the planner's estimate. */
  estimated: boolean;
}

const cursorSchema = z.object({
  v: z.array(z.union([z.string().max(4096), z.number(), z.boolean(), z.null()])),
  t: z.object({ count: z.number().int().min(0), capped: z.boolean(), estimated: z.boolean() }).strict(),
  q: z.string(),
  c: z.string(),
});

export interface DecodedCursor {
  values: CursorValue[];
  total: CarriedCount;
}

/** Selects each sort column in a form that round-trips exactly (timestamps to the microsecond, as text). */
export function cursorColumnsSql(sort: CompiledSort): string {
  return sort.columns
    .map(({ spec }, index) => {
      const value =
        spec.type === 'date'
          ? `to_char(${spec.sql} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
          : spec.format === 'uuid'
            ? `${spec.sql}::text`
            : spec.sql;
      return `${value} AS "__cursor_${index}"`;
    })
    .join(', ');
}

export function cursorValuesOf(row: Record<string, unknown>, sort: CompiledSort): CursorValue[] {
  return sort.columns.map((_column, index) => row[`__cursor_${index}`] as CursorValue);
}

export function stripCursorColumns(row: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(row)) if (key.startsWith('__cursor_')) delete row[key];
  return row;
}

/** Identifies the query a cursor belongs to: another filter or sort makes the cursor invalid. */
export function queryFingerprint(entity: string, filter: unknown, sort: CompiledSort): string {
  return digest(stableJson({ entity, filter: filter ?? null, sort: sort.keys }));
}

export function encodeCursor(values: CursorValue[], total: CarriedCount, fingerprint: string): string {
  const body = { v: values, t: total, q: fingerprint };
  return Buffer.from(JSON.stringify({ ...body, c: digest(stableJson(body)) })).toString('base64url');
}

/** Throws INVALID_CURSOR unless the token is one this query handed out, unmodified. */
export function decodeCursor(token: unknown, sort: CompiledSort, fingerprint: string): DecodedCursor {
  const invalid = (why: string) => new ApiError('INVALID_CURSOR', `cursor: ${why}`);
  if (typeof token !== 'string' || token.length === 0 || token.length > 16_384 || !/^[\w-]+$/.test(token)) {
    throw invalid('expected the nextCursor string of a previous page');
  }
  let parsed: z.infer<typeof cursorSchema>;
  try {
    parsed = cursorSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
  } catch {
    throw invalid('not a cursor of this service');
  }
  if (parsed.c !== digest(stableJson({ v: parsed.v, t: parsed.t, q: parsed.q }))) {
    throw invalid('the cursor was modified');
  }
  if (parsed.q !== fingerprint) throw invalid('it belongs to a query with another filter or sort');
  if (parsed.v.length !== sort.columns.length) throw invalid('wrong number of sort values');
  sort.columns.forEach(({ spec }, index) => {
    if (!fitsType(spec, parsed.v[index]!)) throw invalid(`bad value for ${spec.name}`);
  });
  if (parsed.v[parsed.v.length - 1] === null) throw invalid('missing id');
  return { values: parsed.v, total: parsed.t };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function fitsType(spec: FieldSpec, value: CursorValue): boolean {
  if (value === null) return true;
  if (spec.format === 'uuid') return typeof value === 'string' && UUID.test(value);
  switch (spec.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value));
    case 'boolean':
      return typeof value === 'boolean';
    default:
      return typeof value === 'string';
  }
}

const SQL_TYPE: Record<string, string> = {
  text: 'text',
  number: 'float8',
  date: 'timestamptz',
  boolean: 'boolean',
};

/**
 * Rows strictly after the cursor in the sort order, nulls sorting as the largest values. The bound on the
 * first column is redundant but lets an index range scan start at the cursor instead of filtering from the top.
 */
export function keysetCondition(sort: CompiledSort, values: CursorValue[], params: unknown[]): string {
  const placeholders = values.map((value, index) => {
    if (value === null) return null;
    params.push(value);
    const spec = sort.columns[index]!.spec;
    return `$${params.length}::${spec.format === 'uuid' ? 'uuid' : SQL_TYPE[spec.type]}`;
  });
  const disjuncts: string[] = [];
  sort.columns.forEach(({ spec, direction }, index) => {
    const after = strictlyAfter(spec.sql, direction, placeholders[index]!, spec.name === 'id');
    if (after === null) return;
    const equalBefore = sort.columns
      .slice(0, index)
      .map((column, j) =>
        placeholders[j] === null ? `${column.spec.sql} IS NULL` : `${column.spec.sql} = ${placeholders[j]}`,
      );
    disjuncts.push([...equalBefore, after].join(' AND '));
  });
  const first = sort.columns[0]!;
  const bound =
    placeholders[0] === null
      ? first.direction === 1
        ? `${first.spec.sql} IS NULL`
        : null
      : first.direction === -1
        ? `${first.spec.sql} <= ${placeholders[0]}`
        : null;
  const after = disjuncts.length === 0 ? 'FALSE' : disjuncts.map((part) => `(${part})`).join(' OR ');
  return bound === null ? `(${after})` : `(${bound} AND (${after}))`;
}

function strictlyAfter(
  sql: string,
  direction: 1 | -1,
  placeholder: string | null,
  neverNull: boolean,
): string | null {
  if (direction === 1) {
    if (placeholder === null) return null;
    return neverNull ? `${sql} > ${placeholder}` : `(${sql} > ${placeholder} OR ${sql} IS NULL)`;
  }
  return placeholder === null ? `${sql} IS NOT NULL` : `${sql} < ${placeholder}`;
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/** JSON with object keys sorted, so equal values give equal text. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
}
