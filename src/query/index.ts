/**
 * The analyst query language: a MongoDB-style JSON filter compiled to parameterised SQL over a
 * whitelist of fields per entity. Used by POST /api/query/* and by exports.
 */
export type { FieldCatalogue, FieldSpec, FieldType, SortKey, ValueType } from './types';
export { COMPANY_FIELDS, lookupField, PEOPLE_FIELDS } from './catalogue';
export {
  COMPARISON_OPERATORS,
  compileFilter,
  compileFilterDetailed,
  FILTER_LIMITS,
  FORBIDDEN_OPERATORS,
  LOGICAL_OPERATORS,
  operatorsFor,
  valueTypeOf,
} from './filter';
export type { CompiledFilter } from './filter';
export { compileProjection, defaultFields } from './projection';
export type { Projection } from './projection';
export { compileSort } from './sort';
export type { CompiledSort } from './sort';
export {
  assertRegexesCompile,
  compileSelect,
  isInvalidRegexError,
  QUERY_LIMITS,
  queryBodySchema,
  runQuery,
} from './run';
export type { CompiledSelect, QueryOptions, QueryPage } from './run';
export { queryHelp } from './help';
