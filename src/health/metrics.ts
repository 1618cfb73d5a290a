import type { Count, Queryable } from './format';
import { readLeader } from '../jobs/leader';
import { countOrEstimate, isoOrNull, SharedCounts } from './format';

export interface BacklogOptions {
  stuckPendingMinutes: number;
  /** A pending dead letter with at least this many attempts counts as failing replay. */
  failingAttempts: number;
}

export interface Backlog {
  pending_observations: number;
  pending_stuck: number;
  oldest_pending_at: string | null;
  dead_observations: number;
  dead_letters: {
    pending: number;
    due: number;
    failed: number;
    failing: number;
  };
  entity_refresh: { queued: number; oldest_queued_at: string | null };
}

export interface LeaderInfo {
  instance_id: string;
  since: string;
  heartbeat_at: string;
  heartbeat_age_seconds: number | null;
}

export interface MetricsReport {
  counts: {
    persons: number;
    merged_persons: number;
    companies: number;
    locations: number;
    observations: Count;
    person_aliases: Count;
    merges: number;
    merges_rolled_back: number;
    identity_conflicts: number;
  };
  throughput: {
    last_hour: { observations: number; visits: number; scans: number };
    last_day: { observations: number; visits: number; scans: number };
  };
  backlog: Backlog;
  /** null when no instance leads (or the scheduler's table is absent). */
  leader: LeaderInfo | null;
  definitions: Record<string, string>;
}

export const METRICS_DEFINITIONS: Record<string, string> = {
  'counts.persons': 'Live persons (not merged into another), exact.',
  'counts.merged_persons': 'Tombstones: persons merged into a survivor, exact.',
  'counts.companies': 'Live companies, exact. counts.locations: canonical locations, exact.',
  'counts.observations / person_aliases':
    '{value, estimated}: exact below 200 000 rows; above, the planner statistic pg_class.reltuples kept by ' +
    '(auto)ANALYZE (typically within a few percent), with estimated: true.',
  'counts.merges': 'Merges recorded (persons and companies); merges_rolled_back: of those, rolled back.',
  'counts.identity_conflicts': 'Events whose identifiers named persons that can never be one (kept apart).',
  throughput:
    'Observations stored (received_at) in the last hour / 24 hours, all event types; visits and scans of them.',
  'backlog.pending_observations':
    'Observations waiting for Phase 2; pending_stuck: received more than HEALTH_STUCK_PENDING_MINUTES ago.',
  'backlog.dead_observations': 'Observations whose Phase 2 failed and that no replay has fixed yet.',
  'backlog.dead_letters':
    'pending: waiting for replay; due: pending and due now; failed: replay gave up (max attempts or a ' +
    'permanent error); failing: failed, or pending with at least ALERT_DEAD_LETTER_FAILING_ATTEMPTS attempts.',
  'backlog.entity_refresh': 'Company and location refolds queued by Phase 2 and not yet applied.',
  leader:
    'The instance running scheduled jobs, as it records itself in scheduler_leader; null when none leads. A ' +
    'heartbeat_age_seconds well above LEADER_CHECK_SECONDS means it died and no follower has taken over yet.',
};

interface CountsRow {
  merged_persons: number;
  companies: number;
  locations: number;
  merges: number;
  merges_rolled_back: number;
  identity_conflicts: number;
}

interface ThroughputRow {
  hour_observations: number;
  day_observations: number;
  hour_visits: number;
  day_visits: number;
  hour_scans: number;
  day_scans: number;
}

