import type { Express } from 'express';
import request from 'supertest';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { testFoldSettings } from './helpers/app';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture } from './helpers/fixtures';

/** The part of a webhook answer the read tests need. */
interface Ingested {
  observation_id: number;
  person_id: string;
  company_id: string | null;
  location_id: string | null;
}

const UNKNOWN_UUID = '0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11';

// Dana Whitfield (fixture 0): every identifier kind Dux-Soup sends.
const DANA = {
  memberId: '18619978',
  salesNavId: 'ACwAAAQj9pHGb3761KUelHwsxPPmF-bjSFcwfPJ',
  profileUrl: 'https://www.linkedin.com/in/danawhitfield',
  email: 'dana@whitfield.example',
  companyLinkedinId: '735879098',
  location: 'Los Angeles, California, United States',
};
// Alex Moreno (fixtures 5, 6, 9 and the visit.update 10): a Sales Navigator /sales/people/ URL.
const ALEX = {
  memberId: '8315271696',
  salesNavId: 'ACoAAFpjSM0WuV_8N6yF-bJ9IKffW92TKwMlaTk',
  profileUrl: 'https://www.linkedin.com/in/alex-moreno-hmlkgf4z/',
  email: 'alex@moreno.example',
};

let db: TestDatabase;
/** Open reader (NODE_ENV=test, no API keys) without a read rate limit, and the webhook that seeds the data. */
let app: Express;
let dana: Ingested;
let alex: Ingested[];
let hannah: Ingested;
let cher: Ingested;
let maria: Ingested;
let jane: Ingested;
let saoPaulo: Ingested;
/** A person whose company is known by its LinkedIn slug only. */
let cafe: Ingested;
let orchardColleagues: Ingested[];
/** VisitTime of Dana and her two colleagues. */
let orchardTimes: number[];

async function ingest(payload: object): Promise<Ingested> {
  const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(payload);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ success: true, processed: true, status: 'processed' });
  return res.body as Ingested;
}

/** A distinct person (own member id, Sales Navigator id and slug) with the given data fields overridden. */
function visitWith(data: Record<string, unknown>): Record<string, unknown> {
  const base = distinctVisit() as { data: Record<string, unknown> };
  return { ...base, data: { ...base.data, Email: '', ...data } };
}

function get(path: string): request.Test {
  return request(app).get(path);
}

function lookupPaths(value: string): string[] {
  const encoded = encodeURIComponent(value);
  return [`/api/people/by-alias/${encoded}`, `/api/people/${encoded}`];
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true }).app;

  dana = await ingest(fixture(0));
  alex = [];
  for (const index of [5, 6, 9, 10]) alex.push(await ingest(fixture(index)));
  hannah = await ingest(fixture(51));
  cher = await ingest(fixture(52));
  maria = await ingest(fixture(47));
  jane = await ingest(fixture(48));
  // Two more people at Orchard Cyber in Los Angeles (distinctVisit is based on Dana's payload).
  const colleagues = [visitWith({}), visitWith({})];
  orchardTimes = [fixture(0), ...colleagues].map(
    (payload) => (payload.data as { VisitTime: number }).VisitTime,
  );
  orchardColleagues = [];
  for (const payload of colleagues) orchardColleagues.push(await ingest(payload));
  cafe = await ingest(
    visitWith({
      Company: 'Café Lumière',
      CompanyProfile: 'https://www.linkedin.com/company/caf%C3%A9-lumi%C3%A8re/',
      CompanyWebsite: '',
      Location: 'Munich, Bavaria, Germany',
    }),
  );
  saoPaulo = await ingest(
    visitWith({
      Location: 'São Paulo, São Paulo, Brazil',
      Company: 'Ipê Tecnologia',
      CompanyProfile: '',
      CompanyWebsite: '',
    }),
  );
  // Company and location snapshots are refolded off the request path; bring them up to date.
  await drainRefreshQueue(db.pool, testFoldSettings());
});
afterAll(() => db.drop());

describe('seed data', () => {
  it('resolved the fixtures to the expected people, companies and locations', () => {
    expect(new Set(alex.map((answer) => answer.person_id)).size).toBe(1);
    const people = [dana, alex[0]!, hannah, cher, maria, jane, saoPaulo, cafe, ...orchardColleagues];
    expect(new Set(people.map((answer) => answer.person_id)).size).toBe(people.length);
    for (const colleague of orchardColleagues) {
      expect(colleague.company_id).toBe(dana.company_id);
      expect(colleague.location_id).toBe(dana.location_id);
    }
    expect(cher.company_id).toBeNull();
    expect(cher.location_id).toBe(dana.location_id);
    expect(saoPaulo.company_id).not.toBe(dana.company_id);
    expect(cafe.company_id).not.toBe(dana.company_id);
  });
});

