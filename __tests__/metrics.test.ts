import os from 'node:os';
import type { Express } from 'express';
import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture, loadFixtures } from './helpers/fixtures';
import { FIGURE_QUERIES } from '../src/metrics/database';

const METRICS_TOKEN = 'metrics-token-for-tests';
const API_KEY = 'api-key-for-tests';
/** The small sets the gauges may count (src/db/migrations: 001, 002 and 009). */
const PARTIAL_INDEXES = [
  'observation_state_unfinished_idx',
  'dead_letters_due_idx',
  'dead_letters_failed_idx',
];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a Prometheus text exposition (comments skipped). */
function parseExposition(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
      if (!match) throw new Error(`not an exposition line: ${line}`);
      const labels = Object.fromEntries(
        [...(match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(([, key, value]) => [key!, value!]),
      );
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find(
    (sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  )?.value;
}

async function scrape(app: Express, headers: Record<string, string> = {}): Promise<Sample[]> {
  let pending = request(app).get('/metrics');
  for (const [name, value] of Object.entries(headers)) pending = pending.set(name, value);
  const res = await pending;
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

let db: TestDatabase;
let service: TestApp;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`
    CREATE TABLE failure_switch (first_name text PRIMARY KEY);
    CREATE FUNCTION fail_switched_person() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF EXISTS (SELECT 1 FROM failure_switch WHERE first_name = NEW.snapshot->>'firstName') THEN
          RAISE EXCEPTION 'simulated failure writing %', NEW.snapshot->>'firstName';
        END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER fail_switched_person BEFORE INSERT OR UPDATE ON persons
      FOR EACH ROW EXECUTE FUNCTION fail_switched_person();
  `);
  service = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true });
});
afterAll(() => db.drop());

