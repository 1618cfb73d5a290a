import { parse } from 'csv-parse/sync';
import type { Express } from 'express';
import request from 'supertest';
import type { ExportSettings } from '../src/exports';
import { drainExports } from '../src/exports';
import { csvCell } from '../src/exports/formats';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture } from './helpers/fixtures';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const BOM = '\uFEFF';

const PEOPLE_DEFAULT_COLUMNS = [
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
];

let db: TestDatabase;
/** Open API (no keys), no read rate limit: the default development set-up. */
let app: Express;
let personIds: string[];

function settings(overrides: Partial<ExportSettings> = {}): ExportSettings {
  return {
    ttlMs: 24 * 3_600_000,
    maxRows: 1_000_000,
    staleAfterMs: 60_000,
    maxAttempts: 3,
    chunkBytes: 1024 * 1024,
    fetchRows: 1000,
    workerId: 'export-api-test',
    ...overrides,
  };
}

/** A distinct person (own identifiers, no email unless given) with the given Dux-Soup data fields. */
function visitWith(seed: number, data: Record<string, unknown>): Record<string, unknown> {
  const base = distinctVisit(seed) as { data: Record<string, unknown> };
  return { ...base, data: { ...base.data, Email: '', ...data } };
}

async function ingest(payload: object): Promise<string> {
  const res = await request(app).post('/api/webhook').send(payload);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ processed: true });
  return res.body.person_id as string;
}

/** Binary-safe body of a download (supertest would otherwise decode or parse it). */
function download(target: Express, jobId: string, key?: string): request.Test {
  const req = request(target)
    .get(`/api/export/download/${jobId}`)
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
  return key ? req.set('X-API-Key', key) : req;
}

async function createJob(path: string, body: object = {}, target: Express = app): Promise<string> {
  const res = await request(target).post(path).send(body);
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

/** Creates the export, runs the worker, and returns the downloaded bytes. */
async function exportBytes(path: string, body: object = {}): Promise<Buffer> {
  const jobId = await createJob(path, body);
  await drainExports(db.pool, settings());
  const res = await download(app, jobId);
  expect(res.status).toBe(200);
  return res.body as Buffer;
}

interface PersonView {
  id: string;
  aliases: { type: string; value: string }[];
  snapshot: Record<string, unknown>;
  meta: { lastObservedAt: string };
}

async function personView(id: string): Promise<PersonView> {
  const res = await request(app).get(`/api/people/${id}`);
  expect(res.status).toBe(200);
  return res.body.person as PersonView;
}

/** The default export row of a person, from the read API: the public URL first, else profile, else Sales Navigator. */
function expectedRow(person: PersonView): Record<string, unknown> {
  const alias = (type: string) => person.aliases.find((item) => item.type === type)?.value;
  const s = person.snapshot;
  return {
    id: person.id,
    firstName: s.firstName ?? null,
    lastName: s.lastName ?? null,
    fullName: s.fullName ?? null,
    currentTitle: s.currentTitle ?? null,
    currentCompany: s.currentCompany ?? null,
    city: s.city ?? null,
    state: s.state ?? null,
    country: s.country ?? null,
    email: s.email ?? null,
    phone: s.phone ?? null,
    linkedInUrl: alias('public_url') ?? alias('profile_url') ?? alias('sales_url') ?? null,
    connections: s.connections ?? null,
    industry: s.industry ?? null,
    seniorityTier: s.seniorityTier ?? null,
    department: s.department ?? null,
    lastObservedAt: person.meta.lastObservedAt,
  };
}

/** Every live person, most recently observed first (the export's order), as default rows. */
async function expectedPeople(): Promise<Record<string, unknown>[]> {
  const people = await Promise.all(personIds.map(personView));
  return people
    .sort((a, b) => b.meta.lastObservedAt.localeCompare(a.meta.lastObservedAt) || a.id.localeCompare(b.id))
    .map(expectedRow);
}

/** CSV cells are text: what a row looks like once written and parsed back. */
function asCsvRecord(row: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [key, value === null ? '' : String(value as string | number)]),
  );
}

function parseCsv(bytes: Buffer): Record<string, string>[] {
  return parse<Record<string, string>>(bytes, { columns: true, bom: true });
}

