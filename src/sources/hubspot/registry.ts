/**
 * The runs this process started for HTTP triggers, which go on after their 202. On shutdown, `drain` refuses new
 * starts, tells every run to stop at its next page boundary, and waits for them (bounded): each ends `interrupted`
 * with its checkpoint at its last saved page, so the next run resumes there instead of finding it abandoned.
 */
import type { Pool } from '../../db/pool';
import type { JobName, RunnerDeps, RunOptions, StartedRun } from './runner';
import { recordInterrupted, startRun } from './runner';

export class ShuttingDownError extends Error {
  constructor() {
    super('the service is shutting down: no new HubSpot runs are started');
  }
}

export interface DrainReport {
  /** Runs that were in progress when the drain began. */
  runIds: number[];
  /** Those still going when the time limit passed (closed as interrupted in their rows). */
  unfinished: number[];
}

interface TrackedRun {
  stop: AbortController;
  pool: Pool;
  runId: number | null;
  /** Settles when the run has recorded its end (or failed to start); never rejects. */
  ended: Promise<void>;
}

export const SHUTDOWN_REASON = 'the service is shutting down';

export class HubspotRunRegistry {
  private readonly runs = new Set<TrackedRun>();
  private draining: Promise<DrainReport> | null = null;

  get isDraining(): boolean {
    return this.draining !== null;
  }

  /** Runs in progress (or starting). */
  get size(): number {
    return this.runs.size;
  }

  /** startRun, tracked until the run ends. Throws ShuttingDownError once a drain has begun. */
  async start(deps: RunnerDeps, job: JobName, options: RunOptions): Promise<StartedRun> {
    if (this.draining) throw new ShuttingDownError();
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    const starting = startRun(deps, job, { ...options, signal });
    const tracked: TrackedRun = {
      stop,
      pool: deps.pool,
      runId: null,
      ended: starting
        .then(
          (started) => started.finished,
          () => undefined,
        )
        .then(() => {
          this.runs.delete(tracked);
        }),
    };
    // Tracked before the first await: a drain that begins while the run is being recorded still waits for it.
    this.runs.add(tracked);
    const started = await starting;
    tracked.runId = started.runId;
    return started;
  }

  /**
   * Stops accepting runs, signals the running ones and waits up to `timeoutMs` for them to record their end. Runs
   * still going after that are recorded as interrupted. Calling it again returns the same drain.
   */
  drain(timeoutMs: number): Promise<DrainReport> {
    if (!this.draining) this.draining = this.stopAll(timeoutMs);
    return this.draining;
  }

  private async stopAll(timeoutMs: number): Promise<DrainReport> {
    const tracked = [...this.runs];
    for (const run of tracked) run.stop.abort(new Error(SHUTDOWN_REASON));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.all(tracked.map((run) => run.ended)), timedOut]);
    clearTimeout(timer);
    const runIds = tracked.flatMap((run) => (run.runId === null ? [] : [run.runId]));
    const unfinished = tracked.filter((run) => this.runs.has(run));
    const unfinishedIds = unfinished.flatMap((run) => (run.runId === null ? [] : [run.runId]));
    for (const run of unfinished) {
      if (run.runId === null) continue;
      await recordInterrupted(
        run.pool,
        [run.runId],
        `interrupted: ${SHUTDOWN_REASON}; the run did not stop within ${timeoutMs} ms`,
      ).catch(() => 0);
    }
    return { runIds, unfinished: unfinishedIds };
  }
}
