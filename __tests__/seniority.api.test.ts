import type { Express } from 'express';
import request from 'supertest';
import { parseTier } from '../src/search';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const COMPANIES = {
  alpha: { name: 'Alpha Robotics', linkedinId: 52_000_001 },
  beta: { name: 'Beta Foods', linkedinId: 52_000_002 },
  gamma: { name: 'Gamma Health', linkedinId: 52_000_003 },
  delta: { name: 'Delta Freight', linkedinId: 52_000_004 },
};
type CompanyKey = keyof typeof COMPANIES;

const BERLIN = 'Berlin, Germany';
const MUNICH = 'Munich, Bavaria, Germany';
const SAN_FRANCISCO = 'San Francisco, California, United States';
const AUSTIN = 'Austin, Texas, United States';
const LONDON = 'London, England, United Kingdom';
const PARIS = 'Paris, Île-de-France, France';
const TORONTO = 'Toronto, Ontario, Canada';

/**
 * The seeded people. Tier and department are what the classifier gives these titles (worked out by hand, see
 * the comments); the expectations below are counted from this table by hand too.
 */
const PEOPLE: { key: string; title: string; company: CompanyKey; location: string }[] = [
  { key: 'founder', title: 'Founder & CEO', company: 'alpha', location: BERLIN }, // Owner, -
  { key: 'cto', title: 'Chief Technology Officer', company: 'alpha', location: BERLIN }, // CXO, engineering
  { key: 'vpSales', title: 'VP of Sales', company: 'alpha', location: MUNICH }, // VP, sales
  { key: 'engineer', title: 'Senior Software Engineer', company: 'alpha', location: SAN_FRANCISCO }, // IC, engineering
  { key: 'engManager', title: 'Engineering Manager', company: 'beta', location: AUSTIN }, // Manager, engineering
  { key: 'svp', title: 'SVP, Marketing', company: 'beta', location: LONDON }, // SVP, marketing
  { key: 'md', title: 'Managing Director', company: 'beta', location: LONDON }, // Managing Director, -
  { key: 'intern', title: 'Software Engineering Intern', company: 'beta', location: AUSTIN }, // In Training, engineering
  { key: 'ae', title: 'Account Executive', company: 'gamma', location: AUSTIN }, // IC, sales
  { key: 'po', title: 'Product Owner', company: 'gamma', location: PARIS }, // IC, product
  { key: 'hrbp', title: 'HR Business Partner', company: 'gamma', location: PARIS }, // IC, hr
  { key: 'headOfData', title: 'Head of Data Science', company: 'gamma', location: BERLIN }, // VP, data
  { key: 'noTitle', title: '', company: 'gamma', location: PARIS }, // unclassified, -
  { key: 'placeholder', title: 'N/A', company: 'delta', location: TORONTO }, // unclassified, -
];
// Plus 'cfo' (Chief Financial Officer, delta, Toronto: CXO, finance), who is the survivor of a merge whose tombstone
// also says CXO: 15 live people.

let db: TestDatabase;
let app: Express;
let sequence = 0;
const ids: Record<string, string> = {};
let tombstone: string;

function visit(person: {
  first: string;
  title: string;
  company: CompanyKey;
  location: string;
  data?: Record<string, unknown>;
}): Record<string, unknown> {
  const base = distinctVisit(600_000 + ++sequence) as { data: Record<string, unknown> };
  const company = COMPANIES[person.company];
  return {
    ...base,
    data: {
      ...base.data,
      'First Name': person.first,
      'Last Name': 'Seniorityson',
      Title: person.title,
      Company: company.name,
      CompanyProfile: `https://www.linkedin.com/company/${company.linkedinId}/`,
      CompanyWebsite: '',
      Location: person.location,
      Email: '',
      ...person.data,
    },
  };
}

async function ingest(payload: object): Promise<string> {
  const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(payload);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ processed: true });
  return res.body.person_id as string;
}