const ANNA_SUMMARY = 'Line one\nLine two, with a comma\nShe said "hello" 👋';

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0', EXPORT_MAX_ACTIVE_PER_KEY: '0' }, { phase2: true }).app;
  personIds = [
    await ingest(fixture(0)), // Dana Whitfield: email, phone, profile URL, Los Angeles
    await ingest(
      visitWith(7101, {
        'First Name': 'Zoë',
        'Last Name': 'Núñez-García',
        Title: 'Head of "Growth", EMEA',
        Company: 'Café Lumière, Inc.',
        CompanyProfile: '',
        CompanyWebsite: '',
        Location: 'Munich, Bavaria, Germany',
        Phone: '+49 89 1234567',
      }),
    ),
    await ingest(
      visitWith(7102, {
        'First Name': '李',
        'Last Name': '小龙 🐉',
        Title: 'CEO 🚀',
        Company: 'Ipê Tecnologia',
        CompanyProfile: '',
        CompanyWebsite: '',
        Location: 'São Paulo, São Paulo, Brazil',
      }),
    ),
    await ingest(
      visitWith(7103, {
        'First Name': 'Anna',
        'Last Name': 'Smith',
        Title: 'VP, Sales',
        Company: 'Quartz & Co',
        CompanyProfile: '',
        CompanyWebsite: '',
        Location: 'Munich, Bavaria, Germany',
        Summary: ANNA_SUMMARY,
        extended: { positions: [], schools: [], skills: ['Négociation', 'B2B, SaaS', 'Team "lead"'] },
      }),
    ),
    await ingest(visitWith(7104, { 'First Name': 'Bob', 'Last Name': 'Builder', Title: 'Site Engineer' })),
  ];
  await drainRefreshQueue(db.pool, testFoldSettings());
});
afterAll(() => db.drop());

describe('the export lifecycle', () => {
  it('queues a job (202), refuses the download until the worker has produced it, then serves it', async () => {
    const created = await request(app).post('/api/export/people/csv').send({});
    expect(created.status).toBe(202);
    expect(created.body).toEqual({
      success: true,
      jobId: expect.stringMatching(UUID_V4),
      status: 'pending',
      statusUrl: `/api/export/status/${created.body.jobId}`,
      downloadUrl: `/api/export/download/${created.body.jobId}`,
      expiresAt: expect.any(String),
    });
    expect(created.headers.location).toBe(created.body.statusUrl);
    const { jobId } = created.body as { jobId: string };

    const pending = await request(app).get(`/api/export/status/${jobId}`);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({
      success: true,
      jobId,
      status: 'pending',
      rowsDone: 0,
      rowsTotal: null,
    });

    const early = await download(app, jobId);
    expect(early.status).toBe(400);
    expect(JSON.parse((early.body as Buffer).toString('utf8'))).toMatchObject({
      error: 'NOT_READY',
      details: { status: 'pending' },
    });

    const runs = await drainExports(db.pool, settings());
    expect(runs).toEqual([{ jobId, attempt: 1, outcome: 'completed', rows: personIds.length }]);

    const done = await request(app).get(`/api/export/status/${jobId}`);
    expect(done.body).toEqual({
      success: true,
      jobId,
      entity: 'people',
      format: 'csv',
      status: 'completed',
      rowsDone: personIds.length,
      rowsTotal: personIds.length,
      sizeBytes: expect.any(Number),
      createdAt: expect.any(String),
      startedAt: expect.any(String),
      completedAt: expect.any(String),
      expiresAt: expect.any(String),
      statusUrl: `/api/export/status/${jobId}`,
      downloadUrl: `/api/export/download/${jobId}`,
    });
    // The download may be fetched for EXPORT_TTL_HOURS (24 by default) after it completed.
    const ttl = Date.parse(done.body.expiresAt) - Date.parse(done.body.completedAt);
    expect(ttl).toBeGreaterThanOrEqual(24 * 3_600_000 - 1000);
    expect(ttl).toBeLessThanOrEqual(24 * 3_600_000 + 1000);

    const file = await download(app, jobId);
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toMatch(
      new RegExp(`^attachment; filename="people-\\d{4}-\\d{2}-\\d{2}-${jobId.slice(0, 8)}\\.csv"$`),
    );
    expect(file.headers['cache-control']).toBe('private, no-store');
    const bytes = file.body as Buffer;
    expect(bytes.length).toBe(done.body.sizeBytes);
    expect(bytes.subarray(0, 3).equals(Buffer.from(BOM))).toBe(false);
    expect(bytes.toString('utf8').split('\n')[0]).toBe(PEOPLE_DEFAULT_COLUMNS.join(','));
    expect(parseCsv(bytes)).toEqual((await expectedPeople()).map(asCsvRecord));
  });

  it('writes JSON as one array of objects with native types', async () => {
    const bytes = await exportBytes('/api/export/people/json');
    const parsed = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>[];
    expect(parsed).toEqual(await expectedPeople());
    expect(Object.keys(parsed[0]!)).toEqual(PEOPLE_DEFAULT_COLUMNS);
    const dana = parsed.find((row) => row.firstName === 'Dana')!;
    expect(dana).toMatchObject({
      email: 'dana@whitfield.example',
      linkedInUrl: 'https://www.linkedin.com/in/danawhitfield',
      connections: 7000,
      seniorityTier: 'CXO',
    });
  });

  it('writes an empty JSON array and a header-only CSV when nothing matches', async () => {
    const filters = { fullName: 'Nobody At All' };
    expect((await exportBytes('/api/export/people/json', { filters })).toString('utf8')).toBe('[]\n');
    expect((await exportBytes('/api/export/people/csv', { filters })).toString('utf8')).toBe(
      `${PEOPLE_DEFAULT_COLUMNS.join(',')}\n`,
    );
  });
});

