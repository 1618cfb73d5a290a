import { Buffer } from 'node:buffer';
import request from 'supertest';
import type { RunRecord } from '../src/sources/hubspot';
import { loadRun } from '../src/sources/hubspot';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn } from './helpers/hubspot-standin';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(120_000);

const PAGE_SIZE = 10;
const CONTACTS = 45;
/** Long enough that a drain which waited for the slow page would be obvious. */
const SLOW_PAGE_MS = 30_000;
const LIST_ROUTE = 'GET /crm/v3/objects/contacts';

let db: TestDatabase;
let standIn: HubspotStandIn;
let contactIds: string[];

beforeAll(async () => {
  standIn = await startHubspotStandIn({ seed: 13, limits: { tenSecondly: null, searchSecondly: null } });
});

afterAll(async () => {
  await standIn.close();
});

beforeEach(async () => {
  standIn.reset();
  contactIds = standIn.generate({ contacts: CONTACTS }).contacts;
  // The first listing's third page hangs: two pages are saved, the third is in flight when the stop comes.
  standIn.fault({ route: LIST_ROUTE, skip: 2, count: 1, response: 'slow', delayMs: SLOW_PAGE_MS });
  db = await createTestDatabase();
});

afterEach(async () => {
  await db.drop();
});

function hubspotEnv(): Record<string, string> {
  return {
    HUBSPOT_TOKEN: standIn.token,
    HUBSPOT_BASE_URL: standIn.baseUrl,
    HUBSPOT_PAGE_SIZE: String(PAGE_SIZE),
    ADMIN_RATE_LIMIT: '0',
  };
}

async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The run once it has saved `pages` pages (its counts are saved with each page). */
function savedPages(runId: number, pages: number): Promise<RunRecord> {
  return until(`run ${runId} to save ${pages} pages`, async () => {
    const run = await loadRun(db.pool, runId);
    return run && (run.counts.pages ?? 0) >= pages ? run : null;
  });
}

async function checkpoint() {
  const { rows } = await db.pool.query<{ phase: string; list_after: string | null }>(
    `SELECT phase, list_after FROM hubspot_sync_checkpoints WHERE job = 'contacts'`,
  );
  return rows[0] ?? null;
}

async function mirrored(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM hubspot_contacts');
  return rows[0]!.n;
}

/** The listing cursor after the contact at `index` (the stand-in's cursor is the last id, base64url). */
const cursorAfter = (index: number) => Buffer.from(contactIds[index]!).toString('base64url');

/** A run started afresh (a new instance) resumes at the checkpoint and finishes the listing. */
async function expectResumedFrom(cursor: string): Promise<void> {
  standIn.clearRequests();
  const { app } = buildTestApp(db, hubspotEnv());
  const started = await request(app).post('/etl/hubspot/contacts');
  expect(started.status).toBe(202);
  const finished = await until('the resumed run', async () => {
    const run = await loadRun(db.pool, started.body.runId as number);
    return run?.finishedAt ? run : null;
  });
  expect(finished).toMatchObject({ outcome: 'success', error: null });
  const listed = standIn.requestsTo(LIST_ROUTE).map((entry) => entry.query.after?.[0] ?? null);
  expect(listed[0]).toBe(cursor);
  expect(listed).not.toContain(null);
  expect(await mirrored()).toBe(CONTACTS);
}