/** The JSON body of a successful GET (typed loosely: each test checks the shape it needs). */
async function get(path: string) {
  const res = await request(app).get(path);
  expect(res.status).toBe(200);
  expect(res.body.success).toBe(true);
  return res.body;
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true }).app;
  for (const person of PEOPLE) ids[person.key] = await ingest(visit({ ...person, first: person.key }));

  // A CFO seen first by profile URL, then by member id (a second person), then by both: one merge.
  const slug = `cfo-seniorityson-${sequence}`;
  const memberId = `id.${8_900_000_000 + sequence}`;
  const cfo = {
    first: 'cfo',
    title: 'Chief Financial Officer',
    company: 'delta' as const,
    location: TORONTO,
  };
  const noIds = { id: undefined, SalesProfile: undefined, RecruiterProfile: undefined };
  ids.cfo = await ingest(
    visit({ ...cfo, data: { ...noIds, Profile: `https://www.linkedin.com/in/${slug}` } }),
  );
  tombstone = await ingest(visit({ ...cfo, data: { ...noIds, id: memberId, Profile: undefined } }));
  const merged = await ingest(
    visit({ ...cfo, data: { ...noIds, id: memberId, Profile: `https://www.linkedin.com/in/${slug}/` } }),
  );
  expect(merged).toBe(ids.cfo);
  await drainRefreshQueue(db.pool, testFoldSettings());
});
afterAll(() => db.drop());

it('seeds what the expectations assume: tiers from the classifier, one CXO tombstone', async () => {
  const { rows } = await db.pool.query(
    'SELECT id, merged_into, seniority_level, department FROM persons WHERE id = ANY($1) ORDER BY id',
    [[ids.cto, tombstone]],
  );
  expect(rows).toEqual(
    expect.arrayContaining([
      { id: ids.cto, merged_into: null, seniority_level: 7, department: 'engineering' },
      { id: tombstone, merged_into: ids.cfo, seniority_level: 7, department: 'finance' },
    ]),
  );
});

describe('GET /api/seniority/tiers', () => {
  it('lists the ladder highest first with descriptions and sample keywords, and the departments', async () => {
    const { data } = await get('/api/seniority/tiers');
    expect(data.tiers.map((tier: { level: number; name: string }) => [tier.level, tier.name])).toEqual([
      [8, 'Owner'],
      [7, 'CXO'],
      [6, 'SVP'],
      [5, 'VP'],
      [4, 'Managing Director'],
      [3, 'Manager'],
      [2, 'In Training'],
      [1, 'Individual Contributor'],
    ]);
    for (const tier of data.tiers) {
      expect(tier.description).toEqual(expect.any(String));
      expect(tier.keywords.length).toBeGreaterThan(0);
    }
    expect(data.departments).toHaveLength(12);
  });
});

describe('GET /api/seniority/distribution', () => {
  it('counts live people per tier and per department, with percentages of all 15', async () => {
    const { data } = await get('/api/seniority/distribution');
    expect(data.total).toBe(15);
    expect(data.tiers).toEqual([
      { level: 8, tier: 'Owner', count: 1, percentage: 6.67 },
      { level: 7, tier: 'CXO', count: 2, percentage: 13.33 },
      { level: 6, tier: 'SVP', count: 1, percentage: 6.67 },
      { level: 5, tier: 'VP', count: 2, percentage: 13.33 },
      { level: 4, tier: 'Managing Director', count: 1, percentage: 6.67 },
      { level: 3, tier: 'Manager', count: 1, percentage: 6.67 },
      { level: 2, tier: 'In Training', count: 1, percentage: 6.67 },
      { level: 1, tier: 'Individual Contributor', count: 4, percentage: 26.67 },
    ]);
    expect(data.unclassified).toEqual({ count: 2, percentage: 13.33 });
    expect(data.departments).toEqual([
      { department: 'engineering', count: 4, percentage: 26.67 },
      { department: 'data', count: 1, percentage: 6.67 },
      { department: 'product', count: 1, percentage: 6.67 },
      { department: 'design', count: 0, percentage: 0 },
      { department: 'marketing', count: 1, percentage: 6.67 },
      { department: 'sales', count: 2, percentage: 13.33 },
      { department: 'customer_success', count: 0, percentage: 0 },
      { department: 'finance', count: 1, percentage: 6.67 },
      { department: 'hr', count: 1, percentage: 6.67 },
      { department: 'legal', count: 0, percentage: 0 },
      { department: 'operations', count: 0, percentage: 0 },
      { department: 'consulting', count: 0, percentage: 0 },
    ]);
    expect(data.noDepartment).toEqual({ count: 4, percentage: 26.67 });
  });
});

