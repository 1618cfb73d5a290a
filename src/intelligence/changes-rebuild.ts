/**
 * Re-derives person_changes for every live person from the observation log. For writers that build persons
 * without `refoldPerson` (the set-based rebuild) and for backfilling a database that had persons before
 * migration 007: run it once they are done. Pages of persons by id; per page one read of their observations
 * and one transaction that replaces their changes.
 */
import type { Pool } from '../db/pool';
import { withTransaction } from '../db/pool';
import type { ContributionOptions } from '../snapshots/contributions';
import { contributionOf } from '../snapshots/contributions';
import type { ChangePoint } from './changes';
import { changePointOf, deriveChanges } from './changes';
import { changeRecord } from './changes-store';

export interface ChangesRebuildOptions extends ContributionOptions {
  /** Persons per page (default 500). */
  batchSize?: number;
  onProgress?: (persons: number) => void;
}

interface ObservationRow {
  id: number;
  person_id: string;
  source: string;
  kind: string;
  payload: unknown;
  observed_at: Date;
  company_id: string | null;
}

const INSERT_CHANGES = `
  INSERT INTO person_changes (
         person_id, observation_id, previous_observation_id, type, changed_at, previous_observed_at,
         before_title, before_company, before_company_id, before_level, before_tier, before_department,
         after_title, after_company, after_company_id, after_level, after_tier, after_department)
  SELECT person_id, observation_id, previous_observation_id, type, changed_at, previous_observed_at,
         before_title, before_company, before_company_id, before_level, before_tier, before_department,
         after_title, after_company, after_company_id, after_level, after_tier, after_department
    FROM jsonb_to_recordset($1::jsonb) AS c(
           person_id uuid, observation_id bigint, previous_observation_id bigint, type text,
           changed_at timestamptz, previous_observed_at timestamptz,
           before_title text, before_company text, before_company_id uuid,
           before_level smallint, before_tier text, before_department text,
           after_title text, after_company text, after_company_id uuid,
           after_level smallint, after_tier text, after_department text)`;

export async function rebuildPersonChanges(
  pool: Pool,
  options: ChangesRebuildOptions,
): Promise<{ persons: number; changes: number }> {
  const batchSize = options.batchSize ?? 500;
  let after = '00000000-0000-0000-0000-000000000000';
  let persons = 0;
  let changes = 0;
  for (;;) {
    const page = await pool.query<{ id: string; observations_count: number }>(
      `SELECT id, observations_count FROM persons
        WHERE merged_into IS NULL AND id > $1 ORDER BY id LIMIT $2`,
      [after, batchSize],
    );
    if (page.rows.length === 0) break;
    const ids = page.rows.map((row) => row.id);
    // One observation (or none) cannot show a change.
    const withHistory = page.rows.filter((row) => row.observations_count > 1).map((row) => row.id);
    const points = new Map<string, (ChangePoint | null)[]>();
    if (withHistory.length > 0) {
      const observations = await pool.query<ObservationRow>(
        `SELECT id, person_id, source, kind, payload, COALESCE(event_time, received_at) AS observed_at, company_id
           FROM observations WHERE person_id = ANY($1::uuid[])`,
        [withHistory],
      );
      for (const row of observations.rows) {
        const list = points.get(row.person_id) ?? [];
        list.push(changePointOf(row, contributionOf(row, options)));
        points.set(row.person_id, list);
      }
    }
    const records = [...points].flatMap(([personId, list]) =>
      deriveChanges(list).map((change) => ({ person_id: personId, ...changeRecord(change) })),
    );
    await withTransaction(pool, async (client) => {
      await client.query('DELETE FROM person_changes WHERE person_id = ANY($1::uuid[])', [ids]);
      if (records.length > 0) await client.query(INSERT_CHANGES, [JSON.stringify(records)]);
    });
    persons += ids.length;
    changes += records.length;
    after = ids[ids.length - 1]!;
    options.onProgress?.(persons);
  }
  return { persons, changes };
}
