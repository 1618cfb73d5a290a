import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/db/embedded';
import { migrate } from '../../src/db/migrate';

/**
 * One PostgreSQL server for the whole run: the machine's (DATABASE_URL) or an embedded one in a temporary
 * directory. Migrations run once into a template database; every test file clones it (CREATE DATABASE ...
 * TEMPLATE is a file copy, far faster than migrating again).
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-etl-test-'));
    fs.chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'postgres' });
    (globalThis as Record<string, unknown>).__EMBEDDED_PG__ = { stop: () => server.stop(), dir };
    adminUrl = server.url;
    process.env.TEST_DATABASE_MODE = 'embedded';
  } else {
    process.env.TEST_DATABASE_MODE = 'external';
  }
  process.env.TEST_DATABASE_ADMIN_URL = adminUrl;
  const TEMPLATE_DATABASE = `duxsoup_test_template_${process.pid}`;
  process.env.TEST_TEMPLATE_DATABASE = TEMPLATE_DATABASE;

  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${TEMPLATE_DATABASE} TEMPLATE template0 ENCODING 'UTF8'`);
  } finally {
    await admin.end();
  }
  const template = new pg.Pool({ connectionString: withDatabase(adminUrl, TEMPLATE_DATABASE), max: 1 });
  try {
    await migrate(template);
  } finally {
    await template.end();
  }
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