describe('GET /api/people/:id', () => {
  it('answers the person: id, aliases, snapshot with _meta, meta and derived metrics', async () => {
    const res = await get(`/api/people/${dana.person_id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.success).toBe(true);
    const person = res.body.person;
    expect(Object.keys(person).sort()).toEqual(['aliases', 'derived', 'id', 'meta', 'snapshot']);
    expect(person.id).toBe(dana.person_id);

    expect(person.aliases).toEqual(
      expect.arrayContaining([
        { type: 'sales_nav_id', value: DANA.salesNavId },
        { type: 'member_id', value: DANA.memberId },
        { type: 'username', value: 'danawhitfield' },
        { type: 'profile_url', value: DANA.profileUrl },
        { type: 'sales_url', value: `https://www.linkedin.com/sales/lead/${DANA.salesNavId}` },
        { type: 'recruiter_url', value: `https://www.linkedin.com/talent/profile/${DANA.salesNavId}` },
        { type: 'duxsoup_id', value: `id.${DANA.memberId}` },
        { type: 'email', value: DANA.email },
      ]),
    );
    expect(person.aliases).toHaveLength(8);
    for (const alias of person.aliases) expect(Object.keys(alias).sort()).toEqual(['type', 'value']);

    expect(person.snapshot).toMatchObject({
      firstName: 'Dana',
      lastName: 'Whitfield',
      currentTitle: 'Chief Information Security Officer',
      currentCompany: 'Orchard Cyber',
      currentCompanyLinkedinId: DANA.companyLinkedinId,
      companyId: dana.company_id,
      location: DANA.location,
      city: 'Los Angeles',
      stateCode: 'CA',
      countryCode: 'US',
      locationId: dana.location_id,
      email: DANA.email,
    });
    const visitTime = fixture(0).data.VisitTime as number;
    expect(person.snapshot._meta.firstName).toEqual({
      value: 'Dana',
      observedAt: iso(visitTime),
      source: 'visit',
      observationId: dana.observation_id,
    });
    const fields = Object.keys(person.snapshot).filter((key) => key !== '_meta');
    expect(Object.keys(person.snapshot._meta).sort()).toEqual(fields.sort());
    for (const field of fields) expect(person.snapshot._meta[field].value).toEqual(person.snapshot[field]);

    expect(person.meta).toEqual({
      observationsCount: 1,
      firstObservedAt: iso(visitTime),
      lastObservedAt: iso(visitTime),
    });
    expect(person.derived).toEqual({
      recentJobChange: false,
      lastJobChangeAt: null,
      yearsAtCurrentCompany: expect.any(Number),
      totalTenureYears: expect.any(Number),
      rolesCount: expect.any(Number),
      averageTenureYears: expect.any(Number),
    });
    expect(person.derived.rolesCount).toBeGreaterThan(0);
  });

  it("serves the snapshot stored for the person, each _meta entry with its field's value added", async () => {
    const res = await get(`/api/people/${dana.person_id}`);
    const { rows } = await db.pool.query<{
      snapshot: Record<string, unknown> & { _meta: Record<string, object> };
    }>('SELECT snapshot FROM persons WHERE id = $1', [dana.person_id]);
    const stored = rows[0]!.snapshot;
    // Stored once: the value is in the field, not repeated in _meta.
    for (const provenance of Object.values(stored._meta)) expect(provenance).not.toHaveProperty('value');
    const meta = Object.fromEntries(
      Object.entries(stored._meta).map(([field, provenance]) => [
        field,
        { ...provenance, value: stored[field] },
      ]),
    );
    expect(res.body.person.snapshot).toEqual({ ...stored, _meta: meta });
  });

  it('folds every observation of a person: counts, first/last observed and the newest values', async () => {
    const res = await get(`/api/people/${alex[0]!.person_id}`);
    expect(res.status).toBe(200);
    const person = res.body.person;
    expect(person.meta).toEqual({
      observationsCount: 4,
      firstObservedAt: iso(fixture(5).data.VisitTime as number),
      lastObservedAt: iso(fixture(10).data.VisitTime as number),
    });
    // Only the visit.update (fixture 10) carries the e-mail; it is the newest observation.
    const update = alex[3]!;
    expect(person.snapshot.email).toBe(ALEX.email);
    expect(person.snapshot._meta.email).toEqual({
      value: ALEX.email,
      observedAt: iso(fixture(10).data.VisitTime as number),
      source: 'visit',
      observationId: update.observation_id,
    });
    expect(person.snapshot._meta.currentTitle.observationId).toBe(update.observation_id);
    expect(person.snapshot).toMatchObject({ firstName: 'Alex', lastName: 'Moreno', city: 'San Mateo' });
    expect(person.aliases).toEqual(expect.arrayContaining([{ type: 'email', value: ALEX.email }]));
  });

  it('accepts the id in upper case', async () => {
    const res = await get(`/api/people/${dana.person_id.toUpperCase()}`);
    expect(res.status).toBe(200);
    expect(res.body.person.id).toBe(dana.person_id);
  });

  it('answers by-alias and by-id lookups with the same view', async () => {
    const byId = await get(`/api/people/${dana.person_id}`);
    const byAlias = await get(`/api/people/by-alias/${encodeURIComponent(DANA.profileUrl)}`);
    expect(byAlias.body).toEqual(byId.body);
  });

  it.each([
    ['an unknown uuid', UNKNOWN_UUID],
    ['an unknown profile URL', 'https://www.linkedin.com/in/nobody-here-at-all'],
    ['an unknown member id', 'id.7777777'],
    ['an unknown Sales Navigator id', 'ACwAAZZZZZZZZZZZZZZZZZZZZZZZZZ'],
    ['an unknown e-mail', 'nobody@nowhere.example'],
    ['a part of an alias', 'danawhit'],
    ['a member id with too few digits', '186'],
  ])('%s → 404 NOT_FOUND', async (_name, value) => {
    for (const path of lookupPaths(value)) {
      const res = await get(path);
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
      expect(res.body).not.toHaveProperty('person');
    }
  });
});

