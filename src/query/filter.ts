import { ApiError } from '../api/errors';
import { lookupField } from './catalogue';
import type { FieldCatalogue, FieldSpec, ValueType } from './types';

export const COMPARISON_OPERATORS = [
  '$eq',
  '$ne',
  '$gt',
  '$gte',
  '$lt',
  '$lte',
  '$in',
  '$nin',
  '$regex',
  '$options',
  '$exists',
] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];
export const LOGICAL_OPERATORS = ['$and', '$or'] as const;
/** Operators that run code or escape the field whitelist in MongoDB: refused wherever they appear. */
export const FORBIDDEN_OPERATORS = [
  '$where',
  '$function',
  '$accumulator',
  '$expr',
  '$jsonSchema',
  '$text',
  '$lookup',
  '$graphLookup',
  '$unionWith',
  '$merge',
  '$out',
  '$eval',
] as const;

export const FILTER_LIMITS = {
  /** Nesting of $and / $or. */
  maxDepth: 10,
  maxInValues: 100,
  maxBranches: 100,
  maxConditions: 200,
  maxRegexLength: 512,
  maxTextLength: 2048,
} as const;

/** Which operators apply to which kind of value (`$options` goes with `$regex`). */
export function operatorsFor(spec: FieldSpec): ComparisonOperator[] {
  const type = valueTypeOf(spec);
  if (type === null) return ['$exists'];
  const base: ComparisonOperator[] = ['$eq', '$ne', '$in', '$nin', '$exists'];
  if (type === 'number' || type === 'date') base.push('$gt', '$gte', '$lt', '$lte');
  if (type === 'text' && spec.format !== 'uuid') base.push('$regex', '$options');
  return base;
}

/** The type of the values a condition compares; null for a whole objectArray (only $exists applies). */
export function valueTypeOf(spec: FieldSpec): ValueType | null {
  if (spec.type === 'textArray') return 'text';
  if (spec.type === 'objectArray') return spec.element?.type ?? null;
  return spec.type;
}

export interface CompiledFilter {
  sql: string;
  /** Every $regex pattern, so callers can check they compile before running the query. */
  regexes: string[];
}

/**
 * Validates `filter` (throws ApiError: INVALID_FILTER, INVALID_FILTER_FIELD, INVALID_OPERATOR,
 * FORBIDDEN_OPERATOR) and appends its values to `params`, returning a boolean SQL expression whose
 * placeholders continue after the values already in `params`. No value ever enters the SQL text.
 */
export function compileFilter(catalogue: FieldCatalogue, filter: unknown, params: unknown[]): string {
  return compileFilterDetailed(catalogue, filter, params).sql;
}

export function compileFilterDetailed(
  catalogue: FieldCatalogue,
  filter: unknown,
  params: unknown[],
): CompiledFilter {
  if (filter === undefined || filter === null) return { sql: 'TRUE', regexes: [] };
  rejectForbidden(filter, 'filters', 0);
  const compiler = new FilterCompiler(catalogue, params);
  const sql = compiler.node(filter, 'filters', 1);
  return { sql, regexes: compiler.regexes };
}

function filterError(path: string, message: string): ApiError {
  return new ApiError('INVALID_FILTER', `${path}: ${message}`, { path });
}

/** Scanned deeper than the compiler goes, so a forbidden operator is reported as such wherever it hides. */
const SCAN_DEPTH = 64;

