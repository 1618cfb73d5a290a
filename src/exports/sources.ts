import { ApiError } from '../api/errors';
import type { FieldCatalogue, FieldSpec } from '../query';
import { COMPANY_FIELDS, PEOPLE_FIELDS, compileFilterDetailed, compileSort, lookupField } from '../query';
import type { ExportEntity, ExportRequest } from './types';

const l = 'l';

/** Locations: filterable and exportable with the query language, like people and companies. */
export const LOCATION_FIELDS: FieldCatalogue = {
  // FieldCatalogue's entity union names only the query API's entities (people, companies); the query code
  // does not branch on it. TODO(lead): widen it to include 'locations' and drop this cast.
  entity: 'locations' as unknown as FieldCatalogue['entity'],
  table: 'locations',
  alias: l,
  liveCondition: 'true',
  idSql: `${l}.id`,
  defaultSort: [{ field: 'lastObservedAt', direction: -1 }],
  fields: named({
    id: {
      type: 'text',
      format: 'uuid',
      sql: `${l}.id`,
      description: 'Canonical location id',
      sortable: true,
    },
    key: {
      type: 'text',
      sql: `${l}.key`,
      description: 'Normalised "city|state|country" key',
      sortable: true,
    },
    label: text('label', 'The location as first written', ['snapshot.label', 'name']),
    city: text('city', 'City'),
    state: text('state', 'State or region'),
    stateCode: text('stateCode', 'State code (US states: CA, NY, ...)'),
    country: text('country', 'Country name'),
    countryCode: text('countryCode', 'ISO 3166 alpha-2 country code'),
    peopleCount: {
      type: 'number',
      sql: `(SELECT count(*)::float8 FROM persons lp WHERE lp.location_id = ${l}.id AND lp.merged_into IS NULL)`,
      description: 'Live people located here',
      sortable: true,
    },
    observationsCount: {
      type: 'number',
      sql: `${l}.observations_count::float8`,
      description: 'Observations that mentioned the location',
      sortable: true,
      aliases: ['meta.observationsCount'],
    },
    firstObservedAt: date('first_observed_at', 'Time of the oldest observation', ['meta.firstObservedAt']),
    lastObservedAt: date('last_observed_at', 'Time of the newest observation', ['meta.lastObservedAt']),
    createdAt: date('created_at', 'When the location was first stored'),
    updatedAt: date('updated_at', 'When the snapshot last changed'),
  }),
};

function text(
  key: string,
  description: string,
  aliases: string[] = [`snapshot.${key}`],
): Omit<FieldSpec, 'name'> {
  return { type: 'text', sql: `${l}.snapshot->>'${key}'`, description, sortable: true, aliases };
}

function date(column: string, description: string, aliases: string[] = []): Omit<FieldSpec, 'name'> {
  return { type: 'date', sql: `${l}.${column}`, description, sortable: true, aliases };
}

function named(specs: Record<string, Omit<FieldSpec, 'name'>>): Record<string, FieldSpec> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { name, ...spec }]));
}

const MAX_EXPORT_FIELDS = 100;

interface ExportSource {
  catalogue: FieldCatalogue;
  /** Columns an export can have that the query language cannot filter on. */
  extraColumns: Readonly<Record<string, FieldSpec>>;
  defaultColumns: readonly string[];
}

/**
 * The person's LinkedIn profile: the public URL, else the profile URL, else the Sales Navigator URL (the only
 * link some scans carry).
 */
const LINKEDIN_URL_SQL = `(SELECT a.display FROM person_aliases a
   WHERE a.person_id = p.id AND a.kind IN ('public_url', 'profile_url', 'sales_url')
   ORDER BY CASE a.kind WHEN 'public_url' THEN 0 WHEN 'profile_url' THEN 1 ELSE 2 END, a.value LIMIT 1)`;

const SOURCES: Record<ExportEntity, ExportSource> = {
  people: {
    catalogue: PEOPLE_FIELDS,
    extraColumns: {
      linkedInUrl: {
        name: 'linkedInUrl',
        type: 'text',
        sql: LINKEDIN_URL_SQL,
        description: 'LinkedIn profile URL (public, else profile, else Sales Navigator)',
      },
    },
    defaultColumns: [
      'id',
      'firstName',
      'lastName',
      'fullName',
      'currentTitle',
      'currentCompany',
      'city',
      'state',
      'country',
      'email',
      'phone',
      'linkedInUrl',
      'connections',
      'industry',
      'seniorityTier',
      'department',
      'lastObservedAt',
    ],
  },
  companies: {
    catalogue: COMPANY_FIELDS,
    extraColumns: {},
    defaultColumns: [
      'id',
      'name',
      'linkedinId',
      'slug',
      'website',
      'domain',
      'industry',
      'peopleCount',
      'lastObservedAt',
    ],
  },
  locations: {
    catalogue: LOCATION_FIELDS,
    extraColumns: {},
    defaultColumns: [
      'id',
      'label',
      'city',
      'state',
      'stateCode',
      'country',
      'countryCode',
      'peopleCount',
      'lastObservedAt',
    ],
  },
};

