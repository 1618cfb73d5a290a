import type { Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../src/config';
import type { Pool } from '../src/db/pool';
import { createPool } from '../src/db/pool';
import type { ExportSettings } from '../src/exports';
import {
  claimNextExport,
  cleanupExpiredExports,
  drainExports,
  runClaimedExport,
  runExportJobOnce,
  startExportWorker,
} from '../src/exports';
import { completeExport, storeChunk } from '../src/exports/jobs';
import { createLogger } from '../src/logger';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const PEOPLE = 12;

let db: TestDatabase;
let app: Express;
const extraPools: Pool[] = [];

function settings(overrides: Partial<ExportSettings> = {}): ExportSettings {
  return {
    ttlMs: 24 * 3_600_000,
    maxRows: 1_000_000,
    staleAfterMs: 60_000,
    maxAttempts: 3,
    chunkBytes: 1024 * 1024,
    fetchRows: 1000,
    workerId: 'export-worker-test',
    ...overrides,
  };
}

/** Another connection pool on the test database: what a second instance (or process) would have. */
function otherPool(): Pool {
  const pool = createPool({
    connectionString: db.url,
    max: 4,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
  });
  extraPools.push(pool);
  return pool;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function createJob(body: object = {}, target: Express = app): Promise<string> {
  const res = await request(target).post('/api/export/people/csv').send(body);
  expect(res.status).toBe(202);
  return res.body.jobId as string;
}

async function status(jobId: string): Promise<Record<string, unknown>> {
  return (await request(app).get(`/api/export/status/${jobId}`)).body as Record<string, unknown>;
}

async function downloadText(jobId: string): Promise<{ status: number; text: string }> {
  const res = await request(app).get(`/api/export/download/${jobId}`).buffer(true);
  return { status: res.status, text: res.text };
}

async function chunkAttempts(jobId: string): Promise<number[]> {
  const { rows } = await db.pool.query<{ attempt: number }>(
    'SELECT DISTINCT attempt FROM export_chunks WHERE job_id = $1 ORDER BY attempt',
    [jobId],
  );
  return rows.map((row) => row.attempt);
}

/** The file a job produces when nothing goes wrong, for the same request. */
let reference: string;
const BODY = { fields: ['id', 'fullName', 'currentTitle', 'lastObservedAt'], bom: true };

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, { READ_RATE_LIMIT: '0', EXPORT_MAX_ACTIVE_PER_KEY: '0' }, { phase2: true }).app;
  for (let seed = 1; seed <= PEOPLE; seed += 1) {
    const payload = distinctVisit(7200 + seed) as { data: Record<string, unknown> };
    const res = await request(app)
      .post('/api/webhook')
      .send({ ...payload, data: { ...payload.data, Email: '', 'Last Name': `Tester, №${seed}` } });
    expect(res.status).toBe(200);
  }
  const jobId = await createJob(BODY);
  await drainExports(db.pool, settings());
  const file = await downloadText(jobId);
  expect(file.status).toBe(200);
  reference = file.text;
  expect(reference.split('\n')).toHaveLength(PEOPLE + 2); // header, rows, final newline
});
afterAll(async () => {
  await Promise.all(extraPools.map((pool) => pool.end().catch(() => undefined)));
  await db.drop();
});

describe('streaming', () => {
  it('gives the same file whatever the batch and chunk sizes', async () => {
    const jobId = await createJob(BODY);
    const [run] = await drainExports(db.pool, settings({ fetchRows: 2, chunkBytes: 100 }));
    expect(run).toMatchObject({ jobId, outcome: 'completed', rows: PEOPLE });
    const { rows } = await db.pool.query<{ seq: number; size: number }>(
      'SELECT seq, length(data) AS size FROM export_chunks WHERE job_id = $1 ORDER BY seq',
      [jobId],
    );
    expect(rows.length).toBeGreaterThan(3);
    expect(rows.map((row) => row.seq)).toEqual(rows.map((_row, index) => index));
    expect((await downloadText(jobId)).text).toBe(reference);
    expect(await status(jobId)).toMatchObject({ rowsDone: PEOPLE, rowsTotal: PEOPLE });
  });
});

describe('several workers', () => {
  it('two workers racing for one job: exactly one produces it', async () => {
    const jobId = await createJob(BODY);
    const runs = await Promise.all([
      runExportJobOnce(otherPool(), settings({ workerId: 'A' })),
      runExportJobOnce(otherPool(), settings({ workerId: 'B' })),
    ]);
    const produced = runs.filter((run) => run !== null);
    expect(produced).toEqual([{ jobId, attempt: 1, outcome: 'completed', rows: PEOPLE }]);
    expect(await chunkAttempts(jobId)).toEqual([1]);
    expect((await downloadText(jobId)).text).toBe(reference);
  });

  it('two instances draining a queue share it out, each job produced exactly once', async () => {
    const jobIds: string[] = [];
    for (let i = 0; i < 8; i += 1) jobIds.push(await createJob(BODY));
    const [a, b] = await Promise.all([
      drainExports(otherPool(), settings({ workerId: 'A' })),
      drainExports(otherPool(), settings({ workerId: 'B' })),
    ]);
    const runs = [...a, ...b];
    expect(runs.map((run) => run.jobId).sort()).toEqual([...jobIds].sort());
    expect(runs.every((run) => run.attempt === 1 && run.outcome === 'completed')).toBe(true);
    for (const jobId of jobIds) expect((await downloadText(jobId)).text).toBe(reference);
  });
});