describe('CSV encoding', () => {
  it('escapes commas, quotes and line breaks and keeps emoji and non-ASCII text intact, byte for byte', async () => {
    const bytes = await exportBytes('/api/export/people/csv', {
      filters: { lastName: 'Smith' },
      fields: ['firstName', 'currentTitle', 'summary', 'skills'],
    });
    expect(bytes.toString('utf8')).toBe(
      'firstName,currentTitle,summary,skills\n' +
        'Anna,"VP, Sales","Line one\nLine two, with a comma\nShe said ""hello"" 👋","Négociation; B2B, SaaS; Team ""lead"""\n',
    );
    expect(parseCsv(bytes)).toEqual([
      {
        firstName: 'Anna',
        currentTitle: 'VP, Sales',
        summary: ANNA_SUMMARY,
        skills: 'Négociation; B2B, SaaS; Team "lead"',
      },
    ]);
  });

  it('round-trips every name through csv-parse', async () => {
    const rows = parseCsv(
      await exportBytes('/api/export/people/csv', { fields: ['id', 'fullName', 'currentTitle'] }),
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    for (const id of personIds) {
      const person = await personView(id);
      expect(byId.get(id)).toEqual({
        id,
        fullName: person.snapshot.fullName,
        currentTitle: person.snapshot.currentTitle,
      });
    }
    expect(rows.map((row) => row.fullName)).toEqual(
      expect.arrayContaining(['Zoë Núñez-García', '李 小龙 🐉', 'Anna Smith']),
    );
    expect(byId.get(personIds[1])?.currentTitle).toBe('Head of "Growth", EMEA');
  });

  it('defuses text a spreadsheet would run as a formula, and leaves numbers and phone numbers alone', () => {
    expect(csvCell('=HYPERLINK("http://evil.example","Click")')).toBe(
      `'=HYPERLINK("http://evil.example","Click")`,
    );
    expect(csvCell('+SUM(A1:A9)')).toBe("'+SUM(A1:A9)");
    expect(csvCell('-2+3')).toBe("'-2+3");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\t=1+1')).toBe("'\t=1+1");
    expect(csvCell(['=1+1', 'SaaS'])).toBe("'=1+1; SaaS");
    expect(csvCell('+14155550100')).toBe('+14155550100');
    expect(csvCell('+1 (415) 555-0100')).toBe('+1 (415) 555-0100');
    expect(csvCell('-12.5')).toBe('-12.5');
    expect(csvCell(-12.5)).toBe('-12.5');
    expect(csvCell('VP, Sales = growth')).toBe('VP, Sales = growth');
    expect(csvCell('')).toBe('');
  });

  it('starts with a UTF-8 byte order mark only when bom is true', async () => {
    const withBom = await exportBytes('/api/export/people/csv', { bom: true, fields: ['fullName'] });
    const without = await exportBytes('/api/export/people/csv', { bom: false, fields: ['fullName'] });
    expect([...withBom.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(without[0]).toBe('f'.charCodeAt(0));
    expect(withBom.subarray(3).equals(without)).toBe(true);
    expect(parseCsv(withBom)).toEqual(parseCsv(without));
  });
});

describe('filters, fields and sort (the query language of POST /api/query/people)', () => {
  it('exports only the people the filters match', async () => {
    const german = parseCsv(
      await exportBytes('/api/export/people/csv', { filters: { country: 'Germany' }, fields: ['fullName'] }),
    );
    expect(german.map((row) => row.fullName).sort()).toEqual(['Anna Smith', 'Zoë Núñez-García']);

    const either = parseCsv(
      await exportBytes('/api/export/people/csv', {
        filters: {
          $or: [{ currentTitle: { $regex: '^ceo', $options: 'i' } }, { 'snapshot.city': 'Los Angeles' }],
        },
        fields: ['fullName'],
      }),
    );
    // Bob's visit is based on Dana's payload: he is in Los Angeles too.
    expect(either.map((row) => row.fullName).sort()).toEqual(['Bob Builder', 'Dana Whitfield', '李 小龙 🐉']);
  });

  it('projects the fields asked for, in that order, under their canonical names', async () => {
    const rows = parseCsv(
      await exportBytes('/api/export/people/csv', {
        filters: { firstName: 'Dana' },
        fields: ['snapshot.fullName', 'linkedInUrl', 'meta.lastObservedAt', 'roles.companyName', 'name'],
      }),
    );
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0]!)).toEqual(['fullName', 'linkedInUrl', 'lastObservedAt', 'roles.companyName']);
    const dana = await personView(personIds[0]!);
    const roles = dana.snapshot.roles as { companyName: string }[];
    expect(rows[0]).toEqual({
      fullName: 'Dana Whitfield',
      linkedInUrl: 'https://www.linkedin.com/in/danawhitfield',
      lastObservedAt: dana.meta.lastObservedAt,
      'roles.companyName': roles.map((role) => role.companyName).join('; '),
    });
  });

  it('takes the sort of the query language', async () => {
    const rows = parseCsv(
      await exportBytes('/api/export/people/csv', { sort: { fullName: 1 }, fields: ['fullName'] }),
    );
    const names = rows.map((row) => row.fullName);
    const inDatabaseOrder = await db.pool.query<{ full_name: string }>(
      'SELECT full_name FROM persons WHERE merged_into IS NULL ORDER BY full_name ASC, id ASC',
    );
    expect(names).toEqual(inDatabaseOrder.rows.map((row) => row.full_name));
  });

  it.each([
    ['an unknown filter field', { filters: { shoeSize: 42 } }, 'INVALID_FILTER_FIELD'],
    ['an unknown operator', { filters: { city: { $near: 'Munich' } } }, 'INVALID_OPERATOR'],
    ['$where', { filters: { $where: 'sleep(10)' } }, 'FORBIDDEN_OPERATOR'],
    ['a regex PostgreSQL cannot compile', { filters: { fullName: { $regex: '(' } } }, 'INVALID_REGEX'],
    ['a malformed filter', { filters: { $or: 'everyone' } }, 'INVALID_FILTER'],
    ['an unknown field', { fields: ['fullName', 'salary'] }, 'INVALID_PROJECTION'],
    ['fields that are not a list', { fields: 'fullName' }, 'INVALID_PROJECTION'],
    ['an unsortable sort', { sort: { skills: 1 } }, 'INVALID_SORT'],
    ['a non-boolean bom', { bom: 'yes' }, 'INVALID_REQUEST'],
    ['an unknown body key', { limit: 10 }, 'INVALID_REQUEST'],
  ])('answers 400 for %s and queues nothing', async (_label, body, code) => {
    const before = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM export_jobs');
    const res = await request(app).post('/api/export/people/csv').send(body);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
    const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM export_jobs');
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('refuses a byte order mark on JSON (RFC 8259 forbids it) and unknown entities or formats', async () => {
    const bom = await request(app).post('/api/export/people/json').send({ bom: true });
    expect(bom.status).toBe(400);
    expect(bom.body.error).toBe('INVALID_REQUEST');
    for (const path of ['/api/export/observations/csv', '/api/export/people/xlsx']) {
      const res = await request(app).post(path).send({});
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('ROUTE_NOT_FOUND');
    }
  });
});

describe('companies and locations', () => {
  it('exports companies with their default columns', async () => {
    const rows = parseCsv(await exportBytes('/api/export/companies/csv'));
    expect(Object.keys(rows[0]!)).toEqual([
      'id',
      'name',
      'linkedinId',
      'slug',
      'website',
      'domain',
      'industry',
      'peopleCount',
      'lastObservedAt',
    ]);
    const orchard = rows.find((row) => row.name === 'Orchard Cyber');
    expect(orchard).toMatchObject({
      linkedinId: '735879098',
      domain: 'orchardcyber.example',
      peopleCount: '2',
    }); // Dana and Bob
    const { rows: live } = await db.pool.query<{ id: string }>(
      'SELECT id FROM companies WHERE merged_into IS NULL ORDER BY id',
    );
    expect(rows.map((row) => row.id).sort()).toEqual(live.map((row) => row.id));
  });

  it('exports locations filtered with the query language', async () => {
    const bytes = await exportBytes('/api/export/locations/json', {
      filters: { countryCode: { $in: ['DE', 'BR'] } },
      fields: ['label', 'city', 'countryCode', 'peopleCount'],
      sort: { city: 1 },
    });
    expect(JSON.parse(bytes.toString('utf8'))).toEqual([
      { label: 'Munich, Bavaria, Germany', city: 'Munich', countryCode: 'DE', peopleCount: 2 },
      { label: 'São Paulo, São Paulo, Brazil', city: 'São Paulo', countryCode: 'BR', peopleCount: 1 },
    ]);
  });
});

describe('unknown, failed and foreign jobs', () => {
  it('answers 404 EXPORT_NOT_FOUND for an unknown id or something that is not an id', async () => {
    for (const id of ['5b0f6d52-8a4b-4c43-9a51-0d6bb5e2a0f1', 'not-a-uuid', "1' OR '1'='1"]) {
      for (const path of [
        `/api/export/status/${encodeURIComponent(id)}`,
        `/api/export/download/${encodeURIComponent(id)}`,
      ]) {
        const res = await request(app).get(path);
        expect(res.status).toBe(404);
        expect(res.body.error).toBe('EXPORT_NOT_FOUND');
      }
    }
  });

  it('fails a job matching more than EXPORT_MAX_ROWS rows, says why, and answers 409 EXPORT_FAILED', async () => {
    const jobId = await createJob('/api/export/people/csv');
    const [run] = await drainExports(db.pool, settings({ maxRows: 2 }));
    expect(run).toMatchObject({ jobId, outcome: 'failed' });
    const status = await request(app).get(`/api/export/status/${jobId}`);
    expect(status.body).toMatchObject({ status: 'failed', rowsDone: 0 });
    expect(status.body.error).toBe(
      `${personIds.length} rows match the filters; exports are limited to 2 rows (EXPORT_MAX_ROWS): narrow the filters`,
    );
    const res = await download(app, jobId);
    expect(res.status).toBe(409);
    expect(JSON.parse((res.body as Buffer).toString('utf8'))).toMatchObject({ error: 'EXPORT_FAILED' });
    const chunks = await db.pool.query('SELECT 1 FROM export_chunks WHERE job_id = $1', [jobId]);
    expect(chunks.rowCount).toBe(0);
  });
});

describe('API keys', () => {
  let secured: Express;
  beforeAll(() => {
    secured = buildTestApp(db, { API_KEYS: 'key-alice,key-bob', READ_RATE_LIMIT: '0' }).app;
  });

  it('needs a key to create, poll or download', async () => {
    const created = await request(secured).post('/api/export/people/csv').send({});
    expect(created.status).toBe(401);
    expect(created.body.error).toBe('UNAUTHORIZED');
    const jobId = await createJob('/api/export/people/csv');
    for (const path of [`/api/export/status/${jobId}`, `/api/export/download/${jobId}`]) {
      const res = await request(secured).get(path);
      expect(res.status).toBe(401);
    }
  });

  it('shows a job only to the key that created it', async () => {
    const created = await request(secured)
      .post('/api/export/people/json')
      .set('Authorization', 'Bearer key-alice')
      .send({ fields: ['fullName'] });
    expect(created.status).toBe(202);
    const { jobId } = created.body as { jobId: string };
    const { rows } = await db.pool.query<{ owner_key_hash: string }>(
      'SELECT owner_key_hash FROM export_jobs WHERE id = $1',
      [jobId],
    );
    expect(rows[0]!.owner_key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.owner_key_hash).not.toContain('alice');
    await drainExports(db.pool, settings());

    const bob = await request(secured).get(`/api/export/status/${jobId}`).set('X-API-Key', 'key-bob');
    expect(bob.status).toBe(404);
    expect(bob.body.error).toBe('EXPORT_NOT_FOUND');
    expect((await download(secured, jobId, 'key-bob')).status).toBe(404);

    const alice = await request(secured).get(`/api/export/status/${jobId}`).set('X-API-Key', 'key-alice');
    expect(alice.status).toBe(200);
    expect(alice.body.status).toBe('completed');
    const file = await download(secured, jobId, 'key-alice');
    expect(file.status).toBe(200);
    expect(JSON.parse((file.body as Buffer).toString('utf8'))).toHaveLength(personIds.length);
  });

  it('limits the exports a key may have in flight', async () => {
    const limited = buildTestApp(db, {
      API_KEYS: 'key-carol,key-dave',
      READ_RATE_LIMIT: '0',
      EXPORT_MAX_ACTIVE_PER_KEY: '1',
    }).app;
    const post = (key: string) =>
      request(limited)
        .post('/api/export/people/csv')
        .set('X-API-Key', key)
        .send({ fields: ['id'] });
    expect((await post('key-carol')).status).toBe(202);
    const refused = await post('key-carol');
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe('EXPORT_QUEUE_FULL');
    expect((await post('key-dave')).status).toBe(202);
    await drainExports(db.pool, settings());
    expect((await post('key-carol')).status).toBe(202);
    await drainExports(db.pool, settings());
  });
});

describe('several instances', () => {
  it('serves the same download from a second app instance on the same database', async () => {
    const second = buildTestApp(db, { READ_RATE_LIMIT: '0' }).app;
    const jobId = await createJob('/api/export/people/csv', { bom: true });
    await drainExports(db.pool, settings({ chunkBytes: 64, fetchRows: 1 }));
    const first = await download(app, jobId);
    const other = await download(second, jobId);
    expect(other.status).toBe(200);
    expect(other.headers['content-disposition']).toBe(first.headers['content-disposition']);
    expect((other.body as Buffer).equals(first.body as Buffer)).toBe(true);
    const chunks = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM export_chunks WHERE job_id = $1',
      [jobId],
    );
    expect(chunks.rows[0]!.n).toBe(personIds.length + 1); // the header, then a chunk per row: all back in order
    expect(parseCsv(other.body as Buffer)).toEqual((await expectedPeople()).map(asCsvRecord));
  });
});

describe('downloads are streamed as stored', () => {
  it('even to a client that accepts gzip, the file comes uncompressed and whole (no compression stream in between)', async () => {
    const jobId = await createJob('/api/export/people/csv');
    await drainExports(db.pool, settings());
    const plain = await download(app, jobId);
    const gzipAccepted = await download(app, jobId).set('Accept-Encoding', 'gzip');
    expect(gzipAccepted.status).toBe(200);
    expect(gzipAccepted.headers['content-encoding']).toBeUndefined();
    expect(gzipAccepted.body).toEqual(plain.body);
  });
});
