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
import type { ChangePoint } from '../intelligence/changes';
import { changePointOf } from '../intelligence/changes';
import { syncPersonChanges } from '../intelligence/changes-store';

export interface FoldSettings extends ContributionOptions {
  policy: PrecedencePolicy;
}

export interface LinkedObservation {
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

export interface FoldedEntity {
  snapshot: Snapshot;
  count: number;
  firstObservedAt: Date | null;
  lastObservedAt: Date | null;
}

/** The columns persons, companies and locations keep their fold in, as read together. */
export const FOLD_COLUMNS = 'snapshot, observations_count, first_observed_at, last_observed_at';

export interface FoldRow {
  snapshot: Snapshot;
  observations_count: number;
  first_observed_at: Date | null;
  last_observed_at: Date | null;
}

export function foldedEntityOf(row: FoldRow): FoldedEntity {
  return {
    snapshot: row.snapshot,
    count: row.observations_count,
    firstObservedAt: row.first_observed_at,
    lastObservedAt: row.last_observed_at,
  };
}

export const EMPTY_FOLD: FoldedEntity = {
  snapshot: {},
  count: 0,
  firstObservedAt: null,
  lastObservedAt: null,
};

type FieldsOf = (row: LinkedObservation, contribution: Contribution) => Record<string, unknown> | null;

/**
 * Folds observations into what an entity already holds. The fold is a maximum, so folding new observations into
 * a snapshot gives exactly what refolding every observation would.
 */
export function foldRows(
  base: FoldedEntity,
  rows: readonly LinkedObservation[],
  settings: FoldSettings,
  groups: readonly (readonly string[])[],
  fieldsOf: FieldsOf,
): FoldedEntity {
  let snapshot: Snapshot = base.snapshot;
  let first = base.firstObservedAt?.getTime() ?? Infinity;
  let last = base.lastObservedAt?.getTime() ?? -Infinity;
  for (const row of rows) {
    const contribution = contributionOf(row, settings);
    const fields = fieldsOf(row, contribution);
    first = Math.min(first, row.observed_at.getTime());
    last = Math.max(last, row.observed_at.getTime());
    if (!fields) continue;
    const origin = { observationId: row.id, source: contribution.source, observedAt: row.observed_at };
    snapshot = foldContribution(snapshot, fields, origin, groups, settings.policy);
  }
  return {
    snapshot: sortedSnapshot(snapshot),
    count: base.count + rows.length,
    firstObservedAt: Number.isFinite(first) ? new Date(first) : null,
    lastObservedAt: Number.isFinite(last) ? new Date(last) : null,
  };
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
  fieldsOf: FieldsOf,
): Promise<FoldedEntity> {
  const { rows } = await client.query<LinkedObservation>(LINKED_OBSERVATIONS.replace('%COLUMN%', column), [
    id,
  ]);
  return foldRows(EMPTY_FOLD, rows, settings, groups, fieldsOf);
}

/** What one observation says about its person: its person fields plus the company and location it links to. */
export function personFieldsOf(
  person: Record<string, unknown>,
  companyId: string | null,
  locationId: string | null,
): Record<string, unknown> {
  const fields = { ...person };
  if (companyId && fields.currentCompany !== undefined) fields.companyId = companyId;
  if (locationId && fields.location !== undefined) fields.locationId = locationId;
  return fields;
}

/** The persons columns that mirror snapshot fields (for indexes and cheap reads). */
export function personColumns(snapshot: Snapshot): {
  fullName: string | null;
  currentTitle: string | null;
  currentCompany: string | null;
  companyId: string | null;
  locationId: string | null;
} {
  return {
    fullName: textOrNull(snapshot.fullName),
    currentTitle: textOrNull(snapshot.currentTitle),
    currentCompany: textOrNull(snapshot.currentCompany),
    companyId: textOrNull(snapshot.companyId),
    locationId: textOrNull(snapshot.locationId),
  };
}

/** A person's snapshot is rebuilt from all its observations: a pure function of them. */
export async function refoldPerson(
  client: PoolClient,
  personId: string,
  settings: FoldSettings,
): Promise<Snapshot> {
  const changePoints: (ChangePoint | null)[] = [];
  const { snapshot, count, firstObservedAt, lastObservedAt } = await foldLinked(
    client,
    'person_id',
    personId,
    settings,
    PERSON_FIELD_GROUPS,
    (row, contribution) => {
      changePoints.push(changePointOf(row, contribution));
      return personFieldsOf(contribution.person, row.company_id, row.location_id);
    },
  );
  const columns = personColumns(snapshot);
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
      columns.fullName,
      columns.currentTitle,
      columns.currentCompany,
      columns.companyId,
      columns.locationId,
    ],
  );
  await syncPersonChanges(client, personId, changePoints);
  return snapshot;
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