/** Sizes, throughput, backlog and the leader: all exact unless flagged, all from the database. */
export async function metricsReport(
  db: Queryable,
  options: BacklogOptions,
  shared = new SharedCounts(db),
): Promise<MetricsReport> {
  const [persons, counts, observations, aliases, throughput, backlog, leader] = await Promise.all([
    shared.livePersons(),
    db.query<CountsRow>(
      `SELECT (SELECT count(*) FROM persons WHERE merged_into IS NOT NULL) AS merged_persons,
              (SELECT count(*) FROM companies WHERE merged_into IS NULL) AS companies,
              (SELECT count(*) FROM locations) AS locations,
              (SELECT count(*) FROM merges) AS merges,
              (SELECT count(*) FROM merges WHERE rolled_back_at IS NOT NULL) AS merges_rolled_back,
              (SELECT count(*) FROM identity_conflicts) AS identity_conflicts`,
    ),
    countOrEstimate(db, 'observation_log'),
    countOrEstimate(db, 'person_aliases'),
    db.query<ThroughputRow>(
      `SELECT (SELECT count(*) FROM observation_log WHERE received_at >= now() - interval '1 hour') AS hour_observations,
              (SELECT count(*) FROM observation_log WHERE received_at >= now() - interval '1 day') AS day_observations,
              count(*) FILTER (WHERE kind = 'visit' AND received_at >= now() - interval '1 hour') AS hour_visits,
              count(*) FILTER (WHERE kind = 'visit') AS day_visits,
              count(*) FILTER (WHERE kind = 'scan' AND received_at >= now() - interval '1 hour') AS hour_scans,
              count(*) FILTER (WHERE kind = 'scan') AS day_scans
         FROM observation_log
        WHERE kind IN ('visit', 'scan') AND received_at >= now() - interval '1 day'`,
    ),
    backlogReport(db, options),
    currentLeader(db),
  ]);
  const row = throughput.rows[0]!;
  return {
    counts: { persons, ...counts.rows[0]!, observations, person_aliases: aliases },
    throughput: {
      last_hour: { observations: row.hour_observations, visits: row.hour_visits, scans: row.hour_scans },
      last_day: { observations: row.day_observations, visits: row.day_visits, scans: row.day_scans },
    },
    backlog,
    leader,
    definitions: METRICS_DEFINITIONS,
  };
}

interface BacklogRow {
  pending: number;
  pending_stuck: number;
  oldest_pending: Date | null;
  dead: number;
  letters_pending: number;
  letters_due: number;
  letters_failed: number;
  letters_failing: number;
  refresh_queued: number;
  refresh_oldest: Date | null;
}

/** What is waiting: every count reads a partial index of the unfinished rows only. */
export async function backlogReport(db: Queryable, options: BacklogOptions): Promise<Backlog> {
  const { rows } = await db.query<BacklogRow>(
    `WITH unfinished AS (
       SELECT status, received_at FROM observations WHERE status IN ('pending', 'dead')),
     letters AS (
       SELECT count(*) AS pending,
              count(*) FILTER (WHERE next_attempt_at <= now()) AS due,
              count(*) FILTER (WHERE attempts >= $2) AS failing_attempts
         FROM dead_letters WHERE status = 'pending')
     SELECT (SELECT count(*) FROM unfinished WHERE status = 'pending') AS pending,
            (SELECT count(*) FROM unfinished
              WHERE status = 'pending' AND received_at < now() - $1 * interval '1 minute') AS pending_stuck,
            (SELECT min(received_at) FROM unfinished WHERE status = 'pending') AS oldest_pending,
            (SELECT count(*) FROM unfinished WHERE status = 'dead') AS dead,
            letters.pending AS letters_pending,
            letters.due AS letters_due,
            (SELECT count(*) FROM dead_letters WHERE status = 'failed') AS letters_failed,
            letters.failing_attempts + (SELECT count(*) FROM dead_letters WHERE status = 'failed') AS letters_failing,
            (SELECT count(*) FROM entity_refresh) AS refresh_queued,
            (SELECT min(queued_at) FROM entity_refresh) AS refresh_oldest
       FROM letters`,
    [options.stuckPendingMinutes, options.failingAttempts],
  );
  const row = rows[0]!;
  return {
    pending_observations: row.pending,
    pending_stuck: row.pending_stuck,
    oldest_pending_at: isoOrNull(row.oldest_pending),
    dead_observations: row.dead,
    dead_letters: {
      pending: row.letters_pending,
      due: row.letters_due,
      failed: row.letters_failed,
      failing: row.letters_failing,
    },
    entity_refresh: { queued: row.refresh_queued, oldest_queued_at: isoOrNull(row.refresh_oldest) },
  };
}

async function currentLeader(db: Queryable): Promise<LeaderInfo | null> {
  const leader = await readLeader(db);
  if (!leader) return null;
  return {
    instance_id: leader.instanceId,
    since: leader.since.toISOString(),
    heartbeat_at: leader.heartbeatAt.toISOString(),
    heartbeat_age_seconds: Math.round(leader.heartbeatAgeSeconds),
  };
}
