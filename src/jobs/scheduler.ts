import type { Logger as CronLogger, ScheduledTask } from 'node-cron';
import cron from 'node-cron';
import type pg from 'pg';
import type { Config } from '../config';
import type { Pool, PoolClient } from '../db/pool';
import type { Logger } from '../logger';
import type { Phase2Runner } from './dead-letters';
import { builtInJobs } from './jobs';
import type { Leadership } from './leader';
import { LeaderElection } from './leader';
import type { Job, JobCounts } from './types';

/** First key of the two-key advisory locks that keep two runs of one job apart (the second is the job's name). */
export const JOB_LOCK_NAMESPACE = 72_410_003;

export interface SchedulerDeps {
  pool: Pool;
  config: Config;
  logger: Logger;
}

/**
 * Runs jobs on their cron schedules, on the leader only. A run needs three things: this instance is leader,
 * no run of the job is in progress in this process, and the job's advisory lock (held on a connection of
 * the run's own for the whole run) is free, so that not even two leaders of a split-brain moment overlap.
 * Every run that starts is recorded in `job_runs`, and so is every run skipped because another was running.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly jobs: readonly Job[],
    private readonly leadership: Leadership,
    private readonly deps: SchedulerDeps,
  ) {
    for (const job of jobs) {
      if (!cron.validate(job.schedule))
        throw new Error(`job ${job.name}: invalid cron expression ${job.schedule}`);
    }
  }

  start(): void {
    const logger = cronLogger(this.deps.logger);
    for (const job of this.jobs) {
      this.tasks.push(cron.schedule(job.schedule, () => this.tick(job), { name: job.name, logger }));
    }
  }

  /** Stops scheduling, aborts runs in progress and waits for them to record their outcome. */
  async stop(): Promise<void> {
    for (const task of this.tasks) await task.destroy();
    this.stopping.abort(new Error('scheduler stopping'));
    await Promise.all(this.running.values());
  }

  /** One scheduled firing of `job`; never rejects. */
  async tick(job: Job): Promise<void> {
    if (this.stopping.signal.aborted || !this.leadership.isLeader()) return;
    if (this.running.has(job.name)) {
      await this.recordSkipped(this.deps.pool, job, 'the previous run is still in progress').catch(
        () => undefined,
      );
      return;
    }
    const run = this.runExclusively(job)
      .catch((error: unknown) => {
        this.deps.logger.error('scheduled job could not run', {
          job: job.name,
          error: (error as Error).message,
        });
      })
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    await run;
  }

  private async runExclusively(job: Job): Promise<void> {
    const { pool, logger } = this.deps;
    const client = await pool.connect();
    const lockLost = new AbortController();
    const onError = (error: Error) => lockLost.abort(new Error(`run lock connection lost: ${error.message}`));
    client.on('error', onError);
    try {
      const locked = await client.query<{ locked: boolean }>(
        'SELECT pg_try_advisory_lock($1, hashtext($2)) AS locked',
        [JOB_LOCK_NAMESPACE, job.name],
      );
      if (!locked.rows[0]?.locked) {
        await this.recordSkipped(client, job, 'another instance is running it');
        return;
      }
      try {
        const signal = AbortSignal.any([this.leadership.signal, this.stopping.signal, lockLost.signal]);
        if (signal.aborted) return;
        const runId = await this.recordStart(client, job);
        let counts: JobCounts = {};
        let error: string | null = null;
        try {
          counts = await job.run({
            pool,
            config: this.deps.config,
            logger: logger.child({ job: job.name }),
            signal,
            instanceId: this.leadership.instanceId,
          });
        } catch (failure) {
          error = signal.aborted ? `aborted: ${reasonOf(signal)}` : (failure as Error).message;
          logger.warn('scheduled job failed', { job: job.name, error });
        }
        await this.recordFinish(client, job, runId, counts, error);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [JOB_LOCK_NAMESPACE, job.name]);
      }
    } finally {
      client.off('error', onError);
      client.release(lockLost.signal.aborted);
    }
  }

  /**
   * Runs of this job still open were left by an instance that died (we hold the job's lock, so nobody is running
   * it): they are closed as failed, with no finish time since nobody knows when they stopped.
   */
  private async recordStart(client: PoolClient, job: Job): Promise<number> {
    await client.query(
      `UPDATE job_runs SET outcome = 'failed', error = 'abandoned: its instance stopped before the run finished'
        WHERE job = $1 AND outcome IS NULL`,
      [job.name],
    );
    const { rows } = await client.query<{ id: number }>(
      `INSERT INTO job_runs (job, instance_id, started_at) VALUES ($1, $2, clock_timestamp()) RETURNING id`,
      [job.name, this.leadership.instanceId],
    );
    return rows[0]!.id;
  }

  private async recordFinish(
    client: PoolClient,
    job: Job,
    runId: number,
    counts: JobCounts,
    error: string | null,
  ): Promise<void> {
    await client.query(
      `UPDATE job_runs SET finished_at = clock_timestamp(), outcome = $2, counts = $3, error = $4 WHERE id = $1`,
      [runId, error === null ? 'success' : 'failed', JSON.stringify(counts), error?.slice(0, 2000) ?? null],
    );
    await client.query(`DELETE FROM job_runs WHERE job = $1 AND started_at < now() - $2 * interval '1 day'`, [
      job.name,
      this.deps.config.JOB_RUNS_RETENTION_DAYS,
    ]);
  }

  private async recordSkipped(db: Pool | PoolClient, job: Job, reason: string): Promise<void> {
    this.deps.logger.info('scheduled job skipped', { job: job.name, reason });
    await db.query(
      `INSERT INTO job_runs (job, instance_id, started_at, finished_at, outcome, error)
       VALUES ($1, $2, clock_timestamp(), clock_timestamp(), 'skipped', $3)`,
      [job.name, this.leadership.instanceId, reason],
    );
  }
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}