describe('people by any alias form', () => {
  const danaForms: [string, string][] = [
    ['profile URL as stored', DANA.profileUrl],
    ['profile URL with a trailing slash', `${DANA.profileUrl}/`],
    ['profile URL without www', 'https://linkedin.com/in/danawhitfield/'],
    ['profile URL without a scheme', 'www.linkedin.com/in/danawhitfield'],
    ['profile URL over http with tracking parameters', 'http://www.linkedin.com/in/danawhitfield/?trk=abc'],
    ['profile URL on a country subdomain', 'https://uk.linkedin.com/in/danawhitfield'],
    ['profile URL with an upper-case slug', 'https://www.linkedin.com/in/DanaWhitfield/'],
    ['bare username', 'danawhitfield'],
    ['Dux-Soup id.<digits>', `id.${DANA.memberId}`],
    ['bare member digits', DANA.memberId],
    ['Sales Navigator id', DANA.salesNavId],
    ['Sales Navigator id in lower case', DANA.salesNavId.toLowerCase()],
    ['Sales Navigator URL as sent', fixture(0).data.SalesProfile as string],
    [
      'Sales Navigator URL with another NAME_SEARCH suffix',
      `https://www.linkedin.com/sales/lead/${DANA.salesNavId},NAME_SEARCH,zZ9q`,
    ],
    ['profile URL carrying the Sales Navigator id', `https://www.linkedin.com/in/${DANA.salesNavId}`],
    ['recruiter URL', `https://www.linkedin.com/talent/profile/${DANA.salesNavId}`],
    ['recruiter URL with a query', `https://www.linkedin.com/talent/profile/${DANA.salesNavId}?project=1`],
    ['e-mail', DANA.email],
    ['e-mail in upper case', DANA.email.toUpperCase()],
    ['e-mail with surrounding spaces', `  ${DANA.email} `],
    ['mailto: e-mail', `mailto:${DANA.email}`],
    ['Dux-Soup id in upper case', `ID.${DANA.memberId}`],
    ['member digits with leading zeros', `00${DANA.memberId}`],
    ['a profile sub-page URL', `${DANA.profileUrl}/details/experience/`],
    [
      'recruiter URL in the /recruiter/ form',
      `https://www.linkedin.com/recruiter/profile/${DANA.salesNavId}`,
    ],
  ];

  it.each(danaForms)('finds Dana by %s, through by-alias and through /people/:id', async (_name, value) => {
    for (const path of lookupPaths(value)) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(true);
      expect(res.body.person.id).toBe(dana.person_id);
    }
  });

  const alexForms: [string, string][] = [
    ['profile URL with a trailing slash', ALEX.profileUrl],
    ['profile URL without the trailing slash', ALEX.profileUrl.slice(0, -1)],
    ['profile URL in upper case', ALEX.profileUrl.toUpperCase()],
    ['Dux-Soup id', `id.${ALEX.memberId}`],
    ['member digits', ALEX.memberId],
    ['Sales Navigator id', ALEX.salesNavId],
    ['Sales Navigator id in lower case', ALEX.salesNavId.toLowerCase()],
    ['Sales Navigator /sales/people/ URL as sent', fixture(5).data.SalesProfile as string],
    [
      'Sales Navigator /sales/lead/ URL with a suffix',
      `https://www.linkedin.com/sales/lead/${ALEX.salesNavId},NAME_SEARCH,Ab1c`,
    ],
    ['recruiter URL', `https://www.linkedin.com/talent/profile/${ALEX.salesNavId}`],
    ['e-mail from the visit.update', ALEX.email],
    ['e-mail in upper case', ALEX.email.toUpperCase()],
  ];

  it.each(alexForms)('finds Alex by %s', async (_name, value) => {
    for (const path of lookupPaths(value)) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.person.id).toBe(alex[0]!.person_id);
    }
  });

  it.each([
    ['a legacy /pub/ URL', () => maria, 'https://www.linkedin.com/pub/maria-delgado/1a/2b3/4c5'],
    ['the /in/ form of a /pub/ username', () => maria, 'maria-delgado'],
    ['a legacy pid.<slug> Dux-Soup id', () => jane, 'pid.jane-okoro-7f3e2a'],
    ['the profile URL of a pid.<slug> person', () => jane, 'https://www.linkedin.com/in/jane-okoro-7f3e2a'],
    ['a scan’s PublicProfile URL', () => hannah, 'https://www.linkedin.com/in/hannah-brooks-4e5f6a7b'],
    ['a scan’s Sales Navigator id', () => hannah, 'ACwAACTr5YsBn2QpW8vXz1MkLdHj3FgE0aU9oId'],
  ])('finds other people by %s', async (_name, whom, value) => {
    for (const path of lookupPaths(value)) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.person.id).toBe(whom().person_id);
    }
  });

  it('keeps people apart: each alias leads to its own person', async () => {
    const danaRes = await get(`/api/people/by-alias/${DANA.memberId}`);
    const alexRes = await get(`/api/people/by-alias/${ALEX.memberId}`);
    expect(danaRes.body.person.id).not.toBe(alexRes.body.person.id);
    expect(danaRes.body.person.snapshot.firstName).toBe('Dana');
    expect(alexRes.body.person.snapshot.firstName).toBe('Alex');
  });
});

