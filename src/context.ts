import type { Config } from './config';
import type { DatabaseState } from './db';
import type { ObservationProcessor } from './ingest/processor';
import type { Logger } from './logger';

/** Everything a router needs, built once by the server (or a test) and passed down explicitly. */
export interface AppContext {
  config: Config;
  logger: Logger;
  database: DatabaseState;
  processor: ObservationProcessor;
}
