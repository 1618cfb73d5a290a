import type { Express } from 'express';
import request from 'supertest';
import { fuzzyWords, searchPeople } from '../src/search';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

interface Hit {
  id: string;
  fullName: string;
  currentTitle: string | null;
  currentCompany: string | null;
  location: string | null;
  score: number;
}

let db: TestDatabase;
let app: Express;
let sequence = 0;

/** A realistic Dux-Soup visit.create of a new person (own member id, Sales Navigator id and profile URL). */
function visit(person: {
  first: string;
  last: string;
  title: string;
  company: string;
  location?: string;
  data?: Record<string, unknown>;
}): Record<string, unknown> {
  const base = distinctVisit(700_000 + ++sequence) as { data: Record<string, unknown> };
  return {
    ...base,
    data: {
      ...base.data,
      'First Name': person.first,
      'Last Name': person.last,
      Title: person.title,
      Company: person.company,
      CompanyProfile: `https://www.linkedin.com/company/${41_000_000 + sequence}/`,
      CompanyWebsite: '',
      Location: person.location ?? 'Austin, Texas, United States',
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

interface SearchBody {
  data: Hit[];
  pagination: { count: number; hasMore: boolean; nextSkip: number | null };
  meta: { query: string; fuzzy: boolean; truncated: boolean };
}

async function search(q: string, extra = ''): Promise<{ hits: Hit[]; body: SearchBody }> {
  const res = await request(app).get(`/api/search/people?q=${encodeURIComponent(q)}${extra}`);
  expect(res.status).toBe(200);
  const body = res.body as SearchBody;
  return { hits: body.data, body };
}

const names = (hits: Hit[]) => hits.map((hit) => hit.fullName);

const ids: Record<string, string> = {};

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true }).app;

  // One rare word in a name, a title and a company.
  ids.adaName = await ingest(
    visit({ first: 'Ada', last: 'Hawthorne', title: 'Staff Accountant', company: 'Birchwood Foods' }),
  );
  ids.bramTitle = await ingest(
    visit({
      first: 'Bram',
      last: 'Kettering',
      title: 'Lead Engineer, Hawthorne Platform',
      company: 'Birchwood Foods',
    }),
  );
  ids.cleoCompany = await ingest(
    visit({ first: 'Cleo', last: 'Marchetti', title: 'Staff Accountant', company: 'Hawthorne Labs' }),
  );
  ids.johnSmith = await ingest(
    visit({ first: 'John', last: 'Smith', title: 'Account Executive', company: 'Birchwood Foods' }),
  );
  ids.priya = await ingest(
    visit({ first: 'Priya', last: 'Raman', title: 'Solutions Architect', company: 'Microsoft' }),
  );
  ids.microLabs = await ingest(
    visit({ first: 'Tomasz', last: 'Wiśniewski', title: 'Lab Technician', company: 'Micro Labs' }),
  );
  ids.jose = await ingest(
    visit({ first: 'José', last: 'Núñez', title: 'Gerente de Ventas', company: 'Ipê Tecnologia' }),
  );
  ids.zoe = await ingest(
    visit({ first: 'Zoe', last: 'Lefevre', title: 'UX Designer', company: 'Atelier Nord' }),
  );
  for (let index = 1; index <= 7; index += 1) {
    ids[`page${index}`] = await ingest(
      visit({ first: `Member${index}`, last: 'Vandermolen', title: 'Analyst', company: 'Quillon Partners' }),
    );
  }
});
afterAll(() => db.drop());

