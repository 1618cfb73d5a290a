import type { Express } from 'express';
import request from 'supertest';
import { createApp } from '../../src/app';
import type { Config } from '../../src/config';
import { durationMs, loadConfig } from '../../src/config';
import type { FoldSettings } from '../../src/snapshots/store';
import type { AppContext } from '../../src/context';
import { DatabaseState } from '../../src/db';
import type { ObservationProcessor } from '../../src/ingest/processor';
import { deferredProcessor } from '../../src/ingest/processor';
import { createLogger } from '../../src/logger';
import { phase2FromConfig } from '../../src/ingest/phase2';
import type { RebuildOptions } from '../../src/rebuild';
import { loadFixtures } from './fixtures';
import type { TestDatabase } from './database';

export interface TestApp {
  app: Express;
  context: AppContext;
}

/** Fold settings from the default configuration (what the service uses unless told otherwise). */
export function testFoldSettings(): FoldSettings {
  const config = loadConfig({});
  return {
    policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
    defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
  };
}

/** The real app on a real database; `env` overrides configuration exactly as environment variables would. */
export function buildTestApp(
  db: TestDatabase | null,
  env: Record<string, string> = {},
  options: { phase2?: boolean } = {},
): TestApp {
  const config: Config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    WEBHOOK_RATE_LIMIT: '0',
    ...env,
  });
  const logger = createLogger(config);
  const processor: ObservationProcessor =
    options.phase2 && db ? phase2FromConfig(db.pool, config, logger) : deferredProcessor;
  const database = new DatabaseState('external');
  if (db) {
    database.pool = db.pool;
    database.migrated = true;
  }
  const context: AppContext = { config, logger, database, processor };
  return { app: createApp(context), context };
}

/** Posts every shared fixture to the webhook, one after another. */
export async function sendFixtures(app: Express): Promise<void> {
  for (const fixture of loadFixtures()) {
    await request(app).post('/api/webhook').set('content-type', 'application/json').send(fixture.payload);
  }
}

/** What the ops CLI's rebuild is given under the default configuration, on the test database. */
export function testRebuildOptions(db: TestDatabase, batchSize: number): RebuildOptions {
  const config = loadConfig({ LOG_LEVEL: 'silent' });
  return {
    namespace: config.CANONICAL_ID_NAMESPACE,
    settings: testFoldSettings(),
    processor: phase2FromConfig(db.pool, config, createLogger(config)),
    batchSize,
  };
}
