import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config';
import { startEmbeddedPostgres } from '../db/embedded';
import { migrate } from '../db/migrate';
import type { Pool } from '../db/pool';
import { createPool } from '../db/pool';
import type { Logger } from '../logger';

/** Ops commands run long statements (whole-table scans, big refolds): they wait longer than a request does. */
const CLI_QUERY_TIMEOUT_MS = 30 * 60_000;

export interface CliDatabase {
  pool: Pool;
  /** Where it is: `external` (DATABASE_URL), `embedded-shared` (the running service's), `embedded-own`. */
  mode: 'external' | 'embedded-shared' | 'embedded-own';
  close(): Promise<void>;
}

/**
 * The database the service uses: DATABASE_URL, else the embedded server in EMBEDDED_PG_DIR. A server that is
 * already running (the service's) is joined and left running; one the CLI had to start is stopped when it is done.
 * Migrations are applied first, exactly as the service applies them.
 */
export interface CliDatabaseOptions {
  poolSize?: number;
  /**
   * Commit without waiting for the WAL flush (synchronous_commit = off) on this CLI's sessions: for bulk work whose
   * every write can be redone from its input (import-csv re-reads its file; Phase 2 results are derived). A crash
   * loses at most the last moments of commits, never consistency; the command makes its end durable itself.
   */
  asyncCommit?: boolean;
}

export async function openCliDatabase(
  config: Config,
  logger: Logger,
  options: CliDatabaseOptions = {},
): Promise<CliDatabase> {
  let url = config.DATABASE_URL;
  let mode: CliDatabase['mode'] = 'external';
  let stopServer = (): Promise<void> => Promise.resolve();
  if (!url) {
    const running = embeddedServerRunning(config.EMBEDDED_PG_DIR);
    const server = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_PG_DIR,
      // Never ask a running server for another port: that would restart it under the service.
      port: running ? undefined : config.EMBEDDED_PG_PORT,
      log: (message) => logger.info(message, { component: 'embedded-postgres' }),
    });
    url = server.url;
    mode = running ? 'embedded-shared' : 'embedded-own';
    if (!running) stopServer = () => server.stop();
  }
  const pool = createPool({
    connectionString: options.asyncCommit ? withSessionOption(url, 'synchronous_commit=off') : url,
    max: options.poolSize ?? 8,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: Math.max(config.DATABASE_QUERY_TIMEOUT_MS, CLI_QUERY_TIMEOUT_MS),
    applicationName: 'duxsoup-etl-ops',
  });
  const close = async (): Promise<void> => {
    await pool.end().catch(() => undefined);
    await stopServer();
  };
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  } catch (error) {
    await close();
    throw error;
  }
  return { pool, mode, close };
}

/** Adds a server setting for every session opened with this URL (libpq `options`, which node-postgres honours). */
function withSessionOption(url: string, setting: string): string {
  const parsed = new URL(url);
  const current = parsed.searchParams.get('options');
  parsed.searchParams.set('options', `${current ? `${current} ` : ''}-c ${setting}`);
  return parsed.toString();
}

/** Whether a live postmaster owns the data directory (the same test `startEmbeddedPostgres` makes to adopt one). */
export function embeddedServerRunning(dataDir: string): boolean {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(path.resolve(dataDir), 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
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
