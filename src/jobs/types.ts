import type { Config } from '../config';
import type { Pool } from '../db/pool';
import type { Logger } from '../logger';

/** What a job reports about its run, stored in `job_runs.counts` (e.g. `{ replayed: 3, failed: 1 }`). */
export type JobCounts = Record<string, number>;

/** Everything a scheduled job receives for one run. */
export interface JobContext {
  pool: Pool;
  config: Config;
  logger: Logger;
  /**
   * Aborted the moment this instance stops being leader (or the scheduler stops). A job checks it before each
   * unit of work (`signal.throwIfAborted()`, or `if (signal.aborted) break`) so a deposed leader stops at once.
   */
  signal: AbortSignal;
  /** This process's instance id (hostname, pid and a random suffix), as recorded in `job_runs`. */
  instanceId: string;
}

/** A scheduled job: runs only on the leader, never twice at once, and each run is recorded in `job_runs`. */
export interface Job {
  /** Stable name: the key of its run lock and the `job` column of `job_runs`. */
  name: string;
  /** node-cron expression (5 fields, or 6 with seconds first), normally taken from configuration. */
  schedule: string;
  run(context: JobContext): Promise<JobCounts>;
}
