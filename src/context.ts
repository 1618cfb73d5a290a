import type { Config } from './config';
import type { DatabaseState } from './db';
import type { ObservationProcessor } from './ingest/processor';
import type { Logger } from './logger';
import type { HubspotRunRegistry } from './sources/hubspot';

/** Everything a router needs, built once by the server (or a test) and passed down explicitly. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseState;
  processor: ObservationProcessor;
  /** HubSpot runs started over HTTP, drained on shutdown (the HubSpot trigger router creates it when absent). */
  hubspotRuns?: HubspotRunRegistry;
}
