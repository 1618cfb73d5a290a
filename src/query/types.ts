/** How a field's values compare; arrays match when any element matches (MongoDB semantics). */
export type FieldType = 'text' | 'number' | 'date' | 'boolean' | 'textArray' | 'objectArray';

/** The type of one value of a field: a scalar itself, an element of a textArray, a sub-field of an objectArray. */
export type ValueType = 'text' | 'number' | 'date' | 'boolean';

export interface FieldSpec {
  /** The name clients use (`roles.title`, `countryCode`, ...). */
  name: string;
  type: FieldType;
  /**
   * SQL over the catalogue's table alias. Scalars: the value itself (text, float8, timestamptz, boolean or
   * uuid). textArray and objectArray: a jsonb array. Written exactly as the migration's expression indexes
   * are, so the planner can use them.
   */
  sql: string;
  description: string;
  /** Scalars only. */
  sortable?: boolean;
  /** Text whose values must be UUIDs: compared as uuid so the column's own index applies. */
  format?: 'uuid';
  /** objectArray sub-field: matches when any element's `key` matches. Without it the field is the whole array. */
  element?: { key: string; type: Exclude<ValueType, 'date'> };
  /** Other names accepted for the field (the old system's `snapshot.*` / `meta.*` paths). */
  aliases?: readonly string[];
  /** Output expression when it differs from `sql` (an objectArray sub-field outputs its elements' values). */
  selectSql?: string;
  /** Part of the projection when the request names no fields. */
  default?: boolean;
}

export interface SortKey {
  field: string;
  direction: 1 | -1;
}

/** One queryable entity: its table, which rows are live, and the whitelist of fields. */
export interface FieldCatalogue {
  entity: 'people' | 'companies';
  table: string;
  alias: string;
  /** SQL condition selecting live rows (tombstones of merges excluded). */
  liveCondition: string;
  /** Unique, never-null id: the last sort key of every query, so pages are stable. */
  idSql: string;
  fields: Readonly<Record<string, FieldSpec>>;
  defaultSort: readonly SortKey[];
}
