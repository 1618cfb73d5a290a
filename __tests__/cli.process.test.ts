import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HEALTH_EXIT_CODES } from '../src/cli/commands/health-check';
import { createPool, SERVICE_APPLICATION_NAME } from '../src/db/pool';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(180_000);

const ROOT = path.join(__dirname, '..');
const FIXTURE = path.join(__dirname, 'fixtures', 'duxsoup-export.csv');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The real CLI entry (through tsx, as `npm run ops` runs its build), as a child process. */
function ops(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'src', 'cli', 'index.ts'), ...args],
      {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', ...env },
        timeout: 120_000,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the ops CLI as a process', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
  });
  afterAll(() => db.drop());

  it('--help lists every command and the shared options', async () => {
    const help = await ops(['--help'], {});
    expect(help.code).toBe(0);
    for (const command of [
      'health-check',
      'merge-duplicates',
      'rollback-merge',
      'link-orphans',
      'relink',
      'backfill',
      'dedupe-aliases',
      'replay-dead-letters',
      'import-csv',
      'rebuild',
      '--json',
    ]) {
      expect(help.stdout).toContain(command);
    }
    const sub = await ops(['import-csv', '--help'], {});
    expect(sub.stdout).toMatch(/Position-N-\{Company,Title,Description,From,To,Location\}/);
  });

  it('migrates the database, then prints one JSON object per command with --json and exits by status', async () => {
    const env = { DATABASE_URL: db.url };
    const health = await ops(['--json', 'health-check'], env);
    const report = JSON.parse(health.stdout) as { command: string; status: 'ok' | 'warning' | 'critical' };
    expect(report.command).toBe('health-check');
    expect(health.code).toBe(HEALTH_EXIT_CODES[report.status]);
    // No webhook has ever arrived: the freshness rule warns.
    expect(report.status).toBe('warning');

    const imported = await ops(['import-csv', FIXTURE, '--json'], env);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ command: 'import-csv', imported: 4, rejected: 4 });
    const again = await ops(['import-csv', FIXTURE, '--json'], env);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, duplicates: 5 });
    const { rows } = await db.pool.query("SELECT count(*)::int AS n FROM observations WHERE source = 'csv'");
    expect(rows[0].n).toBe(4);

    // rebuild: a dry run changes nothing; --execute rebuilds the same persons from the log.
    const persons = () =>
      db.pool.query(
        'SELECT id, snapshot::text, observations_count FROM persons WHERE merged_into IS NULL ORDER BY id',
      );
    const live = (await persons()).rows;
    expect(live.length).toBeGreaterThan(0);
    const dryRebuild = await ops(['--json', 'rebuild'], env);
    expect(JSON.parse(dryRebuild.stdout)).toMatchObject({
      command: 'rebuild',
      dry_run: true,
      live_persons_now: live.length,
    });
    const rebuilt = await ops(['--json', 'rebuild', '--execute', '--batch-size', '2'], env);
    expect(rebuilt.code).toBe(0);
    expect(JSON.parse(rebuilt.stdout)).toMatchObject({
      command: 'rebuild',
      dry_run: false,
      live_persons: live.length,
    });
    expect((await persons()).rows).toEqual(live);

    const text = await ops(['merge-duplicates', '--no-review'], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^dry run: true$/m);
  });

  it('rebuild refuses to start while a service is connected, unless forced', async () => {
    const env = { DATABASE_URL: db.url };
    const service = createPool({
      connectionString: db.url,
      max: 1,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 5000,
      applicationName: SERVICE_APPLICATION_NAME,
    });
    try {
      await service.query('SELECT 1'); // holds an idle connection, as a running service does
      const { rows: before } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM rebuild_runs',
      );
      const refused = await ops(['rebuild', '--execute'], env);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(
        /^error: a running duxsoup-etl service holds 1 connection\(s\).*--force\n$/,
      );
      const { rows: after } = await db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM rebuild_runs',
      );
      expect(after[0]!.n).toBe(before[0]!.n); // nothing was reset
      const forced = await ops(['--json', 'rebuild', '--execute', '--force'], env);
      expect(forced.code).toBe(0);
      expect(JSON.parse(forced.stdout)).toMatchObject({ command: 'rebuild', dry_run: false });
    } finally {
      await service.end();
    }
  });

  it('fails with one line on stderr and a non-zero exit code', async () => {
    const env = { DATABASE_URL: db.url };
    const missing = await ops(['rollback-merge', '424242', '--json'], env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toEqual({ success: false, error: 'no merge with id 424242' });
    expect(missing.stderr).toBe('error: no merge with id 424242\n');

    const badChoice = await ops(['backfill', 'everything'], env);
    expect(badChoice.code).toBe(1);
    expect(badChoice.stderr).toContain("value 'everything' is invalid for argument 'what'");

    const badConfig = await ops(['health-check'], { DATABASE_URL: 'not a url' });
    expect(badConfig.code).toBe(3);
    expect(badConfig.stderr.trim().split('\n')).toHaveLength(1);
    expect(badConfig.stderr).toMatch(/^error: Invalid configuration: DATABASE_URL/);
  });
});

describe('the embedded database the service uses', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-cli-embedded-'));
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, 'pg');
  const postmasterPid = path.join(dataDir, 'postmaster.pid');
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts and stops the server when the service is not running; joins and leaves it running when it is', async () => {
    const alone = await ops(['--json', 'health-check'], { EMBEDDED_PG_DIR: dataDir });
    expect(JSON.parse(alone.stdout)).toMatchObject({ command: 'health-check' });
    expect(fs.existsSync(postmasterPid)).toBe(false);

    const service = await startServerProcess({ EMBEDDED_PG_DIR: dataDir, LOG_LEVEL: 'warn' });
    try {
      const pidBefore = fs.readFileSync(postmasterPid, 'utf8').split('\n')[0];
      const shared = await ops(['--json', 'link-orphans'], { EMBEDDED_PG_DIR: dataDir });
      expect(shared.code).toBe(0);
      expect(JSON.parse(shared.stdout)).toMatchObject({ command: 'link-orphans', dry_run: true });
      expect(fs.readFileSync(postmasterPid, 'utf8').split('\n')[0]).toBe(pidBefore);
      expect((await fetch(`${service.baseUrl}/health/ready`)).status).toBe(200);
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    expect(fs.existsSync(postmasterPid)).toBe(false);
  });
});
