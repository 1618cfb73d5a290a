import type { FieldCatalogue, FieldSpec, FieldType } from './types';

type Spec = Omit<FieldSpec, 'name'>;

/** `alias.snapshot->>'key'`: the exact expression 004_query.sql indexes (keep the two in step). */
function snapshotText(alias: string, key: string): string {
  return `${alias}.snapshot->>'${key}'`;
}

/** A snapshot number as float8, NULL when the stored value is not a number (never a cast error). */
function snapshotNumber(alias: string, key: string): string {
  return `CASE WHEN jsonb_typeof(${alias}.snapshot->'${key}') = 'number' THEN (${alias}.snapshot->>'${key}')::float8 END`;
}

function snapshotBoolean(alias: string, key: string): string {
  return `CASE WHEN jsonb_typeof(${alias}.snapshot->'${key}') = 'boolean' THEN (${alias}.snapshot->>'${key}')::boolean END`;
}

function snapshotArray(alias: string, key: string): string {
  return `${alias}.snapshot->'${key}'`;
}

function fromSnapshot(
  alias: string,
  key: string,
  type: Extract<FieldType, 'text' | 'number' | 'boolean' | 'textArray' | 'objectArray'>,
  description: string,
  extra: Partial<Spec> = {},
): Spec {
  const sql =
    type === 'text'
      ? snapshotText(alias, key)
      : type === 'number'
        ? snapshotNumber(alias, key)
        : type === 'boolean'
          ? snapshotBoolean(alias, key)
          : snapshotArray(alias, key);
  return {
    type,
    sql,
    description,
    sortable: type === 'text' || type === 'number' || type === 'boolean',
    aliases: [`snapshot.${key}`],
    ...extra,
  };
}

/** A sub-field of every element of a snapshot array (`roles.title`): matches when any element matches. */
function elementOf(
  alias: string,
  arrayKey: string,
  key: string,
  type: Exclude<FieldType, 'date' | 'textArray' | 'objectArray'>,
  description: string,
): Spec {
  return {
    type: 'objectArray',
    sql: snapshotArray(alias, arrayKey),
    element: { key, type },
    selectSql: `jsonb_path_query_array(${snapshotArray(alias, arrayKey)}, '$[*]."${key}"')`,
    description,
    aliases: [`snapshot.${arrayKey}.${key}`],
  };
}

function named(specs: Record<string, Spec>): Record<string, FieldSpec> {
  return Object.fromEntries(Object.entries(specs).map(([name, spec]) => [name, { name, ...spec }]));
}

const p = 'p';