describe('GET /metrics after real traffic', () => {
  let samples: Sample[];
  let personId: string;
  let text: string;

  beforeAll(async () => {
    const { app } = service;
    for (const sample of loadFixtures()) {
      expect((await request(app).post('/api/webhook').send(sample.payload)).status).toBe(200);
    }
    await request(app).post('/api/webhook').send(fixture(0));
    const doomed = distinctVisit(1) as { data: Record<string, unknown> };
    doomed.data['First Name'] = 'Explodes';
    await db.pool.query(`INSERT INTO failure_switch VALUES ('Explodes')`);
    const dead = await request(app).post('/api/webhook').send(doomed);
    expect(dead.body.status).toBe('dead');
    const dana = await request(app).get('/api/people/18619978');
    personId = dana.body.person.id as string;
    await request(app).get(`/api/people/${personId}`);
    await request(app).get(`/api/people/${personId}/timeline`);
    await request(app).get('/api/no-such-route/123');
    await request(app).post('/api/webhook').set('content-type', 'application/json').send('{"broken":');
    await db.pool.query(`INSERT INTO scheduler_leader (instance_id) VALUES ($1)`, [
      `${os.hostname()}:${process.pid}:a1b2c3`,
    ]);
    const res = await request(app).get('/metrics');
    text = res.text;
    samples = parseExposition(text);
  });

  it('counts requests by method, route pattern and status class', () => {
    const webhooks = loadFixtures().length + 2;
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'POST',
        route: '/api/webhook',
        status_class: '2xx',
      }),
    ).toBe(webhooks);
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'POST',
        route: '/api/webhook',
        status_class: '4xx',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'GET',
        route: '/api/people/:id',
        status_class: '2xx',
      }),
    ).toBe(2);
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'GET',
        route: '/api/people/:id/timeline',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'GET',
        route: 'unmatched',
        status_class: '4xx',
      }),
    ).toBe(1);
    expect(
      valueOf(samples, 'duxsoup_http_request_duration_seconds_count', {
        method: 'POST',
        route: '/api/webhook',
        status_class: '2xx',
      }),
    ).toBe(webhooks);
  });

  it('labels routes by pattern, never by the raw path', () => {
    const routes = new Set(
      samples
        .filter((sample) => sample.name === 'duxsoup_http_requests_total')
        .map((sample) => sample.labels.route),
    );
    for (const route of routes) expect(route === 'unmatched' || /^\/[\w/:.-]*$/.test(route!)).toBe(true);
    expect(text).not.toContain(personId);
    expect(text).not.toContain('18619978');
    expect(text).not.toContain('no-such-route');
  });

  it('reports unfinished observations by kind and status, and the dead-letter backlog, as the database has them', async () => {
    const { rows } = await db.pool.query<{ kind: string; status: string; n: number }>(
      `SELECT kind, status, count(*)::int AS n FROM observations WHERE status IN ('pending', 'dead')
        GROUP BY kind, status`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect([
        row.kind,
        row.status,
        valueOf(samples, 'duxsoup_observations', { kind: row.kind, status: row.status }),
      ]).toEqual([row.kind, row.status, row.n]);
    }
    expect(samples.filter((sample) => sample.name === 'duxsoup_observations')).toHaveLength(rows.length);
    expect(valueOf(samples, 'duxsoup_observations', { kind: 'visit', status: 'dead' })).toBe(1);
    expect(valueOf(samples, 'duxsoup_dead_letters', { state: 'pending' })).toBe(1);
    expect(valueOf(samples, 'duxsoup_dead_letters', { state: 'failed' })).toBe(0);
  });

  it('times Phase 2 by outcome and counts its paths', async () => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM observations WHERE status = 'processed' AND kind IN ('visit', 'scan')`,
    );
    const processed = rows[0]!.n;
    // Every new profile event ran Phase 2 once on the request path (the repeat of fixture 0 did not).
    expect(valueOf(samples, 'duxsoup_phase2_duration_seconds_count', { status: 'processed' })).toBe(
      processed,
    );
    expect(valueOf(samples, 'duxsoup_phase2_duration_seconds_count', { status: 'dead' })).toBe(1);
    const fast = valueOf(samples, 'duxsoup_phase2_paths_total', { path: 'fast' })!;
    const full = valueOf(samples, 'duxsoup_phase2_paths_total', { path: 'full' })!;
    expect(fast).toBeGreaterThan(0);
    expect(fast + full).toBe(processed);
  });

  it('flags the scheduler leader: this process, then another instance', async () => {
    expect(valueOf(samples, 'duxsoup_scheduler_leader')).toBe(1);
    expect(
      valueOf(samples, 'duxsoup_scheduler_leader_info', {
        instance_id: `${os.hostname()}:${process.pid}:a1b2c3`,
      }),
    ).toBe(1);
    expect(valueOf(samples, 'duxsoup_scheduler_leader_heartbeat_age_seconds')).toBeGreaterThanOrEqual(0);
    await db.pool.query(`UPDATE scheduler_leader SET instance_id = 'elsewhere:1:ffffff'`);
    const later = await scrape(service.app);
    expect(valueOf(later, 'duxsoup_scheduler_leader')).toBe(0);
    expect(valueOf(later, 'duxsoup_scheduler_leader_info', { instance_id: 'elsewhere:1:ffffff' })).toBe(1);
    await db.pool.query('DELETE FROM scheduler_leader');
    const none = await scrape(service.app);
    expect(valueOf(none, 'duxsoup_scheduler_leader')).toBe(0);
    expect(none.some((sample) => sample.name === 'duxsoup_scheduler_leader_info')).toBe(false);
  });

  it('includes the process figures', () => {
    expect(valueOf(samples, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(valueOf(samples, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts counters forward across scrapes', async () => {
    const before = await scrape(service.app);
    await request(service.app).post('/api/webhook').send(distinctVisit(2));
    const after = await scrape(service.app);
    const labels = { method: 'POST', route: '/api/webhook', status_class: '2xx' };
    expect(valueOf(after, 'duxsoup_http_requests_total', labels)).toBe(
      valueOf(before, 'duxsoup_http_requests_total', labels)! + 1,
    );
    const paths = (samples: Sample[]) =>
      valueOf(samples, 'duxsoup_phase2_paths_total', { path: 'fast' })! +
      valueOf(samples, 'duxsoup_phase2_paths_total', { path: 'full' })!;
    expect(paths(after)).toBe(paths(before) + 1);
  });
});

describe('observation gauges at scale', () => {
  let own: TestDatabase;
  let app: Express;
  let seq = 0;

  /** `count` observations of one kind and status, written as the intake writes them (one row each). */
  async function store(kind: string, status: string, count: number): Promise<void> {
    await own.pool.query(
      `INSERT INTO observations (source, kind, event, event_key, payload, status)
       SELECT 'duxsoup', $1, 'create', $2 || '-' || g, '{}'::jsonb, $3 FROM generate_series(1, $4::int) AS g`,
      [kind, `gauge-${++seq}`, status, count],
    );
  }

  async function unfinished(): Promise<Record<string, number>> {
    const samples = await scrape(app);
    return Object.fromEntries(
      samples
        .filter((sample) => sample.name === 'duxsoup_observations')
        .map((sample) => [`${sample.labels.kind}/${sample.labels.status}`, sample.value]),
    );
  }

  beforeAll(async () => {
    own = await createTestDatabase();
    app = buildTestApp(own).app;
    await store('visit', 'processed', 3000);
    await store('scan', 'processed', 800);
    await store('visit', 'skipped', 150);
    await store('rccommand', 'ignored', 90);
    await store('visit', 'pending', 7);
    await store('scan', 'pending', 2);
    await store('visit', 'dead', 3);
    await store('contact', 'dead', 1);
    await own.pool.query('ANALYZE observation_log, observation_state');
  });
  afterAll(() => own.drop());

  it('pending and dead are exact, by kind, and move with every write (they drive alerts)', async () => {
    expect(await unfinished()).toEqual({
      'visit/pending': 7,
      'scan/pending': 2,
      'visit/dead': 3,
      'contact/dead': 1,
    });

    // After ANALYZE, so statistics-based figures could not see these yet.
    await store('visit', 'pending', 1);
    await store('lead', 'pending', 1);
    await own.pool.query(
      `UPDATE observations SET status = 'dead' WHERE id = (SELECT min(id) FROM observations WHERE kind = 'scan' AND status = 'pending')`,
    );
    await own.pool.query(
      `UPDATE observations SET status = 'processed' WHERE kind = 'contact' AND status = 'dead'`,
    );
    expect(await unfinished()).toEqual({
      'visit/pending': 8,
      'scan/pending': 1,
      'scan/dead': 1,
      'lead/pending': 1,
      'visit/dead': 3,
    });

    await own.pool.query(`UPDATE observations SET status = 'processed' WHERE status IN ('pending', 'dead')`);
    expect(await unfinished()).toEqual({});
  });

  it('reads observations and dead letters only through their partial indexes, never a whole table', async () => {
    const client = await own.pool.connect();
    try {
      // Plan as on a large table, where reading every row would never be the cheap way to find a few.
      await client.query('SET enable_seqscan = off');
      for (const [figure, sql] of Object.entries(FIGURE_QUERIES)) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
        const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
        const indexes = [
          ...plan.matchAll(/(?:Index Scan|Index Only Scan) using (\w+)|Bitmap Index Scan on (\w+)/g),
        ]
          .map((match) => match[1] ?? match[2]!)
          .filter((index) => /^(observations|observation_state|dead_letters)_/.test(index));
        expect([figure, /Seq Scan on (observation_log|observation_state|dead_letters)\b/.test(plan)]).toEqual(
          [figure, false],
        );
        // The log's primary key only as one probe per unfinished row (for its kind), never scanned whole.
        const probes = plan.match(
          /using observations_pkey on observation_log \w+ .*\n\s+Index Cond: \(id = s\.id\)/g,
        );
        const allowed = [...PARTIAL_INDEXES, ...(probes ? ['observations_pkey'] : [])];
        expect([figure, indexes.filter((index) => !allowed.includes(index))]).toEqual([figure, []]);
        expect([figure, indexes.filter((index) => index === 'observations_pkey').length]).toEqual([
          figure,
          probes?.length ?? 0,
        ]);
      }
    } finally {
      client.release();
    }
  });

  it('reports the total as an estimate, labelled as one', async () => {
    await own.pool.query('ANALYZE observation_log, observation_state');
    const { rows } = await own.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM observations');
    const res = await request(app).get('/metrics');
    expect(res.text).toMatch(/^# HELP duxsoup_observations_estimated Observations stored.*ESTIMATE/m);
    // ANALYZE read every row of a table this small: the estimate is the count.
    expect(valueOf(parseExposition(res.text), 'duxsoup_observations_estimated')).toBe(rows[0]!.n);
  });
});

describe('database figures are time-bounded', () => {
  it('a figure whose query cannot finish is left out and counted; the scrape still answers', async () => {
    const app = buildTestApp(db).app;
    const blocker = await db.pool.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE dead_letters IN ACCESS EXCLUSIVE MODE');
      const samples = await scrape(app);
      expect(valueOf(samples, 'duxsoup_metrics_collect_errors_total', { collector: 'dead_letters' })).toBe(1);
      expect(samples.some((sample) => sample.name === 'duxsoup_dead_letters')).toBe(false);
      expect(valueOf(samples, 'duxsoup_observations', { kind: 'visit', status: 'dead' })).toBe(1);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const recovered = await scrape(app);
    expect(valueOf(recovered, 'duxsoup_dead_letters', { state: 'pending' })).toBe(1);
  });

  it('without a database the scrape answers with the request and process figures only', async () => {
    const offline = buildTestApp(null);
    await request(offline.app).get('/health');
    const samples = await scrape(offline.app);
    expect(
      valueOf(samples, 'duxsoup_http_requests_total', {
        method: 'GET',
        route: '/health',
        status_class: '2xx',
      }),
    ).toBe(1);
    expect(samples.some((sample) => sample.name === 'duxsoup_observations')).toBe(false);
    expect(samples.some((sample) => sample.name === 'duxsoup_metrics_collect_errors_total')).toBe(false);
  });
});

describe('each app has its own registry', () => {
  it('two apps in one process count their own requests', async () => {
    const first = buildTestApp(db);
    const second = buildTestApp(db);
    await request(first.app).get('/health');
    await request(first.app).get('/health');
    await request(second.app).get('/health');
    const labels = { method: 'GET', route: '/health', status_class: '2xx' };
    expect(valueOf(await scrape(first.app), 'duxsoup_http_requests_total', labels)).toBe(2);
    expect(valueOf(await scrape(second.app), 'duxsoup_http_requests_total', labels)).toBe(1);
  });
});

describe('who may scrape', () => {
  it('is open in development when neither METRICS_TOKEN nor API_KEYS is set', async () => {
    expect((await request(buildTestApp(db).app).get('/metrics')).status).toBe(200);
  });

  it('takes METRICS_TOKEN or any API key, as Bearer or X-API-Key, and nothing else', async () => {
    const { app } = buildTestApp(db, { METRICS_TOKEN, API_KEYS: API_KEY });
    const status = async (headers: Record<string, string>) => {
      let pending = request(app).get('/metrics');
      for (const [name, value] of Object.entries(headers)) pending = pending.set(name, value);
      const res = await pending;
      return [res.status, res.body?.error];
    };
    expect(await status({ Authorization: `Bearer ${METRICS_TOKEN}` })).toEqual([200, undefined]);
    expect(await status({ 'X-API-Key': API_KEY })).toEqual([200, undefined]);
    expect(await status({ Authorization: `Bearer ${API_KEY}` })).toEqual([200, undefined]);
    expect(await status({})).toEqual([401, 'UNAUTHORIZED']);
    expect(await status({ Authorization: 'Bearer wrong' })).toEqual([401, 'UNAUTHORIZED']);
    expect(await status({ Authorization: `Basic ${METRICS_TOKEN}` })).toEqual([401, 'UNAUTHORIZED']);
  });

  it('takes METRICS_TOKEN alone when no API key is configured', async () => {
    const { app } = buildTestApp(db, { METRICS_TOKEN, NODE_ENV: 'production' });
    expect((await request(app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`)).status).toBe(
      200,
    );
    expect((await request(app).get('/metrics')).status).toBe(401);
  });

  it('answers 403 AUTH_NOT_CONFIGURED in production until one is set', async () => {
    const res = await request(buildTestApp(db, { NODE_ENV: 'production' }).app).get('/metrics');
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ success: false, error: 'AUTH_NOT_CONFIGURED' });
  });
});
