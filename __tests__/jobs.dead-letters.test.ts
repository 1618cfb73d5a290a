import request from 'supertest';
import type { Config } from '../src/config';
import { loadConfig } from '../src/config';
import type { Pool } from '../src/db';
import type { Phase2Result } from '../src/ingest/phase2';
import { phase2FromConfig } from '../src/ingest/phase2';
import {
  backoffSeconds,
  classifyFailure,
  deadLetterPolicyFromConfig,
  recordDeadLetter,
  replayDueDeadLetters,
} from '../src/jobs';
import type { DeadLetterPolicy, Phase2Runner } from '../src/jobs';
import { createLogger } from '../src/logger';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

/**
 * Real Phase 2 failures on demand: a trigger on `persons` raises (with the given SQLSTATE) whenever a person
 * whose first name is listed in `failure_switch` is written. Listing or unlisting a name turns it on or off.
 */
async function installFailureSwitch(pool: Pool): Promise<void> {
  await pool.query(`
    CREATE TABLE failure_switch (first_name text PRIMARY KEY, sqlstate text NOT NULL);
    CREATE FUNCTION fail_switched_person() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE v_state text;
      BEGIN
        SELECT sqlstate INTO v_state FROM failure_switch WHERE first_name = NEW.snapshot->>'firstName';
        IF v_state IS NOT NULL THEN
          RAISE EXCEPTION 'simulated failure writing %', NEW.snapshot->>'firstName' USING ERRCODE = v_state;
        END IF;
        RETURN NEW;
      END $$;
    CREATE TRIGGER fail_switched_person BEFORE INSERT OR UPDATE ON persons
      FOR EACH ROW EXECUTE FUNCTION fail_switched_person();
  `);
}

const ENV = {
  DEAD_LETTER_BACKOFF_BASE_SECONDS: '60',
  DEAD_LETTER_BACKOFF_CAP_SECONDS: '200',
  DEAD_LETTER_MAX_ATTEMPTS: '4',
};

let db: TestDatabase;
let config: Config;
let policy: DeadLetterPolicy;
let phase2: Phase2Runner;
let app: ReturnType<typeof buildTestApp>['app'];

beforeAll(async () => {
  db = await createTestDatabase();
  await installFailureSwitch(db.pool);
  config = loadConfig({ LOG_LEVEL: 'silent', ...ENV });
  policy = deadLetterPolicyFromConfig(config);
  phase2 = phase2FromConfig(db.pool, config, createLogger(config));
  app = buildTestApp(db, ENV, { phase2: true }).app;
});
afterAll(() => db.drop());

let seed = 0;
/** A visit whose writes fail with `sqlstate` (until fixed); answers its observation id. */
async function failingVisit(sqlstate = 'P0001'): Promise<{ observationId: number; firstName: string }> {
  const visit = distinctVisit(++seed) as { data: Record<string, unknown> };
  const firstName = `Explodes${seed}`;
  visit.data['First Name'] = firstName;
  await db.pool.query('INSERT INTO failure_switch (first_name, sqlstate) VALUES ($1, $2)', [
    firstName,
    sqlstate,
  ]);
  const res = await request(app).post('/api/webhook').send(visit);
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ processed: false, status: 'dead' });
  return { observationId: res.body.observation_id as number, firstName };
}

const fix = (firstName: string) =>
  db.pool.query('DELETE FROM failure_switch WHERE first_name = $1', [firstName]);

interface LetterRow {
  id: number;
  status: string;
  attempts: number;
  permanent: boolean;
  error: string;
  delay_seconds: number;
}

async function letterOf(observationId: number): Promise<LetterRow> {
  const { rows } = await db.pool.query<LetterRow>(
    `SELECT id, status, attempts, permanent, error,
            round(extract(epoch FROM next_attempt_at - last_attempt_at))::int AS delay_seconds
       FROM dead_letters WHERE observation_id = $1`,
    [observationId],
  );
  return rows[0]!;
}

/** As if the backoff had elapsed: the dead letters are due now (only their schedule moves). */
async function makeDue(observationIds: number[]): Promise<void> {
  await db.pool.query(
    `UPDATE dead_letters SET next_attempt_at = now() WHERE observation_id = ANY($1::bigint[])`,
    [observationIds],
  );
}

async function attemptsOf(
  observationId: number,
): Promise<{ attempt: number; outcome: string; permanent: boolean }[]> {
  const { rows } = await db.pool.query(
    `SELECT a.attempt, a.outcome, a.permanent FROM dead_letter_attempts a
       JOIN dead_letters d ON d.id = a.dead_letter_id WHERE d.observation_id = $1 ORDER BY a.id`,
    [observationId],
  );
  return rows;
}

