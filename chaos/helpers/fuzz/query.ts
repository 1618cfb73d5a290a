import fc from 'fast-check';
import request from 'supertest';
import { fixture } from '../../../__tests__/helpers/fixtures';
import { jsonText, anyString, objectKey } from './arbitraries';
import type { FuzzProperty, FuzzTarget } from './harness';
import { assertCatalogueError, assertNoServerError, fail, fuzzProperty, perTarget, put } from './harness';

type Row = Record<string, unknown> & { id: string };
type FieldKind = 'text' | 'number' | 'textArray';

/** The fields the generated filters use, with how they compare (src/query/catalogue.ts). */
const FIELDS: Record<string, FieldKind> = {
  firstName: 'text',
  lastName: 'text',
  fullName: 'text',
  currentTitle: 'text',
  currentCompany: 'text',
  city: 'text',
  country: 'text',
  countryCode: 'text',
  seniorityTier: 'text',
  department: 'text',
  connections: 'number',
  degree: 'number',
  seniorityLevel: 'number',
  observationsCount: 'number',
  tags: 'textArray',
};
const FIELD_NAMES = Object.keys(FIELDS);

const FIRST = ['Anna', 'Bob', 'Chen', 'Dana', 'Émile', 'Zoë', "O'Brien", 'Ola'];
const LAST = ['Smith', 'Lee', 'García', 'Nguyen', 'Ørsted'];
const TITLES = [
  'CEO',
  'VP Sales',
  'Software Engineer',
  'Head of Marketing',
  'Intern',
  'Director of Engineering',
  '',
];
const COMPANIES = ['Acme', 'Globex', 'Initech', 'Umbrella'];
const LOCATIONS = [
  'San Francisco, California, United States',
  'London, England, United Kingdom',
  'Berlin, Germany',
  'Riga, Latvia',
  'Paris, Île-de-France, France',
  '',
];
const CONNECTIONS = ['12', '87', '500+', '230', ''];
const TAGS = ['vip', 'lead', 'cold', 'hot', 'VIP'];
export const SEEDED_PEOPLE = 60;

/** People with varied fields, stored through the real webhook (Phase 2 inline). */
export async function seedPeople(target: FuzzTarget): Promise<void> {
  const base = fixture(0);
  for (let i = 0; i < SEEDED_PEOPLE; i += 1) {
    const memberId = String(810_000_000 + i);
    const payload = {
      ...base,
      data: {
        ...base.data,
        id: `id.${memberId}`,
        VisitTime: 1_752_000_000_000 + i * 1000,
        Profile: `https://www.linkedin.com/in/query-fuzz-${i}-${memberId}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAB${memberId}Qz,NAME_SEARCH,q${i % 10}z`,
        RecruiterProfile: `https://www.linkedin.com/talent/profile/ACwAAB${memberId}Qz`,
        'First Name': FIRST[i % FIRST.length],
        'Last Name': LAST[(i * 7) % LAST.length],
        Title: TITLES[(i * 3) % TITLES.length],
        Company: COMPANIES[(i * 5) % COMPANIES.length],
        Location: LOCATIONS[(i * 11) % LOCATIONS.length],
        Connections: CONNECTIONS[(i * 13) % CONNECTIONS.length],
        Degree: String((i % 3) + 1),
        'My Tags': TAGS.filter((_, t) => (i >> t) & 1),
      },
    };
    const res = await request(target.server)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(JSON.stringify(payload));
    if (res.status !== 200 || res.body.person_id === undefined)
      throw new Error(`seeding failed: ${JSON.stringify(res.body)}`);
  }
}

async function queryPeople(
  target: FuzzTarget,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(target.server)
    .post('/api/query/people')
    .set('content-type', 'application/json')
    .send(JSON.stringify(body));
  return { status: res.status, body: res.body as Record<string, unknown> };
}

