import request from 'supertest';
import type { Pool } from '../src/db';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const SECRET = 'admin-secret-for-tests';
let db: TestDatabase;
let app: ReturnType<typeof buildTestApp>['app'];

/** Person writes fail for the first names listed in `failure_switch` (a real trigger, a real error). */
async function installFailureSwitch(pool: Pool): Promise<void> {
  await pool.query(`
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
}

beforeAll(async () => {
  db = await createTestDatabase();
  await installFailureSwitch(db.pool);
  app = buildTestApp(db, { ADMIN_SECRET: SECRET, ADMIN_RATE_LIMIT: '0' }, { phase2: true }).app;
});
afterAll(() => db.drop());

let seed = 0;
async function webhook(
  body: object,
): Promise<{ observation_id: number; status?: string; person_id?: string }> {
  const res = await request(app).post('/api/webhook').send(body);
  expect(res.status).toBe(200);
  return res.body;
}

async function deadVisit(): Promise<{ observationId: number; firstName: string }> {
  const visit = distinctVisit(++seed) as { data: Record<string, unknown> };
  const firstName = `Explodes${seed}`;
  visit.data['First Name'] = firstName;
  await db.pool.query('INSERT INTO failure_switch (first_name) VALUES ($1)', [firstName]);
  const answer = await webhook(visit);
  expect(answer.status).toBe('dead');
  return { observationId: answer.observation_id, firstName };
}

const replay = (id: number | string) =>
  request(app).post(`/api/admin/replay/${id}`).set('X-Admin-Secret', SECRET);

describe('POST /api/admin/replay/:observationId', () => {
  it('replays a dead observation once fixed: 200, the person, company and location, the dead letter resolved', async () => {
    const { observationId, firstName } = await deadVisit();

    const stillFailing = await replay(observationId);
    expect(stillFailing.status).toBe(200);
    expect(stillFailing.body).toMatchObject({
      success: true,
      observation_id: observationId,
      previous_status: 'dead',
      result: { processed: false, status: 'dead' },
      dead_letter: { status: 'pending', attempts: 2, permanent: false },
    });
    expect(stillFailing.body.dead_letter.error).toMatch(/simulated failure/);

    await db.pool.query('DELETE FROM failure_switch WHERE first_name = $1', [firstName]);
    const res = await replay(observationId);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      previous_status: 'dead',
      result: { processed: true, status: 'processed', people_upsert: 'created' },
      dead_letter: { status: 'resolved', attempts: 3, error: null, next_attempt_at: null },
    });
    expect(res.body.result.company_id).toEqual(expect.any(String));
    expect(res.body.result.location_id).toEqual(expect.any(String));
    const { rows } = await db.pool.query('SELECT full_name FROM persons WHERE id = $1', [
      res.body.result.person_id,
    ]);
    expect(rows[0].full_name).toContain(firstName);
  });

  it('a processed observation is reported as it is, without applying Phase 2 twice', async () => {
    const answer = await webhook(distinctVisit(++seed));
    const before = await db.pool.query('SELECT observations_count FROM persons WHERE id = $1', [
      answer.person_id,
    ]);
    const res = await replay(answer.observation_id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      previous_status: 'processed',
      result: { processed: true, status: 'processed', person_id: answer.person_id },
      dead_letter: null,
    });
    const after = await db.pool.query('SELECT observations_count FROM persons WHERE id = $1', [
      answer.person_id,
    ]);
    expect(after.rows[0].observations_count).toBe(before.rows[0].observations_count);
  });

  it('a pending observation (Phase 2 deferred) is processed', async () => {
    const deferred = buildTestApp(db).app;
    const stored = await request(deferred).post('/api/webhook').send(distinctVisit(++seed));
    expect(stored.body.processed).toBe(false);
    const res = await replay(stored.body.observation_id as number);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ previous_status: 'pending', result: { status: 'processed' } });
  });

  it('422 NO_IDENTITY when the observation has no usable identifier (and it stays skipped)', async () => {
    const answer = await webhook({
      userid: 'admin-tests',
      type: 'visit',
      event: 'create',
      time: new Date().toISOString(),
      data: { VisitTime: Date.now(), 'First Name': 'Nobody', Company: 'Nowhere Inc' },
    });
    expect(answer.status).toBe('skipped');
    const res = await replay(answer.observation_id);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ success: false, error: 'NO_IDENTITY' });
    const { rows } = await db.pool.query('SELECT status FROM observations WHERE id = $1', [
      answer.observation_id,
    ]);
    expect(rows[0].status).toBe('skipped');
  });

  it('422 NOT_REPLAYABLE for an event that is not a profile event', async () => {
    const answer = await webhook({
      userid: 'admin-tests',
      type: 'message',
      event: 'create',
      time: new Date().toISOString(),
      data: { id: `msg-${Date.now()}`, Text: 'hello' },
    });
    const res = await replay(answer.observation_id);
    expect(res.status).toBe(422);
    expect(res.body.error).toBe('NOT_REPLAYABLE');
  });

  it('409 REPLAY_IN_PROGRESS while another processor holds the observation', async () => {
    const { observationId } = await deadVisit();
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM observations WHERE id = $1 FOR UPDATE', [observationId]);
      const res = await replay(observationId);
      expect(res.status).toBe(409);
      expect(res.body.error).toBe('REPLAY_IN_PROGRESS');
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
  });

  it('404 NOT_FOUND for an unknown observation', async () => {
    const res = await replay(987_654_321);
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('NOT_FOUND');
  });

  it.each(['abc', '1.5', '-3', '0', '12abc', '99999999999999999999'])('400 for the id %s', async (id) => {
    const res = await replay(id);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('INVALID_REQUEST');
  });
});

describe('admin authentication', () => {
  it('401 without the secret or with a wrong one', async () => {
    expect((await request(app).post('/api/admin/replay/1')).status).toBe(401);
    const wrong = await request(app).post('/api/admin/replay/1').set('X-Admin-Secret', 'nope');
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('UNAUTHORIZED');
    expect((await request(app).post('/api/admin/replay/1').set('Authorization', 'Bearer nope')).status).toBe(
      401,
    );
    expect((await request(app).post('/api/admin/replay/1?secret=nope')).status).toBe(401);
  });

  it('accepts the secret as X-Admin-Secret, Bearer token or ?secret=', async () => {
    expect(
      (await request(app).post('/api/admin/replay/987654321').set('X-Admin-Secret', SECRET)).status,
    ).toBe(404);
    expect(
      (await request(app).post('/api/admin/replay/987654321').set('Authorization', `Bearer ${SECRET}`))
        .status,
    ).toBe(404);
    expect((await request(app).post(`/api/admin/replay/987654321?secret=${SECRET}`)).status).toBe(404);
  });

  it('falls back to WEBHOOK_SECRET when ADMIN_SECRET is not set', async () => {
    const fallback = buildTestApp(db, { WEBHOOK_SECRET: 'hook-secret' }).app;
    expect((await request(fallback).post('/api/admin/replay/987654321')).status).toBe(401);
    const res = await request(fallback)
      .post('/api/admin/replay/987654321')
      .set('X-Admin-Secret', 'hook-secret');
    expect(res.status).toBe(404);
    // ADMIN_SECRET, once set, is the only admin secret.
    const both = buildTestApp(db, { WEBHOOK_SECRET: 'hook-secret', ADMIN_SECRET: SECRET }).app;
    expect(
      (await request(both).post('/api/admin/replay/1').set('X-Admin-Secret', 'hook-secret')).status,
    ).toBe(401);
  });

  it('with no secret at all: 403 AUTH_NOT_CONFIGURED in production, open in development', async () => {
    const production = buildTestApp(db, { NODE_ENV: 'production' }).app;
    const closed = await request(production).post('/api/admin/replay/987654321');
    expect(closed.status).toBe(403);
    expect(closed.body.error).toBe('AUTH_NOT_CONFIGURED');
    const development = buildTestApp(db, { NODE_ENV: 'development' }).app;
    expect((await request(development).post('/api/admin/replay/987654321')).status).toBe(404);
  });

  it('limits each client to ADMIN_RATE_LIMIT requests a minute (10 by default), failed attempts included', async () => {
    const limited = buildTestApp(db, { ADMIN_SECRET: SECRET }).app;
    const statuses: number[] = [];
    for (let i = 0; i < 10; i += 1) {
      const attempt = request(limited).post('/api/admin/replay/987654321');
      statuses.push((await (i % 2 === 0 ? attempt.set('X-Admin-Secret', SECRET) : attempt)).status);
    }
    expect(statuses).toEqual([404, 401, 404, 401, 404, 401, 404, 401, 404, 401]);
    const over = await request(limited).post('/api/admin/replay/987654321').set('X-Admin-Secret', SECRET);
    expect(over.status).toBe(429);
    expect(over.body.error).toBe('RATE_LIMITED');
  });

  it('503 while the database is not ready', async () => {
    const starting = buildTestApp(null, { ADMIN_SECRET: SECRET }).app;
    const res = await request(starting).post('/api/admin/replay/1').set('X-Admin-Secret', SECRET);
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('DATABASE_UNAVAILABLE');
  });
});