function rejectForbidden(node: unknown, path: string, depth: number): void {
  if (node === null || typeof node !== 'object') return;
  if (depth > SCAN_DEPTH) throw filterError(path, `nested deeper than ${FILTER_LIMITS.maxDepth} levels`);
  if (Array.isArray(node)) {
    node.forEach((item, index) => rejectForbidden(item, `${path}[${index}]`, depth + 1));
    return;
  }
  for (const [key, value] of Object.entries(node)) {
    const keyPath = `${path}.${key}`;
    if ((FORBIDDEN_OPERATORS as readonly string[]).includes(key)) {
      throw new ApiError('FORBIDDEN_OPERATOR', `${keyPath}: ${key} is not allowed`, { path: keyPath });
    }
    rejectForbidden(value, keyPath, depth + 1);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

type Scalar = string | number | boolean;

const PARAM_TYPE: Record<ValueType | 'uuid', string> = {
  text: 'text',
  number: 'float8',
  date: 'timestamptz',
  boolean: 'boolean',
  uuid: 'uuid',
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const NUMERIC_TEXT = /^\d{1,3}(?:,?\d{3})*\+?$|^\d+\+?$/;

/**
 * One condition on one field, as a set of values: a scalar has zero or one value, an array field the
 * values of its elements. A positive operator matches when some value matches; $ne and $nin are their
 * negations (so they match people without the field, as in MongoDB); `null` stands for "no value".
 */
class FilterCompiler {
  readonly regexes: string[] = [];
  private conditions = 0;

  constructor(
    private readonly catalogue: FieldCatalogue,
    private readonly params: unknown[],
  ) {}

  node(filter: unknown, path: string, depth: number): string {
    if (!isPlainObject(filter)) throw filterError(path, 'expected an object of conditions');
    if (depth > FILTER_LIMITS.maxDepth) {
      throw filterError(path, `nested deeper than ${FILTER_LIMITS.maxDepth} levels`);
    }
    const parts: string[] = [];
    for (const [key, value] of Object.entries(filter)) {
      const keyPath = `${path}.${key}`;
      if (key === '$and' || key === '$or') parts.push(this.logical(key, value, keyPath, depth));
      else if (key.startsWith('$')) {
        throw new ApiError(
          'INVALID_OPERATOR',
          `${keyPath}: unknown operator ${key}; the logical operators are $and and $or`,
          { path: keyPath },
        );
      } else parts.push(this.field(key, value, keyPath));
    }
    return joinAll(parts, 'AND', 'TRUE');
  }

  private logical(operator: '$and' | '$or', value: unknown, path: string, depth: number): string {
    if (!Array.isArray(value) || value.length === 0) {
      throw filterError(path, `${operator} expects a non-empty array of filters`);
    }
    if (value.length > FILTER_LIMITS.maxBranches) {
      throw filterError(path, `${operator} takes at most ${FILTER_LIMITS.maxBranches} filters`);
    }
    const branches = value.map((branch, index) => this.node(branch, `${path}[${index}]`, depth + 1));
    return joinAll(branches, operator === '$and' ? 'AND' : 'OR', 'TRUE');
  }

  private field(name: string, condition: unknown, path: string): string {
    const spec = lookupField(this.catalogue, name);
    if (!spec) {
      throw new ApiError(
        'INVALID_FILTER_FIELD',
        `${path}: ${name} is not a queryable field (see GET /api/query/help)`,
        {
          path,
          field: name,
        },
      );
    }
    if (!isPlainObject(condition)) return this.operator(spec, '$eq', condition, path, undefined);
    const keys = Object.keys(condition);
    if (keys.length === 0) throw filterError(path, 'expected a value or an object of operators');
    const plainKey = keys.find((key) => !key.startsWith('$'));
    if (plainKey !== undefined) {
      throw filterError(
        `${path}.${plainKey}`,
        'sub-documents cannot be matched; use operators ($eq, $in, ...) or dotted field names',
      );
    }
    const allowed = operatorsFor(spec);
    const parts: string[] = [];
    for (const key of keys) {
      const opPath = `${path}.${key}`;
      if (!(COMPARISON_OPERATORS as readonly string[]).includes(key)) {
        throw new ApiError('INVALID_OPERATOR', `${opPath}: unknown operator ${key}`, { path: opPath });
      }
      const operator = key as ComparisonOperator;
      if (!allowed.includes(operator)) {
        throw filterError(opPath, `${operator} does not apply to ${spec.name} (${describeType(spec)})`);
      }
      if (operator === '$options') {
        if (!keys.includes('$regex')) throw filterError(opPath, '$options needs $regex');
        continue;
      }
      parts.push(this.operator(spec, operator, condition[key], opPath, condition.$options));
    }
    return joinAll(parts, 'AND', 'TRUE');
  }

  private operator(
    spec: FieldSpec,
    operator: Exclude<ComparisonOperator, '$options'>,
    value: unknown,
    path: string,
    options: unknown,
  ): string {
    this.conditions += 1;
    if (this.conditions > FILTER_LIMITS.maxConditions) {
      throw filterError(path, `a filter may hold at most ${FILTER_LIMITS.maxConditions} conditions`);
    }
    switch (operator) {
      case '$exists':
        if (typeof value !== 'boolean') throw filterError(path, '$exists expects true or false');
        return value ? this.hasValue(spec) : negate(this.hasValue(spec));
      case '$eq':
        return this.equals(spec, value, path);
      case '$ne':
        return negate(this.equals(spec, value, path));
      case '$in':
        return this.oneOf(spec, value, path);
      case '$nin':
        return negate(this.oneOf(spec, value, path));
      case '$regex':
        return this.regex(spec, value, options, path);
      default: {
        const placeholder = this.param(spec, this.value(spec, value, path, false), path);
        const sqlOperator = { $gt: '>', $gte: '>=', $lt: '<', $lte: '<=' }[operator];
        return this.someValue(spec, (v) => `${v} ${sqlOperator} ${placeholder}`);
      }
    }
  }

  private equals(spec: FieldSpec, value: unknown, path: string): string {
    if (Array.isArray(value)) {
      throw filterError(path, 'arrays are not compared as a whole; use $in to match any of several values');
    }
    const coerced = this.value(spec, value, path, true);
    if (coerced === null) return negate(this.hasValue(spec));
    const placeholder = this.param(spec, coerced, path);
    return this.someValue(spec, (v) => `${v} = ${placeholder}`);
  }

  private oneOf(spec: FieldSpec, value: unknown, path: string): string {
    if (!Array.isArray(value)) throw filterError(path, 'expected an array of values');
    if (value.length > FILTER_LIMITS.maxInValues) {
      throw filterError(path, `at most ${FILTER_LIMITS.maxInValues} values`);
    }
    const values = value.map((item, index) => this.value(spec, item, `${path}[${index}]`, true));
    const present = values.filter((item) => item !== null);
    const parts: string[] = [];
    if (present.length > 0) {
      this.params.push(present);
      const placeholder = `$${this.params.length}::${paramType(spec)}[]`;
      parts.push(this.someValue(spec, (v) => `${v} = ANY(${placeholder})`));
    }
    if (present.length < values.length) parts.push(negate(this.hasValue(spec)));
    return joinAll(parts, 'OR', 'FALSE');
  }

  private regex(spec: FieldSpec, value: unknown, options: unknown, path: string): string {
    if (typeof value !== 'string') throw filterError(path, '$regex expects a string');
    if (value.length > FILTER_LIMITS.maxRegexLength) {
      throw filterError(path, `a pattern may be at most ${FILTER_LIMITS.maxRegexLength} characters`);
    }
    if (options !== undefined && (typeof options !== 'string' || !/^i?$/.test(options))) {
      throw filterError(
        path.replace(/\$regex$/, '$options'),
        '$options supports only "i" (case-insensitive)',
      );
    }
    this.regexes.push(value);
    this.params.push(value);
    const sqlOperator = options === 'i' ? '~*' : '~';
    const placeholder = `$${this.params.length}::text`;
    return this.someValue(spec, (v) => `${v} ${sqlOperator} ${placeholder}`);
  }

  /** A filter value converted to the field's type; throws INVALID_FILTER on a mismatch. */
  private value(spec: FieldSpec, value: unknown, path: string, nullable: boolean): Scalar | null {
    if (value === null) {
      if (nullable) return null;
      throw filterError(path, 'null cannot be compared; use $exists');
    }
    const type = valueTypeOf(spec);
    switch (type) {
      case 'text':
        if (typeof value !== 'string') throw filterError(path, `${spec.name} expects a string`);
        if (value.length > FILTER_LIMITS.maxTextLength) throw filterError(path, 'string too long');
        if (spec.format === 'uuid') {
          if (!UUID.test(value)) throw filterError(path, `${spec.name} expects a UUID`);
          return value.toLowerCase();
        }
        return value;
      case 'number':
        if (typeof value === 'number' && Number.isFinite(value)) return value;
        if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) {
          return Number(value.trim().replace(/[,+]/g, ''));
        }
        throw filterError(path, `${spec.name} expects a number`);
      case 'date':
        return isoDate(value, path, spec.name);
      case 'boolean':
        if (typeof value !== 'boolean') throw filterError(path, `${spec.name} expects true or false`);
        return value;
      default:
        throw filterError(path, `${spec.name} supports only $exists`);
    }
  }

  private param(spec: FieldSpec, value: Scalar | null, path: string): string {
    if (value === null) throw filterError(path, 'null cannot be compared; use $exists');
    this.params.push(value);
    return `$${this.params.length}::${paramType(spec)}`;
  }

  /** True when the field has at least one (non-null) value. */
  private hasValue(spec: FieldSpec): string {
    if (spec.type === 'objectArray' && !spec.element) return `jsonb_typeof(${spec.sql}) = 'array'`;
    return this.someValue(spec, (v) => `${v} IS NOT NULL`);
  }

  /** `predicate` over the field's value, or over any element's value for array fields. */
  private someValue(spec: FieldSpec, predicate: (valueSql: string) => string): string {
    if (spec.type === 'textArray') {
      return `EXISTS (SELECT 1 FROM jsonb_array_elements_text(${arrayOrNull(spec.sql)}) AS q_e(v) WHERE ${predicate('q_e.v')})`;
    }
    if (spec.type === 'objectArray' && spec.element) {
      return `EXISTS (SELECT 1 FROM jsonb_array_elements(${arrayOrNull(spec.sql)}) AS q_e(v) WHERE ${predicate(elementValue('q_e.v', spec.element))})`;
    }
    return predicate(spec.sql);
  }
}

function paramType(spec: FieldSpec): string {
  if (spec.format === 'uuid') return PARAM_TYPE.uuid;
  const type = valueTypeOf(spec);
  return type === null ? 'jsonb' : PARAM_TYPE[type];
}

function arrayOrNull(sql: string): string {
  return `CASE WHEN jsonb_typeof(${sql}) = 'array' THEN ${sql} END`;
}

function elementValue(element: string, sub: NonNullable<FieldSpec['element']>): string {
  const key = sub.key.replace(/'/g, "''");
  if (sub.type === 'text') return `(${element}->>'${key}')`;
  const sqlType = sub.type === 'number' ? 'float8' : 'boolean';
  return `(CASE WHEN jsonb_typeof(${element}->'${key}') = '${sub.type}' THEN (${element}->>'${key}')::${sqlType} END)`;
}

/** NULL (a comparison with no value) counts as false before negating, so $ne matches missing fields. */
function negate(sql: string): string {
  return `NOT COALESCE(${sql}, false)`;
}

function joinAll(parts: string[], joiner: 'AND' | 'OR', empty: string): string {
  if (parts.length === 0) return empty;
  if (parts.length === 1) return parts[0]!;
  return `(${parts.map((part) => `(${part})`).join(` ${joiner} `)})`;
}

function describeType(spec: FieldSpec): string {
  if (spec.type === 'objectArray') return spec.element ? `${spec.element.type} in a list` : 'a list';
  if (spec.type === 'textArray') return 'a list of text';
  return spec.format === 'uuid' ? 'a UUID' : spec.type;
}

/** ISO 8601 date or date-time; a time without a zone is UTC. */
function isoDate(value: unknown, path: string, field: string): string {
  const match = typeof value === 'string' ? ISO_DATE.exec(value.trim()) : null;
  if (!match)
    throw filterError(path, `${field} expects an ISO 8601 date such as 2025-07-01 or 2025-07-01T12:00:00Z`);
  const [, day, time, zone] = match;
  const normalised = `${day}T${time ?? '00:00'}${normaliseZone(zone)}`;
  if (Number.isNaN(Date.parse(normalised)) || !validDay(day!)) {
    throw filterError(path, `${field}: ${String(value)} is not a real date`);
  }
  return normalised;
}

function normaliseZone(zone: string | undefined): string {
  if (zone === undefined || zone === 'Z') return 'Z';
  const digits = zone.slice(1).replace(':', '');
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
}

function validDay(day: string): boolean {
  const [year, month, date] = day.split('-').map(Number) as [number, number, number];
  const parsed = new Date(Date.UTC(year, month - 1, date));
  return (
    parsed.getUTCFullYear() === year && parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === date
  );
}
