/** person_changes: writing a person's derived changes, and the reads behind /api/changes and the timeline. */
import type { Pool, PoolClient } from '../db/pool';
import type { ChangePoint, ChangeType, JobState, LatestChange, PersonChange } from './changes';
import { deriveChanges, JOB_CHANGE_TYPES, RECENT_JOB_CHANGE_DAYS } from './changes';

const SIDES = ['before', 'after'] as const;

/**
 * Replaces the person's changes with the derived ones (`$2`, a JSON array of rows) in one statement: rows of
 * observations that no longer show a change go, new ones come, changed ones are rewritten (detected_at moves
 * only when the content does).
 */
const SYNC_CHANGES = `
  WITH incoming AS (
         SELECT * FROM jsonb_to_recordset($2::jsonb) AS c(
           observation_id bigint, previous_observation_id bigint, type text,
           changed_at timestamptz, previous_observed_at timestamptz,
           before_title text, before_company text, before_company_id uuid,
           before_level smallint, before_tier text, before_department text,
           after_title text, after_company text, after_company_id uuid,
           after_level smallint, after_tier text, after_department text)),
       stale AS (
         DELETE FROM person_changes
          WHERE person_id = $1 AND observation_id NOT IN (SELECT observation_id FROM incoming))
  INSERT INTO person_changes AS pc (
         person_id, observation_id, previous_observation_id, type, changed_at, previous_observed_at,
         before_title, before_company, before_company_id, before_level, before_tier, before_department,
         after_title, after_company, after_company_id, after_level, after_tier, after_department)
  SELECT $1, observation_id, previous_observation_id, type, changed_at, previous_observed_at,
         before_title, before_company, before_company_id, before_level, before_tier, before_department,
         after_title, after_company, after_company_id, after_level, after_tier, after_department
    FROM incoming
  ON CONFLICT (person_id, observation_id) DO UPDATE
     SET previous_observation_id = EXCLUDED.previous_observation_id, type = EXCLUDED.type,
         changed_at = EXCLUDED.changed_at, previous_observed_at = EXCLUDED.previous_observed_at,
         before_title = EXCLUDED.before_title, before_company = EXCLUDED.before_company,
         before_company_id = EXCLUDED.before_company_id, before_level = EXCLUDED.before_level,
         before_tier = EXCLUDED.before_tier, before_department = EXCLUDED.before_department,
         after_title = EXCLUDED.after_title, after_company = EXCLUDED.after_company,
         after_company_id = EXCLUDED.after_company_id, after_level = EXCLUDED.after_level,
         after_tier = EXCLUDED.after_tier, after_department = EXCLUDED.after_department,
         detected_at = now()
   WHERE (pc.previous_observation_id, pc.type, pc.changed_at, pc.previous_observed_at,
          pc.before_title, pc.before_company, pc.before_company_id, pc.before_level, pc.before_tier,
          pc.before_department, pc.after_title, pc.after_company, pc.after_company_id, pc.after_level,
          pc.after_tier, pc.after_department)
         IS DISTINCT FROM
         (EXCLUDED.previous_observation_id, EXCLUDED.type, EXCLUDED.changed_at, EXCLUDED.previous_observed_at,
          EXCLUDED.before_title, EXCLUDED.before_company, EXCLUDED.before_company_id, EXCLUDED.before_level,
          EXCLUDED.before_tier, EXCLUDED.before_department, EXCLUDED.after_title, EXCLUDED.after_company,
          EXCLUDED.after_company_id, EXCLUDED.after_level, EXCLUDED.after_tier, EXCLUDED.after_department)`;

/**
 * Called by the person refold with the points of the observations it has just folded. No change: no statement
 * (rows cannot be stale then, see the trigger in migration 007). Otherwise one statement.
 */
export async function syncPersonChanges(
  client: PoolClient,
  personId: string,
  points: readonly (ChangePoint | null)[],
): Promise<void> {
  const changes = deriveChanges(points);
  if (changes.length === 0) return;
  await client.query(SYNC_CHANGES, [personId, JSON.stringify(changes.map(changeRecord))]);
}

/** A change as a row of jsonb_to_recordset (the column names of person_changes). */
export function changeRecord(change: PersonChange): Record<string, unknown> {
  const record: Record<string, unknown> = {
    observation_id: change.observationId,
    previous_observation_id: change.previousObservationId,
    type: change.type,
    changed_at: change.changedAt.toISOString(),
    previous_observed_at: change.previousObservedAt.toISOString(),
  };
  for (const side of SIDES) {
    const state = change[side];
    Object.assign(record, {
      [`${side}_title`]: state.title,
      [`${side}_company`]: state.company,
      [`${side}_company_id`]: state.companyId,
      [`${side}_level`]: state.seniorityLevel,
      [`${side}_tier`]: state.seniorityTier,
      [`${side}_department`]: state.department,
    });
  }
  return record;
}

/** A stored change as the API shows it. */
export interface ChangeView {
  personId: string;
  fullName: string | null;
  type: ChangeType;
  changedAt: string;
  observationId: number;
  previousObservationId: number;
  previousObservedAt: string;
  detectedAt: string;
  before: JobState;
  after: JobState;
}

type ChangeRow = Record<string, unknown> & {
  person_id: string;
  full_name: string | null;
  type: ChangeType;
  changed_at: Date;
  observation_id: string;
  previous_observation_id: string;
  previous_observed_at: Date;
  detected_at: Date;
};