describe('HubSpot runs started over HTTP, on shutdown', () => {
  it('the drain refuses new triggers (503 SHUTTING_DOWN), stops the run at a page boundary and records it interrupted; the next run resumes', async () => {
    const { app, context } = buildTestApp(db, hubspotEnv());
    const started = await request(app).post('/etl/hubspot/contacts');
    expect(started.status).toBe(202);
    const runId = started.body.runId as number;
    await savedPages(runId, 2);
    expect(context.hubspotRuns?.size).toBe(1);

    const drainStarted = Date.now();
    const draining = context.hubspotRuns!.drain(10_000);
    const refused = await request(app).post('/etl/hubspot/deals');
    expect(refused.status).toBe(503);
    expect(refused.body).toMatchObject({ success: false, error: 'SHUTTING_DOWN' });
    expect(refused.headers['retry-after']).toBeDefined();
    const report = await draining;
    expect(Date.now() - drainStarted).toBeLessThan(SLOW_PAGE_MS / 3);
    expect(report).toEqual({ runIds: [runId], unfinished: [] });
    expect(context.hubspotRuns?.size).toBe(0);
    // A second drain is the same drain.
    expect(await context.hubspotRuns!.drain(10_000)).toEqual(report);

    const run = await loadRun(db.pool, runId);
    expect(run).toMatchObject({
      outcome: 'interrupted',
      error: expect.stringMatching(/^interrupted: the service is shutting down/),
      counts: { pages: 2, records: 2 * PAGE_SIZE },
    });
    expect(run!.finishedAt).not.toBeNull();
    // Nothing of the page in flight was kept; the checkpoint is the last saved page.
    expect(await checkpoint()).toEqual({ phase: 'list', list_after: cursorAfter(2 * PAGE_SIZE - 1) });
    expect(await mirrored()).toBe(2 * PAGE_SIZE);
    const { rows } = await db.pool.query('SELECT 1 FROM hubspot_sync_runs WHERE outcome = $1', ['running']);
    expect(rows).toEqual([]);

    await expectResumedFrom(cursorAfter(2 * PAGE_SIZE - 1));
  });

  it('a run that does not stop within the time limit is recorded interrupted anyway, and the drain ends at the limit', async () => {
    // The first page's write waits on a row lock we hold: the run cannot see the stop until we let it go.
    await db.pool.query(`INSERT INTO hubspot_contacts (hubspot_id, raw) VALUES ($1, '{}')`, [contactIds[0]]);
    const blocker = await db.pool.connect();
    await blocker.query('BEGIN');
    await blocker.query('SELECT 1 FROM hubspot_contacts WHERE hubspot_id = $1 FOR UPDATE', [contactIds[0]]);
    try {
      const { app, context } = buildTestApp(db, hubspotEnv());
      const started = await request(app).post('/etl/hubspot/contacts');
      expect(started.status).toBe(202);
      const runId = started.body.runId as number;
      await until('the page write to wait on the lock', async () => {
        const { rows } = await db.pool.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        return rows.length > 0 ? true : null;
      });

      const drainStarted = Date.now();
      const report = await context.hubspotRuns!.drain(300);
      expect(Date.now() - drainStarted).toBeLessThan(3_000);
      expect(report).toEqual({ runIds: [runId], unfinished: [runId] });
      expect(await loadRun(db.pool, runId)).toMatchObject({
        outcome: 'interrupted',
        finishedAt: expect.any(String),
        error: expect.stringMatching(/did not stop within 300 ms/),
      });

      await blocker.query('ROLLBACK');
      // Let go, the run saves the page it was writing, sees the stop and records its own end.
      await until('the run to end', () => Promise.resolve(context.hubspotRuns!.size === 0 ? true : null));
      const run = await loadRun(db.pool, runId);
      expect(run).toMatchObject({ outcome: 'interrupted', counts: { pages: 1 } });
      expect(await checkpoint()).toEqual({ phase: 'list', list_after: cursorAfter(PAGE_SIZE - 1) });
    } finally {
      await blocker.query('ROLLBACK').catch(() => undefined);
      blocker.release();
    }
  });

  it('SIGTERM of the service process stops the run, records it interrupted and exits 0', async () => {
    const server = await startServerProcess({
      DATABASE_URL: db.url,
      ENABLE_SCHEDULER: 'false',
      SHUTDOWN_TIMEOUT_MS: '10000',
      ...hubspotEnv(),
    });
    const started = await fetch(`${server.baseUrl}/etl/hubspot/contacts`, { method: 'POST' });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: number };
    await savedPages(runId, 2);

    const stopAsked = Date.now();
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - stopAsked).toBeLessThan(SLOW_PAGE_MS / 3);
    expect(server.output()).toContain('hubspot runs stopped');

    const run = await loadRun(db.pool, runId);
    expect(run).toMatchObject({
      outcome: 'interrupted',
      trigger: 'http',
      error: expect.stringMatching(/shutting down/),
      counts: { pages: 2 },
    });
    expect(run!.finishedAt).not.toBeNull();
    expect(await checkpoint()).toEqual({ phase: 'list', list_after: cursorAfter(2 * PAGE_SIZE - 1) });

    await expectResumedFrom(cursorAfter(2 * PAGE_SIZE - 1));
  });
});