describe('ranking', () => {
  it('ranks a name match above a title match above a company match', async () => {
    const { hits } = await search('hawthorne');
    expect(hits.map((hit) => hit.id)).toEqual([ids.adaName, ids.bramTitle, ids.cleoCompany]);
    expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
    expect(hits[1]!.score).toBeGreaterThan(hits[2]!.score);
  });

  it('answers the same on /api/search', async () => {
    const alias = await request(app).get('/api/search?q=hawthorne');
    expect(alias.status).toBe(200);
    expect(alias.body.data).toEqual((await search('hawthorne')).hits);
  });

  it('returns the display fields and a relevance score for every hit, best first', async () => {
    const { hits, body } = await search('hawthorne');
    expect(hits[0]).toMatchObject({
      id: ids.adaName,
      fullName: 'Ada Hawthorne',
      currentTitle: 'Staff Accountant',
      currentCompany: 'Birchwood Foods',
      location: 'Austin, Texas, United States',
      seniorityTier: 'Individual Contributor',
      department: 'finance',
    });
    for (const hit of hits) expect(typeof hit.score).toBe('number');
    const scores = hits.map((hit) => hit.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(body.meta).toEqual({ query: 'hawthorne', fuzzy: true, truncated: false });
  });

  it('puts an exact full name first', async () => {
    const { hits } = await search('Ada Hawthorne');
    expect(hits.map((hit) => hit.id)).toEqual([ids.adaName]);
  });
});

describe('typos, partial words, accents', () => {
  it('finds "John Smith" for "jon smyth"', async () => {
    const { hits, body } = await search('jon smyth');
    expect(names(hits)).toEqual(['John Smith']);
    expect(body.meta.fuzzy).toBe(true);
  });

  it('puts a misspelt name above a misspelt company (titles are only matched as typed)', async () => {
    const { hits } = await search('hawthrone');
    expect(hits.map((hit) => hit.id)).toEqual([ids.adaName, ids.cleoCompany]);
  });

  it('finds a misspelt company', async () => {
    expect(names((await search('micrsoft')).hits)).toEqual(['Priya Raman']);
  });

  it('matches the start of a word, whole words first: "micro" finds Micro Labs, then Microsoft', async () => {
    expect(names((await search('micro')).hits)).toEqual(['Tomasz Wiśniewski', 'Priya Raman']);
  });

  it('matches partial names', async () => {
    expect(names((await search('hawth')).hits)).toEqual([
      'Ada Hawthorne',
      'Bram Kettering',
      'Cleo Marchetti',
    ]);
    expect(names((await search('ada haw')).hits)).toEqual(['Ada Hawthorne']);
    expect(names((await search('pri ram')).hits)).toEqual(['Priya Raman']);
  });

  it('ignores accents in both directions', async () => {
    expect(names((await search('Jose Nunez')).hits)).toEqual(['José Núñez']);
    expect(names((await search('JOSÉ NÚÑEZ')).hits)).toEqual(['José Núñez']);
    expect(names((await search('Zoë Lefèvre')).hits)).toEqual(['Zoe Lefevre']);
    const plain = (await search('Jose Nunez')).hits[0]!.score;
    const accented = (await search('José Núñez')).hits[0]!.score;
    expect(accented).toBe(plain);
  });

  it('matches every word, across name, title, company and location', async () => {
    expect(names((await search('ada accountant')).hits)).toEqual(['Ada Hawthorne']);
    expect(names((await search('Priya Microsoft')).hits)).toEqual(['Priya Raman']);
    expect(names((await search('raman austin')).hits)).toEqual(['Priya Raman']);
  });

  it('returns an empty page when nothing matches', async () => {
    const { hits, body } = await search('zzyzx qwvbt');
    expect(hits).toEqual([]);
    expect(body.pagination).toEqual({ count: 0, hasMore: false, nextSkip: null });
  });

  it.each([
    `o'brien \\ & | ! ( ) : * <-> "x"`,
    "'; DROP TABLE persons; --",
    '🙂🙂',
    '%_%',
    'ada\u0000hawthorne\u0007',
    'a:*b',
    'x'.repeat(200),
  ])('treats %p as plain text (never an error)', async (q) => {
    const res = await request(app).get(`/api/search/people?q=${encodeURIComponent(q)}`);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.data)).toBe(true);
  });
});

