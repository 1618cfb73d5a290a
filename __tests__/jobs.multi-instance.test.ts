import { setTimeout as delay } from 'node:timers/promises';
import { LEADER_LOCK_KEY } from '../src/jobs';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { ServerProcess } from './helpers/server-process';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(90_000);

const LEADER_RETRY_SECONDS = 1;
/** How long after the leader's death a follower must lead: the retry interval plus a few seconds. */
const TAKEOVER_BOUND_MS = (LEADER_RETRY_SECONDS + 3) * 1000;

let db: TestDatabase;
let instances: ServerProcess[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const instance of instances) instance.child.kill('SIGKILL');
  await Promise.all(instances.map((instance) => instance.exited));
  await db.drop();
});

function startInstance(): Promise<ServerProcess> {
  return startServerProcess({
    DATABASE_URL: db.url,
    LEADER_RETRY_SECONDS: String(LEADER_RETRY_SECONDS),
    LEADER_CHECK_SECONDS: '1',
    SCHEDULER_JOBS: 'probe',
    SCHEDULER_PROBE_CRON: '* * * * * *',
    SCHEDULER_PROBE_MS: '400',
    PENDING_SWEEP_INTERVAL_SECONDS: '3600',
  });
}

const pidOf = (instanceId: string) => Number(instanceId.split(':').at(-2));

async function until<T>(probe: () => Promise<T | null | undefined | false>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await delay(50);
  }
}

/** The backends holding the leader lock in this test's database (what PostgreSQL itself says). */
async function leaderLockBackends(): Promise<number[]> {
  const { rows } = await db.pool.query<{ pid: number }>(
    `SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
        AND d.datname = $2`,
    [LEADER_LOCK_KEY, db.name],
  );
  return rows.map((row) => row.pid);
}

async function recordedLeader(): Promise<string | null> {
  const { rows } = await db.pool.query<{ instance_id: string }>('SELECT instance_id FROM scheduler_leader');
  return rows[0]?.instance_id ?? null;
}

interface Run {
  id: number;
  instance_id: string;
  started_at: Date;
  finished_at: Date | null;
  outcome: string | null;
  error: string | null;
}

async function probeRuns(): Promise<Run[]> {
  const { rows } = await db.pool.query<Run>(
    `SELECT id, instance_id, started_at, finished_at, outcome, error FROM job_runs
      WHERE job = 'probe' AND outcome IS DISTINCT FROM 'skipped' ORDER BY started_at`,
  );
  return rows;
}

/** Waits until the instance recorded as leader runs the probe, and answers that instance's process. */
async function runningLeader(exclude: number[] = []): Promise<ServerProcess> {
  const leaderId = await until(async () => {
    const id = await recordedLeader();
    return id && !exclude.includes(pidOf(id)) ? id : null;
  }, TAKEOVER_BOUND_MS);
  await until(
    async () => (await probeRuns()).some((run) => run.instance_id === leaderId && run.outcome === 'success'),
    5_000,
  );
  const leader = instances.find((instance) => instance.child.pid === pidOf(leaderId));
  if (!leader) throw new Error(`leader ${leaderId} is none of the test's instances`);
  return leader;
}

describe('three instances on one database', () => {
  it('elect one leader, fail over on kill -9 and on a dropped connection, and never overlap a job', async () => {
    instances = await Promise.all([startInstance(), startInstance(), startInstance()]);

    // Exactly one leader: one lock holder, and only its instance runs the probe.
    const first = await runningLeader();
    await delay(1_500);
    expect(await leaderLockBackends()).toHaveLength(1);
    expect(new Set((await probeRuns()).map((run) => run.instance_id))).toEqual(
      new Set([await recordedLeader()]),
    );
    const announced = instances.filter((instance) => instance.output().includes('became scheduler leader'));
    expect(announced).toHaveLength(1);
    expect(announced[0]).toBe(first);

    // kill -9: PostgreSQL drops the dead leader's session and lock; a follower takes over in time.
    first.child.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    const second = await runningLeader([first.child.pid!]);
    expect(Date.now() - killedAt).toBeLessThan(TAKEOVER_BOUND_MS + 5_000);
    const takeover = await db.pool.query<{ since: Date }>('SELECT since FROM scheduler_leader');
    expect(takeover.rows[0]!.since.getTime() - killedAt).toBeLessThan(TAKEOVER_BOUND_MS);

    // The leader's lock connection is terminated mid-run: it stops leading at once (its run aborts) and the
    // remaining follower takes over.
    const inFlight = await until(async () => {
      const runs = await probeRuns();
      return runs.find((run) => pidOf(run.instance_id) === second.child.pid && run.outcome === null);
    }, 5_000);
    const [backend] = await leaderLockBackends();
    await db.pool.query('SELECT pg_terminate_backend($1)', [backend]);
    const terminatedAt = new Date();
    const aborted = await until(async () => {
      const runs = await probeRuns();
      const run = runs.find((candidate) => candidate.id === inFlight.id);
      return run?.outcome ? run : null;
    }, 5_000);
    expect(aborted).toMatchObject({ outcome: 'failed' });
    expect(aborted.error).toMatch(/^aborted: leadership lost: lock connection/);
    expect(second.output()).toContain('scheduler leadership lost');
    const third = await runningLeader([first.child.pid!, second.child.pid!]);
    expect(third).not.toBe(second);
    // The deposed leader started nothing after it lost its connection.
    const late = (await probeRuns()).filter(
      (run) => pidOf(run.instance_id) === second.child.pid && run.started_at > terminatedAt,
    );
    expect(late).toEqual([]);

    // Graceful shutdown releases the lock and the leader record.
    second.child.kill('SIGTERM');
    third.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    expect((await third.exited).code).toBe(0);
    expect(await leaderLockBackends()).toEqual([]);
    expect(await recordedLeader()).toBeNull();

    // Across the whole test, no two runs of the probe overlapped. The run killed with its instance was closed
    // as abandoned by the next run (which took the job lock only after the dead session had released it).
    const runs = await probeRuns();
    expect(new Set(runs.map((run) => run.instance_id)).size).toBe(3);
    const finished = runs.filter((run) => run.finished_at !== null);
    for (let i = 1; i < finished.length; i += 1) {
      expect(finished[i]!.started_at.getTime()).toBeGreaterThanOrEqual(
        finished[i - 1]!.finished_at!.getTime(),
      );
    }
    const unfinished = runs.filter((run) => run.finished_at === null);
    expect(unfinished.every((run) => pidOf(run.instance_id) === first.child.pid)).toBe(true);
    expect(unfinished.every((run) => run.outcome === 'failed' && /^abandoned/.test(run.error ?? ''))).toBe(
      true,
    );
  });
});