export type RefreshEntity = 'company' | 'location';

const ENTITY_FOLDS: Record<
  RefreshEntity,
  { column: 'company_id' | 'location_id'; groups: readonly (readonly string[])[]; fieldsOf: FieldsOf }
> = {
  company: {
    column: 'company_id',
    groups: COMPANY_FIELD_GROUPS,
    fieldsOf: (_row, contribution) =>
      contribution.company ? companyContribution(contribution.company) : null,
  },
  location: {
    column: 'location_id',
    groups: LOCATION_FIELD_GROUPS,
    fieldsOf: (_row, contribution) =>
      contribution.location ? locationContribution(contribution.location) : null,
  },
};

/** A company's or location's snapshot from every observation linked to it. */
export async function refoldEntity(
  client: PoolClient,
  entity: RefreshEntity,
  id: string,
  settings: FoldSettings,
): Promise<void> {
  const { column, groups, fieldsOf } = ENTITY_FOLDS[entity];
  await writeEntity(client, entity, id, await foldLinked(client, column, id, settings, groups, fieldsOf));
}

/** A newly linked observation as the refresh queue carries it. */
export interface QueuedContribution {
  observationId: number;
  source: string;
  observedAt: Date;
  fields: Record<string, unknown> | null;
}

/** Folds newly linked observations into a company or location the caller has locked. */
export async function foldQueued(
  client: PoolClient,
  entity: RefreshEntity,
  id: string,
  base: FoldedEntity,
  queued: readonly QueuedContribution[],
  settings: FoldSettings,
): Promise<void> {
  await writeEntity(client, entity, id, foldEntityContributions(entity, base, queued, settings));
}

/** What a company or location holds once newly linked observations (in observation order) are folded in. */
export function foldEntityContributions(
  entity: RefreshEntity,
  base: FoldedEntity,
  queued: readonly QueuedContribution[],
  settings: FoldSettings,
): FoldedEntity {
  const { groups } = ENTITY_FOLDS[entity];
  let snapshot: Snapshot = base.snapshot;
  let first = base.firstObservedAt?.getTime() ?? Infinity;
  let last = base.lastObservedAt?.getTime() ?? -Infinity;
  for (const { observationId, source, observedAt, fields } of queued) {
    first = Math.min(first, observedAt.getTime());
    last = Math.max(last, observedAt.getTime());
    if (fields)
      snapshot = foldContribution(
        snapshot,
        fields,
        { observationId, source, observedAt },
        groups,
        settings.policy,
      );
  }
  return {
    snapshot,
    count: base.count + queued.length,
    firstObservedAt: Number.isFinite(first) ? new Date(first) : null,
    lastObservedAt: Number.isFinite(last) ? new Date(last) : null,
  };
}

async function writeEntity(
  client: PoolClient,
  entity: RefreshEntity,
  id: string,
  folded: FoldedEntity,
): Promise<void> {
  const { count, firstObservedAt, lastObservedAt } = folded;
  const snapshot = sortedSnapshot(folded.snapshot);
  const values = [id, JSON.stringify(snapshot), count, firstObservedAt, lastObservedAt];
  if (entity === 'company') {
    await client.query(
      `UPDATE companies SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
              name = $6, updated_at = now()
        WHERE id = $1`,
      [...values, companyName(snapshot)],
    );
  } else {
    await client.query(
      `UPDATE locations SET snapshot = $2, observations_count = $3, first_observed_at = $4, last_observed_at = $5,
              updated_at = now()
        WHERE id = $1`,
      values,
    );
  }
}

/** The name column of a company, from its snapshot. */
export function companyName(snapshot: Snapshot): string | null {
  return textOrNull(snapshot.name);
}
