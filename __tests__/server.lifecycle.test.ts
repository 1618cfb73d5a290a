import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(120_000);

function postWebhook(baseUrl: string, body: unknown): Promise<Response> {
  return fetch(`${baseUrl}/api/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('the service process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('on SIGTERM finishes in-flight requests, closes the pool and exits 0', async () => {
    const server = await startServerProcess({ DATABASE_URL: db.url });
    const inFlight = Array.from({ length: 20 }, () => postWebhook(server.baseUrl, distinctVisit()));
    await new Promise((resolve) => setTimeout(resolve, 5));
    server.child.kill('SIGTERM');
    const responses = await Promise.allSettled(inFlight);
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(responses.some((response) => response.status === 'fulfilled')).toBe(true);
    for (const response of responses) {
      // A request either completed (and then its row exists) or never reached the server; none half-answered.
      if (response.status === 'fulfilled') expect(response.value.status).toBe(200);
    }
    expect(server.output()).toContain('stopped');
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND application_name = 'duxsoup-etl'",
      [db.name],
    );
    expect(rows[0].n).toBe(0);
  });

  it('a configuration error stops start-up with a message naming the variable', async () => {
    await expect(
      startServerProcess({ DATABASE_URL: db.url, PORT: '3000', WEBHOOK_BODY_LIMIT: 'lots' }),
    ).rejects.toThrow(/WEBHOOK_BODY_LIMIT/);
  });
});

describe('the embedded PostgreSQL default', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-embedded-'));
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'pg');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts with no DATABASE_URL, keeps data across restarts, and stops its server on shutdown', async () => {
    const first = await startServerProcess({ EMBEDDED_PG_DIR: dataDir });
    const health = (await (await fetch(`${first.baseUrl}/health`)).json()) as { database: { mode: string } };
    expect(health.database.mode).toBe('embedded');
    const stored = (await (await postWebhook(first.baseUrl, distinctVisit())).json()) as {
      observation_id: number;
    };
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);

    const second = await startServerProcess({ EMBEDDED_PG_DIR: dataDir });
    const port = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
    const password = fs.readFileSync(`${dataDir}.password`, 'utf8').trim();
    const client = new pg.Client({
      connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/duxsoup_etl`,
    });
    await client.connect();
    const { rows } = await client.query('SELECT id FROM observations WHERE id = $1', [stored.observation_id]);
    await client.end();
    expect(rows).toHaveLength(1);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('after a SIGKILL of the service, the next start adopts the still-running server', async () => {
    const first = await startServerProcess({ EMBEDDED_PG_DIR: dataDir });
    first.child.kill('SIGKILL');
    await first.exited;
    const serverLog = path.join(dataDir, 'server.log');
    const diagnostics = `service output:\n${first.output()}\nserver.log:\n${fs.existsSync(serverLog) ? fs.readFileSync(serverLog, 'utf8').slice(-3000) : '(none)'}`;
    expect({
      postmasterRunning: fs.existsSync(path.join(dataDir, 'postmaster.pid')),
      diagnostics,
    }).toMatchObject({
      postmasterRunning: true,
    });
    const second = await startServerProcess({ EMBEDDED_PG_DIR: dataDir });
    expect(second.output()).toContain('adopting');
    expect((await postWebhook(second.baseUrl, distinctVisit())).status).toBe(200);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
  });

  it('a stale postmaster.pid (server gone) does not prevent start-up', async () => {
    fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), `999999\n${dataDir}\n0\n5432\n\n\n`);
    const server = await startServerProcess({ EMBEDDED_PG_DIR: dataDir });
    expect((await postWebhook(server.baseUrl, distinctVisit())).status).toBe(200);
    server.child.kill('SIGTERM');
    expect((await server.exited).code).toBe(0);
  });
});
