import type { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { COMPANY_FIELDS, operatorsFor, PEOPLE_FIELDS, valueTypeOf } from '../src/query';
import type { FieldSpec } from '../src/query';
import { QUERY_EXAMPLES } from '../src/query/help';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

// ---------------------------------------------------------------------------------------------------------
// Seed: varied people through the real webhook
// ---------------------------------------------------------------------------------------------------------

const INJECTION = "Robert'); DROP TABLE persons;--";
const FIRST_NAMES = ['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Fatima', 'Gus', 'Hana', 'Ivo', 'Jo'];
const LAST_NAMES = ['Smith', "O'Brien", 'Zoë', 'Nguyen', 'Smith-Jones', 'Lopez'];
const TITLES = [
  'VP of Sales',
  'Vice President, Engineering',
  'Software Engineer',
  'Senior Software Engineer',
  'Chief Technology Officer',
  'Marketing Manager',
  'Founder & CEO',
  'Data Scientist',
  'Account Executive',
  'Software Engineering Intern',
  '',
];
const COMPANIES = [
  { name: 'Google', linkedinId: '1441' },
  { name: 'Google Cloud', linkedinId: '2001' },
  { name: 'Acme Corp', linkedinId: '3001' },
  { name: 'Initech', linkedinId: '3002' },
  { name: '', linkedinId: '' },
];
const LOCATIONS = [
  'San Francisco, California, United States',
  'New York, New York, United States',
  'London, England, United Kingdom',
  'Berlin, Germany',
  'São Paulo, São Paulo, Brazil',
  '',
];
const CONNECTIONS = ['500+', '42', '7000', '0', '', '1,234', '499'];
const INDUSTRIES = ['Technology', 'Financial Services', 'Software Development', ''];
const SKILLS = ['Python', 'SQL', 'Java', 'Sales', 'Leadership', 'C++', "O'Reilly (books)"];
const PAST_JOBS = [
  { Company: 'Google', Title: 'Software Engineer', From: '2015', To: '2018' },
  { Company: 'Microsoft', Title: 'Program Manager', From: '2012', To: '2015' },
  { Company: 'Initech', Title: 'TPS Report Analyst', From: '2008', To: '2012' },
  { Company: 'Google', Title: 'Sales Lead', From: '2018', To: '2020' },
];
const SCHOOLS = [
  { Name: 'Stanford University', Degree: 'BS', Field: 'Computer Science', From: '2004', To: '2008' },
  { Name: 'MIT', Degree: 'MBA', Field: 'Business', From: '2010', To: '2012' },
  { Name: 'Universidade de São Paulo', Degree: '', Field: 'Economics', From: '2001', To: '2005' },
];
const PEOPLE = 42;
const BASE_TIME = Date.UTC(2025, 5, 1);

/** Deterministic pseudo-random choices, so a failure reproduces. */
function chooser(seed: number) {
  let state = seed * 2654435761;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    some: <T>(items: readonly T[], max: number): T[] => items.filter(() => next() < max / items.length),
  };
}

