import type { Express } from 'express';
import request from 'supertest';
import { aliasCountsByKind } from '../src/health/coverage';
import { countOrEstimate } from '../src/health/format';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { fixture } from './helpers/fixtures';

/**
 * One hand-built state, reached through the real webhook (inline Phase 2 for the resolved people, deferred for
 * the pending ones) plus a few direct updates for what only time or failures produce:
 *
 *  #  observation                        status      person
 *  1  Anna visit (received 48 h ago)     processed   Anna
 *  2  Anna visit                         processed   Anna
 *  3  Ben visit                          processed   Ben
 *  4  Cara scan (profile URL only)       processed   Cara
 *  5  Dan visit (member id only)         processed   Dan
 *  6  Mo visit (profile URL only)        processed   Mo
 *  7  Mo visit (member id only)          processed   Mo' -> merged into Mo by #8
 *  8  visit naming both Mo ids           processed   Mo
 *  9  visit without identifiers          skipped
 * 10  rccommand                          ignored
 * 11  Eve visit, received 90 min ago     pending (stuck)
 * 12  Fay visit                          pending (in flight)
 * 13  Gus visit                          dead, dead letter pending, 3 attempts, due
 * 14  Hal visit                          dead, dead letter failed, 10 attempts
 *
 * Live persons: Anna (complete, with email), Ben (name only), Cara (title, company, Munich), Dan (title, Boston),
 * Mo (name only). One person conflict is recorded between Anna and Ben.
 */
let db: TestDatabase;
let app: Express;
let deferredApp: Express;
const ids: Record<string, string> = {};

let sequence = 0;
function profileEvent(kind: 'visit' | 'scan', data: Record<string, unknown>): Record<string, unknown> {
  sequence += 1;
  const time = Date.UTC(2025, 6, 1) + sequence * 60_000;
  return {
    userid: 'health-test',
    time: new Date(time).toISOString(),
    type: kind,
    event: 'create',
    data: { [kind === 'visit' ? 'VisitTime' : 'ScanTime']: time, ...data },
  };
}

async function send(target: Express, payload: object): Promise<Record<string, unknown>> {
  const res = await request(target)
    .post('/api/webhook')
    .set('content-type', 'application/json')
    .send(payload);
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

async function observationOf(payload: Record<string, unknown>, target = app): Promise<number> {
  const body = await send(target, payload);
  return body.observation_id as number;
}

const ANNA = {
  id: 'id.7100000001',
  Profile: 'https://www.linkedin.com/in/anna-health',
  SalesProfile: 'https://www.linkedin.com/sales/lead/ACwAAB7100000001Xy,NAME_SEARCH,abcd',
  'First Name': 'Anna',
  'Last Name': 'Health',
  Title: 'VP of Engineering',
  Company: 'Acme Health',
  CompanyProfile: 'https://www.linkedin.com/company/7100001/',
  Industry: 'Hospital & Health Care',
  Location: 'Munich, Bavaria, Germany',
  Email: 'anna@acme-health.example',
};

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true }).app;
  deferredApp = buildTestApp(db, { READ_RATE_LIMIT: '0' }).app;

  const anna1 = await observationOf(profileEvent('visit', ANNA));
  await observationOf(profileEvent('visit', { ...ANNA, Title: 'VP of Engineering' }));
  await observationOf(
    profileEvent('visit', {
      id: 'id.7100000002',
      Profile: 'https://www.linkedin.com/in/ben-sparse',
      'First Name': 'Ben',
      'Last Name': 'Sparse',
    }),
  );
  await observationOf(
    profileEvent('scan', {
      Profile: 'https://www.linkedin.com/in/cara-urlonly',
      'First Name': 'Cara',
      'Last Name': 'Urlonly',
      Title: 'Software Engineer',
      Company: 'Acme Health',
      CompanyProfile: 'https://www.linkedin.com/company/7100001/',
      Location: 'Munich, Bavaria, Germany',
    }),
  );
  await observationOf(
    profileEvent('visit', {
      id: 'id.7100000004',
      'First Name': 'Dan',
      'Last Name': 'Memberonly',
      Title: 'Head of Sales',
      Location: 'Boston, Massachusetts, United States',
    }),
  );
  const mo = { 'First Name': 'Mo', 'Last Name': 'Merged' };
  await observationOf(profileEvent('visit', { ...mo, Profile: 'https://www.linkedin.com/in/mo-merged' }));
  await observationOf(profileEvent('visit', { ...mo, id: 'id.7100000006' }));
  await observationOf(
    profileEvent('visit', { ...mo, id: 'id.7100000006', Profile: 'https://www.linkedin.com/in/mo-merged' }),
  );
  const skipped = await send(app, profileEvent('visit', { 'First Name': 'Nobody' }));
  expect(skipped.status).toBe('skipped');
  await send(app, fixture(8)); // rccommand: stored, ignored

  const eve = await observationOf(
    profileEvent('visit', { id: 'id.7100000011', 'First Name': 'Eve' }),
    deferredApp,
  );
  await observationOf(profileEvent('visit', { id: 'id.7100000012', 'First Name': 'Fay' }), deferredApp);
  const gus = await observationOf(
    profileEvent('visit', { id: 'id.7100000013', 'First Name': 'Gus' }),
    deferredApp,
  );
  const hal = await observationOf(
    profileEvent('visit', { id: 'id.7100000014', 'First Name': 'Hal' }),
    deferredApp,
  );

  await db.pool.query(`UPDATE observations SET received_at = now() - interval '48 hours' WHERE id = $1`, [
    anna1,
  ]);
  await db.pool.query(`UPDATE observations SET received_at = now() - interval '90 minutes' WHERE id = $1`, [
    eve,
  ]);
  await db.pool.query(`UPDATE observations SET status = 'dead', status_reason = 'boom' WHERE id = ANY($1)`, [
    [gus, hal],
  ]);
  await db.pool.query(
    `INSERT INTO dead_letters (observation_id, error, attempts, status, next_attempt_at)
     VALUES ($1, 'boom', 3, 'pending', now() - interval '1 minute'), ($2, 'boom', 10, 'failed', now())`,
    [gus, hal],
  );
  const people = await db.pool.query<{ id: string; full_name: string }>(
    'SELECT id, full_name FROM persons WHERE merged_into IS NULL',
  );
  for (const row of people.rows) ids[row.full_name.split(' ')[0]!] = row.id;
  await db.pool.query(
    `INSERT INTO identity_conflicts (entity, observation_id, kind, entity_ids, detail)
     VALUES ('person', $1, 'hard_identifier', ARRAY[$2::uuid, $3::uuid], '{}')`,
    [anna1, ids.Anna, ids.Ben],
  );
  await drainRefreshQueue(db.pool, testFoldSettings());
});
afterAll(() => db.drop());

