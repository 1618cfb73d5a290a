import type { PoolClient } from '../db/pool';
import type { Contribution, ContributionOptions } from './contributions';
import {
  COMPANY_FIELD_GROUPS,
  companyContribution,
  contributionOf,
  LOCATION_FIELD_GROUPS,
  locationContribution,
  PERSON_FIELD_GROUPS,
} from './contributions';
import type { PrecedencePolicy, Snapshot } from './fold';
import { foldContribution, sortedSnapshot } from './fold';

export interface FoldSettings extends ContributionOptions {
  policy: PrecedencePolicy;
}

interface LinkedObservation {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
  observed_at: Date;
  company_id: string | null;
  location_id: string | null;
}

const LINKED_OBSERVATIONS = `SELECT id, source, kind, payload, COALESCE(event_time, received_at) AS observed_at,
                                    company_id, location_id
                               FROM observations WHERE %COLUMN% = $1 ORDER BY id`;

interface FoldedEntity {
  snapshot: Snapshot;
  count: number;
  firstObservedAt: Date | null;
  lastObservedAt: Date | null;
}

/**
 * Folds every observation linked to an entity through `fieldsOf` (null: the observation says nothing about
 * this entity). The one fold behind persons, companies and locations.
 */
async function foldLinked(
  client: PoolClient,
  column: 'person_id' | 'company_id' | 'location_id',
  id: string,
  settings: FoldSettings,
  groups: readonly (readonly string[])[],
  fieldsOf: (row: LinkedObservation, contribution: Contribution) => Record<string, unknown> | null,
): Promise<FoldedEntity> {
  const { rows } = await client.query<LinkedObservation>(LINKED_OBSERVATIONS.replace('%COLUMN%', column), [
    id,
  ]);
  let snapshot: Snapshot = {};
  for (const row of rows) {
    const contribution = contributionOf(row, settings);
    const fields = fieldsOf(row, contribution);
    if (!fields) continue;
    const origin = { observationId: row.id, source: contribution.source, observedAt: row.observed_at };
    snapshot = foldContribution(snapshot, fields, origin, groups, settings.policy);
  }
  const times = rows.map((row) => row.observed_at.getTime());
  return {
    snapshot: sortedSnapshot(snapshot),
    count: rows.length,
    firstObservedAt: times.length > 0 ? new Date(Math.min(...times)) : null,
    lastObservedAt: times.length > 0 ? new Date(Math.max(...times)) : null,
  };
}

/** A person's snapshot is rebuilt from all its observations: a pure function of them. */
export async function refoldPerson(
  client: PoolClient,
  personId: string,
  settings: FoldSettings,
): Promise<Snapshot> {
  const { snapshot, count, firstObservedAt, lastObservedAt } = await foldLinked(
    client,
    'person_id',
    personId,
    settings,
    PERSON_FIELD_GROUPS,
    (row, contribution) => {
      const fields = { ...contribution.person };
      if (row.company_id && fields.currentCompany !== undefined) fields.companyId = row.company_id;
      if (row.location_id && fields.location !== undefined) fields.locationId = row.location_id;
      return fields;
    },
  );
  await client.query(
    `UPDATE persons
        SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            full_name = $6, current_title = $7, current_company = $8, current_company_id = $9, location_id = $10,
            updated_at = now()
      WHERE id = $1`,
    [
      personId,
      JSON.stringify(snapshot),
      count,
      firstObservedAt,
      lastObservedAt,
      textOrNull(snapshot.fullName),
      textOrNull(snapshot.currentTitle),
      textOrNull(snapshot.currentCompany),
      textOrNull(snapshot.companyId),
      textOrNull(snapshot.locationId),
    ],
  );
  return snapshot;
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** A company's snapshot from every observation linked to it (run off the request path by the refresher). */
export async function refoldCompany(
  client: PoolClient,
  companyId: string,
  settings: FoldSettings,
): Promise<void> {
  const { snapshot, count, firstObservedAt, lastObservedAt } = await foldLinked(
    client,
    'company_id',
    companyId,
    settings,
    COMPANY_FIELD_GROUPS,
    (_row, contribution) => (contribution.company ? companyContribution(contribution.company) : null),
  );
  await client.query(
    `UPDATE companies SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            name = $6, updated_at = now()
      WHERE id = $1`,
    [companyId, JSON.stringify(snapshot), count, firstObservedAt, lastObservedAt, textOrNull(snapshot.name)],
  );
}

export async function refoldLocation(
  client: PoolClient,
  locationId: string,
  settings: FoldSettings,
): Promise<void> {
  const { snapshot, count, firstObservedAt, lastObservedAt } = await foldLinked(
    client,
    'location_id',
    locationId,
    settings,
    LOCATION_FIELD_GROUPS,
    (_row, contribution) => (contribution.location ? locationContribution(contribution.location) : null),
  );
  await client.query(
    `UPDATE locations SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            updated_at = now()
      WHERE id = $1`,
    [locationId, JSON.stringify(snapshot), count, firstObservedAt, lastObservedAt],
  );
}