function seededVisit(index: number): Record<string, unknown> {
  const choose = chooser(index + 1);
  const base = distinctVisit(70_000 + index) as { data: Record<string, unknown> };
  const company = choose.pick(COMPANIES);
  const title = choose.pick(TITLES);
  const current =
    title || company.name ? [{ Company: company.name, Title: title, From: '2021', To: '' }] : [];
  return {
    ...base,
    data: {
      ...base.data,
      // Groups of people observed at the same millisecond: ties on the default sort.
      VisitTime: BASE_TIME + (index % 9) * 60_000,
      'First Name': choose.pick(FIRST_NAMES),
      'Middle Name': '',
      'Last Name': index === 5 ? INJECTION : choose.pick(LAST_NAMES),
      Title: title,
      Company: company.name,
      CompanyProfile: company.linkedinId ? `https://www.linkedin.com/company/${company.linkedinId}/` : '',
      CompanyWebsite: '',
      From: '',
      Location: choose.pick(LOCATIONS),
      Connections: choose.pick(CONNECTIONS),
      Degree: choose.pick(['1', '2', '3', '']),
      Industry: choose.pick(INDUSTRIES),
      Email: index % 3 === 0 ? `person${index}@example.com` : '',
      Phone: index % 4 === 0 ? `415-555-0${String(100 + index)}` : '',
      Twitter: '',
      Summary: index % 5 === 0 ? 'Builds data platforms' : '',
      PersonalWebsite: '',
      'My Tags': choose.some(['ACME', 'hot-lead', 'event-2025'], 1),
      extended: {
        positions: [...current, ...choose.some(PAST_JOBS, 1.5)],
        skills: choose.some(SKILLS, 2.5),
        schools: choose.some(SCHOOLS, 1.2),
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Oracle: the people as stored, and the filter language evaluated in JavaScript
// ---------------------------------------------------------------------------------------------------------

interface StoredRow {
  id: string;
  snapshot: Record<string, unknown>;
  full_name: string | null;
  current_title: string | null;
  current_company: string | null;
  current_company_id: string | null;
  location_id: string | null;
  observations_count: number;
  first_us: number | null;
  last_us: number | null;
  created_us: number | null;
  updated_us: number | null;
}

const SNAPSHOT_KEYS: Record<string, string> = {
  firstName: 'firstName',
  middleName: 'middleName',
  lastName: 'lastName',
  companyLinkedinId: 'currentCompanyLinkedinId',
  companyProfileUrl: 'companyProfileUrl',
  industry: 'industry',
  location: 'location',
  city: 'city',
  state: 'state',
  stateCode: 'stateCode',
  country: 'country',
  countryCode: 'countryCode',
  connections: 'connections',
  connectionsCapped: 'connectionsCapped',
  degree: 'degree',
  email: 'email',
  phone: 'phone',
  twitter: 'twitter',
  summary: 'summary',
  currentRoleStartYear: 'currentRoleStartYear',
  seniorityLevel: 'seniorityLevel',
  seniorityTier: 'seniorityTier',
  department: 'department',
};

type Value = string | number | boolean;

/** A field's values in one stored person: none or one for plain fields, one per element for lists. */
function valuesOf(field: string, row: StoredRow): Value[] {
  const present = (values: unknown[]): Value[] =>
    values.filter(
      (value): value is Value =>
        typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean',
    );
  const columns: Record<string, unknown> = {
    id: row.id,
    fullName: row.full_name,
    currentTitle: row.current_title,
    currentCompany: row.current_company,
    companyId: row.current_company_id,
    locationId: row.location_id,
    observationsCount: row.observations_count,
    firstObservedAt: row.first_us,
    lastObservedAt: row.last_us,
    createdAt: row.created_us,
    updatedAt: row.updated_us,
  };
  if (field in columns) return present([columns[field]]);
  if (field in SNAPSHOT_KEYS) return present([row.snapshot[SNAPSHOT_KEYS[field]!]]);
  if (field === 'skills' || field === 'tags') {
    const list = row.snapshot[field];
    return Array.isArray(list) ? present(list) : [];
  }
  const [list, key] = field.split('.') as [string, string | undefined];
  const items = Array.isArray(row.snapshot[list]) ? (row.snapshot[list] as Record<string, unknown>[]) : [];
  if (key === undefined) return items.length > 0 ? [true] : [];
  return present(items.map((item) => item[key]));
}

function specOf(field: string): FieldSpec {
  const spec = PEOPLE_FIELDS.fields[field];
  if (!spec) throw new Error(`oracle: unknown field ${field}`);
  return spec;
}

/** Filter values in the oracle's representation: dates become microseconds since the epoch. */
function comparable(field: string, value: unknown): unknown {
  if (specOf(field).type === 'date' && typeof value === 'string') return Date.parse(value) * 1000;
  if (typeof value === 'string' && specOf(field).format === 'uuid') return value.toLowerCase();
  if (typeof value === 'string' && valueTypeOf(specOf(field)) === 'number')
    return Number(value.replace(/[,+]/g, ''));
  return value;
}

function matches(filter: Record<string, unknown>, row: StoredRow): boolean {
  return Object.entries(filter).every(([key, condition]) => {
    if (key === '$and')
      return (condition as Record<string, unknown>[]).every((branch) => matches(branch, row));
    if (key === '$or') return (condition as Record<string, unknown>[]).some((branch) => matches(branch, row));
    return fieldMatches(key, condition, row);
  });
}

function fieldMatches(field: string, condition: unknown, row: StoredRow): boolean {
  const values = valuesOf(field, row);
  const equals = (expected: unknown) =>
    expected === null ? values.length === 0 : values.some((value) => value === comparable(field, expected));
  if (condition === null || typeof condition !== 'object') return equals(condition);
  const operators = condition as Record<string, unknown>;
  return Object.entries(operators).every(([operator, operand]) => {
    const target = comparable(field, operand) as number;
    switch (operator) {
      case '$eq':
        return equals(operand);
      case '$ne':
        return !equals(operand);
      case '$in':
        return (operand as unknown[]).some(equals);
      case '$nin':
        return !(operand as unknown[]).some(equals);
      case '$gt':
        return values.some((value) => (value as number) > target);
      case '$gte':
        return values.some((value) => (value as number) >= target);
      case '$lt':
        return values.some((value) => (value as number) < target);
      case '$lte':
        return values.some((value) => (value as number) <= target);
      case '$regex': {
        const pattern = new RegExp(operand as string, operators.$options === 'i' ? 'i' : '');
        return values.some((value) => typeof value === 'string' && pattern.test(value));
      }
      case '$options':
        return true;
      case '$exists':
        return values.length > 0 === operand;
      default:
        throw new Error(`oracle: unknown operator ${operator}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Setup
// ---------------------------------------------------------------------------------------------------------

let db: TestDatabase;
let app: Express;
let stored: StoredRow[];
let survivorId: string;
let tombstoneId: string;

async function ingest(payload: object): Promise<{ person_id: string }> {
  const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(payload);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ success: true, status: 'processed' });
  return res.body as { person_id: string };
}

/** Two persons that a third observation proves to be one: the younger becomes a tombstone. */
async function seedMerge(): Promise<void> {
  const slug = 'query-merge-slug';
  const at = BASE_TIME - 86_400_000;
  const event = (data: Record<string, unknown>, offset: number) => ({
    userid: 'query-tests',
    time: new Date(at + offset + 500).toISOString(),
    type: 'visit',
    event: 'create',
    data: { VisitTime: at + offset, ...data },
  });
  const first = await ingest(
    event({ Profile: `https://www.linkedin.com/in/${slug}`, Title: 'Merged Title' }, 0),
  );
  const second = await ingest(
    event({ id: 'id.555000111', 'First Name': 'Tomb', Title: 'Merged Title' }, 1000),
  );
  const linking = await ingest(
    event(
      { id: 'id.555000111', Profile: `https://www.linkedin.com/in/${slug}/`, Title: 'Merged Title' },
      2000,
    ),
  );
  expect(first.person_id).not.toBe(second.person_id);
  survivorId = linking.person_id;
  tombstoneId = survivorId === first.person_id ? second.person_id : first.person_id;
}

async function loadStored(): Promise<StoredRow[]> {
  const micros = (column: string) => `(extract(epoch FROM ${column}) * 1000000)::bigint`;
  const { rows } = await db.pool.query<StoredRow>(
    `SELECT id, snapshot, full_name, current_title, current_company, current_company_id, location_id,
            observations_count, ${micros('first_observed_at')} AS first_us, ${micros('last_observed_at')} AS last_us,
            ${micros('created_at')} AS created_us, ${micros('updated_at')} AS updated_us
       FROM persons WHERE merged_into IS NULL`,
  );
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase();
  // A generous count budget: the totals asserted below must be exact, whatever the machine's load.
  app = buildTestApp(db, { QUERY_COUNT_TIMEOUT_MS: '10000', READ_RATE_LIMIT: '0' }, { phase2: true }).app;
  for (let index = 0; index < PEOPLE; index += 1) await ingest(seededVisit(index));
  await seedMerge();
  await drainRefreshQueue(db.pool, testFoldSettings());
  stored = await loadStored();
});
afterAll(() => db.drop());

interface Page {
  status: number;
  body: {
    success: boolean;
    error?: string;
    details?: { path?: string };
    data: Record<string, unknown>[];
    pagination: {
      count: number;
      totalCount: number;
      totalCountCapped: boolean;
      totalCountEstimated: boolean;
      hasMore: boolean;
      nextSkip: number | null;
      nextCursor: string | null;
    };
  };
}

async function query(body: unknown, entity = 'people', on: Express = app): Promise<Page> {
  const res = await request(on)
    .post(`/api/query/${entity}`)
    .set('content-type', 'application/json')
    .send(JSON.stringify(body));
  return { status: res.status, body: res.body as Page['body'] };
}

async function idsOf(filters: unknown): Promise<string[]> {
  const page = await query({ filters, fields: ['id'], limit: 1000 });
  expect(page.status).toBe(200);
  return page.body.data.map((row) => row.id as string).sort();
}

function expectedIds(filters: Record<string, unknown>): string[] {
  return stored
    .filter((row) => matches(filters, row))
    .map((row) => row.id)
    .sort();
}

// ---------------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------------

describe('seed', () => {
  it('has varied people, a merge tombstone, and companies', async () => {
    expect(stored).toHaveLength(PEOPLE + 1);
    expect(stored.some((row) => row.id === tombstoneId)).toBe(false);
    expect(stored.filter((row) => Array.isArray(row.snapshot.skills)).length).toBeGreaterThan(10);
    expect(stored.filter((row) => row.snapshot.connectionsCapped === true).length).toBeGreaterThan(1);
    const tombstones = await db.pool.query(
      'SELECT count(*)::int AS n FROM persons WHERE merged_into IS NOT NULL',
    );
    expect(tombstones.rows[0].n).toBe(1);
  });
});

describe('POST /api/query/people: filters', () => {
  it.each<[string, Record<string, unknown>]>([
    ['plain equality', { countryCode: 'US' }],
    ['$eq and $ne', { city: { $eq: 'London' }, degree: { $ne: 2 } }],
    ['$ne matches people without the field', { industry: { $ne: 'Technology' } }],
    ['$in and $nin', { countryCode: { $in: ['US', 'GB'] }, department: { $nin: ['sales', null] } }],
    ['$in with null', { industry: { $in: [null, 'Technology'] } }],
    ['numbers: $gt $lt', { connections: { $gt: 42, $lt: 7000 } }],
    ['numbers: $gte $lte and "500+"', { connections: { $gte: '500+', $lte: 1234 } }],
    ['booleans', { connectionsCapped: true }],
    ['dates', { lastObservedAt: { $gte: new Date(BASE_TIME + 180_000).toISOString() } }],
    [
      'dates: $lt $lte',
      { firstObservedAt: { $lt: '2025-06-01T00:04:00Z' }, lastObservedAt: { $lte: '2030-01-01' } },
    ],
    ['case-insensitive $regex', { currentTitle: { $regex: 'vice president|^vp', $options: 'i' } }],
    ['case-sensitive $regex', { currentTitle: { $regex: 'Engineer$' } }],
    ['$exists', { email: { $exists: true }, phone: { $exists: false } }],
    ['null means no value', { email: null }],
    ['text arrays: any element', { skills: 'SQL' }],
    ['text arrays: $in / $nin', { skills: { $in: ['Java', 'C++'] }, tags: { $nin: ['hot-lead'] } }],
    ['text arrays: $regex on elements', { skills: { $regex: "^o'reilly", $options: 'i' } }],
    ['object arrays: roles.companyName', { 'roles.companyName': 'Google' }],
    ['object arrays: roles.title regex', { 'roles.title': { $regex: 'engineer', $options: 'i' } }],
    ['object arrays: roles.isCurrent', { 'roles.isCurrent': false }],
    ['object arrays: numbers', { 'roles.startYear': { $lt: 2010 } }],
    [
      'object arrays: education',
      { 'education.school': { $regex: 'São' }, 'education.endYear': { $gte: 2005 } },
    ],
    ['whole arrays: $exists', { roles: { $exists: true }, education: { $exists: false } }],
    ['seniority number and name', { seniorityLevel: { $gte: 5 }, seniorityTier: { $ne: 'Owner' } }],
    ['$or', { $or: [{ countryCode: 'DE' }, { city: 'New York' }] }],
    [
      'nested $and / $or',
      {
        $and: [
          { $or: [{ seniorityLevel: { $gte: 5 } }, { skills: 'Python' }] },
          { $or: [{ countryCode: { $ne: 'US' } }, { connections: { $gte: 500 } }] },
        ],
      },
    ],
    [
      'uuid fields',
      { companyId: { $exists: true }, locationId: { $ne: '00000000-0000-4000-8000-000000000000' } },
    ],
    ['injection-looking text is data', { lastName: INJECTION }],
  ])('%s', async (_name, filters) => {
    const expected = expectedIds(filters);
    expect(await idsOf(filters)).toEqual(expected);
  });

  it('finds the injection-looking name exactly once and the table survives', async () => {
    const page = await query({ filters: { lastName: INJECTION }, fields: ['lastName'] });
    expect(page.body.data).toEqual([expect.objectContaining({ lastName: INJECTION })]);
    const regex = await query({ filters: { currentTitle: { $regex: "'; SELECT pg_sleep(5); --" } } });
    expect(regex.status).toBe(200);
    expect(regex.body.data).toEqual([]);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM persons')).rows[0].n).toBe(PEOPLE + 2);
  });

  it('keeps dotted keys and $operators intact from the raw body, and accepts the old names', async () => {
    const raw =
      '{"filters":{"snapshot.currentTitle":{"$regex":"engineer","$options":"i"},' +
      '"roles.companyName":{"$in":["Google","Microsoft"]},"meta.lastObservedAt":{"$lt":"2030-01-01T00:00:00Z"}}}';
    const res = await request(app)
      .post('/api/query/people')
      .set('content-type', 'application/json')
      .send(raw);
    expect(res.status).toBe(200);
    const expected = expectedIds({
      currentTitle: { $regex: 'engineer', $options: 'i' },
      'roles.companyName': { $in: ['Google', 'Microsoft'] },
    });
    expect(expected.length).toBeGreaterThan(0);
    expect((res.body.data as { id: string }[]).map((row) => row.id).sort()).toEqual(expected);
  });

  it('returns only live people: a merged tombstone is never a row', async () => {
    expect(await idsOf({ id: tombstoneId })).toEqual([]);
    expect(await idsOf({ id: survivorId })).toEqual([survivorId]);
    expect(await idsOf({ currentTitle: 'Merged Title' })).toEqual([survivorId]);
  });

  it('accepts every operator on every field of both entities', async () => {
    const sample: Record<string, unknown> = {
      text: 'x',
      number: 1,
      date: '2025-06-01T00:00:00Z',
      boolean: true,
      uuid: '00000000-0000-4000-8000-000000000000',
    };
    for (const catalogue of [PEOPLE_FIELDS, COMPANY_FIELDS]) {
      for (const spec of Object.values(catalogue.fields)) {
        const type = spec.format ?? (spec.type === 'objectArray' ? spec.element?.type : spec.type);
        const value = sample[type === 'textArray' ? 'text' : (type ?? 'text')];
        for (const operator of operatorsFor(spec)) {
          const operand =
            operator === '$exists'
              ? true
              : operator === '$in' || operator === '$nin'
                ? [value, null]
                : operator === '$options'
                  ? undefined
                  : value;
          if (operand === undefined) continue;
          const condition: Record<string, unknown> = { [operator]: operand };
          if (operator === '$regex') condition.$options = 'i';
          const page = await query({ filters: { [spec.name]: condition }, limit: 1 }, catalogue.entity);
          expect({ field: spec.name, operator, status: page.status }).toEqual({
            field: spec.name,
            operator,
            status: 200,
          });
        }
      }
    }
  });
});

describe('POST /api/query/people: property check against the stored snapshots', () => {
  const FIELDS = Object.values(PEOPLE_FIELDS.fields).map((spec) => spec.name);

  function samples(field: string): unknown[] {
    const seen = new Map<string, unknown>();
    for (const row of stored) {
      for (const value of valuesOf(field, row)) {
        const spec = specOf(field);
        const asFilter =
          spec.type === 'date' ? new Date(Math.floor((value as number) / 1000)).toISOString() : value;
        seen.set(JSON.stringify(asFilter), asFilter);
      }
    }
    const extra = { text: 'no such value', number: 250, date: '2025-06-01T00:03:30Z', boolean: false };
    const spec = specOf(field);
    const type = spec.format === 'uuid' ? null : spec.type === 'objectArray' ? spec.element?.type : spec.type;
    const fallback = type === 'textArray' ? extra.text : type ? extra[type] : undefined;
    return [...seen.values(), ...(fallback === undefined ? [] : [fallback])];
  }

  const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  function conditionArb(field: string): fc.Arbitrary<unknown> {
    const spec = specOf(field);
    const operators = operatorsFor(spec).filter((operator) => operator !== '$options');
    const values = samples(field);
    const value = values.length > 0 ? fc.constantFrom(...values) : fc.constant(null);
    return fc.constantFrom(...operators).chain((operator): fc.Arbitrary<unknown> => {
      switch (operator) {
        case '$exists':
          return fc.boolean().map((flag) => ({ $exists: flag }));
        case '$in':
        case '$nin':
          return fc
            .array(fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) }), {
              maxLength: 3,
            })
            .map((list) => ({ [operator]: list }));
        case '$regex': {
          const ascii = values.filter(
            (item): item is string => typeof item === 'string' && /^[ -~]+$/.test(item),
          );
          if (ascii.length === 0) return fc.constant({ $exists: true });
          return fc
            .tuple(fc.constantFrom(...ascii), fc.nat(6), fc.boolean(), fc.boolean())
            .map(([text, length, anchored, insensitive]) => ({
              $regex: `${anchored ? '^' : ''}${escapeRegex(text.slice(0, length + 1))}`,
              ...(insensitive ? { $options: 'i' } : {}),
            }));
        }
        case '$eq':
        case '$ne':
          return fc
            .oneof({ weight: 6, arbitrary: value }, { weight: 1, arbitrary: fc.constant(null) })
            .map((operand) => ({ [operator]: operand }));
        default:
          return value.filter((operand) => operand !== null).map((operand) => ({ [operator]: operand }));
      }
    });
  }

  const leaf: fc.Arbitrary<Record<string, unknown>> = fc.constantFrom(...FIELDS).chain((field) => {
    const values = samples(field);
    const shorthand = operatorsFor(specOf(field)).includes('$eq') && values.length > 0;
    const condition = shorthand
      ? fc.oneof(
          { weight: 4, arbitrary: conditionArb(field) },
          { weight: 1, arbitrary: fc.constantFrom(...values) },
        )
      : conditionArb(field);
    return condition.map((operand) => ({ [field]: operand }));
  });

  const filterArb: fc.Arbitrary<Record<string, unknown>> = fc.letrec<{ filter: Record<string, unknown> }>(
    (tie) => ({
      filter: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc
          .array(leaf, { minLength: 1, maxLength: 3 })
          .map((parts) => Object.assign({}, ...parts) as Record<string, unknown>),
        fc
          .tuple(fc.constantFrom('$and', '$or'), fc.array(tie('filter'), { minLength: 1, maxLength: 3 }))
          .map(([operator, branches]) => ({ [operator]: branches })),
      ),
    }),
  ).filter;

  it('returns exactly the people whose snapshot satisfies the filter, and counts them', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(filterArb, async (filters) => {
        const expected = expectedIds(filters);
        if (expected.length > 0) nonEmpty += 1;
        const page = await query({ filters, fields: ['id'], limit: 1000 });
        expect(page.status).toBe(200);
        expect(page.body.data.map((row) => row.id as string).sort()).toEqual(expected);
        expect(page.body.pagination).toMatchObject({
          totalCount: expected.length,
          totalCountEstimated: false,
        });
      }),
      { numRuns: 250, seed: 20250701 },
    );
    // The generator is only worth something if many filters select someone.
    expect(nonEmpty).toBeGreaterThan(80);
  });
});

