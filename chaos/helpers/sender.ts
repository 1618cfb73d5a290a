import { setTimeout as delay } from 'node:timers/promises';
import type { ClientEvent } from './events';
import type { HttpClient, HttpResult } from './http';
import type { EventRecord } from './ledger';

export interface Attempt {
  clientId: string;
  startedAt: number;
  ms: number;
  serviceMs: number;
  /** HTTP status, or 0 for a refused / reset / timed-out request. */
  status: number;
  error?: string;
}

export interface SenderOptions {
  /** Where to post; read on every attempt, so a restarted service on a new port is followed. */
  url: () => string;
  /** Give up on an event after this time (it is then counted `unacked`, never silently dropped). */
  giveUpAt: () => number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  random?: () => number;
}

/**
 * The at-least-once client of the ledger tests: it resends an unacknowledged event with the SAME bytes until a
 * 2xx arrives (idempotency makes that safe), backing off with jitter. Every attempt is kept for the checks.
 */
export class RetryingSender {
  readonly records = new Map<string, EventRecord>();
  readonly attempts: Attempt[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly http: HttpClient,
    private readonly options: SenderOptions,
  ) {}

  /** Starts delivering `event` in the background. */
  send(event: ClientEvent): void {
    const delivery = this.deliver(event).finally(() => this.inFlight.delete(delivery));
    this.inFlight.add(delivery);
  }

  /** Delivers one event to the end (acknowledged or given up). */
  async deliver(event: ClientEvent): Promise<void> {
    const record: EventRecord = { clientId: event.clientId, attempts: 0, acks: [] };
    this.records.set(event.clientId, record);
    const random = this.options.random ?? Math.random;
    let backoff = this.options.minBackoffMs ?? 100;
    for (;;) {
      record.attempts += 1;
      const result = await this.http.postJson(this.options.url(), event.body);
      this.keep(event.clientId, result);
      if ('body' in result && result.status >= 200 && result.status < 300) {
        const body = result.body as { observation_id?: unknown; event_key?: unknown };
        record.acks.push({ observationId: Number(body.observation_id), eventKey: String(body.event_key) });
        return;
      }
      if (Date.now() >= this.options.giveUpAt()) return;
      await delay(backoff * (0.5 + random()));
      backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 1000);
    }
  }

  private keep(clientId: string, result: HttpResult): void {
    this.attempts.push({
      clientId,
      startedAt: result.startedAt,
      ms: result.ms,
      serviceMs: result.serviceMs,
      status: result.status,
      ...('error' in result ? { error: result.error } : {}),
    });
  }

  /** Waits for every started delivery to finish. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  /** Failed attempts (no HTTP answer) by error message, most frequent first. */
  errorCounts(limit = 5): Record<string, number> {
    const counts = new Map<string, number>();
    for (const attempt of this.attempts) {
      if (attempt.error) counts.set(attempt.error, (counts.get(attempt.error) ?? 0) + 1);
    }
    return Object.fromEntries([...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit));
  }

  /** Attempts by outcome: `{"200": n, "503": n, "0": n}` (0 = no answer). */
  statusCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const attempt of this.attempts) counts[attempt.status] = (counts[attempt.status] ?? 0) + 1;
    return counts;
  }
}

/**
 * Open-loop load: `rate` new events per second for `durationMs` (events are created on schedule whatever the
 * service's state, as webhooks from the outside world are). Returns how many were started.
 */
export async function sendAtRate(
  sender: RetryingSender,
  makeEvent: (index: number) => ClientEvent,
  rate: number,
  durationMs: number,
): Promise<number> {
  const started = Date.now();
  const total = Math.round((rate * durationMs) / 1000);
  let next = 0;
  while (next < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) * rate) / 1000) + 1);
    while (next < due) sender.send(makeEvent(next++));
    await delay(5);
  }
  return next;
}