/** Replays only the given observations' dead letters (others in this database are pushed out of the way). */
async function replayOnly(observationIds: number[], runner: Phase2Runner = phase2) {
  await makeDue(observationIds);
  await db.pool.query(
    `UPDATE dead_letters SET next_attempt_at = now() + interval '1 day'
      WHERE status = 'pending' AND NOT (observation_id = ANY($1::bigint[]))`,
    [observationIds],
  );
  return replayDueDeadLetters(db.pool, runner, policy, { limit: 1000 });
}

describe('dead-letter replay', () => {
  it('records a failure with backoff, retries with growing backoff, and resolves once fixed (person, company, location)', async () => {
    const { observationId, firstName } = await failingVisit();
    expect(await letterOf(observationId)).toMatchObject({
      status: 'pending',
      attempts: 1,
      permanent: false,
      delay_seconds: 60,
    });
    expect((await letterOf(observationId)).error).toMatch(/simulated failure/);

    expect(await replayOnly([observationId])).toMatchObject({ claimed: 1, failed: 1, resolved: 0 });
    expect(await letterOf(observationId)).toMatchObject({
      status: 'pending',
      attempts: 2,
      delay_seconds: 120,
    });
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 1, failed: 1 });
    // 60 × 2² = 240, capped at 200.
    expect(await letterOf(observationId)).toMatchObject({
      status: 'pending',
      attempts: 3,
      delay_seconds: 200,
    });

    await fix(firstName);
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 1, resolved: 1, failed: 0 });
    expect(await letterOf(observationId)).toMatchObject({ status: 'resolved', attempts: 4 });
    const { rows } = await db.pool.query(
      `SELECT o.status, o.person_id, o.company_id, o.location_id, p.full_name
         FROM observations o JOIN persons p ON p.id = o.person_id WHERE o.id = $1`,
      [observationId],
    );
    expect(rows[0]).toMatchObject({ status: 'processed' });
    expect(rows[0].full_name).toContain(firstName);
    expect(rows[0].company_id).not.toBeNull();
    expect(rows[0].location_id).not.toBeNull();
    expect(await attemptsOf(observationId)).toEqual([
      { attempt: 1, outcome: 'failed', permanent: false },
      { attempt: 2, outcome: 'failed', permanent: false },
      { attempt: 3, outcome: 'failed', permanent: false },
      { attempt: 4, outcome: 'resolved', permanent: false },
    ]);
    // Resolved: nothing left to claim.
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 0 });
  });

  it('a permanent error (check violation) is given up at once and never claimed', async () => {
    const { observationId } = await failingVisit('23514');
    expect(await letterOf(observationId)).toMatchObject({ status: 'failed', permanent: true, attempts: 1 });
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 0 });
    expect(await attemptsOf(observationId)).toEqual([{ attempt: 1, outcome: 'failed', permanent: true }]);
  });

  it('a transient error (lock not available) stays pending for a retry', async () => {
    const { observationId } = await failingVisit('55P03');
    expect(await letterOf(observationId)).toMatchObject({ status: 'pending', permanent: false, attempts: 1 });
  });

  it('gives up after DEAD_LETTER_MAX_ATTEMPTS attempts', async () => {
    const { observationId } = await failingVisit();
    for (let attempt = 2; attempt <= 4; attempt += 1) {
      const counts = await replayOnly([observationId]);
      expect(counts).toMatchObject({ claimed: 1, failed: 1, gave_up: attempt === 4 ? 1 : 0 });
    }
    expect(await letterOf(observationId)).toMatchObject({ status: 'failed', attempts: 4, permanent: false });
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 0 });
  });

  it('an observation that turns out to have no identifier is skipped and its dead letter given up', async () => {
    const res = await request(app)
      .post('/api/webhook')
      .send({
        userid: 'dead-letter-tests',
        type: 'visit',
        event: 'create',
        time: new Date().toISOString(),
        data: { VisitTime: Date.now(), 'First Name': 'Nobody' },
      });
    expect(res.body.status).toBe('skipped');
    const observationId = res.body.observation_id as number;
    // A dead letter written before the identifier rules changed, say.
    await recordDeadLetter(db.pool, observationId, new Error('legacy failure'), policy);
    await db.pool.query(`UPDATE observations SET status = 'dead' WHERE id = $1`, [observationId]);
    expect(await replayOnly([observationId])).toMatchObject({ claimed: 1, no_identity: 1 });
    expect(await letterOf(observationId)).toMatchObject({ status: 'failed', permanent: true, attempts: 2 });
    const { rows } = await db.pool.query('SELECT status FROM observations WHERE id = $1', [observationId]);
    expect(rows[0].status).toBe('skipped');
  });

  it('two replayers at once never process the same dead letter', async () => {
    const failed = [];
    for (let i = 0; i < 24; i += 1) failed.push(await failingVisit());
    for (const { firstName } of failed) await fix(firstName);
    const calls = new Map<number, number>();
    const counting: Phase2Runner = {
      process: async (observationId: number): Promise<Phase2Result> => {
        calls.set(observationId, (calls.get(observationId) ?? 0) + 1);
        return phase2.process(observationId);
      },
    };
    const ids = failed.map((item) => item.observationId);
    await makeDue(ids);
    const [first, second] = await Promise.all([
      replayDueDeadLetters(db.pool, counting, policy, { limit: 1000, claimSize: 3 }),
      replayDueDeadLetters(db.pool, counting, policy, { limit: 1000, claimSize: 3 }),
    ]);
    expect(first.claimed + second.claimed).toBe(24);
    expect(first.claimed).toBeGreaterThan(0);
    expect(second.claimed).toBeGreaterThan(0);
    expect(first.resolved + second.resolved).toBe(24);
    expect([...calls.keys()].sort()).toEqual([...ids].sort());
    expect([...calls.values()].every((count) => count === 1)).toBe(true);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM dead_letters WHERE observation_id = ANY($1::bigint[]) AND status = 'resolved'`,
      [ids],
    );
    expect(rows[0].n).toBe(24);
  });

  it('an aborted run stops between dead letters and hands back the ones it claimed but did not replay', async () => {
    const failed = [];
    for (let i = 0; i < 4; i += 1) failed.push(await failingVisit());
    for (const { firstName } of failed) await fix(firstName);
    const ids = failed.map((item) => item.observationId);
    await makeDue(ids);
    const controller = new AbortController();
    const abortAfterFirst: Phase2Runner = {
      process: async (observationId) => {
        const result = await phase2.process(observationId);
        controller.abort();
        return result;
      },
    };
    const counts = await replayDueDeadLetters(db.pool, abortAfterFirst, policy, {
      limit: 1000,
      claimSize: 4,
      signal: controller.signal,
    });
    expect(counts).toMatchObject({ claimed: 4, resolved: 1 });
    const { rows } = await db.pool.query<{ status: string; due: boolean }>(
      `SELECT status, next_attempt_at <= now() AS due FROM dead_letters WHERE observation_id = ANY($1::bigint[])`,
      [ids],
    );
    expect(rows.filter((row) => row.status === 'resolved')).toHaveLength(1);
    expect(rows.filter((row) => row.status === 'pending' && row.due)).toHaveLength(3);
  });
});

describe('failure classification and backoff', () => {
  it.each([
    [{ code: '23514', message: 'check violation' }, 'permanent'],
    [{ code: '23502', message: 'not null' }, 'permanent'],
    [{ code: '22P02', message: 'invalid input syntax' }, 'permanent'],
    [{ code: '22001', message: 'value too long' }, 'permanent'],
    [{ code: '40001', message: 'could not serialize' }, 'transient'],
    [{ code: '40P01', message: 'deadlock' }, 'transient'],
    [{ code: '57014', message: 'canceling statement due to statement timeout' }, 'transient'],
    [{ code: '08006', message: 'connection failure' }, 'transient'],
    [{ code: 'ECONNRESET', message: 'read ECONNRESET' }, 'transient'],
    [new Error('Connection terminated unexpectedly'), 'transient'],
    [new Error('Query read timeout'), 'transient'],
    [{ code: 'P0001', message: 'raised by a trigger' }, 'transient'],
    [new TypeError("Cannot read properties of undefined (reading 'trim')"), 'permanent'],
    [new Error('something odd'), 'transient'],
    ['', 'transient'],
  ])('%p is %s', (error, expected) => {
    expect(classifyFailure(error)).toBe(expected);
  });

  it('doubles from the base and stops at the cap', () => {
    const policy = { maxAttempts: 10, backoffBaseSeconds: 120, backoffCapSeconds: 43_200 };
    expect([1, 2, 3, 4, 9, 10, 100].map((attempts) => backoffSeconds(policy, attempts))).toEqual([
      120, 240, 480, 960, 30_720, 43_200, 43_200,
    ]);
  });
});
