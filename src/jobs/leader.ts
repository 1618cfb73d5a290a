import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import type { Pool } from '../db/pool';
import type { Logger } from '../logger';

/** Session advisory lock held by the leader (the migration lock is 72_410_001). */
export const LEADER_LOCK_KEY = 72_410_002;

export const LEADER_APPLICATION_NAME = 'duxsoup-etl-leader';

/** What the scheduler needs to know about leadership. */
export interface Leadership {
  readonly instanceId: string;
  isLeader(): boolean;
  /** Aborted the moment leadership is lost; already aborted while this instance is not leader. */
  readonly signal: AbortSignal;
}

export interface LeaderElectionOptions {
  /** Where to open the dedicated lock connection (the pool's settings: `pool.options`). */
  connection: pg.ClientConfig;
  retryMs: number;
  checkMs: number;
  logger: Logger;
  instanceId?: string;
  lockKey?: number;
}

/** hostname, pid and a random suffix: unique even when a container restarts with the same pid. */
export function newInstanceId(): string {
  return `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

const NOT_LEADER = AbortSignal.abort(new Error('not the leader'));

/**
 * Leadership is a PostgreSQL session advisory lock held on a connection of its own: PostgreSQL releases it
 * when that connection dies, so a crashed leader is replaced without any expiry to wait for. Followers try to
 * take it every `retryMs`. The leader heartbeats through the same connection every `checkMs`; when the
 * connection reports an error or closes, or a heartbeat fails, it stops being leader at once (its signal
 * aborts, so jobs stop at their next unit of work) and goes back to trying with a new connection.
 */
export class LeaderElection implements Leadership {
  readonly instanceId: string;
  private readonly lockKey: number;
  private readonly stopping = new AbortController();
  private readonly listeners = new Set<(leader: boolean) => void>();
  private term: AbortController | null = null;
  private termClient: pg.Client | null = null;
  private loop: Promise<void> | null = null;

  constructor(private readonly options: LeaderElectionOptions) {
    this.instanceId = options.instanceId ?? newInstanceId();
    this.lockKey = options.lockKey ?? LEADER_LOCK_KEY;
  }

  isLeader(): boolean {
    return this.term !== null && !this.term.signal.aborted;
  }

  get signal(): AbortSignal {
    return this.term?.signal ?? NOT_LEADER;
  }

  /** Called with `true` when this instance becomes leader and `false` when it stops being leader. */
  onChange(listener: (leader: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    this.loop ??= this.campaign();
  }

  /** Stops campaigning; a leader releases the lock (and its `scheduler_leader` row) before this resolves. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('shutting down'));
    await this.loop;
  }

  private async campaign(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      let deposed = false;
      const client = new pg.Client({
        ...this.options.connection,
        application_name: LEADER_APPLICATION_NAME,
        keepAlive: true,
        query_timeout: Math.max(5000, 2 * this.options.checkMs),
      });
      // Without a listener an 'error' on an idle connection would crash the process.
      client.on('error', (error) => this.connectionLost(client, `lock connection error: ${error.message}`));
      client.on('end', () => this.connectionLost(client, 'lock connection closed'));
      try {
        await client.connect();
        // If this host vanishes, PostgreSQL notices within about 30 s and frees the lock for a follower.
        await client.query(
          'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 4',
        );
        while (!this.stopping.signal.aborted) {
          const locked = await client.query<{ locked: boolean }>(
            'SELECT pg_try_advisory_lock($1) AS locked',
            [this.lockKey],
          );
          if (locked.rows[0]?.locked) {
            await this.lead(client);
            deposed = true;
            break;
          }
          await this.pause(this.options.retryMs);
        }
      } catch (error) {
        if (!this.stopping.signal.aborted) {
          this.options.logger.warn('leader election: lock connection failed', {
            error: (error as Error).message,
          });
        }
      } finally {
        this.connectionLost(client, 'lock connection closed');
        await closeQuietly(client);
      }
      // A leader that just lost its connection is the likeliest to have a problem: followers get the first go.
      await this.pause(this.options.retryMs * (deposed ? 2 : 1));
    }
  }

  /** Holds leadership until the connection fails or the election stops; then releases what it can. */
  private async lead(client: pg.Client): Promise<void> {
    const term = new AbortController();
    await client.query(
      `INSERT INTO scheduler_leader (instance_id, since, heartbeat_at) VALUES ($1, now(), now())
       ON CONFLICT (singleton) DO UPDATE SET instance_id = EXCLUDED.instance_id, since = now(), heartbeat_at = now()`,
      [this.instanceId],
    );
    this.term = term;
    this.termClient = client;
    this.options.logger.info('became scheduler leader', { instanceId: this.instanceId });
    this.notify(true);
    while (!term.signal.aborted && !this.stopping.signal.aborted) {
      await this.pause(this.options.checkMs, term.signal);
      if (term.signal.aborted || this.stopping.signal.aborted) break;
      try {
        // The heartbeat is the connection check: one cheap statement on the lock's own connection.
        await client.query(
          `INSERT INTO scheduler_leader (instance_id, since, heartbeat_at) VALUES ($1, now(), now())
           ON CONFLICT (singleton) DO UPDATE
             SET instance_id = EXCLUDED.instance_id, heartbeat_at = now(),
                 since = CASE WHEN scheduler_leader.instance_id = EXCLUDED.instance_id
                              THEN scheduler_leader.since ELSE now() END`,
          [this.instanceId],
        );
      } catch (error) {
        this.depose(`heartbeat failed: ${(error as Error).message}`);
      }
    }
    if (term.signal.aborted) return;
    this.depose('shutting down');
    await client
      .query('DELETE FROM scheduler_leader WHERE instance_id = $1', [this.instanceId])
      .catch(() => undefined);
    await client.query('SELECT pg_advisory_unlock($1)', [this.lockKey]).catch(() => undefined);
  }

  /** Events of an earlier term's connection (closing late) must not depose the current term. */
  private connectionLost(client: pg.Client, reason: string): void {
    if (this.termClient === client) this.depose(reason);
  }

  private depose(reason: string): void {
    const term = this.term;
    if (!term || term.signal.aborted) return;
    term.abort(new Error(`leadership lost: ${reason}`));
    this.term = null;
    this.termClient = null;
    const log = reason === 'shutting down' ? 'info' : 'warn';
    this.options.logger[log]('scheduler leadership lost', { instanceId: this.instanceId, reason });
    this.notify(false);
  }

  private notify(leader: boolean): void {
    for (const listener of this.listeners) {
      try {
        listener(leader);
      } catch (error) {
        this.options.logger.error('leadership listener failed', { error: (error as Error).message });
      }
    }
  }

  /** Sleeps, waking early when the election stops (or `signal` aborts). */
  private async pause(ms: number, signal?: AbortSignal): Promise<void> {
    const wake = signal ? AbortSignal.any([this.stopping.signal, signal]) : this.stopping.signal;
    await delay(ms, undefined, { signal: wake }).catch(() => undefined);
  }
}

async function closeQuietly(client: pg.Client): Promise<void> {
  // end() waits for the server's goodbye, which a broken network never sends.
  await Promise.race([client.end().catch(() => undefined), delay(1000, undefined, { ref: false })]);
}

export interface LeaderRecord {
  instanceId: string;
  since: Date;
  heartbeatAt: Date;
  heartbeatAgeSeconds: number;
}

/**
 * The instance that last recorded itself as leader (or null). Informational: a heartbeat much older than
 * LEADER_CHECK_SECONDS means the leader died and no follower has taken over yet.
 */
export async function readLeader(pool: Pool): Promise<LeaderRecord | null> {
  const { rows } = await pool.query<{ instance_id: string; since: Date; heartbeat_at: Date; age: number }>(
    `SELECT instance_id, since, heartbeat_at, extract(epoch FROM now() - heartbeat_at)::float8 AS age
       FROM scheduler_leader`,
  );
  const row = rows[0];
  return row
    ? {
        instanceId: row.instance_id,
        since: row.since,
        heartbeatAt: row.heartbeat_at,
        heartbeatAgeSeconds: row.age,
      }
    : null;
}
