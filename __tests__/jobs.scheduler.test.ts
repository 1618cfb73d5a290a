import request from 'supertest';
import { setTimeout as delay } from 'node:timers/promises';
import type { Config } from '../src/config';
import { loadConfig } from '../src/config';
import type { Job, Leadership } from '../src/jobs';
import { LEADER_LOCK_KEY, LeaderElection, readLeader, Scheduler, startScheduler } from '../src/jobs';
import { builtInJobs } from '../src/jobs/jobs';
import { LEADER_APPLICATION_NAME } from '../src/jobs/leader';
import { buildTestApp } from './helpers/app';
import { distinctVisit } from './helpers/fixtures';
import { phase2FromConfig } from '../src/ingest/phase2';
import type { Logger } from '../src/logger';
import { createLogger } from '../src/logger';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

jest.setTimeout(30_000);

let db: TestDatabase;
let config: Config;
let logger: Logger;

beforeAll(async () => {
  db = await createTestDatabase();
  config = loadConfig({ LOG_LEVEL: 'silent' });
  logger = createLogger(config);
});
afterAll(() => db.drop());

async function until<T>(
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(25);
  }
}

function election(): LeaderElection {
  return new LeaderElection({ connection: db.pool.options, retryMs: 200, checkMs: 200, logger });
}

