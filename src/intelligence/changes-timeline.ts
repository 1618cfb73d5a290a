/** A person's history as one feed: every observation, every change and when the person was first seen. */
import type { Pool } from '../db/pool';
import type { ContributionOptions } from '../snapshots/contributions';
import { contributionOf } from '../snapshots/contributions';
import type { ChangeType, JobState } from './changes';
import { stateOf } from './changes-store';

export type TimelineEntry =
  | {
      type: 'observation';
      at: string;
      observationId: number;
      kind: string;
      source: string;
      title: string | null;
      company: string | null;
      companyId: string | null;
    }
  | {
      type: 'change';
      at: string;
      observationId: number;
      changeType: ChangeType;
      previousObservationId: number;
      before: JobState;
      after: JobState;
    }
  | { type: 'first_seen'; at: string; observationId: number };

export interface TimelineQuery {
  /** Inclusive. */
  from: Date | null;
  /** Exclusive. */
  before: Date | null;
  limit: number;
  skip: number;
}

interface TimelineRow {
  total: number;
  entry: TimelineEntry['type'] | null;
  observation_id: string | null;
  at: Date | null;
  kind: string | null;
  source: string | null;
  payload: unknown;
  company_id: string | null;
  change: Record<string, unknown> | null;
}

/**
 * Newest first. Entries of one instant stay together by observation (higher id first), and for one observation
 * the change it shows comes before first_seen, which comes before the observation itself, so reading upwards
 * follows what happened.
 */
const TIMELINE = `
  WITH entries AS (
         SELECT 'observation' AS entry, o.id AS observation_id, COALESCE(o.event_time, o.received_at) AS at, 0 AS rank
           FROM observations o WHERE o.person_id = $1
         UNION ALL
         SELECT 'change', c.observation_id, COALESCE(o.event_time, o.received_at), 2
           FROM person_changes c JOIN observations o ON o.id = c.observation_id WHERE c.person_id = $1
         UNION ALL
         (SELECT 'first_seen', o.id, COALESCE(o.event_time, o.received_at), 1
            FROM observations o WHERE o.person_id = $1
           ORDER BY 3, 2 LIMIT 1)),
       filtered AS (SELECT * FROM entries
                     WHERE ($2::timestamptz IS NULL OR at >= $2) AND ($3::timestamptz IS NULL OR at < $3)),
       page AS (SELECT * FROM filtered ORDER BY at DESC, observation_id DESC, rank DESC LIMIT $4 OFFSET $5)
  SELECT total.n AS total, page.entry, page.observation_id, page.at, o.kind, o.source, o.payload, o.company_id,
         to_jsonb(c) AS change
    FROM (SELECT count(*)::int AS n FROM filtered) total
    LEFT JOIN page ON true
    LEFT JOIN observations o ON page.entry = 'observation' AND o.id = page.observation_id
    LEFT JOIN person_changes c ON page.entry = 'change' AND c.person_id = $1 AND c.observation_id = page.observation_id
   ORDER BY page.at DESC, page.observation_id DESC, page.rank DESC`;

export async function personTimeline(
  pool: Pool,
  personId: string,
  query: TimelineQuery,
  options: ContributionOptions,
): Promise<{ items: TimelineEntry[]; totalCount: number }> {
  const { rows } = await pool.query<TimelineRow>(TIMELINE, [
    personId,
    query.from,
    query.before,
    query.limit,
    query.skip,
  ]);
  const items: TimelineEntry[] = [];
  for (const row of rows) {
    if (row.entry === null || row.at === null || row.observation_id === null) continue;
    const observationId = Number(row.observation_id);
    const at = row.at.toISOString();
    if (row.entry === 'first_seen') items.push({ type: 'first_seen', at, observationId });
    else if (row.entry === 'change' && row.change) items.push(changeEntry(at, observationId, row.change));
    else if (row.entry === 'observation') items.push(observationEntry(row, at, observationId, options));
  }
  return { items, totalCount: rows[0]?.total ?? 0 };
}

function observationEntry(
  row: TimelineRow,
  at: string,
  observationId: number,
  options: ContributionOptions,
): TimelineEntry {
  const kind = row.kind ?? '';
  const source = row.source ?? '';
  const person = contributionOf({ id: observationId, kind, source, payload: row.payload }, options).person;
  const company = typeof person.currentCompany === 'string' ? person.currentCompany : null;
  return {
    type: 'observation',
    at,
    observationId,
    kind,
    source,
    title: typeof person.currentTitle === 'string' ? person.currentTitle : null,
    company,
    companyId: company === null ? null : row.company_id,
  };
}

function changeEntry(at: string, observationId: number, change: Record<string, unknown>): TimelineEntry {
  return {
    type: 'change',
    at,
    observationId,
    changeType: change.type as ChangeType,
    previousObservationId: Number(change.previous_observation_id),
    before: stateOf(change, 'before'),
    after: stateOf(change, 'after'),
  };
}