function get(path: string, target = app): request.Test {
  return request(target).get(path);
}

async function fresh(path: string): Promise<request.Response['body']> {
  const res = await get(`${path}${path.includes('?') ? '&' : '?'}fresh=true`);
  expect(res.status).toBe(200);
  expect(res.body.success).toBe(true);
  expect(res.body.cached).toBe(false);
  return res.body;
}

describe('the seeded state', () => {
  it('has the five live persons and the merge the table describes', () => {
    expect(Object.keys(ids).sort()).toEqual(['Anna', 'Ben', 'Cara', 'Dan', 'Mo']);
  });
});

describe('GET /api/health/ingestion', () => {
  it('counts the last 24 hours by outcome, with the success rate over judged observations', async () => {
    const body = await fresh('/api/health/ingestion');
    expect(body.window_hours).toBe(24);
    expect(body.observations).toEqual({
      received: 13,
      processed: 7,
      skipped: 1,
      dead: 2,
      pending: 2,
      pending_stuck: 1,
      pending_in_flight: 1,
      ignored: 1,
    });
    expect(Object.keys(body.by_source)).toEqual(['duxsoup']);
    expect(body.by_source.duxsoup.received).toBe(13);
    // 7 / (7 + 2 dead + 1 stuck)
    expect(body.person_upsert).toEqual({ succeeded: 7, failed: 3, attempted: 10, success_rate_percent: 70 });
    expect(body.status).toBe('insufficient_data');
    expect(body.dead_letters_created).toBe(2);
    expect(body.seconds_since_last_webhook).toBeLessThan(120);
    expect(Date.parse(body.last_webhook_at)).toBeGreaterThan(Date.now() - 120_000);
    expect(Object.keys(body.definitions)).toEqual(
      expect.arrayContaining(['person_upsert.success_rate_percent', 'observations.pending', 'status']),
    );
  });

  it('takes the window from ?hours and judges the rate once the sample is large enough', async () => {
    const body = await fresh('/api/health/ingestion?hours=72');
    expect(body.window_hours).toBe(72);
    expect(body.observations.received).toBe(14);
    expect(body.person_upsert).toEqual({
      succeeded: 8,
      failed: 3,
      attempted: 11,
      success_rate_percent: 72.7,
    });

    const judged = buildTestApp(db, { READ_RATE_LIMIT: '0', ALERT_SUCCESS_RATE_MIN_SAMPLE: '10' }).app;
    const res = await get('/api/health/ingestion?fresh=true', judged);
    expect(res.body.status).toBe('unhealthy');
  });

  it('rejects a bad window or flag with 400 INVALID_REQUEST', async () => {
    for (const query of ['hours=0', 'hours=721', 'hours=two', 'fresh=maybe']) {
      const res = await get(`/api/health/ingestion?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('INVALID_REQUEST');
    }
  });
});

describe('GET /api/health/parity', () => {
  it('reconciles visits and scans with their outcomes, and checks the window for consistency', async () => {
    const body = await fresh('/api/health/parity');
    expect(body.all_time).toEqual({
      visits: 12,
      scans: 1,
      profile_observations: 13,
      resolved: 8,
      skipped: 1,
      pending: 2,
      dead: 2,
      resolved_percent: 61.5,
      live_persons: 5,
      observations_per_person: 1.6,
    });
    expect(body.window).toEqual({
      window_hours: 24,
      profile_observations: 12,
      processed: 7,
      processed_without_person: 0,
      linked_to_missing_person: 0,
      linked_to_merged_person: 0,
      persons_checked: 5,
      count_mismatches: 0,
      mismatched_person_ids: [],
    });
    expect(body.status).toBe('ok');
  });

  it('names a person whose observations_count disagrees with its observations', async () => {
    await db.pool.query('UPDATE persons SET observations_count = 7 WHERE id = $1', [ids.Anna]);
    try {
      const body = await fresh('/api/health/parity');
      expect(body.window.count_mismatches).toBe(1);
      expect(body.window.mismatched_person_ids).toEqual([ids.Anna]);
      expect(body.status).toBe('mismatch');
    } finally {
      await db.pool.query('UPDATE persons SET observations_count = 2 WHERE id = $1', [ids.Anna]);
    }
    expect((await fresh('/api/health/parity')).status).toBe('ok');
  });
});

describe('GET /api/health/metrics', () => {
  it('counts entities, throughput and backlog exactly', async () => {
    const body = await fresh('/api/health/metrics');
    const aliases = await db.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM person_aliases',
    );
    expect(body.counts).toEqual({
      persons: 5,
      merged_persons: 1,
      companies: 1,
      locations: 2,
      observations: { value: 14, estimated: false },
      person_aliases: { value: aliases.rows[0]!.count, estimated: false },
      merges: 1,
      merges_rolled_back: 0,
      identity_conflicts: 1,
    });
    expect(body.throughput).toEqual({
      last_hour: { observations: 12, visits: 10, scans: 1 },
      last_day: { observations: 13, visits: 11, scans: 1 },
    });
    expect(body.backlog).toMatchObject({
      pending_observations: 2,
      pending_stuck: 1,
      dead_observations: 2,
      dead_letters: { pending: 1, due: 1, failed: 1, failing: 2 },
      entity_refresh: { queued: 0, oldest_queued_at: null },
    });
    const eve = await db.pool.query<{ received_at: Date }>(
      `SELECT received_at FROM observations WHERE status = 'pending' ORDER BY received_at LIMIT 1`,
    );
    expect(body.backlog.oldest_pending_at).toBe(eve.rows[0]!.received_at.toISOString());
    expect(body.leader).toBeNull();
    expect(Object.keys(body.definitions).length).toBeGreaterThan(5);
  });

  it('reports the leader recorded by the scheduler', async () => {
    await db.pool.query(
      `INSERT INTO scheduler_leader (instance_id, since, heartbeat_at)
       VALUES ('host-1:42:abc', now() - interval '1 hour', now() - interval '3 seconds')`,
    );
    try {
      const body = await fresh('/api/health/metrics');
      expect(body.leader).toMatchObject({ instance_id: 'host-1:42:abc' });
      expect(body.leader.heartbeat_age_seconds).toBeGreaterThanOrEqual(3);
      expect(body.leader.heartbeat_age_seconds).toBeLessThan(60);
    } finally {
      await db.pool.query('DELETE FROM scheduler_leader');
    }
  });
});

describe('estimates above the exact-count limit', () => {
  it('read pg_class.reltuples and the sampled kind frequencies, flagged estimated', async () => {
    await db.pool.query('ANALYZE observation_log, person_aliases');
    const exact = await countOrEstimate(db.pool, 'person_aliases');
    expect(exact.estimated).toBe(false);
    // ANALYZE samples every row of a table this small, so the estimate is the exact figure.
    expect(await countOrEstimate(db.pool, 'person_aliases', 0)).toEqual({
      value: exact.value,
      estimated: true,
    });
    expect(await countOrEstimate(db.pool, 'observation_log', 0)).toEqual({ value: 14, estimated: true });
    const byKind = await aliasCountsByKind(db.pool, 0);
    expect(byKind).toEqual({ counts: (await aliasCountsByKind(db.pool)).counts, estimated: true });
  });
});

describe('GET /api/health/data-quality', () => {
  it('gives each field coverage over the live persons and the identity conflicts', async () => {
    const body = await fresh('/api/health/data-quality');
    expect(body.live_persons).toBe(5);
    expect(body.fields).toEqual({
      name: { present: 5, missing: 0, percent: 100 },
      title: { present: 3, missing: 2, percent: 60 },
      company: { present: 2, missing: 3, percent: 40 },
      location: { present: 3, missing: 2, percent: 60 },
      email: { present: 1, missing: 4, percent: 20 },
      seniority: { present: 3, missing: 2, percent: 60 },
    });
    expect(body.completeness_percent).toBe(56.7); // 17 of 30
    expect(body.identity_conflicts).toEqual({ total: 1, last_day: 1, persons_involved: 2 });
  });
});

describe('coverage endpoints', () => {
  it('coverage-breakdown: identity strength of live persons', async () => {
    const body = await fresh('/api/health/coverage-breakdown');
    expect(body).toMatchObject({
      live_persons: 5,
      with_sales_nav_id: 1,
      with_member_id: 4,
      with_both: 1,
      with_stable_id: { total: 5, linked: 4, unlinked: 1, percent: 80 },
      without_stable_id: 1,
    });
    expect(body.aliases_by_kind.estimated).toBe(false);
    expect(body.aliases_by_kind.counts).toMatchObject({ member_id: 4, sales_nav_id: 1 });
    const total = Object.values(body.aliases_by_kind.counts as Record<string, number>).reduce(
      (a, b) => a + b,
      0,
    );
    const aliases = await db.pool.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM person_aliases',
    );
    expect(total).toBe(aliases.rows[0]!.count);
    expect(body.recommendations).toHaveLength(1);
    expect(body.recommendations[0]).toMatch(/^1 people have no Sales Navigator id/);
  });

  it('canonical-coverage: observations to persons, persons to companies and locations', async () => {
    const body = await fresh('/api/health/canonical-coverage');
    expect(body.observations_to_persons).toEqual({
      total: 13,
      linked: 8,
      unlinked: 5,
      percent: 61.5,
      skipped: 1,
      pending: 2,
      dead: 2,
    });
    expect(body.persons_to_companies).toEqual({ total: 2, linked: 2, unlinked: 0, percent: 100 });
    expect(body.persons_to_locations).toEqual({ total: 5, linked: 3, unlinked: 2, percent: 60 });
  });

  it('company-coverage: people linked to companies, and what the companies know', async () => {
    const body = await fresh('/api/health/company-coverage');
    expect(body.persons).toEqual({ total: 2, linked: 2, unlinked: 0, percent: 100 });
    expect(body.companies).toEqual({
      live: 1,
      merged: 0,
      with_linkedin_id: { total: 1, linked: 1, unlinked: 0, percent: 100 },
      with_domain: { total: 1, linked: 0, unlinked: 1, percent: 0 },
      with_industry: { total: 1, linked: 1, unlinked: 0, percent: 100 },
      without_observations: 0,
    });
  });

  it('location-coverage: people linked to locations, and how precisely they are parsed', async () => {
    const body = await fresh('/api/health/location-coverage');
    expect(body.persons).toEqual({ total: 5, linked: 3, unlinked: 2, percent: 60 });
    expect(body.locations).toEqual({
      total: 2,
      with_city: { total: 2, linked: 2, unlinked: 0, percent: 100 },
      with_state: { total: 2, linked: 2, unlinked: 0, percent: 100 },
      with_country: { total: 2, linked: 2, unlinked: 0, percent: 100 },
      without_observations: 0,
    });
  });
});

describe('GET /api/health/dashboard', () => {
  it('returns every section and an ok status when no rule fires', async () => {
    const body = await fresh('/api/health/dashboard');
    expect(body.status).toBe('ok');
    expect(body.alerts).toEqual([]);
    expect(body.alert_state).toEqual({ active: [], delivery_failures_last_day: 0 });
    expect(body.ingestion.person_upsert.attempted).toBe(10);
    expect(body.parity.all_time.resolved).toBe(8);
    expect(body.metrics.counts.persons).toBe(5);
    expect(body.data_quality.completeness_percent).toBe(56.7);
    expect(body.definitions.status).toMatch(/critical when any critical/);
  });

  it('is warning or critical exactly as the alert rules judge the same figures', async () => {
    const warning = buildTestApp(db, { READ_RATE_LIMIT: '0', ALERT_DEAD_LETTER_BACKLOG_WARNING: '0' }).app;
    const warned = await get('/api/health/dashboard?fresh=true', warning);
    expect(warned.body.status).toBe('warning');
    expect(warned.body.alerts).toEqual([
      expect.objectContaining({
        condition: 'dead_letter_backlog',
        severity: 'warning',
        values: expect.any(Object),
      }),
    ]);

    const critical = buildTestApp(db, { READ_RATE_LIMIT: '0', ALERT_SUCCESS_RATE_MIN_SAMPLE: '10' }).app;
    const judged = await get('/api/health/dashboard?fresh=true', critical);
    expect(judged.body.status).toBe('critical');
    expect(judged.body.alerts).toEqual([
      expect.objectContaining({ condition: 'person_upsert_success_rate', severity: 'critical' }),
    ]);
    // The success rule keeps ALERT_WINDOW_HOURS whatever window the page shows (72 h: 72.7%, still critical).
    const wide = await get('/api/health/dashboard?fresh=true&hours=72', critical);
    expect(wide.body.ingestion.window_hours).toBe(72);
    expect(wide.body.alerts[0].values.window_hours).toBe(24);
  });
});

describe('access', () => {
  it('requires an API key when keys are configured', async () => {
    const guarded = buildTestApp(db, { API_KEYS: 'health-key', READ_RATE_LIMIT: '0' }).app;
    for (const path of ['/api/health/dashboard', '/api/health/metrics', '/api/health/location-coverage']) {
      const denied = await get(path, guarded);
      expect(denied.status).toBe(401);
      expect(denied.body.error).toBe('UNAUTHORIZED');
      const allowed = await get(path, guarded).set('X-API-Key', 'health-key');
      expect(allowed.status).toBe(200);
    }
  });

  it('is closed in production until a key is configured', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production', WEBHOOK_SECRET: 's' }).app;
    const res = await get('/api/health/ingestion', production);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('AUTH_NOT_CONFIGURED');
  });

  it('answers 503 until the database is ready, and leaves /health and /health/ready alone', async () => {
    const noDatabase = buildTestApp(null).app;
    const res = await get('/api/health/metrics', noDatabase);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DATABASE_UNAVAILABLE');
    expect((await get('/health')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
  });
});

describe('cache', () => {
  it('serves cached figures until ?fresh=true recomputes (and refreshes the cache)', async () => {
    const cachedApp = buildTestApp(db, { READ_RATE_LIMIT: '0' }).app;
    const first = await get('/api/health/metrics', cachedApp);
    expect(first.body.cached).toBe(false);
    expect(first.body.counts.observations.value).toBe(14);

    await send(app, fixture(13)); // another rccommand: one more observation

    const second = await get('/api/health/metrics', cachedApp);
    expect(second.body.cached).toBe(true);
    expect(second.body.generated_at).toBe(first.body.generated_at);
    expect(second.body.counts.observations.value).toBe(14);

    const recomputed = await get('/api/health/metrics?fresh=true', cachedApp);
    expect(recomputed.body.cached).toBe(false);
    expect(recomputed.body.counts.observations.value).toBe(15);

    const third = await get('/api/health/metrics', cachedApp);
    expect(third.body.cached).toBe(true);
    expect(third.body.counts.observations.value).toBe(15);

    // Each window has its own entry.
    const day = await get('/api/health/ingestion', cachedApp);
    const threeDays = await get('/api/health/ingestion?hours=72', cachedApp);
    expect(day.body.cached).toBe(false);
    expect(threeDays.body.cached).toBe(false);
    expect((await get('/api/health/ingestion?hours=72', cachedApp)).body.cached).toBe(true);
  });

  it('never caches with HEALTH_CACHE_SECONDS=0', async () => {
    const uncached = buildTestApp(db, { READ_RATE_LIMIT: '0', HEALTH_CACHE_SECONDS: '0' }).app;
    await get('/api/health/data-quality', uncached);
    expect((await get('/api/health/data-quality', uncached)).body.cached).toBe(false);
  });
});
