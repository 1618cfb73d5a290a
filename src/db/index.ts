import type { Config } from '../config';
import type { Logger } from '../logger';
import type { EmbeddedPostgres } from './embedded';
import { startEmbeddedPostgres } from './embedded';
import { migrate } from './migrate';
import type { Pool } from './pool';
import { createPool } from './pool';

export { isDatabaseUnavailable, withTransaction } from './pool';
export type { Pool, PoolClient } from './pool';

export type DatabaseMode = 'embedded' | 'external';

/** What the HTTP layer needs to know about the database while the process starts, runs and stops. */
export class DatabaseState {
  pool: Pool | null = null;
  migrated = false;
  startupError: string | null = null;
  constructor(readonly mode: DatabaseMode) {}

  get ready(): boolean {
    return this.pool !== null && this.migrated;
  }
}

export interface OpenDatabase {
  pool: Pool;
  embedded: EmbeddedPostgres | null;
  close(): Promise<void>;
}

export function databaseMode(config: Config): DatabaseMode {
  return config.DATABASE_URL ? 'external' : 'embedded';
}

/** Starts the embedded server when no DATABASE_URL is given, opens the pool and applies migrations. */
export async function openDatabase(config: Config, logger: Logger): Promise<OpenDatabase> {
  let embedded: EmbeddedPostgres | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dataDir: config.EMBEDDED_PG_DIR,
      port: config.EMBEDDED_PG_PORT,
      log: (message) => logger.info(message, { component: 'embedded-postgres' }),
    });
    url = embedded.url;
  }
  const pool = createPool({
    connectionString: url,
    max: config.DATABASE_POOL_SIZE,
    connectTimeoutMs: config.DATABASE_CONNECT_TIMEOUT_MS,
    queryTimeoutMs: config.DATABASE_QUERY_TIMEOUT_MS,
  });
  try {
    const applied = await migrate(pool);
    if (applied.length > 0) logger.info('migrations applied', { migrations: applied });
  } catch (error) {
    await pool.end().catch(() => undefined);
    await embedded?.stop();
    throw error;
  }
  return {
    pool,
    embedded,
    close: async () => {
      await pool.end().catch(() => undefined);
      await embedded?.stop();
    },
  };
}