describe('GET /api/seniority/by-tier/:tier', () => {
  // Individual contributors, most recently observed first (each person's visit is later than the previous one).
  const contributors = () => [ids.hrbp, ids.po, ids.ae, ids.engineer];

  it.each(['1', 'individual contributor', 'Individual-Contributor', 'INDIVIDUAL_CONTRIBUTOR'])(
    'accepts %p and pages without overlap',
    async (tier) => {
      const first = await get(`/api/seniority/by-tier/${encodeURIComponent(tier)}?limit=3`);
      expect(first.tier).toEqual({ level: 1, name: 'Individual Contributor' });
      expect(first.pagination).toEqual({ count: 3, hasMore: true, nextSkip: 3 });
      const second = await get(`/api/seniority/by-tier/${encodeURIComponent(tier)}?limit=3&skip=3`);
      expect(second.pagination).toEqual({ count: 1, hasMore: false, nextSkip: null });
      const seen = [...first.data, ...second.data].map((person: { id: string }) => person.id);
      expect(seen).toEqual(contributors());
    },
  );

  it('returns people with their tier, level, department and company', async () => {
    const { data } = await get('/api/seniority/by-tier/cxo');
    expect(data).toHaveLength(2);
    expect(data.map((person: { id: string }) => person.id).sort()).toEqual([ids.cto, ids.cfo].sort());
    expect(data.find((person: { id: string }) => person.id === ids.cto)).toMatchObject({
      fullName: 'cto Seniorityson',
      currentTitle: 'Chief Technology Officer',
      currentCompany: 'Alpha Robotics',
      location: BERLIN,
      seniorityLevel: 7,
      seniorityTier: 'CXO',
      department: 'engineering',
      lastObservedAt: expect.any(String),
    });
  });

  it('never lists a tombstone', async () => {
    const { data } = await get('/api/seniority/by-tier/7?limit=100');
    expect(data.map((person: { id: string }) => person.id)).not.toContain(tombstone);
  });

  it('gives an empty last page past the end of a tier', async () => {
    const { data, pagination } = await get('/api/seniority/by-tier/8?skip=1');
    expect(data).toEqual([]);
    expect(pagination).toEqual({ count: 0, hasMore: false, nextSkip: null });
  });

  it.each(['0', '9', '-1', '1.5', 'ceo', 'boss', '%20'])(
    'rejects tier %p with 400 INVALID_TIER',
    async (tier) => {
      const res = await request(app).get(`/api/seniority/by-tier/${tier}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'INVALID_TIER' });
    },
  );

  it.each([
    ['?limit=101', 'LIMIT_EXCEEDED'],
    ['?limit=0', 'INVALID_LIMIT'],
    ['?limit=x', 'INVALID_LIMIT'],
    ['?skip=-3', 'INVALID_SKIP'],
  ])('rejects %s with 400 %s', async (query, code) => {
    const res = await request(app).get(`/api/seniority/by-tier/vp${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: code });
  });
});