describe('POST /api/people/by-aliases', () => {
  function post(body: unknown): request.Test {
    return request(app)
      .post('/api/people/by-aliases')
      .set('content-type', 'application/json')
      .send(body as object);
  }

  it('answers every value in order, null for the unknown ones, and counts the found', async () => {
    const values = [
      DANA.profileUrl,
      'nobody@nowhere.example',
      ALEX.salesNavId.toLowerCase(),
      `id.${DANA.memberId}`,
      'https://www.linkedin.com/in/nobody-here-at-all',
    ];
    const res = await post({ values });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.found).toBe(3);
    expect(res.body.results.map((r: { value: string }) => r.value)).toEqual(values);
    expect(res.body.results.map((r: { person: { id: string } | null }) => r.person?.id ?? null)).toEqual([
      dana.person_id,
      null,
      alex[0]!.person_id,
      dana.person_id,
      null,
    ]);
    const single = await get(`/api/people/${dana.person_id}`);
    expect(res.body.results[0].person).toEqual(single.body.person);
  });

  it('accepts 50 values', async () => {
    const values = Array.from({ length: 50 }, (_, i) =>
      i % 5 === 0 ? `id.${DANA.memberId}` : `https://www.linkedin.com/in/missing-person-${i}`,
    );
    const res = await post({ values });
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(50);
    expect(res.body.found).toBe(10);
  });

  it.each<[string, unknown]>([
    ['51 values', { values: Array.from({ length: 51 }, (_, i) => `id.${1000000 + i}`) }],
    ['values that are not an array', { values: DANA.profileUrl }],
    ['an empty array', { values: [] }],
    ['no values field', { aliases: [DANA.profileUrl] }],
    ['a non-string value', { values: [DANA.profileUrl, 18619978] }],
    ['an empty string', { values: [''] }],
    ['a JSON array body', [DANA.profileUrl]],
  ])('%s → 400 INVALID_REQUEST', async (_name, body) => {
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toMatchObject({ success: false, error: 'INVALID_REQUEST' });
    expect(res.body).not.toHaveProperty('results');
  });

  it('a body that is not JSON → 400 INVALID_JSON', async () => {
    const res = await request(app)
      .post('/api/people/by-aliases')
      .set('content-type', 'application/json')
      .send('{"values": [');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: 'INVALID_JSON' });
  });
});