describe('pagination', () => {
  it('pages through every match once, in the order of one big page', async () => {
    const all = (await search('vandermolen', '&limit=10')).hits.map((hit) => hit.id);
    expect(all).toHaveLength(7);
    const seen: string[] = [];
    const pages: unknown[] = [];
    for (let skip: number | null = 0; skip !== null;) {
      const { hits, body } = await search('vandermolen', `&limit=3&skip=${skip}`);
      seen.push(...hits.map((hit) => hit.id));
      pages.push(body.pagination);
      skip = body.pagination.nextSkip;
    }
    expect(pages).toEqual([
      { count: 3, hasMore: true, nextSkip: 3 },
      { count: 3, hasMore: true, nextSkip: 6 },
      { count: 1, hasMore: false, nextSkip: null },
    ]);
    expect(seen).toEqual(all);
    expect(new Set(seen).size).toBe(7);
  });

  it('defaults to 20 results', async () => {
    const { body } = await search('analyst');
    expect(body.pagination).toEqual({ count: 7, hasMore: false, nextSkip: null });
  });

  it('pages deterministically through a capped candidate set, and says it was capped', async () => {
    const tuning = { lexicalCap: 4, fuzzyBelow: 100, fuzzyCap: 500 };
    const first = await searchPeople(db.pool, { query: 'vandermolen', limit: 3, skip: 0 }, tuning);
    const second = await searchPeople(db.pool, { query: 'vandermolen', limit: 3, skip: 3 }, tuning);
    expect(first).toMatchObject({ truncated: true, hasMore: true });
    expect(second).toMatchObject({ truncated: true, hasMore: false });
    // cap + 1 candidates are ranked: five distinct people over the two pages.
    const seen = [...first.hits, ...second.hits].map((hit) => hit.id);
    expect(seen).toHaveLength(5);
    expect(new Set(seen).size).toBe(5);
    const again = await searchPeople(db.pool, { query: 'vandermolen', limit: 3, skip: 0 }, tuning);
    expect(again.hits).toEqual(first.hits);
  });

  it('skips trigram matching when the text match already found enough people', async () => {
    const result = await searchPeople(
      db.pool,
      { query: 'hawthorne', limit: 20, skip: 0 },
      { lexicalCap: 2000, fuzzyBelow: 3, fuzzyCap: 500 },
    );
    expect(result.fuzzy).toBe(false);
    expect(result.hits).toHaveLength(3);
    const typo = await searchPeople(
      db.pool,
      { query: 'hawthrone', limit: 20, skip: 0 },
      { lexicalCap: 2000, fuzzyBelow: 3, fuzzyCap: 500 },
    );
    expect(typo.fuzzy).toBe(true);
    expect(typo.hits).toHaveLength(2);
  });

  it('caps trigram matches too', async () => {
    const capped = await searchPeople(
      db.pool,
      { query: 'hawthrone', limit: 20, skip: 0 },
      { lexicalCap: 2000, fuzzyBelow: 100, fuzzyCap: 1 },
    );
    expect(capped).toMatchObject({ fuzzy: true, truncated: true });
    expect(capped.hits).toHaveLength(2);
  });
});

describe('merged people', () => {
  it('never returns a tombstone, only the person it was merged into', async () => {
    const slug = `quintessa-varga-${sequence}`;
    const memberId = `id.${8_800_000_000 + sequence}`;
    const noIds = { id: undefined, SalesProfile: undefined, RecruiterProfile: undefined };
    const person = {
      first: 'Quintessa',
      last: 'Varga',
      title: 'Office Manager',
      company: 'Lindqvist Marine',
    };
    const survivor = await ingest(
      visit({ ...person, data: { ...noIds, Profile: `https://www.linkedin.com/in/${slug}` } }),
    );
    const tombstone = await ingest(
      visit({ ...person, data: { ...noIds, id: memberId, Profile: undefined } }),
    );
    expect(tombstone).not.toBe(survivor);
    const linking = await ingest(
      visit({ ...person, data: { ...noIds, id: memberId, Profile: `https://www.linkedin.com/in/${slug}/` } }),
    );
    expect(linking).toBe(survivor);
    const { rows } = await db.pool.query('SELECT merged_into, full_name FROM persons WHERE id = $1', [
      tombstone,
    ]);
    expect(rows[0]).toEqual({ merged_into: survivor, full_name: 'Quintessa Varga' });

    for (const q of ['Quintessa Varga', 'quintesa varga', 'lindqvist']) {
      expect((await search(q)).hits.map((hit) => hit.id)).toEqual([survivor]);
    }
  });
});

