import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate, MIGRATIONS_DIR, readMigrations } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
});
afterAll(() => db.drop());

describe('migrations', () => {
  it('are numbered, plain SQL files', () => {
    const migrations = readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    migrations.forEach((migration, index) => expect(migration.version).toBe(index + 1));
  });

  it('run once when several instances start together, and re-running is a no-op', async () => {
    const pools = Array.from({ length: 6 }, () =>
      createPool({ connectionString: db.url, max: 2, connectTimeoutMs: 5000, queryTimeoutMs: 30000 }),
    );
    try {
      const results = await Promise.all(pools.map((pool) => migrate(pool)));
      const appliedCounts = results.map((applied) => applied.length).sort();
      expect(appliedCounts.filter((count) => count > 0)).toEqual([readMigrations().length]);
      expect(await migrate(pools[0]!)).toEqual([]);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(readMigrations().length);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  it('refuse to start when an applied migration was edited', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const file of fs.readdirSync(MIGRATIONS_DIR))
      fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(dir, file));
    const first = fs.readdirSync(dir).sort()[0]!;
    fs.appendFileSync(path.join(dir, first), '\n-- edited\n');
    await expect(migrate(db.pool, dir)).rejects.toThrow(/was changed after it was applied/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('roll back a failing migration completely', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
    for (const file of fs.readdirSync(MIGRATIONS_DIR))
      fs.copyFileSync(path.join(MIGRATIONS_DIR, file), path.join(dir, file));
    fs.writeFileSync(
      path.join(dir, '999_broken.sql'),
      'CREATE TABLE half_done (id int); SELECT no_such_function();',
    );
    await expect(migrate(db.pool, dir)).rejects.toThrow(/999_broken.sql failed/);
    const { rows } = await db.pool.query("SELECT to_regclass('half_done') AS t");
    expect(rows[0].t).toBeNull();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