describe('POST /api/query/people: projection, sort and pages', () => {
  it('returns the default fields, or exactly the fields asked for (plus id)', async () => {
    const defaults = await query({ limit: 1 });
    expect(Object.keys(defaults.body.data[0]!)).toEqual(
      expect.arrayContaining([
        'id',
        'fullName',
        'currentTitle',
        'currentCompany',
        'countryCode',
        'lastObservedAt',
      ]),
    );
    expect(Object.keys(defaults.body.data[0]!)).not.toContain('summary');

    const person = stored.find(
      (row) => Array.isArray(row.snapshot.roles) && Array.isArray(row.snapshot.skills),
    )!;
    const page = await query({
      filters: { id: person.id },
      fields: ['snapshot.fullName', 'connections', 'roles.title', 'skills', 'lastObservedAt', 'roles'],
    });
    expect(page.body.data).toEqual([
      {
        id: person.id,
        fullName: person.full_name,
        connections: person.snapshot.connections ?? null,
        'roles.title': (person.snapshot.roles as { title: string | null }[]).map((role) => role.title),
        skills: person.snapshot.skills,
        lastObservedAt: new Date(person.last_us! / 1000).toISOString(),
        roles: person.snapshot.roles,
      },
    ]);
  });

  /** Expected order: nulls are the largest values (last ascending, first descending), then id. */
  function sortedIds(field: string, direction: 1 | -1, rows = stored): string[] {
    const key = (row: StoredRow) => valuesOf(field, row)[0] ?? null;
    return [...rows]
      .sort((a, b) => {
        const [x, y] = [key(a), key(b)];
        const byKey = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
        return (byKey !== 0 ? byKey : a.id < b.id ? -1 : 1) * direction;
      })
      .map((row) => row.id);
  }

  it.each<[string, 1 | -1]>([
    ['lastObservedAt', -1],
    ['lastObservedAt', 1],
    ['connections', -1],
    ['connections', 1],
    ['degree', 1],
    ['createdAt', -1],
    ['seniorityLevel', -1],
  ])('sorts by %s %d, nulls as the largest values, ties by id', async (field, direction) => {
    const page = await query({ sort: { [field]: direction }, fields: ['id'], limit: 1000 });
    expect(page.body.data.map((row) => row.id)).toEqual(sortedIds(field, direction));
  });

  it('defaults to the newest observation first', async () => {
    const page = await query({ fields: ['id'], limit: 1000 });
    expect(page.body.data.map((row) => row.id)).toEqual(sortedIds('lastObservedAt', -1));
  });

  it('pages with skip: consecutive pages are the full result, in order', async () => {
    const everyone = sortedIds('connections', 1);
    const seen: string[] = [];
    let skip: number | null = 0;
    while (skip !== null) {
      const page: Page = await query({ sort: { connections: 1 }, fields: ['id'], limit: 10, skip });
      expect(page.status).toBe(200);
      expect(page.body.pagination.totalCount).toBe(everyone.length);
      seen.push(...page.body.data.map((row) => row.id as string));
      expect(page.body.pagination.hasMore).toBe(seen.length < everyone.length);
      skip = page.body.pagination.nextSkip;
    }
    expect(seen).toEqual(everyone);
    const past = await query({ skip: 1000 });
    expect(past.body.data).toEqual([]);
    expect(past.body.pagination).toMatchObject({
      count: 0,
      hasMore: false,
      nextSkip: null,
      nextCursor: null,
    });
  });

  /** Every page of a cursor walk; each page carries the first page's count. */
  async function walk(body: Record<string, unknown>, entity = 'people'): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let firstCount: unknown;
    for (let pages = 0; pages < 100; pages += 1) {
      const page: Page = await query({ ...body, ...(cursor ? { cursor } : {}), fields: ['id'] }, entity);
      expect(page.status).toBe(200);
      ids.push(...page.body.data.map((row) => row.id as string));
      const { totalCount, totalCountCapped, totalCountEstimated } = page.body.pagination;
      firstCount ??= { totalCount, totalCountCapped, totalCountEstimated };
      expect({ totalCount, totalCountCapped, totalCountEstimated }).toEqual(firstCount);
      cursor = page.body.pagination.nextCursor;
      expect(page.body.pagination.hasMore).toBe(cursor !== null);
      if (cursor === null) return ids;
    }
    throw new Error('cursor walk did not end');
  }

  it.each<[string, Record<string, unknown>]>([
    ['the default sort (ties on lastObservedAt)', {}],
    ['lastObservedAt ascending', { sort: { lastObservedAt: 1 } }],
    ['a text field with missing values, ascending', { sort: { industry: 1 } }],
    ['a text field with missing values, descending', { sort: { industry: -1 } }],
    ['a number with missing values', { sort: { connections: -1 } }],
    ['several keys in mixed directions', { sort: { city: 1, degree: -1, fullName: 1 } }],
    ['a boolean', { sort: { connectionsCapped: 1 } }],
    [
      'a filter',
      { filters: { $or: [{ countryCode: 'US' }, { skills: 'SQL' }] }, sort: { seniorityTier: -1 } },
    ],
  ])('walks the whole result with cursors: %s', async (_name, body) => {
    const all = await query({ ...body, fields: ['id'], limit: 1000 });
    const expected = all.body.data.map((row) => row.id as string);
    expect(expected.length).toBeGreaterThan(5);
    for (const limit of [1, 4, 7]) {
      const walked = await walk({ ...body, limit });
      expect(new Set(walked).size).toBe(walked.length);
      expect(walked).toEqual(expected);
    }
  });

  it('refuses a modified cursor, a cursor of another query, and a cursor with skip', async () => {
    const first = await query({ filters: { countryCode: 'US' }, limit: 2 });
    const cursor = first.body.pagination.nextCursor!;
    expect(cursor).toMatch(/^[\w-]+$/);

    const decode = () =>
      JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { v: unknown[]; t: { count: number } };
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const earlier = decode();
    earlier.v[0] = '2001-01-01T00:00:00.000000Z';
    const inflated = decode();
    inflated.t.count = 999_999;
    const [forged, forgedCount] = [encode(earlier), encode(inflated)];
    const flipped = cursor.slice(0, 10) + (cursor[10] === 'A' ? 'B' : 'A') + cursor.slice(11);
    for (const bad of [forged, forgedCount, flipped, 'not a cursor', 'e30', 42, '']) {
      const page = await query({ filters: { countryCode: 'US' }, limit: 2, cursor: bad });
      expect({ bad, status: page.status, error: page.body.error }).toEqual({
        bad,
        status: 400,
        error: 'INVALID_CURSOR',
      });
    }
    const otherFilter = await query({ filters: { countryCode: 'GB' }, limit: 2, cursor });
    expect(otherFilter.body.error).toBe('INVALID_CURSOR');
    const otherSort = await query({
      filters: { countryCode: 'US' },
      sort: { createdAt: -1 },
      limit: 2,
      cursor,
    });
    expect(otherSort.body.error).toBe('INVALID_CURSOR');
    const withSkip = await query({ filters: { countryCode: 'US' }, limit: 2, skip: 2, cursor });
    expect(withSkip.body.error).toBe('INVALID_CURSOR');
    const otherLimit = await query({ filters: { countryCode: 'US' }, limit: 3, cursor });
    expect(otherLimit.status).toBe(200);
  });
});

