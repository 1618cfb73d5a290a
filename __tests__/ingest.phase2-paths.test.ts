import request from 'supertest';
import type { Phase2Processor } from '../src/ingest/phase2';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

let db: TestDatabase;
let app: ReturnType<typeof buildTestApp>['app'];
let processor: Phase2Processor;

beforeAll(async () => {
  db = await createTestDatabase();
  const built = buildTestApp(db, {}, { phase2: true });
  app = built.app;
  processor = built.context.processor as Phase2Processor;
});
afterAll(() => db.drop());

let sequence = 0;
function visit(data: Record<string, unknown>, at = Date.UTC(2025, 3, 1) + ++sequence * 60_000) {
  return {
    userid: 'paths-tests',
    time: new Date(at).toISOString(),
    type: 'visit',
    event: 'create',
    data: { VisitTime: at, ...data },
  };
}

async function send(body: object): Promise<Record<string, unknown>> {
  const res = await request(app).post('/api/webhook').set('content-type', 'application/json').send(body);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

/** Which path finished the work done inside `work`. */
async function pathsOf(work: () => Promise<unknown>): Promise<{ fast: number; full: number }> {
  const before = { ...processor.paths };
  await work();
  return { fast: processor.paths.fast - before.fast, full: processor.paths.full - before.full };
}

describe('Phase 2 fast path', () => {
  it('creates a new person and updates a known one in the fast path, with the same result a full refold gives', async () => {
    const member = String(5_100_000_000 + sequence);
    const company = 'https://www.linkedin.com/company/4411223/';
    let first: Record<string, unknown> = {};
    let second: Record<string, unknown> = {};
    const paths = await pathsOf(async () => {
      first = await send(
        visit({
          id: `id.${member}`,
          'First Name': 'Fran',
          Title: 'Account Executive',
          Company: 'Fastpath Ltd',
          CompanyProfile: company,
          Location: 'Leeds, England, United Kingdom',
        }),
      );
      second = await send(
        visit({
          id: `id.${member}`,
          Email: 'fran@fastpath.example',
          Title: 'Account Executive',
          Company: 'Fastpath Ltd',
          CompanyProfile: company,
        }),
      );
    });
    // The company is new on the first event: it is created in its own short transaction, then the fast path.
    expect(paths).toEqual({ fast: 2, full: 0 });
    expect(first).toMatchObject({
      people_upsert: 'created',
      company_upsert: 'created',
      location_upsert: 'created',
    });
    expect(second).toMatchObject({ people_upsert: 'updated', person_id: first.person_id });

    const live = await db.pool.query(
      'SELECT snapshot, observations_count, first_observed_at, last_observed_at FROM persons WHERE id = $1',
      [first.person_id],
    );
    expect(live.rows[0].observations_count).toBe(2);
    expect(live.rows[0].snapshot).toMatchObject({
      firstName: 'Fran',
      currentTitle: 'Account Executive',
      email: 'fran@fastpath.example',
      companyId: first.company_id,
      locationId: first.location_id,
    });

    // The full path refolds from every observation: it must find nothing to change.
    await db.pool.query("UPDATE observations SET status = 'pending' WHERE id = $1", [second.observation_id]);
    await db.pool.query('UPDATE persons SET observations_count = 1 WHERE id = $1', [first.person_id]);
    expect(await pathsOf(() => processor.process(Number(second.observation_id)))).toEqual({
      fast: 0,
      full: 1,
    });
    const refolded = await db.pool.query(
      'SELECT snapshot, observations_count, first_observed_at, last_observed_at FROM persons WHERE id = $1',
      [first.person_id],
    );
    expect(refolded.rows[0]).toEqual(live.rows[0]);
  });

  it('an observation that may change the job history takes the full path, which records the change', async () => {
    const member = String(5_150_000_000 + sequence);
    await send(visit({ id: `id.${member}`, Title: 'Sales Manager', Company: 'Pathways' }));
    let promoted: Record<string, unknown> = {};
    const paths = await pathsOf(async () => {
      promoted = await send(visit({ id: `id.${member}`, Title: 'VP of Sales', Company: 'Pathways' }));
    });
    expect(paths).toEqual({ fast: 0, full: 1 });
    const { rows } = await db.pool.query('SELECT type FROM person_changes WHERE person_id = $1', [
      promoted.person_id,
    ]);
    expect(rows).toEqual([{ type: 'promotion' }]);
    const read = await request(app).get(`/api/people/${String(promoted.person_id)}`);
    // Observed in 2025, so the change is not "recent" (90 days) relative to now.
    expect(read.body.person.derived).toMatchObject({
      recentJobChange: false,
      lastJobChangeAt: expect.any(String),
    });
  });

  it('company and location snapshots folded from the queue equal a full refold', async () => {
    const company = 'https://www.linkedin.com/company/5522334/';
    for (let i = 0; i < 5; i += 1) {
      await send(
        visit({
          id: `id.${5_200_000_000 + i}`,
          Company: i === 4 ? 'Queue Fold Inc.' : 'Queue Fold',
          CompanyProfile: company,
          CompanyWebsite: i === 2 ? 'https://queuefold.example' : '',
          Industry: 'Software',
          Location: 'Porto, Portugal',
        }),
      );
    }
    await drainRefreshQueue(db.pool, testFoldSettings());
    const read = () =>
      db.pool.query(
        `SELECT c.snapshot, c.observations_count, c.first_observed_at, c.last_observed_at, c.name
           FROM companies c JOIN company_aliases a ON a.company_id = c.id
          WHERE a.kind = 'linkedin_id' AND a.value = '5522334'`,
      );
    const incremental = (await read()).rows[0];
    expect(incremental).toMatchObject({ observations_count: 5, name: 'Queue Fold Inc.' });
    expect(incremental.snapshot).toMatchObject({
      website: 'https://queuefold.example/',
      industry: 'Software',
    });

    await db.pool.query(`INSERT INTO entity_refresh (entity, id)
                         SELECT 'company', company_id FROM company_aliases WHERE kind = 'linkedin_id' AND value = '5522334'`);
    await drainRefreshQueue(db.pool, testFoldSettings());
    expect((await read()).rows[0]).toEqual(incremental);
  });

  it('a merge goes down the full path', async () => {
    const slug = `paths-merge-${sequence}`;
    const member = String(5_300_000_000 + sequence);
    await send(visit({ Profile: `https://www.linkedin.com/in/${slug}` }));
    await send(visit({ id: `id.${member}` }));
    const paths = await pathsOf(() =>
      send(visit({ id: `id.${member}`, Profile: `https://www.linkedin.com/in/${slug}` })),
    );
    expect(paths).toEqual({ fast: 0, full: 1 });
  });
});

describe('phase2_apply_person refuses stale expectations and writes nothing', () => {
  function applyArgs(observationId: number, overrides: Record<number, unknown>): unknown[] {
    const args: unknown[] = [
      observationId,
      ['member_id'],
      ['5400000001'],
      ['5400000001'],
      null,
      null,
      '8d7c7f0e-0000-5000-8000-000000000001',
      JSON.stringify({ firstName: 'Stale' }),
      'Stale',
      null,
      null,
      null,
      null,
      new Date(),
      null,
      null,
      null,
      null,
      'visit',
      null,
      null,
    ];
    for (const [index, value] of Object.entries(overrides)) args[Number(index)] = value;
    return args;
  }
  const CALL = `SELECT outcome FROM phase2_apply_person($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                  $14, $15, $16, $17, $18, $19, $20, $21)`;

  async function snapshotOfDatabase(): Promise<string> {
    const { rows } = await db.pool.query(
      `SELECT (SELECT count(*) FROM persons)::text || '/' || (SELECT count(*) FROM person_aliases)::text || '/' ||
              (SELECT string_agg(xmin::text, ',' ORDER BY id) FROM persons) AS state`,
    );
    return rows[0].state as string;
  }

  it('answers stale when an identifier already names a person but none was expected', async () => {
    const stored = await send(visit({ id: 'id.5400000001' }));
    // A second, still-pending observation (stored without Phase 2) to apply against.
    const pending = await request(buildTestApp(db).app)
      .post('/api/webhook')
      .send(visit({ id: 'id.5400000001', Title: 'Ignored' }));
    const before = await snapshotOfDatabase();
    const { rows } = await db.pool.query(CALL, applyArgs(pending.body.observation_id, {}));
    expect(rows[0].outcome).toBe('stale');
    expect(await snapshotOfDatabase()).toBe(before);

    // Expecting the right person but an outdated row version is stale too.
    const version = await db.pool.query('SELECT xmin::text AS v FROM persons WHERE id = $1', [
      stored.person_id,
    ]);
    await db.pool.query('UPDATE persons SET updated_at = now() WHERE id = $1', [stored.person_id]);
    const outdated = await db.pool.query(
      CALL,
      applyArgs(pending.body.observation_id, {
        4: stored.person_id,
        5: version.rows[0].v,
        6: stored.person_id,
      }),
    );
    expect(outdated.rows[0].outcome).toBe('stale');
    const status = await db.pool.query('SELECT status FROM observations WHERE id = $1', [
      pending.body.observation_id,
    ]);
    expect(status.rows[0].status).toBe('pending');

    // With the current version it applies.
    const current = await db.pool.query('SELECT xmin::text AS v FROM persons WHERE id = $1', [
      stored.person_id,
    ]);
    const applied = await db.pool.query(
      CALL,
      applyArgs(pending.body.observation_id, {
        4: stored.person_id,
        5: current.rows[0].v,
        6: stored.person_id,
      }),
    );
    expect(applied.rows[0].outcome).toBe('updated');
  });

  it('answers stale for an observation that is not pending', async () => {
    const stored = await send(visit({ id: 'id.5400000002' }));
    const { rows } = await db.pool.query(
      CALL,
      applyArgs(Number(stored.observation_id), { 2: ['5400000002'] }),
    );
    expect(rows[0].outcome).toBe('stale');
  });
});