/** A generated filter, kept as data so the same tree is sent as JSON and evaluated in JavaScript. */
type Condition = { field: string; ops: [string, unknown][] } | { field: string; equals: unknown };
type Filter = { and: Condition[] } | { logical: '$and' | '$or'; branches: Filter[] };

function toJson(filter: Filter): Record<string, unknown> {
  if ('logical' in filter) return { [filter.logical]: filter.branches.map(toJson) };
  const out: Record<string, unknown> = {};
  for (const condition of filter.and) {
    put(out, condition.field, 'equals' in condition ? condition.equals : Object.fromEntries(condition.ops));
  }
  return out;
}

/** The field's values as the filter sees them: none (null / missing), one scalar, or an array's elements. */
function valuesOf(row: Row, field: string): unknown[] {
  const value = row[field];
  if (value === null || value === undefined) return [];
  if (FIELDS[field] === 'textArray') return Array.isArray(value) ? value.filter((v) => v !== null) : [];
  return [value];
}

function coerce(field: string, value: unknown): unknown {
  if (FIELDS[field] === 'number' && typeof value === 'string')
    return Number(value.trim().replace(/[,+]/g, ''));
  return value;
}

/** MongoDB-style semantics as src/query/filter.ts documents them: a positive operator matches when SOME value does. */
function matchesOperator(row: Row, field: string, op: string, operand: unknown, options: unknown): boolean {
  const values = valuesOf(row, field);
  const equals = (x: unknown) =>
    x === null ? values.length === 0 : values.some((v) => v === coerce(field, x));
  switch (op) {
    case '$eq':
      return equals(operand);
    case '$ne':
      return !equals(operand);
    case '$in':
      return (operand as unknown[]).some(equals);
    case '$nin':
      return !(operand as unknown[]).some(equals);
    case '$exists':
      return operand === true ? values.length > 0 : values.length === 0;
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      const bound = coerce(field, operand) as number;
      return values.some((v) => {
        const n = v as number;
        return op === '$gt' ? n > bound : op === '$gte' ? n >= bound : op === '$lt' ? n < bound : n <= bound;
      });
    }
    case '$regex': {
      const pattern = new RegExp(operand as string, options === 'i' ? 'i' : '');
      return values.some((v) => pattern.test(String(v)));
    }
    case '$options':
      return true;
    default:
      throw new Error(`the evaluator does not know ${op}`);
  }
}

export function matches(row: Row, filter: Filter): boolean {
  if ('logical' in filter) {
    return filter.logical === '$and'
      ? filter.branches.every((b) => matches(row, b))
      : filter.branches.some((b) => matches(row, b));
  }
  return filter.and.every((condition) => {
    if ('equals' in condition)
      return matchesOperator(row, condition.field, '$eq', condition.equals, undefined);
    const options = condition.ops.find(([op]) => op === '$options')?.[1];
    return condition.ops.every(([op, operand]) =>
      matchesOperator(row, condition.field, op, operand, options),
    );
  });
}

function fieldsOf(filter: Filter): string[] {
  if ('logical' in filter) return filter.branches.flatMap(fieldsOf);
  return filter.and.map((condition) => condition.field);
}

