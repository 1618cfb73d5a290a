import type { Queryable } from './format';
import { ageSeconds, isoOrNull, percent } from './format';

export interface IngestionOptions {
  windowHours: number;
  stuckPendingMinutes: number;
  /** Below this many finished observations the success rate is reported but not judged. */
  minSample: number;
  warningBelowPercent: number;
  criticalBelowPercent: number;
}

export type IngestionStatus = 'healthy' | 'degraded' | 'unhealthy' | 'insufficient_data';

interface StatusCounts {
  received: number;
  processed: number;
  skipped: number;
  dead: number;
  pending: number;
  pending_stuck: number;
  ignored: number;
}

export interface IngestionReport {
  window_hours: number;
  since: string;
  observations: StatusCounts & { pending_in_flight: number };
  by_source: Record<string, StatusCounts>;
  person_upsert: {
    succeeded: number;
    failed: number;
    attempted: number;
    success_rate_percent: number | null;
  };
  status: IngestionStatus;
  last_webhook_at: string | null;
  seconds_since_last_webhook: number | null;
  dead_letters_created: number;
  definitions: Record<string, string>;
}

export const INGESTION_DEFINITIONS: Record<string, string> = {
  window:
    'Observations whose received_at (the moment the service stored the input) is within the last window_hours.',
  'observations.received': 'Every observation stored in the window, of any source and event type.',
  'observations.processed': 'Linked to a canonical person: the person snapshot includes it.',
  'observations.skipped':
    'Finished without a person: the payload carries no usable identifier (not counted as a failure).',
  'observations.dead': 'Phase 2 failed; a dead letter holds it for replay (a failure until replayed).',
  'observations.pending':
    'Stored, not yet resolved. pending_stuck: received more than HEALTH_STUCK_PENDING_MINUTES ago (the sweeper ' +
    'should have finished them: a failure); pending_in_flight: the rest (not yet judged).',
  'observations.ignored': 'Event types that carry no profile (rccommand, action, message, ...): stored only.',
  'person_upsert.success_rate_percent':
    '100 x processed / (processed + dead + pending_stuck) over the window, one decimal. Skipped, ignored and ' +
    'in-flight observations are neither successes nor failures. null when that denominator is 0.',
  status:
    'healthy at or above ALERT_SUCCESS_RATE_WARNING, degraded at or above ALERT_SUCCESS_RATE_CRITICAL, else ' +
    'unhealthy; insufficient_data while fewer than ALERT_SUCCESS_RATE_MIN_SAMPLE observations were judged.',
  last_webhook_at: 'received_at of the newest Dux-Soup observation (any event type), all time.',
  dead_letters_created: 'Dead letters first recorded in the window (a replayed one keeps its first time).',
};

interface WindowRow {
  source: string;
  status: string;
  count: number;
  stuck: number;
}

/**
 * The webhook-to-snapshot pipeline over a window: what arrived, how it ended, and how recently it arrived. Times
 * come from the database clock, so every instance reports the same figures.
 */
export async function ingestionReport(db: Queryable, options: IngestionOptions): Promise<IngestionReport> {
  const [window, latest, deadLetters] = await Promise.all([
    db.query<WindowRow>(
      // The window along the log's received_at index, then one probe of each row's state: LIMIT keeps the
      // planner from joining the whole state table (or starting parallel workers) for a window of a few thousand.
      `SELECT o.source, s.status, count(*) AS count,
              count(*) FILTER (WHERE s.status = 'pending' AND o.received_at < now() - $2 * interval '1 minute')
                AS stuck
         FROM observation_log o
        CROSS JOIN LATERAL (SELECT status FROM observation_state WHERE id = o.id LIMIT 1) AS s
        WHERE o.received_at >= now() - $1 * interval '1 hour'
        GROUP BY o.source, s.status`,
      [options.windowHours, options.stuckPendingMinutes],
    ),
    // Newest first along the received_at index: stops at the first Dux-Soup row.
    db.query<{ now: Date; last: Date | null }>(
      `SELECT now() AS now, (SELECT max(received_at) FROM observation_log WHERE source = 'duxsoup') AS last`,
    ),
    db.query<{ count: number }>(
      `SELECT count(*) AS count FROM dead_letters WHERE created_at >= now() - $1 * interval '1 hour'`,
      [options.windowHours],
    ),
  ]);

  const bySource: Record<string, StatusCounts> = {};
  const total = emptyCounts();
  for (const row of window.rows) {
    const counts = (bySource[row.source] ??= emptyCounts());
    for (const target of [counts, total]) addRow(target, row);
  }
  const failed = total.dead + total.pending_stuck;
  const attempted = total.processed + failed;
  const rate = percent(total.processed, attempted);
  const { now, last } = latest.rows[0]!;
  return {
    window_hours: options.windowHours,
    since: new Date(now.getTime() - options.windowHours * 3_600_000).toISOString(),
    observations: { ...total, pending_in_flight: total.pending - total.pending_stuck },
    by_source: bySource,
    person_upsert: { succeeded: total.processed, failed, attempted, success_rate_percent: rate },
    status: statusOf(total.processed, attempted, options),
    last_webhook_at: isoOrNull(last),
    seconds_since_last_webhook: ageSeconds(last, now),
    dead_letters_created: deadLetters.rows[0]!.count,
    definitions: INGESTION_DEFINITIONS,
  };
}

function emptyCounts(): StatusCounts {
  return { received: 0, processed: 0, skipped: 0, dead: 0, pending: 0, pending_stuck: 0, ignored: 0 };
}

function addRow(counts: StatusCounts, row: WindowRow): void {
  counts.received += row.count;
  if (row.status === 'processed') counts.processed += row.count;
  else if (row.status === 'skipped') counts.skipped += row.count;
  else if (row.status === 'dead') counts.dead += row.count;
  else if (row.status === 'pending') {
    counts.pending += row.count;
    counts.pending_stuck += row.stuck;
  } else if (row.status === 'ignored') counts.ignored += row.count;
}

/** Judged on the exact ratio (the reported percentage is rounded), with the alert rule's thresholds. */
function statusOf(succeeded: number, attempted: number, options: IngestionOptions): IngestionStatus {
  if (attempted === 0 || attempted < options.minSample) return 'insufficient_data';
  const rate = (succeeded / attempted) * 100;
  if (rate >= options.warningBelowPercent) return 'healthy';
  if (rate >= options.criticalBelowPercent) return 'degraded';
  return 'unhealthy';
}