describe('a worker that dies', () => {
  it('leaves its job to be reclaimed once its heartbeat is stale; its late writes are refused', async () => {
    const jobId = await createJob(BODY);
    const doomedPool = otherPool();
    const doomed = await claimNextExport(doomedPool, settings({ workerId: 'doomed' }));
    expect(doomed?.job.id).toBe(jobId);
    const partial = { rowsDone: 3, sizeBytes: 7, chunkCount: 1 };
    expect(await storeChunk(doomedPool, doomed!, 0, Buffer.from('partial'), partial)).toBe(true);
    await doomedPool.end(); // the worker's process is gone: no more heartbeats
    expect(await status(jobId)).toMatchObject({ status: 'processing', rowsDone: 3 });

    // While the heartbeat is recent, nobody else takes the job.
    expect(await runExportJobOnce(db.pool, settings({ staleAfterMs: 60_000 }))).toBeNull();
    await sleep(400);
    const run = await runExportJobOnce(db.pool, settings({ staleAfterMs: 300, workerId: 'rescuer' }));
    expect(run).toEqual({ jobId, attempt: 2, outcome: 'completed', rows: PEOPLE });
    expect((await downloadText(jobId)).text).toBe(reference);
    expect(await chunkAttempts(jobId)).toEqual([2]);

    // The presumed-dead worker comes back: it can neither add to nor complete the job any more.
    expect(await storeChunk(db.pool, doomed!, 1, Buffer.from('late'), partial)).toBe(false);
    expect(await completeExport(db.pool, doomed!, partial, 60_000)).toBe(false);
    expect((await downloadText(jobId)).text).toBe(reference);
    expect(await status(jobId)).toMatchObject({ status: 'completed', rowsDone: PEOPLE });
  });

  it('fails a job whose workers keep dying on it, after maxAttempts claims', async () => {
    const jobId = await createJob(BODY);
    const fast = settings({ staleAfterMs: 200, maxAttempts: 2 });
    expect((await claimNextExport(db.pool, fast))?.job).toMatchObject({ id: jobId, attempt: 1 });
    await sleep(300);
    expect((await claimNextExport(db.pool, fast))?.job).toMatchObject({ id: jobId, attempt: 2 });
    await sleep(300);
    expect(await runExportJobOnce(db.pool, fast)).toBeNull();
    const failed = await status(jobId);
    expect(failed).toMatchObject({ status: 'failed' });
    expect(failed.error).toMatch(/abandoned 2 times/);
    const res = await request(app).get(`/api/export/download/${jobId}`);
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('EXPORT_FAILED');
  });

  it('hands its job back to the queue when its instance stops', async () => {
    const jobId = await createJob(BODY);
    const claim = await claimNextExport(db.pool, settings());
    const stopping = new AbortController();
    stopping.abort();
    const run = await runClaimedExport(db.pool, claim!, settings(), { signal: stopping.signal });
    expect(run).toMatchObject({ jobId, outcome: 'released' });
    expect(await status(jobId)).toMatchObject({ status: 'pending', rowsDone: 0 });
    expect(await chunkAttempts(jobId)).toEqual([]);
    expect(await runExportJobOnce(db.pool, settings())).toMatchObject({
      jobId,
      attempt: 2,
      outcome: 'completed',
    });
    expect((await downloadText(jobId)).text).toBe(reference);
  });
});

describe('expiry', () => {
  it('stops serving an expired export at once and the cleanup deletes it with its chunks', async () => {
    const keeper = await createJob(BODY);
    await drainExports(db.pool, settings());
    const jobId = await createJob(BODY);
    await drainExports(db.pool, settings({ ttlMs: 1500, chunkBytes: 100, fetchRows: 2 }));
    expect((await downloadText(jobId)).text).toBe(reference);
    const { rows: before } = await db.pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM export_chunks WHERE job_id = $1',
      [jobId],
    );
    expect(before[0]!.n).toBeGreaterThan(1);

    await sleep(1600);
    for (const path of [`/api/export/status/${jobId}`, `/api/export/download/${jobId}`]) {
      const res = await request(app).get(path);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe('EXPORT_NOT_FOUND');
    }
    const removed = await cleanupExpiredExports(db.pool);
    expect(removed.jobs).toBeGreaterThanOrEqual(1);
    expect(removed.chunks).toBeGreaterThanOrEqual(before[0]!.n);
    const left = await db.pool.query(
      'SELECT 1 FROM export_jobs WHERE id = $1 UNION ALL SELECT 1 FROM export_chunks WHERE job_id = $1',
      [jobId],
    );
    expect(left.rowCount).toBe(0);
    expect((await downloadText(keeper)).text).toBe(reference);
  });

  it('never produces a job that expired while it waited', async () => {
    const shortLived = buildTestApp(db, { READ_RATE_LIMIT: '0', EXPORT_TTL_HOURS: '0.0001' }).app; // 0.36 s
    const jobId = await createJob(BODY, shortLived);
    await sleep(500);
    expect(await runExportJobOnce(db.pool, settings())).toBeNull();
    expect((await cleanupExpiredExports(db.pool)).jobs).toBe(1);
    const { rowCount } = await db.pool.query('SELECT 1 FROM export_jobs WHERE id = $1', [jobId]);
    expect(rowCount).toBe(0);
  });
});

describe('the background worker', () => {
  it('produces queued exports on its own and stops cleanly', async () => {
    const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', EXPORT_WORKER_INTERVAL_MS: '50' });
    const stop = startExportWorker(otherPool(), config, createLogger(config));
    try {
      const jobId = await createJob(BODY);
      let current = await status(jobId);
      for (let polls = 0; current.status !== 'completed' && polls < 200; polls += 1) {
        await sleep(50);
        current = await status(jobId);
      }
      expect(current.status).toBe('completed');
      expect((await downloadText(jobId)).text).toBe(reference);
    } finally {
      await stop();
    }
  });
});