describe('validation', () => {
  it.each([
    ['', 'INVALID_QUERY'],
    ['?q=', 'INVALID_QUERY'],
    ['?q=a', 'INVALID_QUERY'],
    ['?q=%20%20a%20%20', 'INVALID_QUERY'],
    [`?q=${'x'.repeat(201)}`, 'INVALID_QUERY'],
    ['?q=ab&q=cd', 'INVALID_QUERY'],
    ['?q=ada&limit=101', 'LIMIT_EXCEEDED'],
    ['?q=ada&limit=99999999999999999999', 'LIMIT_EXCEEDED'],
    ['?q=ada&limit=abc', 'INVALID_LIMIT'],
    ['?q=ada&limit=0', 'INVALID_LIMIT'],
    ['?q=ada&limit=-1', 'INVALID_LIMIT'],
    ['?q=ada&limit=1.5', 'INVALID_LIMIT'],
    ['?q=ada&limit=', 'INVALID_LIMIT'],
    ['?q=ada&skip=-1', 'INVALID_SKIP'],
    ['?q=ada&skip=two', 'INVALID_SKIP'],
    ['?q=ada&skip=99999999999999999999', 'INVALID_SKIP'],
    ['?q=ada&skip=1&skip=2', 'INVALID_SKIP'],
  ])('%s → 400 %s', async (query, code) => {
    const res = await request(app).get(`/api/search/people${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
  });

  it('accepts 2 and 200 characters, limit 100 and any skip', async () => {
    for (const query of ['?q=ab', `?q=${'y'.repeat(200)}`, '?q=ada&limit=100', '?q=ada&skip=5000']) {
      expect((await request(app).get(`/api/search/people${query}`)).status).toBe(200);
    }
  });
});

describe('fuzzyWords', () => {
  it('keeps distinct words of three or more letters, at most six', () => {
    expect(fuzzyWords('Jo Smyth-Jones, smyth O’Neil a1b2')).toEqual(['Smyth', 'Jones', 'Neil', 'a1b2']);
    expect(fuzzyWords('one two three four five six seven')).toHaveLength(6);
    expect(fuzzyWords('a b ab 🙂')).toEqual([]);
  });
});

describe('access', () => {
  it('needs an API key when keys are configured', async () => {
    const keyed = buildTestApp(db, { API_KEYS: 'k1', READ_RATE_LIMIT: '0' }).app;
    const missing = await request(keyed).get('/api/search/people?q=hawthorne');
    expect(missing.status).toBe(401);
    expect(missing.body).toMatchObject({ error: 'UNAUTHORIZED' });
    const wrong = await request(keyed).get('/api/search?q=hawthorne').set('x-api-key', 'nope');
    expect(wrong.status).toBe(401);
    const header = await request(keyed).get('/api/search/people?q=hawthorne').set('x-api-key', 'k1');
    expect(header.status).toBe(200);
    expect(header.body.data).toHaveLength(3);
    const bearer = await request(keyed).get('/api/search?q=hawthorne').set('authorization', 'Bearer k1');
    expect(bearer.status).toBe(200);
  });

  it('fails closed in production without keys', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production' }).app;
    const res = await request(production).get('/api/search/people?q=hawthorne');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'AUTH_NOT_CONFIGURED' });
  });
});