describe('companies', () => {
  it('GET /api/companies/:id answers the company with aliases, snapshot and people count', async () => {
    const res = await get(`/api/companies/${dana.company_id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body.success).toBe(true);
    const company = res.body.company;
    expect(company.id).toBe(dana.company_id);
    expect(company.aliases).toEqual(
      expect.arrayContaining([
        { type: 'linkedin_id', value: DANA.companyLinkedinId },
        { type: 'name', value: 'orchard cyber' },
      ]),
    );
    expect(company.snapshot).toMatchObject({ name: 'Orchard Cyber', linkedinId: DANA.companyLinkedinId });
    expect(company.snapshot._meta.name).toMatchObject({ value: 'Orchard Cyber', source: 'visit' });
    // Dana and her two colleagues, one observation each.
    expect(company.meta).toEqual({
      observationsCount: 3,
      peopleCount: 3,
      firstObservedAt: iso(Math.min(...orchardTimes)),
      lastObservedAt: iso(Math.max(...orchardTimes)),
    });
  });

  it('counts people, not observations: four observations of Alex are one person', async () => {
    const res = await get(`/api/companies/${alex[0]!.company_id}`);
    expect(res.status).toBe(200);
    expect(res.body.company.snapshot.name).toBe('Juniper Software');
    expect(res.body.company.meta).toMatchObject({ observationsCount: 4, peopleCount: 1 });
  });

  it.each([
    ['the LinkedIn numeric id', DANA.companyLinkedinId],
    ['the company URL', `https://www.linkedin.com/company/${DANA.companyLinkedinId}/`],
    [
      'the company URL without a trailing slash',
      `https://www.linkedin.com/company/${DANA.companyLinkedinId}`,
    ],
    ['the normalised name', 'orchard cyber'],
    ['the name in its original case', 'Orchard Cyber'],
  ])('finds Orchard Cyber by %s', async (_name, value) => {
    for (const path of [
      `/api/companies/by-alias/${encodeURIComponent(value)}`,
      `/api/companies/${encodeURIComponent(value)}`,
    ]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.company.id).toBe(dana.company_id);
    }
  });

  it('finds a company known by CompanyID and by its normalised name (legal suffix dropped)', async () => {
    for (const value of ['5512309', 'quartz']) {
      const res = await get(`/api/companies/by-alias/${value}`);
      expect(res.status).toBe(200);
      expect(res.body.company.id).toBe(hannah.company_id);
      expect(res.body.company.snapshot.name).toBe('Quartz & Co');
    }
  });

  it.each([
    [
      'its company URL as sent (percent-encoded slug)',
      'https://www.linkedin.com/company/caf%C3%A9-lumi%C3%A8re/',
    ],
    [
      'its company URL with the slug in Unicode and upper case',
      'https://www.linkedin.com/company/CAFÉ-LUMIÈRE',
    ],
    ['its bare slug', 'café-lumière'],
    ['its normalised name', 'cafe lumiere'],
  ])('finds a company known by its slug by %s', async (_name, value) => {
    const res = await get(`/api/companies/by-alias/${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    expect(res.body.company.id).toBe(cafe.company_id);
    expect(res.body.company.aliases).toEqual(
      expect.arrayContaining([{ type: 'slug', value: 'café-lumière' }]),
    );
  });

  it('finds a company by its accent-folded normalised name', async () => {
    const res = await get(`/api/companies/by-alias/${encodeURIComponent('ipe tecnologia')}`);
    expect(res.status).toBe(200);
    expect(res.body.company.id).toBe(saoPaulo.company_id);
    expect(res.body.company.snapshot.name).toBe('Ipê Tecnologia');
    expect(res.body.company.meta).toMatchObject({ observationsCount: 1, peopleCount: 1 });
  });

  it.each([
    ['an unknown uuid', UNKNOWN_UUID],
    ['an unknown numeric id', '999999999'],
    ['an unknown name', 'Nobody Incorporated'],
    ['a person alias', DANA.memberId],
  ])('%s → 404 NOT_FOUND', async (_name, value) => {
    const res = await get(`/api/companies/by-alias/${encodeURIComponent(value)}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
  });
});

describe('locations', () => {
  it('GET /api/locations/:id answers the location with its key, aliases, snapshot and people count', async () => {
    const res = await get(`/api/locations/${dana.location_id}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const location = res.body.location;
    expect(location.id).toBe(dana.location_id);
    expect(location.key).toBe('los angeles|california|united states');
    expect(location.aliases).toEqual([DANA.location.toLowerCase()]);
    expect(location.snapshot).toMatchObject({
      label: DANA.location,
      city: 'Los Angeles',
      state: 'California',
      stateCode: 'CA',
      country: 'United States',
      countryCode: 'US',
    });
    expect(location.snapshot._meta.city).toMatchObject({ value: 'Los Angeles' });
    // Dana, Cher and Dana's two colleagues.
    expect(location.meta).toMatchObject({ observationsCount: 4, peopleCount: 4 });
  });

  it.each([
    ['the raw string', DANA.location],
    ['the raw string in upper case', DANA.location.toUpperCase()],
    ['the raw string in lower case with spaces around', `  ${DANA.location.toLowerCase()} `],
    ['an equivalent spelling', 'Los Angeles, CA'],
    ['another equivalent spelling', 'Los Angeles, California, USA'],
  ])('finds Los Angeles by %s', async (_name, value) => {
    for (const path of [
      `/api/locations/by-alias/${encodeURIComponent(value)}`,
      `/api/locations/${encodeURIComponent(value)}`,
    ]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.body.location.id).toBe(dana.location_id);
    }
  });

  it.each([
    ['the raw string', 'São Paulo, São Paulo, Brazil'],
    ['the raw string in upper case', 'SÃO PAULO, SÃO PAULO, BRAZIL'],
    ['the spelling without accents', 'Sao Paulo, Sao Paulo, Brazil'],
    ['city and country only', 'Sao Paulo, Brazil'],
    ['the metro-area form', 'Greater São Paulo Area'],
  ])('finds São Paulo by %s', async (_name, value) => {
    const res = await get(`/api/locations/by-alias/${encodeURIComponent(value)}`);
    expect(res.status).toBe(200);
    expect(res.body.location.id).toBe(saoPaulo.location_id);
    expect(res.body.location.key).toBe('sao paulo|sao paulo|brazil');
    expect(res.body.location.meta.peopleCount).toBe(1);
  });

  it.each(['Munich, DE', 'MUNICH, BAVARIA, GERMANY', 'Greater Munich Metropolitan Area'])(
    'finds Munich by %s',
    async (value) => {
      const res = await get(`/api/locations/${encodeURIComponent(value)}`);
      expect(res.status).toBe(200);
      expect(res.body.location.id).toBe(cafe.location_id);
      expect(res.body.location.key).toBe('munich|bavaria|germany');
    },
  );

  it('finds a metro-area location by another metro spelling', async () => {
    const res = await get(
      `/api/locations/by-alias/${encodeURIComponent('Greater Manchester, United Kingdom')}`,
    );
    expect(res.status).toBe(200);
    expect(res.body.location.id).toBe(hannah.location_id);
  });

  it.each([
    ['an unknown uuid', UNKNOWN_UUID],
    ['an unknown place', 'Atlantis'],
    ['a different city of the same state', 'San Diego, California, United States'],
  ])('%s → 404 NOT_FOUND', async (_name, value) => {
    const res = await get(`/api/locations/by-alias/${encodeURIComponent(value)}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
  });
});

describe('API keys', () => {
  let keyed: Express;
  beforeAll(() => {
    keyed = buildTestApp(db, { API_KEYS: 'k1,k2' }).app;
  });

  const endpoints = (): [string, (target: Express) => request.Test][] => [
    ['GET /api/people/:id', (target) => request(target).get(`/api/people/${dana.person_id}`)],
    [
      'GET /api/people/by-alias/:value',
      (target) => request(target).get(`/api/people/by-alias/${DANA.memberId}`),
    ],
    [
      'POST /api/people/by-aliases',
      (target) =>
        request(target)
          .post('/api/people/by-aliases')
          .set('content-type', 'application/json')
          .send({ values: [DANA.memberId] }),
    ],
    ['GET /api/companies/:id', (target) => request(target).get(`/api/companies/${dana.company_id}`)],
    ['GET /api/locations/:id', (target) => request(target).get(`/api/locations/${dana.location_id}`)],
  ];

  it('every read endpoint answers 401 UNAUTHORIZED without a key, 200 with one', async () => {
    for (const [name, send] of endpoints()) {
      const denied = await send(keyed);
      expect({ name, status: denied.status }).toEqual({ name, status: 401 });
      expect(denied.body).toMatchObject({ success: false, error: 'UNAUTHORIZED' });
      expect(JSON.stringify(denied.body)).not.toContain('Whitfield');
      const allowed = await send(keyed).set('x-api-key', 'k1');
      expect({ name, status: allowed.status }).toEqual({ name, status: 200 });
    }
  });

  it.each<[string, Record<string, string>]>([
    ['a wrong X-API-Key', { 'x-api-key': 'k3' }],
    ['a prefix of a key', { 'x-api-key': 'k' }],
    ['a key with a suffix', { 'x-api-key': 'k12' }],
    ['both keys joined', { 'x-api-key': 'k1,k2' }],
    ['a wrong bearer token', { authorization: 'Bearer nope' }],
    ['a key in Basic auth', { authorization: 'Basic k1' }],
    ['a key in the query string only', {}],
  ])('%s → 401 UNAUTHORIZED', async (_name, headers) => {
    const res = await request(keyed).get(`/api/people/${dana.person_id}?api_key=k1&secret=k1`).set(headers);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ success: false, error: 'UNAUTHORIZED' });
  });

  it.each<[string, Record<string, string>]>([
    ['X-API-Key: k2', { 'x-api-key': 'k2' }],
    ['X-API-Key: k1', { 'x-api-key': 'k1' }],
    ['Authorization: Bearer k1', { authorization: 'Bearer k1' }],
    ['Authorization: Bearer k2', { authorization: 'Bearer k2' }],
    ['a lower-case bearer scheme', { authorization: 'bearer k1' }],
  ])('%s → 200', async (_name, headers) => {
    const res = await request(keyed).get(`/api/people/${dana.person_id}`).set(headers);
    expect(res.status).toBe(200);
    expect(res.body.person.id).toBe(dana.person_id);
  });

  it('production without API_KEYS fails closed: 403 AUTH_NOT_CONFIGURED, even with a key', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production' }).app;
    for (const headers of [{}, { 'x-api-key': 'k1' }]) {
      const res = await request(production).get(`/api/people/${dana.person_id}`).set(headers);
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ success: false, error: 'AUTH_NOT_CONFIGURED' });
      expect(res.body).not.toHaveProperty('person');
    }
    const locations = await request(production).get(`/api/locations/${dana.location_id}`);
    expect(locations.status).toBe(403);
  });

  it('production with API_KEYS requires a key like any other environment', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production', API_KEYS: 'k1' }).app;
    expect((await request(production).get(`/api/people/${dana.person_id}`)).status).toBe(401);
    const res = await request(production).get(`/api/people/${dana.person_id}`).set('x-api-key', 'k1');
    expect(res.status).toBe(200);
  });

  it('development without API_KEYS is open', async () => {
    const development = buildTestApp(db, { NODE_ENV: 'development' }).app;
    const res = await request(development).get(`/api/people/${dana.person_id}`);
    expect(res.status).toBe(200);
    expect(res.body.person.id).toBe(dana.person_id);
  });
});