/** node-cron logs through winston rather than the console. */
function cronLogger(logger: Logger): CronLogger {
  return {
    info: (message) => logger.debug(message, { component: 'node-cron' }),
    warn: (message) => logger.warn(message, { component: 'node-cron' }),
    error: (message) => logger.error(String(message), { component: 'node-cron' }),
    debug: (message) => logger.debug(String(message), { component: 'node-cron' }),
  };
}

export interface StartSchedulerOptions extends SchedulerDeps {
  phase2: Phase2Runner;
  /** Settings of the leader's dedicated connection (normally the pool's: `pool.options`). */
  connection: pg.ClientConfig;
}

/**
 * Starts leader election and the scheduler (unless ENABLE_SCHEDULER=false); resolves the returned function once
 * runs in progress have finished and the leader lock is released. Call it before the pool closes.
 */
export function startScheduler(options: StartSchedulerOptions): () => Promise<void> {
  const { config, logger } = options;
  if (!config.ENABLE_SCHEDULER) {
    logger.info('scheduler disabled (ENABLE_SCHEDULER=false)');
    return () => Promise.resolve();
  }
  const wanted = new Set<string>(config.SCHEDULER_JOBS);
  const available = builtInJobs(options);
  const jobs = available.filter((job) => (wanted.size === 0 ? job.name !== 'probe' : wanted.has(job.name)));
  const missing = [...wanted].filter((name) => !available.some((job) => job.name === name));
  if (missing.length > 0) logger.warn('SCHEDULER_JOBS names jobs this build does not have', { missing });
  const election = new LeaderElection({
    connection: options.connection,
    retryMs: config.LEADER_RETRY_SECONDS * 1000,
    checkMs: config.LEADER_CHECK_SECONDS * 1000,
    logger,
  });
  const scheduler = new Scheduler(jobs, election, options);
  scheduler.start();
  election.start();
  logger.info('scheduler started', { instanceId: election.instanceId, jobs: jobs.map((job) => job.name) });
  return async () => {
    await scheduler.stop();
    await election.stop();
  };
}
