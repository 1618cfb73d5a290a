import { setTimeout as delay } from 'node:timers/promises';
import type { TestDatabase } from '../__tests__/helpers/database';
import { createTestDatabase } from '../__tests__/helpers/database';
import { LEADER_LOCK_KEY } from '../src/jobs';
import { readMigrations } from '../src/db/migrate';
import type { Service } from './helpers/service';
import { errorLines, startService, stopService } from './helpers/service';

const INSTANCES = 20;
/** Two pool connections and the leader's lock connection each: 60 in all, well inside max_connections. */
const POOL_SIZE = 2;
const LEADER_RETRY_SECONDS = 1;
/** How long leadership is watched for a second leader once the first one is seen. */
const WATCH_MS = 5_000;

let db: TestDatabase;
let instances: Service[] = [];
beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => stopService(instance)));
  await db.drop();
});

async function leaderLockHolders(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
        AND d.datname = $2`,
    [LEADER_LOCK_KEY, db.name],
  );
  return rows[0]!.n;
}

describe(`${INSTANCES} instances started at once on an empty database`, () => {
  it('apply the migrations exactly once and elect exactly one scheduler leader', async () => {
    const { rows: settings } = await db.pool.query<{ max_connections: string }>('SHOW max_connections');
    const maxConnections = Number(settings[0]!.max_connections);
    expect(maxConnections).toBeGreaterThan(INSTANCES * (POOL_SIZE + 1) + 10);

    const began = Date.now();
    const started = await Promise.allSettled(
      Array.from({ length: INSTANCES }, () =>
        startService(
          {
            DATABASE_URL: db.url,
            DATABASE_POOL_SIZE: String(POOL_SIZE),
            LEADER_RETRY_SECONDS: String(LEADER_RETRY_SECONDS),
            LEADER_CHECK_SECONDS: '1',
            LOG_LEVEL: 'info',
          },
          { readyTimeoutMs: 180_000 },
        ),
      ),
    );
    instances = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failures = started.flatMap((result) =>
      result.status === 'rejected' ? [String(result.reason)] : [],
    );
    expect(failures).toEqual([]);
    const allReadyMs = Date.now() - began;

    // Migrations: every file applied once, by one instance.
    const files = readMigrations();
    const { rows: applied } = await db.pool.query<{ version: number; name: string }>(
      'SELECT version, name FROM schema_migrations ORDER BY version',
    );
    expect(applied).toEqual(files.map((file) => ({ version: file.version, name: file.name })));
    const migrators = instances.filter((instance) => instance.output().includes('migrations applied'));
    expect(migrators).toHaveLength(1);

    // Leadership: one lock holder, one recorded leader, one instance that says so; watched for a while.
    let leaderSeenAt = 0;
    const holders = new Set<number>();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (leaderSeenAt === 0 || Date.now() - leaderSeenAt < WATCH_MS)) {
      const n = await leaderLockHolders();
      holders.add(n);
      if (n > 0 && leaderSeenAt === 0) leaderSeenAt = Date.now();
      await delay(100);
    }
    const { rows: recorded } = await db.pool.query<{ instance_id: string }>(
      'SELECT instance_id FROM scheduler_leader',
    );
    const announced = instances.filter((instance) => instance.output().includes('became scheduler leader'));
    const errors = instances.flatMap((instance) => errorLines(instance.output()));
    console.log(
      `chaos [${INSTANCES} instances] ${JSON.stringify({
        allReadyMs,
        migrations: applied.length,
        migrators: migrators.length,
        leaderLockHoldersSeen: [...holders].sort(),
        recordedLeaders: recorded.length,
        announcedLeaders: announced.length,
        errorLines: errors.length,
        maxConnections,
      })}`,
    );
    expect(leaderSeenAt).toBeGreaterThan(0);
    expect([...holders].every((n) => n <= 1)).toBe(true);
    expect(recorded).toHaveLength(1);
    expect(announced).toHaveLength(1);
    expect(Number(recorded[0]!.instance_id.split(':').at(-2))).toBe(announced[0]!.child.pid);
    expect(errors).toEqual([]);

    // And all of them stop cleanly.
    const exits = await Promise.all(instances.map((instance) => stopService(instance)));
    instances = [];
    expect(exits).toEqual(Array.from({ length: INSTANCES }, () => 0));
  });
});