describe('read rate limit', () => {
  it('counts a key across every read router together', async () => {
    const limited = buildTestApp(db, { API_KEYS: 'k1', READ_RATE_LIMIT: '3' }).app;
    const paths = [
      `/api/people/${dana.person_id}`,
      '/api/query/help',
      '/api/seniority/tiers',
      '/api/changes',
    ];
    const statuses: number[] = [];
    for (const path of paths) statuses.push((await request(limited).get(path).set('x-api-key', 'k1')).status);
    expect(statuses).toEqual([200, 200, 200, 429]);

    // A request that passes through two read routers on its way (the timeline) counts once.
    const again = buildTestApp(db, { API_KEYS: 'k1', READ_RATE_LIMIT: '2' }).app;
    const timeline = `/api/people/${dana.person_id}/timeline`;
    const twice = [];
    for (let i = 0; i < 2; i += 1)
      twice.push((await request(again).get(timeline).set('x-api-key', 'k1')).status);
    expect(twice).toEqual([200, 200]);
  });

  it('limits each key separately: the 4th request of k1 is 429 RATE_LIMITED, k2 still gets 200', async () => {
    const limited = buildTestApp(db, { API_KEYS: 'k1,k2', READ_RATE_LIMIT: '3' }).app;
    const path = `/api/people/${dana.person_id}`;
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1)
      statuses.push((await request(limited).get(path).set('x-api-key', 'k1')).status);
    expect(statuses).toEqual([200, 200, 200]);
    const fourth = await request(limited).get(path).set('x-api-key', 'k1');
    expect(fourth.status).toBe(429);
    expect(fourth.headers['content-type']).toMatch(/^application\/json/);
    expect(fourth.headers['x-request-id']).toBeTruthy();
    expect(fourth.body).toMatchObject({ success: false, error: 'RATE_LIMITED' });
    expect(fourth.body).not.toHaveProperty('person');

    const other = await request(limited).get(path).set('x-api-key', 'k2');
    expect(other.status).toBe(200);
    expect(other.body.person.id).toBe(dana.person_id);
    // The limit is per key across every read endpoint and however the key is presented.
    const bearer = await request(limited)
      .get(`/api/locations/${dana.location_id}`)
      .set('authorization', 'Bearer k1');
    expect(bearer.status).toBe(429);
  });

  it('counts a key the same whether it comes as X-API-Key or as a bearer token', async () => {
    const limited = buildTestApp(db, { API_KEYS: 'k1,k2', READ_RATE_LIMIT: '3' }).app;
    const path = `/api/people/by-alias/${DANA.memberId}`;
    expect((await request(limited).get(path).set('x-api-key', 'k2')).status).toBe(200);
    expect((await request(limited).get(path).set('authorization', 'Bearer k2')).status).toBe(200);
    expect((await request(limited).get(path).set('x-api-key', 'k2')).status).toBe(200);
    expect((await request(limited).get(path).set('authorization', 'Bearer k2')).status).toBe(429);
    expect((await request(limited).get(path).set('x-api-key', 'k1')).status).toBe(200);
  });

  it('without keys (development) the limit applies per client', async () => {
    const open = buildTestApp(db, { NODE_ENV: 'development', READ_RATE_LIMIT: '2' }).app;
    const path = `/api/people/${dana.person_id}`;
    expect((await request(open).get(path)).status).toBe(200);
    expect((await request(open).get(path)).status).toBe(200);
    const third = await request(open).get(path);
    expect(third.status).toBe(429);
    expect(third.body.error).toBe('RATE_LIMITED');
  });

  it('READ_RATE_LIMIT=0 turns the limit off', async () => {
    const unlimited = buildTestApp(db, { API_KEYS: 'k1', READ_RATE_LIMIT: '0' }).app;
    for (let i = 0; i < 8; i += 1) {
      expect(
        (await request(unlimited).get(`/api/people/${dana.person_id}`).set('x-api-key', 'k1')).status,
      ).toBe(200);
    }
  });
});

