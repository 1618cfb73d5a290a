import fs from 'node:fs';
import type { Server } from 'node:http';
import { createApp } from './app';
import type { Config } from './config';
import { loadConfig } from './config';
import type { AppContext } from './context';
import type { OpenDatabase } from './db';
import { DatabaseState, databaseMode, isDatabaseUnavailable, openDatabase } from './db';
import { phase2FromConfig } from './ingest/phase2';
import { deferredProcessor } from './ingest/processor';
import { sweepPending } from './ingest/sweeper';
import { runEvery } from './jobs/loop';
import { startScheduler } from './jobs/scheduler';
import { startExportWorker } from './exports';
import { refreshQueuedEntities } from './snapshots/refresh';
import { redriveLeads } from './sources/leads';
import { HubspotRunRegistry } from './sources/hubspot';
import type { Logger } from './logger';
import { createLogger } from './logger';

const DATABASE_RETRY_MAX_MS = 30_000;

/**
 * Process entry: listen at once (so `/health` answers "starting" while an embedded server initialises), then
 * open the database and migrate; stop gracefully on SIGTERM / SIGINT.
 */
function main(): void {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const logger = createLogger(config);
  warnAboutSecrets(config, logger);

  const database = new DatabaseState(databaseMode(config));
  const hubspotRuns = new HubspotRunRegistry();
  const context: AppContext = { config, logger, database, processor: deferredProcessor, hubspotRuns };
  const server = createApp(context).listen(config.PORT, config.HOST, () =>
    logger.info('listening', { port: config.PORT, host: config.HOST, database: database.mode }),
  );
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 65_000;
  server.on('error', (error) => {
    logger.error('http server error', { error: error.message });
    process.exit(1);
  });

  const opened: { database: OpenDatabase | null } = { database: null };
  let stopping = false;
  let stopLoops = (): Promise<void> => Promise.resolve();
  const opening = openWithRetry(config, logger, () => stopping).then(
    (result) => {
      opened.database = result;
      if (!result) return;
      database.pool = result.pool;
      const phase2 = phase2FromConfig(result.pool, config, logger);
      const deferred = config.PHASE2_MODE === 'deferred';
      if (!deferred) context.processor = phase2;
      const sweep = { olderThanSeconds: config.PENDING_SWEEP_AGE_SECONDS, batchSize: 200 };
      const stops = [
        runEvery(
          'pending sweep',
          config.PENDING_SWEEP_INTERVAL_SECONDS * 1000,
          async () => {
            const swept = await sweepPending(result.pool, phase2, sweep);
            if (swept.examined > 0) logger.info('pending observations swept', { ...swept });
          },
          logger,
        ),
        runEvery(
          'entity refresh',
          config.ENTITY_REFRESH_INTERVAL_MS,
          () => refreshQueuedEntities(result.pool, phase2.foldSettings),
          logger,
        ),
        // --- background workers (export worker, scheduler) ---
        startScheduler({ pool: result.pool, connection: result.pool.options, config, logger, phase2 }),
        startExportWorker(result.pool, config, logger),
        // Lead requests stored but never normalised (crash, outage, failure) become leads
        runEvery(
          'lead redrive',
          config.LEAD_REDRIVE_INTERVAL_SECONDS * 1000,
          async () => {
            const redriven = await redriveLeads(result.pool, {
              processor: phase2,
              windowMinutes: config.LEAD_DEDUP_WINDOW_MINUTES,
              olderThanSeconds: config.LEAD_REDRIVE_AGE_SECONDS,
            });
            if (redriven.examined > 0) logger.info('lead requests re-driven', { ...redriven });
          },
          logger,
        ),
      ];
      stopLoops = () => Promise.all(stops.map((stop) => stop())).then(() => undefined);
      database.migrated = true;
      logger.info('ready');
    },
    (error: unknown) => {
      database.startupError = (error as Error).message;
      logger.error('database start-up failed', { error: (error as Error).message });
      process.kill(process.pid, 'SIGTERM');
    },
  );

  const shutdown = async (signal: string, exitCode = 0): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    // HubSpot runs started over HTTP outlive their requests: stop them at a page boundary while requests drain.
    const hubspotDrained = hubspotRuns.drain(config.SHUTDOWN_TIMEOUT_MS).then((report) => {
      if (report.runIds.length > 0) logger.info('hubspot runs stopped', { ...report });
    });
    await closeServer(server, config.SHUTDOWN_TIMEOUT_MS);
    await hubspotDrained;
    await stopLoops();
    await opening;
    database.pool = null;
    await opened.database?.close();
    logger.info('stopped');
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('unhandledRejection', (reason) =>
    logger.error('unhandled rejection', { error: reason instanceof Error ? reason.message : String(reason) }),
  );
  process.on('uncaughtException', (error) => {
    logger.error('uncaught exception', { error: error.stack ?? error.message });
    void shutdown('uncaughtException', 1);
  });
}

/** A database that is not reachable yet (still booting, network blip) is retried; anything else is fatal. */
async function openWithRetry(
  config: Config,
  logger: Logger,
  stopping: () => boolean,
): Promise<OpenDatabase | null> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await openDatabase(config, logger);
    } catch (error) {
      if (!isDatabaseUnavailable(error) || stopping()) throw error;
      const waitMs = Math.min(500 * 2 ** attempt, DATABASE_RETRY_MAX_MS);
      logger.warn('database not reachable; retrying', { attempt, waitMs, error: (error as Error).message });
      await new Promise((resolve) => setTimeout(resolve, waitMs));
      if (stopping()) return null;
    }
  }
}

/** Stops accepting connections and waits for in-flight requests, cutting them off after the timeout. */
function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    // Keep-alive sockets go idle as their last request finishes; close them as they do.
    const sweeper = setInterval(() => server.closeIdleConnections(), 50);
    const timer = setTimeout(() => {
      server.closeAllConnections();
      resolve();
    }, timeoutMs);
    server.close(() => {
      clearInterval(sweeper);
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function warnAboutSecrets(config: Config, logger: Logger): void {
  if (config.WEBHOOK_SECRET) return;
  if (config.NODE_ENV === 'production') {
    logger.error('WEBHOOK_SECRET is not set: /api/webhook answers 403 AUTH_NOT_CONFIGURED until it is');
  } else {
    logger.warn('WEBHOOK_SECRET is not set: /api/webhook is open (development only)');
  }
}

main();
