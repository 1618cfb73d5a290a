import { ApiError } from '../src/api/errors';
import {
  COMPANY_FIELDS,
  compileFilter,
  compileFilterDetailed,
  compileProjection,
  compileSort,
  FORBIDDEN_OPERATORS,
  PEOPLE_FIELDS,
} from '../src/query';

/** The ApiError `work` throws (fails the test when it throws nothing or something else). */
function errorOf(work: () => unknown): ApiError {
  try {
    work();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected an ApiError');
}

function filterError(filter: unknown): { code: string; path: unknown } {
  const error = errorOf(() => compileFilter(PEOPLE_FIELDS, filter, []));
  return { code: error.code, path: (error.details as { path?: unknown } | undefined)?.path };
}

function nested(depth: number): Record<string, unknown> {
  let filter: Record<string, unknown> = { fullName: 'x' };
  for (let level = 1; level < depth; level += 1) filter = { $and: [filter] };
  return filter;
}

describe('compileFilter: parameterised SQL', () => {
  it('puts every value in params, numbered after the values already there', () => {
    const params: unknown[] = ['earlier', 42];
    const sql = compileFilter(
      PEOPLE_FIELDS,
      {
        lastName: "Robert'); DROP TABLE persons;--",
        connections: { $gte: 500 },
        skills: { $in: ['SQL', 'Python'] },
      },
      params,
    );
    expect(params).toEqual(['earlier', 42, "Robert'); DROP TABLE persons;--", 500, ['SQL', 'Python']]);
    expect(sql).toContain('$3::text');
    expect(sql).toContain('$4::float8');
    expect(sql).toContain('$5::text[]');
    expect(sql).not.toContain('DROP');
    expect(sql).not.toContain('500');
  });

  it('compiles an absent or empty filter to TRUE and adds no parameters', () => {
    const params: unknown[] = [];
    expect(compileFilter(PEOPLE_FIELDS, undefined, params)).toBe('TRUE');
    expect(compileFilter(PEOPLE_FIELDS, null, params)).toBe('TRUE');
    expect(compileFilter(PEOPLE_FIELDS, {}, params)).toBe('TRUE');
    expect(params).toEqual([]);
  });

  it('uses the catalogue expression of the field, so the expression indexes apply', () => {
    const sql = compileFilter(
      PEOPLE_FIELDS,
      { countryCode: 'US', currentTitle: { $regex: 'vp', $options: 'i' } },
      [],
    );
    expect(sql).toContain("p.snapshot->>'countryCode' = $1::text");
    expect(sql).toContain('p.current_title ~* $2::text');
  });

  it('reports the regex patterns it saw and accepts aliases of field names', () => {
    const compiled = compileFilterDetailed(
      PEOPLE_FIELDS,
      { $or: [{ 'snapshot.currentTitle': { $regex: 'a(' } }, { 'roles.title': { $regex: 'b' } }] },
      [],
    );
    expect(compiled.regexes).toEqual(['a(', 'b']);
  });

  it('normalises dates to UTC ISO text and UUIDs to lower case', () => {
    const params: unknown[] = [];
    compileFilter(
      PEOPLE_FIELDS,
      {
        lastObservedAt: { $gte: '2025-07-01', $lt: '2025-07-02T10:30:00+0200' },
        createdAt: { $lte: '2025-07-03 08:00' },
        companyId: 'EDBADD8F-47D5-50F3-AAC5-C06F419DC7C1',
      },
      params,
    );
    expect(params).toEqual([
      '2025-07-01T00:00Z',
      '2025-07-02T10:30:00+02:00',
      '2025-07-03T08:00Z',
      'edbadd8f-47d5-50f3-aac5-c06f419dc7c1',
    ]);
  });

  it('reads "500+" and "1,234" as numbers', () => {
    const params: unknown[] = [];
    compileFilter(PEOPLE_FIELDS, { connections: { $gte: '500+', $lt: '1,234' } }, params);
    expect(params).toEqual([500, 1234]);
  });
});

describe('compileFilter: errors', () => {
  it.each([
    [{ favouriteColour: 'blue' }, 'INVALID_FILTER_FIELD', 'filters.favouriteColour'],
    [{ $and: [{ 'snapshot.password': 'x' }] }, 'INVALID_FILTER_FIELD', 'filters.$and[0].snapshot.password'],
    [{ 'currentTitle" OR 1=1 --': 'x' }, 'INVALID_FILTER_FIELD', 'filters.currentTitle" OR 1=1 --'],
    [JSON.parse('{"__proto__": "x"}'), 'INVALID_FILTER_FIELD', 'filters.__proto__'],
    [{ constructor: 'x' }, 'INVALID_FILTER_FIELD', 'filters.constructor'],
    [{ fullName: { $like: 'x' } }, 'INVALID_OPERATOR', 'filters.fullName.$like'],
    [{ 'roles.title': { $elemMatch: { x: 1 } } }, 'INVALID_OPERATOR', 'filters.roles.title.$elemMatch'],
    [{ $nor: [{ fullName: 'x' }] }, 'INVALID_OPERATOR', 'filters.$nor'],
    [{ $or: [{ $not: { fullName: 'x' } }] }, 'INVALID_OPERATOR', 'filters.$or[0].$not'],
    [{ connections: { $gt: { $numberLong: '5' } } }, 'INVALID_FILTER', 'filters.connections.$gt'],
    [{ connections: { $gt: 'many' } }, 'INVALID_FILTER', 'filters.connections.$gt'],
    [{ connections: { $gte: null } }, 'INVALID_FILTER', 'filters.connections.$gte'],
    [{ skills: { $in: 'SQL' } }, 'INVALID_FILTER', 'filters.skills.$in'],
    [
      { skills: { $in: Array.from({ length: 101 }, (_, i) => `s${i}`) } },
      'INVALID_FILTER',
      'filters.skills.$in',
    ],
    [{ skills: { $nin: [1] } }, 'INVALID_FILTER', 'filters.skills.$nin[0]'],
    [{ fullName: { $gt: 'M' } }, 'INVALID_FILTER', 'filters.fullName.$gt'],
    [{ connections: { $regex: '5' } }, 'INVALID_FILTER', 'filters.connections.$regex'],
    [{ companyId: { $regex: 'a' } }, 'INVALID_FILTER', 'filters.companyId.$regex'],
    [{ companyId: 'not-a-uuid' }, 'INVALID_FILTER', 'filters.companyId'],
    [{ roles: 'CTO' }, 'INVALID_FILTER', 'filters.roles'],
    [{ currentTitle: { $regex: 'x', $options: 'g' } }, 'INVALID_FILTER', 'filters.currentTitle.$options'],
    [{ currentTitle: { $options: 'i' } }, 'INVALID_FILTER', 'filters.currentTitle.$options'],
    [{ currentTitle: { $regex: 42 } }, 'INVALID_FILTER', 'filters.currentTitle.$regex'],
    [{ currentTitle: { $regex: 'x'.repeat(513) } }, 'INVALID_FILTER', 'filters.currentTitle.$regex'],
    [{ email: { $exists: 'yes' } }, 'INVALID_FILTER', 'filters.email.$exists'],
    [{ 'roles.isCurrent': 'true' }, 'INVALID_FILTER', 'filters.roles.isCurrent'],
    [{ lastObservedAt: { $gte: 'yesterday' } }, 'INVALID_FILTER', 'filters.lastObservedAt.$gte'],
    [{ lastObservedAt: { $gte: '2025-02-30' } }, 'INVALID_FILTER', 'filters.lastObservedAt.$gte'],
    [{ lastObservedAt: { $gte: 1751500000000 } }, 'INVALID_FILTER', 'filters.lastObservedAt.$gte'],
    [{ skills: ['SQL', 'Python'] }, 'INVALID_FILTER', 'filters.skills'],
    [{ location: { city: 'Paris' } }, 'INVALID_FILTER', 'filters.location.city'],
    [{ fullName: {} }, 'INVALID_FILTER', 'filters.fullName'],
    [{ $and: [] }, 'INVALID_FILTER', 'filters.$and'],
    [{ $or: { fullName: 'x' } }, 'INVALID_FILTER', 'filters.$or'],
    [{ $and: ['fullName'] }, 'INVALID_FILTER', 'filters.$and[0]'],
    [['fullName'], 'INVALID_FILTER', 'filters'],
    ['fullName = 1', 'INVALID_FILTER', 'filters'],
  ])('%j → %s at %s', (filter, code, path) => {
    expect(filterError(filter)).toEqual({ code, path });
  });

  it.each(FORBIDDEN_OPERATORS.map((operator) => [operator]))('refuses %s wherever it appears', (operator) => {
    const places = [
      { [operator]: 'sleep(1000)' },
      { $and: [{ fullName: 'x' }, { $or: [{ [operator]: 'x' }] }] },
      { fullName: { [operator]: 'x' } },
      { fullName: { $eq: { [operator]: 'x' } } },
      { skills: { $in: [{ [operator]: 'x' }] } },
    ];
    for (const filter of places) expect(filterError(filter).code).toBe('FORBIDDEN_OPERATOR');
  });

  it('allows 10 levels of nesting, refuses 11, and survives absurd depth', () => {
    expect(() => compileFilter(PEOPLE_FIELDS, nested(10), [])).not.toThrow();
    expect(filterError(nested(11))).toEqual({
      code: 'INVALID_FILTER',
      path: `filters${'.$and[0]'.repeat(10)}`,
    });
    expect(filterError(nested(20_000)).code).toBe('INVALID_FILTER');
  });

  it('refuses more than 200 conditions', () => {
    const branches = Array.from({ length: 100 }, () => ({ connections: { $gte: 1, $lte: 2 } }));
    expect(() => compileFilter(PEOPLE_FIELDS, { $or: branches }, [])).not.toThrow();
    expect(filterError({ $or: branches, fullName: 'x' }).code).toBe('INVALID_FILTER');
  });

  it('knows each entity by its own whitelist', () => {
    expect(() =>
      compileFilter(COMPANY_FIELDS, { peopleCount: { $gte: 2 }, domain: 'acme.example' }, []),
    ).not.toThrow();
    expect(errorOf(() => compileFilter(COMPANY_FIELDS, { currentTitle: 'CTO' }, [])).code).toBe(
      'INVALID_FILTER_FIELD',
    );
  });
});

describe('compileProjection', () => {
  it('selects the default fields when none are asked for', () => {
    const projection = compileProjection(PEOPLE_FIELDS, undefined);
    expect(projection.names).toEqual(
      expect.arrayContaining(['id', 'fullName', 'currentTitle', 'countryCode']),
    );
    expect(projection.names).not.toContain('summary');
  });

  it('folds aliases and duplicates into canonical names and keeps dotted names as column names', () => {
    const projection = compileProjection(PEOPLE_FIELDS, [
      'snapshot.fullName',
      'fullName',
      'roles.title',
      'meta.lastObservedAt',
    ]);
    expect(projection.names).toEqual(['fullName', 'roles.title', 'lastObservedAt']);
    expect(projection.sql).toContain('AS "roles.title"');
    expect(projection.sql).toContain('p.full_name AS "fullName"');
  });

  it.each([
    [[]],
    ['fullName'],
    [['fullName', 'password']],
    [[{ $where: 'x' }]],
    [['fullName" FROM pg_user --']],
  ])('refuses %j', (fields) => {
    expect(errorOf(() => compileProjection(PEOPLE_FIELDS, fields)).code).toBe('INVALID_PROJECTION');
  });
});

describe('compileSort', () => {
  it('defaults to the newest observation first, then id', () => {
    expect(compileSort(PEOPLE_FIELDS, undefined).orderBy).toBe('p.last_observed_at DESC, p.id DESC');
  });

  it('appends the id in the direction of the last key, and accepts aliases', () => {
    expect(compileSort(PEOPLE_FIELDS, { 'snapshot.connections': -1, fullName: 1 }).orderBy).toContain(
      'p.full_name ASC, p.id ASC',
    );
  });

  it.each([
    [{ skills: 1 }],
    [{ favouriteColour: 1 }],
    [{ fullName: 'asc' }],
    [{ fullName: 0 }],
    [{ fullName: true }],
    [{}],
    [{ fullName: 1, 'snapshot.fullName': -1 }],
    [{ fullName: 1, city: 1, state: 1, country: 1 }],
    [['fullName']],
    ['fullName'],
  ])('refuses %j', (sort) => {
    expect(errorOf(() => compileSort(PEOPLE_FIELDS, sort)).code).toBe('INVALID_SORT');
  });
});