async function leaderLockHolders(): Promise<number[]> {
  const { rows } = await db.pool.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
        AND d.datname = $2`,
    [LEADER_LOCK_KEY, db.name],
  );
  return rows.map((row) => row.pid);
}

describe('leader election', () => {
  it('elects exactly one leader, records it, hands over when it stops, and releases everything at shutdown', async () => {
    const first = election();
    const second = election();
    const changes: string[] = [];
    first.onChange((leader) => changes.push(`first:${leader}`));
    second.onChange((leader) => changes.push(`second:${leader}`));
    first.start();
    second.start();
    const leader = await until(() => (first.isLeader() ? first : second.isLeader() ? second : null));
    const follower = leader === first ? second : first;
    await delay(500); // several follower retries
    expect(follower.isLeader()).toBe(false);
    expect(follower.signal.aborted).toBe(true);
    expect(leader.signal.aborted).toBe(false);
    expect(await leaderLockHolders()).toHaveLength(1);
    expect((await readLeader(db.pool))?.instanceId).toBe(leader.instanceId);
    expect(leader.instanceId).toMatch(new RegExp(`:${process.pid}:[0-9a-f]{6}$`));
    expect(leader.instanceId).not.toBe(follower.instanceId);

    const signal = leader.signal;
    await leader.stop();
    expect(signal.aborted).toBe(true);
    await until(() => follower.isLeader());
    expect((await readLeader(db.pool))?.instanceId).toBe(follower.instanceId);
    await follower.stop();
    expect(await readLeader(db.pool)).toBeNull();
    expect(await leaderLockHolders()).toHaveLength(0);
    const name = (e: LeaderElection) => (e === first ? 'first' : 'second');
    expect(changes).toEqual([
      `${name(leader)}:true`,
      `${name(leader)}:false`,
      `${name(follower)}:true`,
      `${name(follower)}:false`,
    ]);
  });

  it('a leader whose connection is terminated stops leading at once; a follower takes over', async () => {
    const first = election();
    const second = election();
    first.start();
    second.start();
    const leader = await until(() => (first.isLeader() ? first : second.isLeader() ? second : null));
    const follower = leader === first ? second : first;
    const signal = leader.signal;
    const aborted = new Promise<unknown>((resolve) =>
      signal.addEventListener('abort', () => resolve(signal.reason)),
    );
    const [pid] = await leaderLockHolders();
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const reason = await aborted;
    expect(leader.isLeader()).toBe(false);
    expect(String((reason as Error).message)).toMatch(/leadership lost: lock connection/);
    await until(() => follower.isLeader());
    expect(leader.isLeader()).toBe(false);
    await Promise.all([first.stop(), second.stop()]);
    expect(await leaderLockHolders()).toHaveLength(0);
  });

  it('startScheduler with ENABLE_SCHEDULER=false takes no lock and schedules nothing', async () => {
    const disabled = loadConfig({ LOG_LEVEL: 'silent', ENABLE_SCHEDULER: 'false' });
    const stop = startScheduler({
      pool: db.pool,
      connection: db.pool.options,
      config: disabled,
      logger,
      phase2: phase2FromConfig(db.pool, disabled, logger),
    });
    await delay(300);
    const { rows } = await db.pool.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
      [db.name, LEADER_APPLICATION_NAME],
    );
    expect(rows[0].n).toBe(0);
    await stop();
  });
});

/** A leadership an instance would have between taking the lock and losing it: the scheduler only reads it. */
function leadership(instanceId: string): Leadership & { lose(): void } {
  const controller = new AbortController();
  return {
    instanceId,
    isLeader: () => !controller.signal.aborted,
    get signal() {
      return controller.signal;
    },
    lose: () => controller.abort(new Error('leadership lost: test')),
  };
}

let jobCounter = 0;
function slowJob(ms: number, extra: Partial<Job> = {}): Job {
  return {
    name: `test-job-${++jobCounter}`,
    schedule: '0 0 1 1 *',
    run: async ({ signal }) => {
      const started = Date.now();
      while (Date.now() - started < ms) {
        signal.throwIfAborted();
        await delay(10);
      }
      return { slept: 1 };
    },
    ...extra,
  };
}

interface RunRow {
  instance_id: string;
  outcome: string | null;
  error: string | null;
  counts: Record<string, number>;
  finished: boolean;
}

async function runsOf(job: Job): Promise<RunRow[]> {
  const { rows } = await db.pool.query<RunRow>(
    `SELECT instance_id, outcome, error, counts, finished_at IS NOT NULL AS finished
       FROM job_runs WHERE job = $1 ORDER BY id`,
    [job.name],
  );
  return rows;
}

describe('scheduler', () => {
  const deps = () => ({ pool: db.pool, config, logger });

  it('records a run with its counts, and a failing run with its error', async () => {
    const job = slowJob(0);
    const failing = slowJob(0, {
      run: () => Promise.reject(new Error('nothing to do here')),
    });
    const scheduler = new Scheduler([job, failing], leadership('alpha'), deps());
    await scheduler.tick(job);
    await scheduler.tick(failing);
    expect(await runsOf(job)).toEqual([
      { instance_id: 'alpha', outcome: 'success', error: null, counts: { slept: 1 }, finished: true },
    ]);
    expect(await runsOf(failing)).toEqual([
      { instance_id: 'alpha', outcome: 'failed', error: 'nothing to do here', counts: {}, finished: true },
    ]);
  });

  it('a follower runs nothing and records nothing', async () => {
    const job = slowJob(0);
    const follower = leadership('follower');
    follower.lose();
    await new Scheduler([job], follower, deps()).tick(job);
    expect(await runsOf(job)).toEqual([]);
  });

  it('never overlaps runs in one process: a firing during a run is recorded as skipped', async () => {
    const job = slowJob(300);
    const scheduler = new Scheduler([job], leadership('alpha'), deps());
    await Promise.all([scheduler.tick(job), delay(50).then(() => scheduler.tick(job))]);
    const runs = await runsOf(job);
    expect(runs.map((run) => run.outcome).sort()).toEqual(['skipped', 'success']);
    expect(runs.find((run) => run.outcome === 'skipped')?.error).toBe(
      'the previous run is still in progress',
    );
  });

  it('never overlaps runs across instances, even two that both believe they lead (the job lock)', async () => {
    const job = slowJob(300);
    const alpha = new Scheduler([job], leadership('alpha'), deps());
    const beta = new Scheduler([job], leadership('beta'), deps());
    await Promise.all([alpha.tick(job), delay(50).then(() => beta.tick(job))]);
    expect(await runsOf(job)).toEqual([
      { instance_id: 'alpha', outcome: 'success', error: null, counts: { slept: 1 }, finished: true },
      {
        instance_id: 'beta',
        outcome: 'skipped',
        error: 'another instance is running it',
        counts: {},
        finished: true,
      },
    ]);
    // Once the run is over, the lock is free again.
    await beta.tick(job);
    expect((await runsOf(job)).at(-1)).toMatchObject({ instance_id: 'beta', outcome: 'success' });
  });

  it('a run in progress sees the loss of leadership and is recorded as aborted', async () => {
    const job = slowJob(5_000);
    const lead = leadership('alpha');
    const scheduler = new Scheduler([job], lead, deps());
    const run = scheduler.tick(job);
    await until(async () => (await runsOf(job)).length === 1);
    lead.lose();
    await run;
    expect(await runsOf(job)).toEqual([
      {
        instance_id: 'alpha',
        outcome: 'failed',
        error: 'aborted: leadership lost: test',
        counts: {},
        finished: true,
      },
    ]);
  });

  it('stop() aborts runs in progress and waits until they are recorded', async () => {
    const job = slowJob(5_000);
    const scheduler = new Scheduler([job], leadership('alpha'), deps());
    void scheduler.tick(job);
    await until(async () => (await runsOf(job)).length === 1);
    await scheduler.stop();
    expect(await runsOf(job)).toEqual([
      expect.objectContaining({ outcome: 'failed', error: 'aborted: scheduler stopping', finished: true }),
    ]);
    await scheduler.tick(job);
    expect(await runsOf(job)).toHaveLength(1);
  });

  it('closes runs an instance left unfinished when it died', async () => {
    const job = slowJob(0);
    await db.pool.query(`INSERT INTO job_runs (job, instance_id) VALUES ($1, 'dead-instance')`, [job.name]);
    await new Scheduler([job], leadership('alpha'), deps()).tick(job);
    expect(await runsOf(job)).toEqual([
      {
        instance_id: 'dead-instance',
        outcome: 'failed',
        error: 'abandoned: its instance stopped before the run finished',
        counts: {},
        finished: false,
      },
      expect.objectContaining({ instance_id: 'alpha', outcome: 'success' }),
    ]);
  });

  it('fires jobs on their cron schedule', async () => {
    const job = slowJob(0, { schedule: '* * * * * *' });
    const scheduler = new Scheduler([job], leadership('alpha'), deps());
    scheduler.start();
    try {
      await until(
        async () => (await runsOf(job)).filter((run) => run.outcome === 'success').length >= 2,
        5_000,
      );
    } finally {
      await scheduler.stop();
    }
  });

  it('built-in jobs take their schedules from configuration; the sweep and replay jobs record their counts', async () => {
    const custom = loadConfig({
      LOG_LEVEL: 'silent',
      PENDING_SWEEP_CRON: '*/2 * * * *',
      DEAD_LETTER_REPLAY_CRON: '5 * * * *',
      HEALTH_CHECK_CRON: '0 */3 * * *',
      EXPORT_CLEANUP_CRON: '15 */6 * * *',
      SCHEDULER_PROBE_CRON: '*/5 * * * * *',
      PENDING_SWEEP_AGE_SECONDS: '0',
    });
    const jobs = builtInJobs({ config: custom, phase2: phase2FromConfig(db.pool, custom, logger) });
    expect(jobs.map((job) => [job.name, job.schedule])).toEqual([
      ['pending-sweep', '*/2 * * * *'],
      ['dead-letter-replay', '5 * * * *'],
      ['health-check', '0 */3 * * *'],
      ['export-cleanup', '15 */6 * * *'],
      ['probe', '*/5 * * * * *'],
    ]);
    const stored = await request(buildTestApp(db).app).post('/api/webhook').send(distinctVisit());
    expect(stored.body.processed).toBe(false);

    const scheduler = new Scheduler(jobs, leadership('alpha'), { pool: db.pool, config: custom, logger });
    const [sweep, replay] = jobs;
    await scheduler.tick(sweep!);
    await scheduler.tick(replay!);
    expect((await runsOf(sweep!)).at(-1)).toMatchObject({
      outcome: 'success',
      counts: { processed: 1, failed: 0 },
    });
    expect((await runsOf(replay!)).at(-1)).toMatchObject({ outcome: 'success', counts: { claimed: 0 } });
    const { rows } = await db.pool.query('SELECT status FROM observations WHERE id = $1', [
      stored.body.observation_id,
    ]);
    expect(rows[0].status).toBe('processed');
  });

  it('refuses an invalid cron expression', () => {
    expect(
      () => new Scheduler([slowJob(0, { schedule: '61 * * * *' })], leadership('alpha'), deps()),
    ).toThrow(/invalid cron expression/);
  });
});