describe('malformed values', () => {
  it.each(['/api/people/by-alias/', '/api/people/', '/api/companies/', '/api/locations/'])(
    'a broken percent-encoding in %s… → 400 INVALID_REQUEST',
    async (prefix) => {
      const res = await get(`${prefix}%E0%A4%A`);
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ success: false, error: 'INVALID_REQUEST' });
    },
  );

  it.each([
    ['blank person value', '/api/people/%20%20'],
    ['blank company value', '/api/companies/%20'],
    ['blank location value', '/api/locations/%20%20%20'],
    ['person value over 2048 characters', `/api/people/by-alias/${'a'.repeat(3000)}`],
    ['location value over 300 characters', `/api/locations/${'x'.repeat(5000)}`],
  ])('a %s → 404 NOT_FOUND', async (_name, path) => {
    const res = await get(path);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
  });
});

describe('response envelope', () => {
  it('every answer is JSON with an X-Request-Id, and a sane offered id is echoed', async () => {
    const keyed = buildTestApp(db, { API_KEYS: 'k1' }).app;
    const answers = [
      await get(`/api/people/${dana.person_id}`),
      await get(`/api/people/${UNKNOWN_UUID}`),
      await get(`/api/companies/${dana.company_id}`),
      await get(`/api/locations/${dana.location_id}`),
      await request(app).post('/api/people/by-aliases').send({ values: [] }),
      await request(keyed).get(`/api/people/${dana.person_id}`),
    ];
    expect(answers.map((res) => res.status)).toEqual([200, 404, 200, 200, 400, 401]);
    for (const res of answers) {
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-request-id']).toMatch(/^[\w.:-]{1,128}$/);
    }
    const failed = answers.filter((res) => res.status >= 400);
    for (const res of failed) expect(res.body.requestId).toBe(res.headers['x-request-id']);

    const traced = await get(`/api/people/${dana.person_id}`).set('x-request-id', 'trace-entities-42');
    expect(traced.headers['x-request-id']).toBe('trace-entities-42');
    const tracedMissing = await get(`/api/people/${UNKNOWN_UUID}`).set('x-request-id', 'trace-entities-43');
    expect(tracedMissing.body.requestId).toBe('trace-entities-43');
  });
});