describe('POST /api/query/people: errors', () => {
  it.each<[string, unknown, string]>([
    ['unknown field', { filters: { password: 'x' } }, 'INVALID_FILTER_FIELD'],
    ['unknown operator', { filters: { fullName: { $like: '%a%' } } }, 'INVALID_OPERATOR'],
    ['$where', { filters: { $where: 'sleep(100)' } }, 'FORBIDDEN_OPERATOR'],
    [
      '$function deep inside',
      { filters: { $or: [{ fullName: { $eq: { $function: {} } } }] } },
      'FORBIDDEN_OPERATOR',
    ],
    ['$expr', { filters: { $and: [{ $expr: { $gt: ['$a', 1] } }] } }, 'FORBIDDEN_OPERATOR'],
    ['$accumulator', { filters: { fullName: { $accumulator: {} } } }, 'FORBIDDEN_OPERATOR'],
    ['$gt with an object', { filters: { connections: { $gt: {} } } }, 'INVALID_FILTER'],
    ['$in with a non-array', { filters: { skills: { $in: 'SQL' } } }, 'INVALID_FILTER'],
    ['uncompilable regex', { filters: { currentTitle: { $regex: '(' } } }, 'INVALID_REGEX'],
    ['uncompilable regex on elements', { filters: { 'roles.title': { $regex: 'a{2,1}' } } }, 'INVALID_REGEX'],
    [
      'uncompilable regex that no row would reach',
      { filters: { id: '00000000-0000-4000-8000-000000000000', skills: { $regex: '[z-a]' } } },
      'INVALID_REGEX',
    ],
    ['bad sort field', { sort: { skills: 1 } }, 'INVALID_SORT'],
    ['bad sort direction', { sort: { fullName: 'desc' } }, 'INVALID_SORT'],
    ['sort injection', { sort: { 'fullName; DROP TABLE persons': 1 } }, 'INVALID_SORT'],
    ['unknown projection field', { fields: ['fullName', 'password'] }, 'INVALID_PROJECTION'],
    ['limit above 1000', { limit: 1001 }, 'LIMIT_EXCEEDED'],
    ['limit 0', { limit: 0 }, 'INVALID_LIMIT'],
    ['limit as text', { limit: '10' }, 'INVALID_LIMIT'],
    ['fractional limit', { limit: 2.5 }, 'INVALID_LIMIT'],
    ['negative skip', { skip: -1 }, 'INVALID_SKIP'],
    ['tampered cursor', { cursor: 'abc' }, 'INVALID_CURSOR'],
    ['unknown body key', { filter: { fullName: 'x' } }, 'INVALID_REQUEST'],
  ])('%s → 400 %s', async (_name, body, code) => {
    const page = await query(body);
    expect(page.status).toBe(400);
    expect(page.body).toMatchObject({ success: false, error: code });
  });

  it('names the bad node of a filter in details.path', async () => {
    const page = await query({
      filters: { $and: [{ fullName: 'x' }, { connections: { $in: [1, 'many'] } }] },
    });
    expect(page.body).toMatchObject({
      error: 'INVALID_FILTER',
      details: { path: 'filters.$and[1].connections.$in[1]' },
    });
  });

  it('reads a request without a body as "everything", and refuses a body that is not JSON', async () => {
    const bodiless = await request(app).post('/api/query/people');
    expect(bodiless.status).toBe(200);
    expect(bodiless.body.pagination.totalCount).toBe(stored.length);
    const form = await request(app).post('/api/query/people').type('form').send({ filters: 'x' });
    expect(form.status).toBe(400);
    expect(form.body.error).toBe('INVALID_REQUEST');
  });

  it('answers malformed JSON with 400 INVALID_JSON', async () => {
    const res = await request(app)
      .post('/api/query/people')
      .set('content-type', 'application/json')
      .send('{"filters":');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('INVALID_JSON');
  });
});

