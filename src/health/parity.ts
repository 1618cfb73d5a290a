import type { Queryable } from './format';
import { percent, SharedCounts } from './format';

/** How many mismatching person ids a parity report names, to start an investigation from. */
const SAMPLE_IDS = 10;

export interface ParityReport {
  all_time: {
    visits: number;
    scans: number;
    profile_observations: number;
    resolved: number;
    skipped: number;
    pending: number;
    dead: number;
    resolved_percent: number | null;
    live_persons: number;
    observations_per_person: number | null;
  };
  window: {
    window_hours: number;
    profile_observations: number;
    processed: number;
    processed_without_person: number;
    linked_to_missing_person: number;
    linked_to_merged_person: number;
    persons_checked: number;
    count_mismatches: number;
    mismatched_person_ids: string[];
  };
  status: 'ok' | 'mismatch';
  definitions: Record<string, string>;
}

export const PARITY_DEFINITIONS: Record<string, string> = {
  'all_time.visits / scans': 'Observations of kind visit / scan (any source: webhook or CSV import), exact.',
  'all_time.resolved':
    'Visits and scans that ended linked to a person: profile_observations - skipped - pending - dead (a visit or ' +
    'scan is never ignored, so these four states cover them all).',
  'all_time.resolved_percent': '100 x resolved / profile_observations, one decimal.',
  'all_time.live_persons': 'Persons not merged into another (merged_into IS NULL).',
  'all_time.observations_per_person': 'resolved / live_persons, two decimals.',
  window:
    'Consistency checks over the visits and scans received in the last window_hours (each costs in proportion to ' +
    'the window, not to the database). Every count but profile_observations, processed and persons_checked ' +
    'must be 0.',
  'window.processed_without_person': 'Observations marked processed that name no person.',
  'window.linked_to_missing_person': 'Observations naming a person id that does not exist.',
  'window.linked_to_merged_person':
    'Observations naming a merged (tombstone) person: a merge must move them to the survivor.',
  'window.persons_checked': 'Distinct live persons linked to an observation received in the window.',
  'window.count_mismatches':
    'Of those, persons whose observations_count differs from the number of observations linked to them (their ' +
    'snapshot was not refolded after a link changed); mismatched_person_ids lists up to 10.',
  status: 'ok when every window check is 0, else mismatch.',
};

interface UnfinishedRow {
  skipped: number;
  pending: number;
  dead: number;
}

interface WindowRow {
  profile_observations: number;
  processed: number;
  processed_without_person: number;
  linked_to_missing_person: number;
  linked_to_merged_person: number;
}

interface PersonsRow {
  persons_checked: number;
  count_mismatches: number;
  mismatched: string[] | null;
}

/** Visit/scan totals against what became of them, and observation/snapshot consistency over a window. */
export async function parityReport(
  db: Queryable,
  windowHours: number,
  shared = new SharedCounts(db),
): Promise<ParityReport> {
  const [profile, livePersons, unfinished, window, persons] = await Promise.all([
    shared.profileObservations(),
    shared.livePersons(),
    unfinishedProfileObservations(db),
    db.query<WindowRow>(
      `SELECT count(*) AS profile_observations,
              count(*) FILTER (WHERE o.status = 'processed') AS processed,
              count(*) FILTER (WHERE o.status = 'processed' AND o.person_id IS NULL) AS processed_without_person,
              count(*) FILTER (WHERE o.person_id IS NOT NULL AND p.id IS NULL) AS linked_to_missing_person,
              count(*) FILTER (WHERE p.merged_into IS NOT NULL) AS linked_to_merged_person
         FROM observation_log l
        -- One probe of each row's state (LIMIT: never a join of the whole state table), as in ingestionReport.
        CROSS JOIN LATERAL (SELECT status, person_id FROM observation_state WHERE id = l.id LIMIT 1) AS o
         LEFT JOIN persons p ON p.id = o.person_id
        WHERE l.received_at >= now() - $1 * interval '1 hour' AND l.kind IN ('visit', 'scan')`,
      [windowHours],
    ),
    db.query<PersonsRow>(
      `WITH touched AS (
         SELECT DISTINCT s.person_id
           FROM observation_log l
          CROSS JOIN LATERAL (SELECT person_id FROM observation_state WHERE id = l.id LIMIT 1) AS s
          WHERE l.received_at >= now() - $1 * interval '1 hour' AND s.person_id IS NOT NULL),
       checked AS (
         SELECT p.id, p.observations_count <> linked.count AS mismatch
           FROM touched t
           JOIN persons p ON p.id = t.person_id AND p.merged_into IS NULL
          CROSS JOIN LATERAL (SELECT count(*) FROM observation_state o WHERE o.person_id = p.id) AS linked)
       SELECT count(*) AS persons_checked,
              count(*) FILTER (WHERE mismatch) AS count_mismatches,
              (array_agg(id ORDER BY id) FILTER (WHERE mismatch))[1:$2] AS mismatched
         FROM checked`,
      [windowHours, SAMPLE_IDS],
    ),
  ]);
  const counts = { ...profile, ...unfinished, live_persons: livePersons };
  const total = counts.visits + counts.scans;
  const resolved = total - counts.skipped - counts.pending - counts.dead;
  const checks = window.rows[0]!;
  const people = persons.rows[0]!;
  const consistent =
    checks.processed_without_person === 0 &&
    checks.linked_to_missing_person === 0 &&
    checks.linked_to_merged_person === 0 &&
    people.count_mismatches === 0;
  return {
    all_time: {
      visits: counts.visits,
      scans: counts.scans,
      profile_observations: total,
      resolved,
      skipped: counts.skipped,
      pending: counts.pending,
      dead: counts.dead,
      resolved_percent: percent(resolved, total),
      live_persons: counts.live_persons,
      observations_per_person:
        counts.live_persons > 0 ? Math.round((resolved / counts.live_persons) * 100) / 100 : null,
    },
    window: {
      window_hours: windowHours,
      ...checks,
      persons_checked: people.persons_checked,
      count_mismatches: people.count_mismatches,
      mismatched_person_ids: people.mismatched ?? [],
    },
    status: consistent ? 'ok' : 'mismatch',
    definitions: PARITY_DEFINITIONS,
  };
}

/** Visits and scans that did not end linked to a person, all time: partial indexes of those states only. */
export async function unfinishedProfileObservations(db: Queryable): Promise<UnfinishedRow> {
  const { rows } = await db.query<UnfinishedRow>(
    `SELECT (SELECT count(*) FROM observation_state WHERE status = 'skipped' AND kind IN ('visit', 'scan')) AS skipped,
            count(*) FILTER (WHERE status = 'pending') AS pending,
            count(*) FILTER (WHERE status = 'dead') AS dead
       FROM observation_state
      WHERE status IN ('pending', 'dead') AND kind IN ('visit', 'scan')`,
  );
  return rows[0]!;
}