export function defaultColumns(entity: ExportEntity): readonly string[] {
  return SOURCES[entity].defaultColumns;
}

/** The SQL of one export: a count (for `rowsTotal` and the row limit) and the rows, in a stable order. */
export interface ExportPlan {
  columns: string[];
  countSql: string;
  rowsSql: string;
  params: unknown[];
  /** The filter's $regex patterns, to be checked against PostgreSQL before a job is accepted. */
  regexes: string[];
}

/**
 * Validates the filters, fields and sort of a request with the query language of `POST /api/query/*` (same
 * rules, same ApiError codes) and builds its SQL. Called when the job is created, so a bad request is a 400 and
 * never a failed job, and again by the worker that runs it.
 */
export function planExport(entity: ExportEntity, request: ExportRequest): ExportPlan {
  const source = SOURCES[entity];
  const { catalogue } = source;
  const columns = resolveColumns(source, request.fields ?? source.defaultColumns);
  const params: unknown[] = [];
  const filter = compileFilterDetailed(catalogue, request.filters, params);
  const { orderBy } = compileSort(catalogue, request.sort);
  const { alias } = catalogue;
  const where = `WHERE ${catalogue.liveCondition} AND (${filter.sql})`;
  const select = columns.map((spec) => outputSql(spec, alias)).join(',\n       ');
  return {
    columns: columns.map((spec) => spec.name),
    countSql: `SELECT count(*)::bigint AS count FROM ${catalogue.table} ${alias} ${where}`,
    rowsSql: `SELECT ${select}
  FROM ${catalogue.table} ${alias}
 CROSS JOIN LATERAL (SELECT ${alias}.snapshot || '{}'::jsonb AS snapshot OFFSET 0) AS ${alias}_whole
 ${where}
 ORDER BY ${orderBy}`,
    params,
    regexes: filter.regexes,
  };
}

/** What a column outputs: times as ISO 8601 text in UTC (as JSON writes them), snapshots read once per row. */
function outputSql(spec: FieldSpec, alias: string): string {
  const sql = snapshotReadOnce(spec.selectSql ?? spec.sql, alias);
  return spec.type === 'date' ? `to_char((${sql}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')` : sql;
}

/**
 * A snapshot is stored compressed out of line (TOAST), and PostgreSQL fetches and decompresses it again for every
 * `snapshot->'key'` of a row: a dozen exported fields cost a dozen detoasts per row, the bulk of an export's time.
 * The export's SELECT list therefore reads each row's snapshot from a lateral copy detoasted once
 * (`snapshot || '{}'` returns the detoasted value; OFFSET 0 keeps the planner from inlining it back into every
 * reference). Filters and sort keys still read the table's own column, so its indexes apply.
 */
function snapshotReadOnce(sql: string, alias: string): string {
  return sql.replace(new RegExp(`\\b${alias}\\.snapshot\\b`, 'g'), `${alias}_whole.snapshot`);
}

/**
 * Each requested field once, under its canonical name, validated like the query's `fields` projection
 * (INVALID_PROJECTION), plus the export-only columns. Returns the canonical names for the job to store.
 */
export function resolveFields(entity: ExportEntity, fields: unknown): string[] {
  return resolveColumns(SOURCES[entity], fields).map((spec) => spec.name);
}

function resolveColumns(source: ExportSource, fields: unknown): FieldSpec[] {
  if (!Array.isArray(fields) || fields.length === 0 || fields.length > MAX_EXPORT_FIELDS) {
    throw new ApiError(
      'INVALID_PROJECTION',
      `fields must be an array of 1 to ${MAX_EXPORT_FIELDS} field names`,
    );
  }
  const specs: FieldSpec[] = [];
  fields.forEach((name: unknown, index) => {
    const spec =
      typeof name !== 'string'
        ? undefined
        : Object.hasOwn(source.extraColumns, name)
          ? source.extraColumns[name]
          : lookupField(source.catalogue, name);
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