/** Generated filters whose values come mostly from the seeded data itself, so they match some people. */
function filterArbitrary(everyone: Row[]): fc.Arbitrary<Filter> {
  const seen = (field: string): unknown[] => [...new Set(everyone.flatMap((row) => valuesOf(row, field)))];
  const valueFor = (field: string): fc.Arbitrary<unknown> => {
    const observed = seen(field);
    const kind = FIELDS[field]!;
    const own =
      kind === 'number'
        ? fc.oneof(fc.integer({ min: -5, max: 600 }), fc.integer({ min: 0, max: 600 }).map(String))
        : fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('', 'vip', 'CEO', 'US'));
    return observed.length > 0 ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...observed) }, own) : own;
  };
  const regexFor = (field: string): fc.Arbitrary<string> => {
    const words = seen(field)
      .map(String)
      .filter((v) => /^[A-Za-z0-9 ]+$/.test(v));
    const fragment =
      words.length > 0
        ? fc.constantFrom(...words).chain((w) => fc.nat(w.length).map((n) => w.slice(0, Math.max(1, n))))
        : fc.constant('a');
    return fc.tuple(fc.boolean(), fragment).map(([anchored, text]) => (anchored ? `^${text}` : text));
  };
  const condition: fc.Arbitrary<Condition> = fc.constantFrom(...FIELD_NAMES).chain((field) => {
    const kind = FIELDS[field]!;
    const operators = [
      '$eq',
      '$ne',
      '$in',
      '$nin',
      '$exists',
      ...(kind === 'number' ? ['$gt', '$gte', '$lt', '$lte'] : ['$regex']),
    ];
    const op: fc.Arbitrary<[string, unknown][]> = fc
      .constantFrom(...operators)
      .chain((name): fc.Arbitrary<[string, unknown][]> => {
        switch (name) {
          case '$in':
          case '$nin':
            return fc
              .array(fc.oneof({ weight: 5, arbitrary: valueFor(field) }, fc.constant(null)), { maxLength: 4 })
              .map((list) => [[name, list]]);
          case '$exists':
            return fc.boolean().map((b) => [[name, b]]);
          case '$regex':
            return fc.tuple(regexFor(field), fc.boolean()).map(([pattern, insensitive]) =>
              insensitive
                ? [
                    [name, pattern],
                    ['$options', 'i'],
                  ]
                : [[name, pattern]],
            );
          case '$eq':
          case '$ne':
            return fc
              .oneof({ weight: 5, arbitrary: valueFor(field) }, fc.constant(null))
              .map((v) => [[name, v]]);
          default:
            return valueFor(field).map((v) => [[name, v]]);
        }
      });
    return fc.oneof(
      valueFor(field).map((equals) => ({ field, equals })),
      fc.array(op, { minLength: 1, maxLength: 2 }).map((list) => ({ field, ops: dedupeOps(list.flat()) })),
    );
  });
  const leaf: fc.Arbitrary<Filter> = fc
    .uniqueArray(condition, { minLength: 1, maxLength: 3, selector: (c) => c.field })
    .map((and) => ({ and }));
  return fc.letrec<{ filter: Filter }>((tie) => ({
    filter: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.record({
        logical: fc.constantFrom('$and' as const, '$or' as const),
        branches: fc.array(tie('filter'), { minLength: 1, maxLength: 3 }),
      }),
    ),
  })).filter;
}

/** One operator once per field (a JSON object cannot repeat a key); `$options` only beside `$regex`. */
function dedupeOps(ops: [string, unknown][]): [string, unknown][] {
  const byName = new Map(ops);
  if (!byName.has('$regex')) byName.delete('$options');
  return [...byName.entries()];
}

const OPERATORS = [
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
  '$and',
  '$or',
  '$where',
  '$expr',
  '$function',
  '$text',
  '$not',
  '$elemMatch',
  '$size',
];
const KEYS = [
  ...FIELD_NAMES,
  'roles.title',
  'snapshot.email',
  'id',
  'companyId',
  'lastObservedAt',
  'roles',
  'education.school',
];

/** Filters built from real names and operators with values of any JSON type: deep, wrong and hostile. */
const hostileFilter: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    anyString,
    fc.integer(),
    fc.boolean(),
    fc.array(tie('node'), { maxLength: 4 }),
    fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom(...OPERATORS), fc.constantFrom(...KEYS), objectKey), tie('node')),
        { maxLength: 4 },
      )
      .map((entries) => {
        const out: Record<string, unknown> = {};
        for (const [key, value] of entries) put(out, key, value);
        return out;
      }),
  ),
})).node;

