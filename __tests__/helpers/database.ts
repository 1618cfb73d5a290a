import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Pool } from '../../src/db';
import { createPool } from '../../src/db/pool';

/** Migrated once per jest run (global setup) and cloned per test file; per run, so parallel runs never collide. */
export function templateDatabase(): string {
  const name = process.env.TEST_TEMPLATE_DATABASE;
  if (!name) throw new Error('TEST_TEMPLATE_DATABASE is not set: run the tests through jest (global setup)');
  return name;
}

export interface TestDatabase {
  url: string;
  name: string;
  pool: Pool;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL;
  if (!url) throw new Error('TEST_DATABASE_ADMIN_URL is not set: run the tests through jest (global setup)');
  return url;
}

export function databaseUrl(name: string): string {
  const parsed = new URL(adminUrl());
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh, migrated database of its own for one test file, on the run's real PostgreSQL server. */
export async function createTestDatabase(options: { migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `duxsoup_test_${randomBytes(6).toString('hex')}`;
  const template = options.migrated === false ? 'template0' : templateDatabase();
  await adminQuery(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  const url = databaseUrl(name);
  const pool = createPool({
    connectionString: url,
    max: 20,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 30000,
    applicationName: 'duxsoup-etl-test',
  });
  return {
    url,
    name,
    pool,
    drop: async () => {
      await pool.end();
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** CREATE DATABASE from a template fails while another session is copying it; retry briefly. */
async function adminQuery(sql: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    const client = new pg.Client({ connectionString: adminUrl() });
    await client.connect();
    try {
      await client.query(sql);
      return;
    } catch (error) {
      const message = (error as Error).message;
      if (attempt >= 20 || !message.includes('is being accessed by other users')) throw error;
    } finally {
      await client.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}