describe('GET /api/seniority/analysis', () => {
  const tiers = (counts: Record<string, number>) =>
    [
      [8, 'Owner'],
      [7, 'CXO'],
      [6, 'SVP'],
      [5, 'VP'],
      [4, 'Managing Director'],
      [3, 'Manager'],
      [2, 'In Training'],
      [1, 'Individual Contributor'],
    ].map(([level, tier]) => ({ level, tier, count: counts[tier as string] ?? 0 }));

  it('breaks tiers down by company, largest first', async () => {
    const { data } = await get('/api/seniority/analysis');
    expect(data.total).toBe(15);
    expect(data.byCompany.map((entry: { total: number }) => entry.total)).toEqual([5, 4, 4, 2]);
    const byName = Object.fromEntries(
      data.byCompany.map((entry: { company: string }) => [entry.company, entry]),
    ) as Record<string, unknown>;
    expect(byName['Gamma Health']).toMatchObject({
      total: 5,
      unclassified: 1,
      tiers: tiers({ VP: 1, 'Individual Contributor': 3 }),
    });
    expect(byName['Alpha Robotics']).toMatchObject({
      total: 4,
      unclassified: 0,
      tiers: tiers({ Owner: 1, CXO: 1, VP: 1, 'Individual Contributor': 1 }),
    });
    expect(byName['Beta Foods']).toMatchObject({
      total: 4,
      tiers: tiers({ SVP: 1, 'Managing Director': 1, Manager: 1, 'In Training': 1 }),
    });
    expect(byName['Delta Freight']).toMatchObject({ total: 2, unclassified: 1, tiers: tiers({ CXO: 1 }) });
    const { rows } = await db.pool.query('SELECT id FROM companies WHERE name = $1', ['Gamma Health']);
    expect(data.byCompany[0].companyId).toBe(rows[0].id);
  });

  it('breaks tiers down by department (and no department) and by country', async () => {
    const { data } = await get('/api/seniority/analysis');
    const department = (name: string | null) =>
      data.byDepartment.find((entry: { department: string | null }) => entry.department === name);
    expect(department('engineering')).toEqual({
      department: 'engineering',
      total: 4,
      unclassified: 0,
      tiers: tiers({ CXO: 1, Manager: 1, 'In Training': 1, 'Individual Contributor': 1 }),
    });
    expect(department(null)).toEqual({
      department: null,
      total: 4,
      unclassified: 2,
      tiers: tiers({ Owner: 1, 'Managing Director': 1 }),
    });
    expect(department('legal')).toMatchObject({ total: 0 });
    expect(data.byDepartment).toHaveLength(13);

    expect(
      data.byLocation.map((entry: { country: string; total: number }) => [entry.country, entry.total]),
    ).toEqual([
      ['Germany', 4],
      ['United States', 4],
      ['France', 3],
      ['Canada', 2],
      ['United Kingdom', 2],
    ]);
    expect(data.byLocation[0]).toMatchObject({ tiers: tiers({ Owner: 1, CXO: 1, VP: 2 }), unclassified: 0 });
    expect(data.byLocation[3]).toMatchObject({
      country: 'Canada',
      tiers: tiers({ CXO: 1 }),
      unclassified: 1,
    });
  });

  it('names the leaders (VP and up) per company, most senior first', async () => {
    const { data } = await get('/api/seniority/analysis?leaders=2');
    const leaders = data.leadersPerCompany as {
      company: string;
      leaderCount: number;
      leaders: { id: string; fullName: string; currentTitle: string; seniorityTier: string }[];
    }[];
    expect(leaders.map((entry) => entry.leaderCount)).toEqual([3, 1, 1, 1]);
    expect(leaders[0]).toMatchObject({ company: 'Alpha Robotics', leaderCount: 3 });
    expect(
      leaders[0]!.leaders.map((person) => [person.id, person.currentTitle, person.seniorityTier]),
    ).toEqual([
      [ids.founder, 'Founder & CEO', 'Owner'],
      [ids.cto, 'Chief Technology Officer', 'CXO'],
    ]);
    const others = Object.fromEntries(
      leaders.slice(1).map((entry) => [entry.company, entry.leaders.map((person) => person.id)]),
    );
    expect(others).toEqual({
      'Beta Foods': [ids.svp],
      'Gamma Health': [ids.headOfData],
      'Delta Freight': [ids.cfo],
    });
  });

  it('limits companies and countries to top', async () => {
    const { data } = await get('/api/seniority/analysis?top=1&leaders=1');
    expect(data.byCompany.map((entry: { company: string }) => entry.company)).toEqual(['Gamma Health']);
    expect(data.byLocation).toHaveLength(1);
    expect(data.leadersPerCompany).toHaveLength(1);
    expect(data.leadersPerCompany[0].leaders).toHaveLength(1);
    expect(data.leadersPerCompany[0].leaderCount).toBe(3);
  });

  it.each([
    ['?top=51', 'LIMIT_EXCEEDED'],
    ['?leaders=26', 'LIMIT_EXCEEDED'],
    ['?top=0', 'INVALID_LIMIT'],
    ['?leaders=many', 'INVALID_LIMIT'],
  ])('rejects %s with 400 %s', async (query, code) => {
    const res = await request(app).get(`/api/seniority/analysis${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: code });
  });
});

describe('parseTier', () => {
  it.each([
    ['8', 'Owner'],
    ['cxo', 'CXO'],
    [' VP ', 'VP'],
    ['managing director', 'Managing Director'],
    ['in_training', 'In Training'],
  ])('%p → %s', (input, name) => {
    expect(parseTier(input)?.name).toBe(name);
  });

  it.each(['', '08', '10', 'vice president', 'manager s'])('%p → null', (input) => {
    expect(parseTier(input)).toBeNull();
  });
});

describe('access', () => {
  it.each([
    '/api/seniority/tiers',
    '/api/seniority/distribution',
    '/api/seniority/by-tier/vp',
    '/api/seniority/analysis',
  ])('%s needs an API key when keys are configured', async (path) => {
    const keyed = buildTestApp(db, { API_KEYS: 'k1', READ_RATE_LIMIT: '0' }).app;
    const missing = await request(keyed).get(path);
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: 'UNAUTHORIZED' });
    const allowed = await request(keyed).get(path).set('x-api-key', 'k1');
    expect(allowed.status).toBe(200);
  });
});