describe('counts', () => {
  it('caps the exact count at QUERY_COUNT_LIMIT', async () => {
    const capped = buildTestApp(db, { QUERY_COUNT_LIMIT: '5', READ_RATE_LIMIT: '0' }).app;
    const page = await query({ limit: 2 }, 'people', capped);
    expect(page.body.pagination).toMatchObject({
      count: 2,
      totalCount: 5,
      totalCountCapped: true,
      totalCountEstimated: false,
      hasMore: true,
    });
    const small = await query({ filters: { lastName: INJECTION } }, 'people', capped);
    expect(small.body.pagination).toMatchObject({ totalCount: 1, totalCountCapped: false });
  });

  it('does not start a count PostgreSQL prices above QUERY_COUNT_MAX_COST: the estimate is reported', async () => {
    const frugal = buildTestApp(db, { QUERY_COUNT_MAX_COST: '0.5', READ_RATE_LIMIT: '0' }).app;
    const page = await query({ limit: 2 }, 'people', frugal);
    expect(page.status).toBe(200);
    expect(page.body.pagination).toMatchObject({ count: 2, totalCountEstimated: true, hasMore: true });
    expect(Number.isInteger(page.body.pagination.totalCount)).toBe(true);
    expect(page.body.pagination.totalCount).toBeGreaterThanOrEqual(3);
    const exact = await query({ limit: 2 }, 'people');
    expect(exact.body.pagination.totalCountEstimated).toBe(false);
  });

  it("falls back to PostgreSQL's estimate when counting takes longer than QUERY_COUNT_TIMEOUT_MS", async () => {
    const impatient = buildTestApp(db, {
      QUERY_COUNT_TIMEOUT_MS: '1',
      QUERY_COUNT_MAX_COST: '1e12',
      READ_RATE_LIMIT: '0',
    }).app;
    // Enough people that counting an unindexed filter over them takes well over a millisecond.
    await db.pool.query(
      `INSERT INTO persons (id, anchor_observation_id, snapshot)
       SELECT gen_random_uuid(), 0, jsonb_build_object('industry', 'Filler ' || n) FROM generate_series(1, 60000) n`,
    );
    try {
      const page = await query({ filters: { industry: { $ne: 'none' } }, limit: 3 }, 'people', impatient);
      expect(page.status).toBe(200);
      expect(page.body.pagination).toMatchObject({ count: 3, totalCountEstimated: true, hasMore: true });
      expect(Number.isInteger(page.body.pagination.totalCount)).toBe(true);
      expect(page.body.pagination.totalCount).toBeGreaterThanOrEqual(4);
    } finally {
      await db.pool.query(`DELETE FROM persons WHERE snapshot->>'industry' LIKE 'Filler %'`);
    }
  });
});

