import type { Config } from '../../config';
import type { Logger } from '../../logger';
import type { HubspotClientOptions } from './client';
import { HubspotClient } from './client';

/** How a sync pages and batches. */
export interface SyncSettings {
  /** Records per list page (HubSpot: at most 100) and per search page (at most 200). */
  pageSize: number;
  /** Contacts per association batch read (HubSpot: at most 1000). */
  batchSize: number;
  /** Incremental searches start this long before the checkpoint: records HubSpot indexed late are still found. */
  lookbackMinutes: number;
  /** Search cannot page past this many results (HubSpot: 10 000); a longer window is restarted past its end. */
  searchCap: number;
  /** Contacts of one page resolved to people at once. */
  phase2Concurrency: number;
}

export const SEARCH_RESULT_CAP = 10_000;
export const LIST_PAGE_MAX = 100;
export const SEARCH_PAGE_MAX = 200;
export const BATCH_UPDATE_MAX = 100;

type HubspotConfig = Pick<
  Config,
  | 'HUBSPOT_TOKEN'
  | 'HUBSPOT_BASE_URL'
  | 'HUBSPOT_PAGE_SIZE'
  | 'HUBSPOT_BATCH_SIZE'
  | 'HUBSPOT_LOOKBACK_MINUTES'
  | 'HUBSPOT_TIMEOUT_MS'
  | 'HUBSPOT_MAX_RETRIES'
>;

export function syncSettingsFromConfig(config: HubspotConfig): SyncSettings {
  return {
    pageSize: config.HUBSPOT_PAGE_SIZE,
    batchSize: config.HUBSPOT_BATCH_SIZE,
    lookbackMinutes: config.HUBSPOT_LOOKBACK_MINUTES,
    searchCap: SEARCH_RESULT_CAP,
    phase2Concurrency: 8,
  };
}

export class HubspotNotConfiguredError extends Error {
  constructor() {
    super('HubSpot sync is not configured: set HUBSPOT_TOKEN');
  }
}

/** The client the configuration describes; throws HubspotNotConfiguredError without a token. */
export function hubspotClientFromConfig(
  config: HubspotConfig,
  logger?: Logger,
  overrides: Partial<HubspotClientOptions> = {},
): HubspotClient {
  if (!config.HUBSPOT_TOKEN) throw new HubspotNotConfiguredError();
  return new HubspotClient({
    baseUrl: config.HUBSPOT_BASE_URL,
    token: config.HUBSPOT_TOKEN,
    timeoutMs: config.HUBSPOT_TIMEOUT_MS,
    maxRetries: config.HUBSPOT_MAX_RETRIES,
    logger,
    ...overrides,
  });
}

/** HUBSPOT_SYNC_INTERVAL_MINUTES as a cron expression: every N minutes (N < 60), else every N / 60 hours. */
export function syncSchedule(minutes: number): string {
  if (minutes < 60) return `*/${minutes} * * * *`;
  const hours = Math.max(1, Math.round(minutes / 60));
  return hours >= 24 ? '0 0 * * *' : `0 */${hours} * * *`;
}