const hostileBody = fc.record(
  {
    filters: hostileFilter,
    fields: fc.oneof(
      fc.array(fc.oneof(fc.constantFrom(...KEYS), anyString), { maxLength: 5 }),
      hostileFilter,
    ),
    sort: fc.oneof(
      fc.dictionary(
        fc.oneof(fc.constantFrom(...KEYS), objectKey),
        fc.oneof(fc.constantFrom(1, -1), fc.integer()),
      ),
      hostileFilter,
    ),
    limit: fc.oneof(fc.integer({ min: -5, max: 2000 }), hostileFilter),
    skip: fc.oneof(fc.integer({ min: -5, max: 100 }), hostileFilter),
    cursor: fc.oneof(anyString, hostileFilter),
  },
  { requiredKeys: [] },
);

/** The seeded people of a target (seeded through the webhook on first use) and the filters generated from them. */
const seededOf = perTarget((target) =>
  seedPeople(target)
    .then(() => readEveryone(target))
    .then((everyone) => ({ everyone, filters: filterArbitrary(everyone) })),
);

export const QUERY_PROPERTIES: FuzzProperty[] = [
  fuzzProperty(
    'query: arbitrary bodies and hostile filters are answered 2xx or a catalogue 4xx, never a 5xx',
    (target) =>
      fc.asyncProperty(
        fc.oneof(
          hostileBody,
          jsonText.map((text) => ({ raw: text })),
        ),
        async (input) => {
          const send = async () => {
            if (input && typeof input === 'object' && 'raw' in input) {
              const res = await request(target.server)
                .post('/api/query/people')
                .set('content-type', 'application/json')
                .send(input.raw);
              return { status: res.status, body: res.body as Record<string, unknown> };
            }
            return queryPeople(target, input);
          };
          const first = await send();
          assertNoServerError(first.status, first.body);
          if (first.status === 200) {
            if (!Array.isArray(first.body.data)) fail('a 200 without data', first.body);
            return;
          }
          const code = assertCatalogueError(first.status, first.body);
          const again = await send();
          if (again.status !== first.status || again.body.error !== code) {
            fail('the same query got a different error', { first: first.body, again: again.body });
          }
        },
      ),
  ),
  {
    name: 'query: generated filters over the seeded people return exactly the matching rows',
    check: async (target, numRuns) => {
      const { everyone, filters } = await seededOf(target);
      if (everyone.length !== SEEDED_PEOPLE)
        throw new Error(`expected ${SEEDED_PEOPLE} people, found ${everyone.length}`);
      return fuzzProperty(
        'query: generated filters over the seeded people return exactly the matching rows',
        () =>
          fc.asyncProperty(filters, async (filter) => {
            const fields = [...new Set(fieldsOf(filter))];
            const answer = await queryPeople(target, { filters: toJson(filter), fields, limit: 1000 });
            if (answer.status !== 200)
              fail('a valid filter was refused', { filter: toJson(filter), answer: answer.body });
            const rows = answer.body.data as Row[];
            const outside = rows.filter((row) => !matches(row, filter));
            if (outside.length > 0) fail('rows outside the filter', { filter: toJson(filter), outside });
            const expected = everyone
              .filter((row) => matches(row, filter))
              .map((row) => row.id)
              .sort();
            const got = rows.map((row) => row.id).sort();
            if (JSON.stringify(expected) !== JSON.stringify(got)) {
              fail('matching rows missing', {
                filter: toJson(filter),
                missing: expected.filter((id) => !got.includes(id)),
              });
            }
          }),
      ).check(target, numRuns);
    },
  },
];

/** Every seeded person with the fields the generated filters use, read back through the endpoint itself. */
export async function readEveryone(target: FuzzTarget): Promise<Row[]> {
  const answer = await queryPeople(target, { fields: FIELD_NAMES, limit: 1000 });
  if (answer.status !== 200) throw new Error(`listing failed: ${JSON.stringify(answer.body)}`);
  return answer.body.data as Row[];
}
