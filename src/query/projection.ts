import { ApiError } from '../api/errors';
import { lookupField } from './catalogue';
import type { FieldCatalogue, FieldSpec } from './types';

export const MAX_PROJECTION_FIELDS = 100;

export interface Projection {
  /** Canonical field names, in the order asked for (duplicates and aliases folded). */
  names: string[];
  /** SELECT list: `expr AS "name", ...`. */
  sql: string;
}

/**
 * Validates a `fields` projection (an array of field names or aliases; absent: the catalogue's default
 * fields) and returns its SELECT list. Throws ApiError INVALID_PROJECTION.
 */
export function compileProjection(catalogue: FieldCatalogue, fields: unknown): Projection {
  const specs =
    fields === undefined || fields === null ? defaultFields(catalogue) : requested(catalogue, fields);
  return {
    names: specs.map((spec) => spec.name),
    sql: specs.map((spec) => `${selectSql(spec)} AS ${quoteName(spec.name)}`).join(', '),
  };
}

export function defaultFields(catalogue: FieldCatalogue): FieldSpec[] {
  return Object.values(catalogue.fields).filter((spec) => spec.default || spec.name === 'id');
}

function requested(catalogue: FieldCatalogue, fields: unknown): FieldSpec[] {
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_PROJECTION_FIELDS) {
    throw new ApiError(
      'INVALID_PROJECTION',
      `fields must be an array of 1 to ${MAX_PROJECTION_FIELDS} field names`,
    );
  }
  const specs: FieldSpec[] = [];
  (fields as unknown[]).forEach((name, index) => {
    const spec = typeof name === 'string' ? lookupField(catalogue, name) : undefined;
    if (!spec) {
      throw new ApiError('INVALID_PROJECTION', `fields[${index}]: ${String(name)} is not a field`, {
        path: `fields[${index}]`,
        field: name,
      });
    }
    if (!specs.includes(spec)) specs.push(spec);
  });
  return specs;
}

function selectSql(spec: FieldSpec): string {
  return spec.selectSql ?? spec.sql;
}

/** Field names come from the whitelist only; quoting keeps the dots of `roles.title` in the column name. */
export function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
