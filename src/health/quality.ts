import type { Queryable } from './format';
import { percent, SharedCounts } from './format';

export interface FieldCoverage {
  present: number;
  missing: number;
  percent: number | null;
}

export const QUALITY_FIELDS = ['name', 'title', 'company', 'location', 'email', 'seniority'] as const;
export type QualityField = (typeof QUALITY_FIELDS)[number];

export interface DataQualityReport {
  live_persons: number;
  fields: Record<QualityField, FieldCoverage>;
  completeness_percent: number | null;
  identity_conflicts: { total: number; last_day: number; persons_involved: number };
  definitions: Record<string, string>;
}

export const QUALITY_DEFINITIONS: Record<string, string> = {
  live_persons: 'Persons not merged into another; every share below is over them, exact.',
  'fields.name': 'The snapshot has a full name.',
  'fields.title': 'The snapshot has a current title.',
  'fields.company': 'The current role names a company linked to a canonical company (current_company_id).',
  'fields.location': 'The snapshot has a location linked to a canonical location (location_id).',
  'fields.email': 'The snapshot has an email address.',
  'fields.seniority': 'The current title was classified into a seniority tier.',
  'fields.*.percent': '100 x present / live_persons, one decimal; null when there are no live persons.',
  completeness_percent: 'Mean of the six field shares (present fields / (6 x live_persons)), one decimal.',
  identity_conflicts:
    'Events whose identifiers named persons holding different Sales Navigator ids or member numbers (never ' +
    'merged): total, recorded in the last 24 hours, and distinct persons involved.',
};

interface QualityRow {
  missing_name: number;
  missing_title: number;
  missing_company: number;
  missing_location: number;
  with_email: number;
  missing_seniority: number;
  conflicts: number;
  conflicts_last_day: number;
  conflict_persons: number;
}

/**
 * Field coverage of live persons. Each count reads a partial index holding the minority (people missing the
 * field, or having an email), so the cost follows the gaps, not the size of the table.
 */
export async function dataQualityReport(
  db: Queryable,
  shared = new SharedCounts(db),
): Promise<DataQualityReport> {
  const [live, { rows }] = await Promise.all([
    shared.livePersons(),
    db.query<QualityRow>(
      `SELECT (SELECT count(*) FROM persons WHERE merged_into IS NULL AND full_name IS NULL) AS missing_name,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND current_title IS NULL) AS missing_title,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND current_company_id IS NULL)
                AS missing_company,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND location_id IS NULL) AS missing_location,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND (snapshot ->> 'email') IS NOT NULL)
                AS with_email,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND (snapshot ->> 'seniorityTier') IS NULL)
                AS missing_seniority,
              (SELECT count(*) FROM identity_conflicts WHERE entity = 'person') AS conflicts,
              (SELECT count(*) FROM identity_conflicts WHERE entity = 'person' AND detected_at >= now() - interval '1 day')
                AS conflicts_last_day,
              (SELECT count(DISTINCT person_id) FROM identity_conflicts, unnest(entity_ids) AS person_id
                WHERE entity = 'person') AS conflict_persons`,
    ),
  ]);
  const row = rows[0]!;
  const byMissing = (missing: number): FieldCoverage => ({
    present: live - missing,
    missing,
    percent: percent(live - missing, live),
  });
  const fields: Record<QualityField, FieldCoverage> = {
    name: byMissing(row.missing_name),
    title: byMissing(row.missing_title),
    company: byMissing(row.missing_company),
    location: byMissing(row.missing_location),
    email: byMissing(live - row.with_email),
    seniority: byMissing(row.missing_seniority),
  };
  const present = QUALITY_FIELDS.reduce((sum, field) => sum + fields[field].present, 0);
  return {
    live_persons: live,
    fields,
    completeness_percent: percent(present, QUALITY_FIELDS.length * live),
    identity_conflicts: {
      total: row.conflicts,
      last_day: row.conflicts_last_day,
      persons_involved: row.conflict_persons,
    },
    definitions: QUALITY_DEFINITIONS,
  };
}