describe('POST /api/query/companies', () => {
  interface StoredCompany {
    id: string;
    name: string | null;
    people: number;
  }

  async function companies(): Promise<StoredCompany[]> {
    const { rows } = await db.pool.query<StoredCompany>(
      `SELECT c.id, c.name,
              (SELECT count(*)::int FROM persons p WHERE p.current_company_id = c.id AND p.merged_into IS NULL) AS people
         FROM companies c WHERE c.merged_into IS NULL`,
    );
    return rows;
  }

  it('filters, counts and sorts companies by their live people', async () => {
    const known = await companies();
    expect(known.length).toBeGreaterThanOrEqual(4);
    const page = await query(
      {
        filters: { peopleCount: { $gte: 2 } },
        sort: { peopleCount: -1, name: 1 },
        fields: ['name', 'peopleCount'],
      },
      'companies',
    );
    expect(page.status).toBe(200);
    const expected = known
      .filter((company) => company.people >= 2)
      .sort((a, b) => b.people - a.people || (a.name! < b.name! ? -1 : 1) || (a.id < b.id ? -1 : 1))
      .map((company) => ({ id: company.id, name: company.name, peopleCount: company.people }));
    expect(page.body.data).toEqual(expected);
  });

  it('matches snapshot fields, regex included', async () => {
    const page = await query(
      { filters: { name: { $regex: '^google', $options: 'i' }, linkedinId: { $in: ['1441', '2001'] } } },
      'companies',
    );
    expect(page.body.data.map((row) => row.name).sort()).toEqual(['Google', 'Google Cloud']);
    expect(page.body.data[0]).toEqual(
      expect.objectContaining({
        slug: null,
        linkedinId: expect.any(String),
        peopleCount: expect.any(Number),
      }),
    );
  });

  it('walks all companies with cursors', async () => {
    const everyone = (await companies()).map((company) => company.id).sort();
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Page = await query(
        { limit: 2, fields: ['id'], ...(cursor ? { cursor } : {}) },
        'companies',
      );
      ids.push(...page.body.data.map((row) => row.id as string));
      cursor = page.body.pagination.nextCursor;
    } while (cursor);
    expect([...ids].sort()).toEqual(everyone);
  });

  it('refuses people fields', async () => {
    const page = await query({ filters: { currentTitle: 'CTO' } }, 'companies');
    expect(page.body.error).toBe('INVALID_FILTER_FIELD');
  });
});