/** Live canonical persons. */
export const PEOPLE_FIELDS: FieldCatalogue = {
  entity: 'people',
  table: 'persons',
  alias: p,
  liveCondition: `${p}.merged_into IS NULL`,
  idSql: `${p}.id`,
  defaultSort: [{ field: 'lastObservedAt', direction: -1 }],
  fields: named({
    id: { type: 'text', format: 'uuid', sql: `${p}.id`, description: 'Canonical person id', sortable: true },
    firstName: fromSnapshot(p, 'firstName', 'text', 'First name', { default: true }),
    middleName: fromSnapshot(p, 'middleName', 'text', 'Middle name'),
    lastName: fromSnapshot(p, 'lastName', 'text', 'Last name', { default: true }),
    fullName: {
      type: 'text',
      sql: `${p}.full_name`,
      description: 'First, middle and last name',
      sortable: true,
      aliases: ['snapshot.fullName', 'name'],
      default: true,
    },
    currentTitle: {
      type: 'text',
      sql: `${p}.current_title`,
      description: 'Current job title (regex and equality use a trigram index)',
      sortable: true,
      aliases: ['snapshot.currentTitle', 'title'],
      default: true,
    },
    currentCompany: {
      type: 'text',
      sql: `${p}.current_company`,
      description: 'Current company name as the profile shows it',
      sortable: true,
      aliases: ['snapshot.currentCompany', 'company'],
      default: true,
    },
    companyId: {
      type: 'text',
      format: 'uuid',
      sql: `${p}.current_company_id`,
      description: 'Canonical id of the current company (GET /api/companies/:id)',
      aliases: ['snapshot.companyId'],
      default: true,
    },
    companyLinkedinId: fromSnapshot(
      p,
      'currentCompanyLinkedinId',
      'text',
      "LinkedIn's numeric id of the current company",
    ),
    companyProfileUrl: fromSnapshot(p, 'companyProfileUrl', 'text', 'LinkedIn URL of the current company'),
    industry: fromSnapshot(p, 'industry', 'text', 'Industry', { default: true }),
    location: fromSnapshot(p, 'location', 'text', 'Location as the profile writes it', { default: true }),
    city: fromSnapshot(p, 'city', 'text', 'City parsed from the location', { default: true }),
    state: fromSnapshot(p, 'state', 'text', 'State or region parsed from the location', { default: true }),
    stateCode: fromSnapshot(p, 'stateCode', 'text', 'State code (US states: CA, NY, ...)'),
    country: fromSnapshot(p, 'country', 'text', 'Country name parsed from the location (indexed)', {
      default: true,
    }),
    countryCode: fromSnapshot(p, 'countryCode', 'text', 'ISO 3166 alpha-2 country code (indexed)', {
      default: true,
    }),
    locationId: {
      type: 'text',
      format: 'uuid',
      sql: `${p}.location_id`,
      description: 'Canonical location id (GET /api/locations/:id)',
      aliases: ['snapshot.locationId'],
    },
    connections: fromSnapshot(p, 'connections', 'number', 'LinkedIn connections ("500+" is stored as 500)', {
      default: true,
    }),
    connectionsCapped: fromSnapshot(p, 'connectionsCapped', 'boolean', 'True when LinkedIn showed "500+"'),
    degree: fromSnapshot(p, 'degree', 'number', 'Connection degree to the Dux-Soup user (1, 2, 3)', {
      default: true,
    }),
    email: fromSnapshot(p, 'email', 'text', 'Email address (lower-cased)', { default: true }),
    phone: fromSnapshot(p, 'phone', 'text', 'Phone number in E.164 form (+14155550123)', { default: true }),
    twitter: fromSnapshot(p, 'twitter', 'text', 'Twitter / X handle'),
    summary: fromSnapshot(p, 'summary', 'text', 'Profile summary', { sortable: false }),
    skills: fromSnapshot(p, 'skills', 'textArray', 'Skills: matches when any skill matches'),
    tags: fromSnapshot(p, 'tags', 'textArray', 'Dux-Soup tags: matches when any tag matches'),
    roles: fromSnapshot(p, 'roles', 'objectArray', 'Positions, newest first (only $exists applies)'),
    'roles.title': elementOf(p, 'roles', 'title', 'text', 'Title of any position'),
    'roles.companyName': elementOf(p, 'roles', 'companyName', 'text', 'Company of any position'),
    'roles.location': elementOf(p, 'roles', 'location', 'text', 'Location of any position'),
    'roles.isCurrent': elementOf(p, 'roles', 'isCurrent', 'boolean', 'Whether any position is current'),
    'roles.startYear': elementOf(p, 'roles', 'startYear', 'number', 'Start year of any position'),
    'roles.endYear': elementOf(p, 'roles', 'endYear', 'number', 'End year of any position'),
    education: fromSnapshot(p, 'education', 'objectArray', 'Schools (only $exists applies)'),
    'education.school': elementOf(p, 'education', 'school', 'text', 'Any school'),
    'education.degree': elementOf(p, 'education', 'degree', 'text', 'Degree at any school'),
    'education.field': elementOf(p, 'education', 'field', 'text', 'Field of study at any school'),
    'education.startYear': elementOf(p, 'education', 'startYear', 'number', 'Start year at any school'),
    'education.endYear': elementOf(p, 'education', 'endYear', 'number', 'End year at any school'),
    currentRoleStartYear: fromSnapshot(p, 'currentRoleStartYear', 'number', 'Year the current role started'),
    seniorityLevel: fromSnapshot(
      p,
      'seniorityLevel',
      'number',
      'Seniority tier number, 1 (individual) to 8 (owner)',
      {
        aliases: ['snapshot.seniorityLevel', 'seniorityRank'],
        default: true,
      },
    ),
    seniorityTier: fromSnapshot(
      p,
      'seniorityTier',
      'text',
      'Seniority tier name (Owner, CXO, SVP, VP, ...)',
      {
        aliases: ['snapshot.seniorityTier', 'seniority'],
        default: true,
      },
    ),
    department: fromSnapshot(p, 'department', 'text', 'Department (engineering, sales, ...)', {
      default: true,
    }),
    observationsCount: {
      type: 'number',
      sql: `${p}.observations_count::float8`,
      description: 'Number of observations (visits, scans, ...) folded into the person',
      sortable: true,
      aliases: ['meta.observationsCount'],
    },
    firstObservedAt: {
      type: 'date',
      sql: `${p}.first_observed_at`,
      description: 'Time of the oldest observation',
      sortable: true,
      aliases: ['meta.firstObservedAt'],
    },
    lastObservedAt: {
      type: 'date',
      sql: `${p}.last_observed_at`,
      description: 'Time of the newest observation (the default sort, newest first)',
      sortable: true,
      aliases: ['meta.lastObservedAt'],
      default: true,
    },
    createdAt: {
      type: 'date',
      sql: `${p}.created_at`,
      description: 'When the person was first stored',
      sortable: true,
    },
    updatedAt: {
      type: 'date',
      sql: `${p}.updated_at`,
      description: 'When the snapshot last changed',
      sortable: true,
    },
  }),
};

