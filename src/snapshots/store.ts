import type { PoolClient } from '../db/pool';
import type { CompanyRef } from './company-ref';
import { extractCompanyRef } from './company-ref';
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
import type { ParsedLocation } from './location';

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

/**
 * Companies and locations can collect many thousands of observations, so they fold incrementally: the fold is
 * a maximum, so adding one observation to the current snapshot equals refolding them all.
 */
async function foldIncrement(
  client: PoolClient,
  table: 'companies' | 'locations',
  id: string,
  fields: Record<string, unknown>,
  origin: Origin,
  groups: readonly (readonly string[])[],
  settings: FoldSettings,
): Promise<void> {
  const current = await client.query<{ snapshot: Snapshot }>(
    `SELECT snapshot FROM ${table} WHERE id = $1 FOR UPDATE`,
    [id],
  );
  const snapshot = sortedSnapshot(
    foldContribution(current.rows[0]?.snapshot ?? {}, fields, origin, groups, settings.policy),
  );
  await client.query(
    `UPDATE ${table}
        SET snapshot = $2, observations_count = observations_count + 1,
            first_observed_at = LEAST(first_observed_at, $3), last_observed_at = GREATEST(last_observed_at, $3),
            ${table === 'companies' ? 'name = $4,' : ''} updated_at = now()
      WHERE id = $1`,
    table === 'companies'
      ? [id, JSON.stringify(snapshot), origin.observedAt, textOrNull(snapshot.name)]
      : [id, JSON.stringify(snapshot), origin.observedAt],
  );
}

/** Links the observation to the company and folds it in; a no-op when it was already linked (replays). */
export async function foldCompanyObservation(
  client: PoolClient,
  companyId: string,
  ref: CompanyRef,
  origin: Origin,
  settings: FoldSettings,
): Promise<boolean> {
  const linked = await client.query(
    'UPDATE observations SET company_id = $2 WHERE id = $1 AND company_id IS DISTINCT FROM $2',
    [origin.observationId, companyId],
  );
  if (linked.rowCount === 0) return false;
  await foldIncrement(
    client,
    'companies',
    companyId,
    companyContribution(ref),
    origin,
    COMPANY_FIELD_GROUPS,
    settings,
  );
  return true;
}

export async function foldLocationObservation(
  client: PoolClient,
  locationId: string,
  location: ParsedLocation,
  origin: Origin,
  settings: FoldSettings,
): Promise<boolean> {
  const linked = await client.query(
    'UPDATE observations SET location_id = $2 WHERE id = $1 AND location_id IS DISTINCT FROM $2',
    [origin.observationId, locationId],
  );
  if (linked.rowCount === 0) return false;
  await foldIncrement(
    client,
    'locations',
    locationId,
    locationContribution(location),
    origin,
    LOCATION_FIELD_GROUPS,
    settings,
  );
  return true;
}

/** After companies merge, the survivor is refolded from every observation now pointing at it. */
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
    const ref = extractCompanyRef((row.payload as { data?: unknown } | null)?.data);
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