describe('GET /api/query/help', () => {
  it('lists every field with its type and operators, the limits, and examples', async () => {
    const res = await request(app).get('/api/query/help');
    expect(res.status).toBe(200);
    const help = res.body.data as {
      fields: Record<string, { name: string; type: string; operators: string[] }[]>;
      limits: Record<string, number>;
      examples: unknown[];
    };
    expect(help.fields.people!.map((field) => field.name)).toEqual(Object.keys(PEOPLE_FIELDS.fields));
    expect(help.fields.companies!.map((field) => field.name)).toEqual(Object.keys(COMPANY_FIELDS.fields));
    expect(help.fields.people!.find((field) => field.name === 'connections')).toMatchObject({
      type: 'number',
      operators: expect.arrayContaining(['$gte', '$in', '$exists']),
    });
    expect(help.limits).toMatchObject({
      defaultLimit: 100,
      maxLimit: 1000,
      maxInValues: 100,
      maxNestingDepth: 10,
    });
    expect(help.examples).toEqual(QUERY_EXAMPLES);
  });

  it.each(QUERY_EXAMPLES.map((example) => [example.description, example]))(
    'example runs: %s',
    async (_description, example) => {
      const res = await request(app).post(example.path).send(example.body);
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
    },
  );

  it('has examples that find people in the seed', async () => {
    let nonEmpty = 0;
    for (const example of QUERY_EXAMPLES) {
      const res = await request(app).post(example.path).send(example.body);
      if ((res.body.data as unknown[]).length > 0) nonEmpty += 1;
    }
    expect(nonEmpty).toBeGreaterThanOrEqual(QUERY_EXAMPLES.length / 2);
  });
});