const c = 'c';

/** Live canonical companies, with the number of live people currently working there. */
export const COMPANY_FIELDS: FieldCatalogue = {
  entity: 'companies',
  table: 'companies',
  alias: c,
  liveCondition: `${c}.merged_into IS NULL`,
  idSql: `${c}.id`,
  defaultSort: [{ field: 'lastObservedAt', direction: -1 }],
  fields: named({
    id: { type: 'text', format: 'uuid', sql: `${c}.id`, description: 'Canonical company id', sortable: true },
    name: {
      type: 'text',
      sql: `${c}.name`,
      description: 'Company name',
      sortable: true,
      aliases: ['snapshot.name', 'companyName'],
      default: true,
    },
    linkedinId: fromSnapshot(c, 'linkedinId', 'text', "LinkedIn's numeric company id", { default: true }),
    slug: fromSnapshot(c, 'slug', 'text', 'LinkedIn company slug (linkedin.com/company/<slug>)', {
      default: true,
    }),
    website: fromSnapshot(c, 'website', 'text', 'Company website', { default: true }),
    domain: fromSnapshot(c, 'domain', 'text', 'Web domain of the website', { default: true }),
    industry: fromSnapshot(c, 'industry', 'text', 'Industry', { default: true }),
    peopleCount: {
      type: 'number',
      sql: `(SELECT count(*)::float8 FROM persons cp WHERE cp.current_company_id = ${c}.id AND cp.merged_into IS NULL)`,
      description: 'Live people whose current company this is',
      sortable: true,
      aliases: ['employeeCount'],
      default: true,
    },
    observationsCount: {
      type: 'number',
      sql: `${c}.observations_count::float8`,
      description: 'Observations that mentioned the company',
      sortable: true,
      aliases: ['meta.observationsCount'],
    },
    firstObservedAt: {
      type: 'date',
      sql: `${c}.first_observed_at`,
      description: 'Time of the oldest observation',
      sortable: true,
      aliases: ['meta.firstObservedAt'],
    },
    lastObservedAt: {
      type: 'date',
      sql: `${c}.last_observed_at`,
      description: 'Time of the newest observation (the default sort, newest first)',
      sortable: true,
      aliases: ['meta.lastObservedAt'],
      default: true,
    },
    createdAt: {
      type: 'date',
      sql: `${c}.created_at`,
      description: 'When the company was first stored',
      sortable: true,
    },
    updatedAt: {
      type: 'date',
      sql: `${c}.updated_at`,
      description: 'When the snapshot last changed',
      sortable: true,
    },
  }),
};

/** The field a client name (or one of its aliases) designates. */
export function lookupField(catalogue: FieldCatalogue, name: string): FieldSpec | undefined {
  if (Object.prototype.hasOwnProperty.call(catalogue.fields, name)) return catalogue.fields[name];
  return aliasIndex(catalogue).get(name);
}

const aliasIndexes = new WeakMap<FieldCatalogue, Map<string, FieldSpec>>();

function aliasIndex(catalogue: FieldCatalogue): Map<string, FieldSpec> {
  let index = aliasIndexes.get(catalogue);
  if (!index) {
    index = new Map();
    for (const spec of Object.values(catalogue.fields)) {
      for (const alias of spec.aliases ?? []) index.set(alias, spec);
    }
    aliasIndexes.set(catalogue, index);
  }
  return index;
}
