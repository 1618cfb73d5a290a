import type { PoolClient } from '../db/pool';
import type { ContributionOptions } from './contributions';
import {
  COMPANY_FIELD_GROUPS,
  companyContribution,
  contributionOf,
  LOCATION_FIELD_GROUPS,
  locationContribution,
  PERSON_FIELD_GROUPS,
} from './contributions';
import type { Origin, PrecedencePolicy, Snapshot } from './fold';
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

function originOf(row: LinkedObservation, source: string): Origin {
  return { observationId: row.id, source, observedAt: row.observed_at };
}

const LINKED_OBSERVATIONS = `SELECT id, source, kind, payload, COALESCE(event_time, received_at) AS observed_at,
                                    company_id, location_id
                               FROM observations WHERE %COLUMN% = $1 ORDER BY id`;

/** A person's snapshot is rebuilt from all its observations: a pure function of them. */
export async function refoldPerson(
  client: PoolClient,
  personId: string,
  settings: FoldSettings,
): Promise<Snapshot> {
  const { rows } = await client.query<LinkedObservation>(
    LINKED_OBSERVATIONS.replace('%COLUMN%', 'person_id'),
    [personId],
  );
  let snapshot: Snapshot = {};
  for (const row of rows) {
    const contribution = contributionOf(row, settings);
    const fields = { ...contribution.person };
    if (row.company_id && fields.currentCompany !== undefined) fields.companyId = row.company_id;
    if (row.location_id && fields.location !== undefined) fields.locationId = row.location_id;
    snapshot = foldContribution(
      snapshot,
      fields,
      originOf(row, contribution.source),
      PERSON_FIELD_GROUPS,
      settings.policy,
    );
  }
  snapshot = sortedSnapshot(snapshot);
  const times = rows.map((row) => row.observed_at.getTime());
  await client.query(
    `UPDATE persons
        SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            full_name = $6, current_title = $7, current_company = $8, current_company_id = $9, location_id = $10,
            updated_at = now()
      WHERE id = $1`,
    [
      personId,
      JSON.stringify(snapshot),
      rows.length,
      times.length > 0 ? new Date(Math.min(...times)) : null,
      times.length > 0 ? new Date(Math.max(...times)) : null,
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
  const { rows } = await client.query<LinkedObservation>(
    LINKED_OBSERVATIONS.replace('%COLUMN%', 'company_id'),
    [companyId],
  );
  let snapshot: Snapshot = {};
  for (const row of rows) {
    const ref = contributionOf(row, settings).company;
    if (!ref) continue;
    const source = row.source === 'duxsoup' ? row.kind : row.source;
    snapshot = foldContribution(
      snapshot,
      companyContribution(ref),
      originOf(row, source),
      COMPANY_FIELD_GROUPS,
      settings.policy,
    );
  }
  snapshot = sortedSnapshot(snapshot);
  const times = rows.map((row) => row.observed_at.getTime());
  await client.query(
    `UPDATE companies SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            name = $6, updated_at = now()
      WHERE id = $1`,
    [
      companyId,
      JSON.stringify(snapshot),
      rows.length,
      times.length > 0 ? new Date(Math.min(...times)) : null,
      times.length > 0 ? new Date(Math.max(...times)) : null,
      textOrNull(snapshot.name),
    ],
  );
}

export async function refoldLocation(
  client: PoolClient,
  locationId: string,
  settings: FoldSettings,
): Promise<void> {
  const { rows } = await client.query<LinkedObservation>(
    LINKED_OBSERVATIONS.replace('%COLUMN%', 'location_id'),
    [locationId],
  );
  let snapshot: Snapshot = {};
  for (const row of rows) {
    const location = contributionOf(row, settings).location;
    if (!location) continue;
    const source = row.source === 'duxsoup' ? row.kind : row.source;
    snapshot = foldContribution(
      snapshot,
      locationContribution(location),
      originOf(row, source),
      LOCATION_FIELD_GROUPS,
      settings.policy,
    );
  }
  snapshot = sortedSnapshot(snapshot);
  const times = rows.map((row) => row.observed_at.getTime());
  await client.query(
    `UPDATE locations SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
            updated_at = now()
      WHERE id = $1`,
    [
      locationId,
      JSON.stringify(snapshot),
      rows.length,
      times.length > 0 ? new Date(Math.min(...times)) : null,
      times.length > 0 ? new Date(Math.max(...times)) : null,
    ],
  );
}