describe('access', () => {
  it('needs an API key once API_KEYS is set', async () => {
    const guarded = buildTestApp(db, { API_KEYS: 'query-key', READ_RATE_LIMIT: '0' }).app;
    for (const path of ['/api/query/people', '/api/query/companies']) {
      const anonymous = await request(guarded).post(path).send({});
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error).toBe('UNAUTHORIZED');
      const wrong = await request(guarded).post(path).set('Authorization', 'Bearer nope').send({});
      expect(wrong.status).toBe(401);
      const keyed = await request(guarded).post(path).set('X-API-Key', 'query-key').send({ limit: 1 });
      expect(keyed.status).toBe(200);
    }
    expect((await request(guarded).get('/api/query/help')).status).toBe(401);
    const help = await request(guarded).get('/api/query/help').set('Authorization', 'Bearer query-key');
    expect(help.status).toBe(200);
  });

  it('applies the per-key read rate limit', async () => {
    const limited = buildTestApp(db, { API_KEYS: 'query-key', READ_RATE_LIMIT: '2' }).app;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      statuses.push(
        (await request(limited).post('/api/query/people').set('X-API-Key', 'query-key').send({})).status,
      );
    }
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('answers 503 while the database is not ready', async () => {
    const offline = buildTestApp(null, { READ_RATE_LIMIT: '0' }).app;
    const res = await request(offline).post('/api/query/people').send({});
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DATABASE_UNAVAILABLE');
  });
});