/** One side of a person_changes row (or of its to_jsonb). */
export function stateOf(row: Record<string, unknown>, side: 'before' | 'after'): JobState {
  return {
    title: row[`${side}_title`] as string | null,
    company: row[`${side}_company`] as string | null,
    companyId: row[`${side}_company_id`] as string | null,
    seniorityLevel: row[`${side}_level`] as number | null,
    seniorityTier: row[`${side}_tier`] as string | null,
    department: row[`${side}_department`] as string | null,
  };
}

function changeView(row: ChangeRow): ChangeView {
  return {
    personId: row.person_id,
    fullName: row.full_name,
    type: row.type,
    changedAt: row.changed_at.toISOString(),
    observationId: Number(row.observation_id),
    previousObservationId: Number(row.previous_observation_id),
    previousObservedAt: row.previous_observed_at.toISOString(),
    detectedAt: row.detected_at.toISOString(),
    before: stateOf(row, 'before'),
    after: stateOf(row, 'after'),
  };
}

export interface Page<T> {
  items: T[];
  totalCount: number;
}

/** Changes of live persons in the last `days` days, newest first. */
export async function recentChanges(
  pool: Pool,
  options: { type: ChangeType | null; days: number; limit: number; skip: number },
): Promise<Page<ChangeView>> {
  const { rows } = await pool.query<ChangeRow & { total: number }>(
    `WITH filtered AS (
       SELECT c.*, p.full_name
         FROM person_changes c JOIN persons p ON p.id = c.person_id AND p.merged_into IS NULL
        WHERE c.changed_at >= now() - make_interval(days => $1) AND ($2::text IS NULL OR c.type = $2)),
     page AS (SELECT * FROM filtered ORDER BY changed_at DESC, observation_id DESC, person_id LIMIT $3 OFFSET $4)
     SELECT total.n AS total, page.*
       FROM (SELECT count(*)::int AS n FROM filtered) total LEFT JOIN page ON true
      ORDER BY page.changed_at DESC, page.observation_id DESC, page.person_id`,
    [options.days, options.type, options.limit, options.skip],
  );
  return {
    totalCount: rows[0]?.total ?? 0,
    items: rows.filter((row) => row.person_id !== null).map(changeView),
  };
}

/** All changes of one person, newest first. */
export async function changesOfPerson(pool: Pool, personId: string): Promise<ChangeView[]> {
  const { rows } = await pool.query<ChangeRow>(
    `SELECT c.*, p.full_name FROM person_changes c JOIN persons p ON p.id = c.person_id
      WHERE c.person_id = $1 ORDER BY c.changed_at DESC, c.observation_id DESC`,
    [personId],
  );
  return rows.map(changeView);
}

export interface JobChangeStatus {
  /** A company change, promotion or lateral move within the last 90 days (of now, by changed_at). */
  recentJobChange: boolean;
  lastJobChangeAt: string | null;
  lastJobChangeType: ChangeType | null;
}

/**
 * SQL for the job-change status of the person whose id is `personIdSql` (a column or parameter), for reads that
 * want it in their own SELECT: computed at read time, so it never goes stale as the clock moves.
 */
export function jobChangeStatusSql(personIdSql: string): {
  recent: string;
  lastAt: string;
  lastType: string;
} {
  const types = `ARRAY[${JOB_CHANGE_TYPES.map((type) => `'${type}'`).join(', ')}]`;
  const latest = `(SELECT %s FROM person_changes jc WHERE jc.person_id = ${personIdSql} AND jc.type = ANY(${types})
                    ORDER BY jc.changed_at DESC, jc.observation_id DESC LIMIT 1)`;
  return {
    recent: `EXISTS (SELECT 1 FROM person_changes jc WHERE jc.person_id = ${personIdSql} AND jc.type = ANY(${types})
                       AND jc.changed_at >= now() - interval '${RECENT_JOB_CHANGE_DAYS} days')`,
    lastAt: latest.replace('%s', 'jc.changed_at'),
    lastType: latest.replace('%s', 'jc.type'),
  };
}

export async function jobChangeStatus(pool: Pool, personId: string): Promise<JobChangeStatus> {
  const sql = jobChangeStatusSql('$1');
  const { rows } = await pool.query<{ recent: boolean; last_at: Date | null; last_type: ChangeType | null }>(
    `SELECT ${sql.recent} AS recent, ${sql.lastAt} AS last_at, ${sql.lastType} AS last_type`,
    [personId],
  );
  const row = rows[0];
  return {
    recentJobChange: row?.recent ?? false,
    lastJobChangeAt: row?.last_at?.toISOString() ?? null,
    lastJobChangeType: row?.last_type ?? null,
  };
}

/**
 * The newest change of a person, for `keepsChanges` on an incremental write path. `row` is a person_changes row
 * or its `to_jsonb` (so a read can fetch it in a subquery); null when the person has no change.
 */
export function latestChangeOf(row: Record<string, unknown> | null | undefined): LatestChange | null {
  if (!row) return null;
  return {
    observationId: Number(row.observation_id),
    changedAt: new Date(row.changed_at as string | Date),
    after: stateOf(row, 'after'),
  };
}

/** SQL giving the newest change of the person `personIdSql` as jsonb (NULL when none), for `latestChangeOf`. */
export function latestChangeSql(personIdSql: string): string {
  return `(SELECT to_jsonb(lc) FROM person_changes lc WHERE lc.person_id = ${personIdSql}
            ORDER BY lc.changed_at DESC, lc.observation_id DESC LIMIT 1)`;
}
