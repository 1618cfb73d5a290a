import request from 'supertest';
import { appendObservations } from '../src/ingest/observation-writer';
import type { NewObservation } from '../src/ingest/observations';
import { rebuildFromLog } from '../src/rebuild';
import { buildTestApp, sendFixtures, testRebuildOptions } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, loadFixtures } from './helpers/fixtures';

jest.setTimeout(120_000);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
  const { app } = buildTestApp(db, {}, { phase2: true });
  await sendFixtures(app);
  // A repeat: stored once.
  await request(app)
    .post('/api/webhook')
    .set('content-type', 'application/json')
    .send(loadFixtures()[0]!.payload);
});
afterAll(() => db.drop());

/** Log rows without a state row, and state rows without a log row. */
async function unpaired(): Promise<{ log_only: number; state_only: number }> {
  const { rows } = await db.pool.query<{ log_only: number; state_only: number }>(
    `SELECT count(*) FILTER (WHERE s.id IS NULL)::int AS log_only, count(*) FILTER (WHERE l.id IS NULL)::int AS state_only
       FROM observation_log l FULL JOIN observation_state s ON s.id = l.id`,
  );
  return rows[0]!;
}

function newObservation(eventKey: string, status: NewObservation['status']): NewObservation {
  return {
    source: 'duxsoup',
    kind: status === 'ignored' ? 'rccommand' : 'visit',
    event: 'create',
    duxUserId: 'state-test',
    eventTime: new Date('2025-06-01T10:00:00Z'),
    eventKey,
    requestId: null,
    payload:
      status === 'ignored' ? { type: 'rccommand', data: {} } : { type: 'visit', data: distinctVisit() },
    rawBody: null,
    status,
  };
}

describe('the observation log and its state', () => {
  it('stores every observation with exactly one state row, whichever way it arrives', async () => {
    expect(await unpaired()).toEqual({ log_only: 0, state_only: 0 });
    const stored = await appendObservations(db.pool, [
      newObservation('state-test-1', 'pending'),
      newObservation('state-test-2', 'ignored'),
      newObservation('state-test-1', 'pending'), // repeated within the batch
    ]);
    expect(stored.map((row) => row.duplicate)).toEqual([false, false, true]);
    expect(stored[2]!.id).toBe(stored[0]!.id);
    const again = await appendObservations(db.pool, [newObservation('state-test-2', 'ignored')]);
    expect(again).toEqual([{ id: stored[1]!.id, duplicate: true }]);
    expect(await unpaired()).toEqual({ log_only: 0, state_only: 0 });
    const { rows } = await db.pool.query<{ id: number; status: string }>(
      'SELECT id, status FROM observations WHERE id = ANY($1) ORDER BY id',
      [[stored[0]!.id, stored[1]!.id]],
    );
    expect(rows.map((row) => row.status)).toEqual(['pending', 'ignored']);
  });

  it('is written through the observations view as through the table it replaced', async () => {
    const inserted = await db.pool.query<{ id: number; status: string; received_at: Date }>(
      `INSERT INTO observations (source, kind, event, event_key, payload)
       VALUES ('manual', 'visit', 'create', 'state-test-view', '{}') RETURNING id, status, received_at`,
    );
    const { id } = inserted.rows[0]!;
    expect(inserted.rows[0]).toMatchObject({ status: 'pending' });
    expect(inserted.rows[0]!.received_at).toBeInstanceOf(Date);

    await db.pool.query(
      `UPDATE observations SET status = 'dead', status_reason = 'test', received_at = '2025-01-01T00:00:00Z'
        WHERE id = $1`,
      [id],
    );
    const log = await db.pool.query('SELECT received_at FROM observation_log WHERE id = $1', [id]);
    const state = await db.pool.query('SELECT status, status_reason FROM observation_state WHERE id = $1', [
      id,
    ]);
    expect(log.rows[0].received_at.toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(state.rows[0]).toEqual({ status: 'dead', status_reason: 'test' });

    await expect(
      db.pool.query('UPDATE observations SET id = id + 1000000 WHERE id = $1', [id]),
    ).rejects.toThrow(/cannot change/);
    await db.pool.query('DELETE FROM observations WHERE id = $1', [id]);
    const left = await db.pool.query(
      `SELECT (SELECT count(*) FROM observation_log WHERE id = $1)::int AS log,
              (SELECT count(*) FROM observation_state WHERE id = $1)::int AS state`,
      [id],
    );
    expect(left.rows[0]).toEqual({ log: 0, state: 0 });
  });

  it('is rebuilt without rewriting a single row of the log, and ignored observations stay ignored', async () => {
    const before = await db.pool.query<{ id: number; version: string }>(
      'SELECT id, xmin::text AS version FROM observation_log ORDER BY id',
    );
    const ignoredBefore = await db.pool.query<{ id: number }>(
      `SELECT id FROM observation_state WHERE status = 'ignored' ORDER BY id`,
    );
    expect(ignoredBefore.rows.length).toBeGreaterThan(1);
    const summary = await rebuildFromLog(db.pool, testRebuildOptions(db, 5));
    expect(summary.observations).toBe(before.rows.length - ignoredBefore.rows.length);

    const after = await db.pool.query('SELECT id, xmin::text AS version FROM observation_log ORDER BY id');
    expect(after.rows).toEqual(before.rows);
    expect(await unpaired()).toEqual({ log_only: 0, state_only: 0 });
    const ignoredAfter = await db.pool.query(
      `SELECT id FROM observation_state WHERE status = 'ignored' ORDER BY id`,
    );
    expect(ignoredAfter.rows).toEqual(ignoredBefore.rows);
    const unfinished = await db.pool.query(
      `SELECT count(*)::int AS n FROM observation_state WHERE status NOT IN ('processed', 'skipped', 'ignored')`,
    );
    expect(unfinished.rows[0].n).toBe(0);
  });
});
