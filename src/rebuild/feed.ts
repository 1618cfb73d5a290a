import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Pool } from '../db/pool';
import { contributionOf } from '../snapshots/contributions';
import type { FoldSettings } from '../snapshots/store';
import type { LogObservation } from './batch';

interface LogRow {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
  observed_at: Date;
}

/** Observations whose contributions are computed between two yields to the event loop. */
const SLICE = 5; // about a millisecond of work: the batch's replies wait at most that long

/**
 * The observation log in id order with each observation's contribution, read and computed ahead of the rebuild:
 * while PostgreSQL runs one batch's statements, this process computes the next batch's contributions (in slices,
 * yielding between them so the batch's replies are never kept waiting), and the two cores work at once.
 * Observations taken but not applied are put back at the front.
 */
export class ObservationFeed {
  private readonly ready: LogObservation[] = [];
  private lastRead: number;
  private exhausted = false;
  private filling: Promise<void> | null = null;
  private failure: Error | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly settings: FoldSettings,
    after: number,
    private readonly batchSize: number,
  ) {
    this.lastRead = after;
  }

  /** Up to `count` observations in id order; empty once the log is done. */
  async take(count: number): Promise<LogObservation[]> {
    this.throwIfFailed();
    while (this.ready.length < count && !this.exhausted) {
      this.fill();
      await this.filling;
      this.throwIfFailed();
    }
    const taken = this.ready.splice(0, count);
    this.fill();
    return taken;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Observations taken but not applied, to be taken again first. */
  putBack(observations: readonly LogObservation[]): void {
    this.ready.unshift(...observations);
  }

  /** Reads and computes ahead, up to two batches, in the background. */
  private fill(): void {
    if (this.filling || this.exhausted || this.ready.length >= 2 * this.batchSize) return;
    this.filling = this.readAhead()
      .catch((error: unknown) => {
        this.failure = error instanceof Error ? error : new Error(String(error));
      })
      .finally(() => {
        this.filling = null;
      });
  }

  private async readAhead(): Promise<void> {
    // One read always in flight while the rows before it are computed: PostgreSQL writes out the next rows'
    // payloads while this process turns the last ones into contributions.
    let reading = this.exhausted ? null : this.read();
    while (reading) {
      const rows = await reading;
      const end = rows.length < this.batchSize;
      if (rows.length > 0) this.lastRead = rows[rows.length - 1]!.id;
      reading = !end && this.ready.length + rows.length < 2 * this.batchSize ? this.read() : null;
      reading?.catch(() => undefined); // awaited (and thrown) on the next turn
      for (let start = 0; start < rows.length; start += SLICE) {
        for (const row of rows.slice(start, start + SLICE)) {
          this.ready.push({
            id: row.id,
            source: row.source,
            kind: row.kind,
            observed_at: row.observed_at,
            contribution: contributionOf(row, this.settings),
          });
        }
        await yieldToEventLoop();
      }
      // Only once every row read is ready: a take() in between must wait rather than see an empty log.
      if (end) this.exhausted = true;
    }
  }

  private async read(): Promise<LogRow[]> {
    const { rows } = await this.pool.query<LogRow>(
      // Both ids bounded: PostgreSQL carries equalities across a join, not ranges, and a merge join would
      // otherwise read the state from its first row for every batch.
      `SELECT o.id, o.source, o.kind, o.payload, COALESCE(o.event_time, o.received_at) AS observed_at
         FROM observation_log o JOIN observation_state s ON s.id = o.id
        WHERE o.id > $1 AND s.id > $1 AND s.status <> 'ignored' ORDER BY o.id LIMIT $2`,
      [this.lastRead, this.batchSize],
    );
    return rows;
  }
}
