import { v5 as uuidv5 } from 'uuid';
import type { PoolClient } from '../db/pool';
import type { AliasInput, EntitySpec } from '../identity/resolver';
import type { LatestChange } from '../intelligence/changes';
import { changePointOf, keepsChanges } from '../intelligence/changes';
import { latestChangeOf, latestChangeSql } from '../intelligence/changes-store';
import {
  aliasOwnersSql,
  compatible,
  COMPANY_SPEC,
  entityId,
  hardSets,
  PERSON_SPEC,
} from '../identity/resolver';
import type { Contribution } from '../snapshots/contributions';
import { companyContribution, locationContribution, PERSON_FIELD_GROUPS } from '../snapshots/contributions';
import { foldContribution, sortedSnapshot } from '../snapshots/fold';
import type { FoldedEntity, FoldRow, FoldSettings, RefreshEntity } from '../snapshots/store';
import {
  companyName,
  EMPTY_FOLD,
  FOLD_COLUMNS,
  foldedEntityOf,
  foldEntityContributions,
  personColumns,
  personFieldsOf,
} from '../snapshots/store';

/** One observation of the log as the rebuild reads it. */
export interface LogObservation {
  id: number;
  source: string;
  kind: string;
  observed_at: Date;
  contribution: Contribution;
}

interface PersonState {
  id: string;
  latestChange: LatestChange | null;
  anchor: number;
  merged: boolean;
  hard: Map<string, Set<string>>;
  fold: FoldedEntity;
  touched: boolean;
}

interface CompanyState {
  id: string;
  anchor: number;
  fold: FoldedEntity;
  touched: boolean;
}

interface LocationState {
  key: string;
  aliases: Set<string>;
  fold: FoldedEntity;
}

interface Link {
  observationId: number;
  personId: string;
  companyId: string | null;
  locationId: string | null;
}

interface NewAlias {
  kind: string;
  value: string;
  owner: string;
  display: string;
  observationId: number;
}

/** One statement of a batch's writes, its parameters serialised when the batch was prepared. */
interface Statement {
  text: string;
  values: unknown[];
}

/** What a batch writes: prepared while memory holds exactly its state, sent while the next batch is applied. */
export interface PreparedWrites {
  statements: Statement[];
  linked: number;
  skipped: number;
}

/** The keys and ids a batch reads or writes: what must stay in memory while it is in flight. */
class BatchKeys {
  readonly personAliases = new Set<string>();
  readonly persons = new Set<string>();
  readonly companyAliases = new Set<string>();
  readonly companies = new Set<string>();
  readonly locations = new Set<string>();
}

const SKIP_REASON = 'no usable identifier (no member id, Sales Navigator id, profile URL or email)';
const key = (kind: string, value: string) => `${kind}\u0000${value}`;

/**
 * Phase 2 for a run of observations at once, in observation-id order: the same decisions as the live fast path
 * (create a person, or fold into the one person the identifiers name; link a known company or create a new one),
 * taken in memory over state read once for the whole batch, and written with a handful of set-based statements.
 * The first observation that needs anything more (a merge, a conflict, a revived tombstone, an alias shared by two
 * companies) ends the batch: `stoppedAt` names it, and the caller sends it through the full path.
 */
export class BatchResolver {
  private readonly personAliases = new Map<string, string>();
  private readonly persons = new Map<string, PersonState>();
  private readonly companyAliases = new Map<string, string>();
  private readonly companies = new Map<string, CompanyState>();
  private newPersonAliases: NewAlias[] = [];
  private newCompanyAliases: NewAlias[] = [];
  private readonly locations = new Map<string, LocationState>();
  private links: Link[] = [];
  private skipped: number[] = [];
  private used = new BatchKeys();

  constructor(
    private readonly namespace: string,
    private readonly settings: FoldSettings,
  ) {}

  /**
   * Starts a batch: reads every alias, person, company and location it can touch that memory does not already
   * hold. Memory holds what the batch before this one touched (its writes may not be committed yet), so a batch can
   * be read and applied while the one before it is still being written.
   */
  async load(client: PoolClient, batch: readonly LogObservation[]): Promise<void> {
    const used = (this.used = new BatchKeys());
    // Distinct aliases only: a batch names the same person and the same few companies many times over.
    const personKeys = new Map<string, AliasInput>();
    const companyKeys = new Map<string, { kind: string; value: string }>();
    const personIds = new Set<string>();
    const companyIds = new Set<string>();
    const locationIds = new Set<string>();
    for (const { contribution } of batch) {
      if (contribution.identifiers.length === 0) continue;
      if (contribution.location) locationIds.add(this.locationId(contribution.location.key));
      for (const alias of contribution.identifiers) personKeys.set(key(alias.kind, alias.value), alias);
      personIds.add(this.entityIdOf(PERSON_SPEC, contribution.identifiers[0]!));
      const companyAliases = contribution.company?.aliases ?? [];
      if (companyAliases.length > 0) {
        for (const alias of companyAliases) companyKeys.set(key(alias.kind, alias.value), alias);
        companyIds.add(this.entityIdOf(COMPANY_SPEC, companyAliases[0]!));
      }
    }
    await readAliasOwners(client, PERSON_SPEC, personKeys, this.personAliases, used.personAliases, personIds);
    for (const id of personIds) used.persons.add(id);
    const personsToRead = [...personIds].filter((id) => !this.persons.has(id));
    const persons = await client.query<
      EntityRow & {
        anchor: number;
        merged: boolean;
        hard: { kind: string; value: string }[] | null;
        latest_change: Record<string, unknown> | null;
      }
    >(
      `SELECT p.id, p.anchor_observation_id AS anchor, p.merged_into IS NOT NULL AS merged, ${FOLD_COLUMNS},
              (SELECT json_agg(json_build_object('kind', h.kind, 'value', h.value))
                 FROM person_aliases h WHERE h.person_id = p.id AND h.kind = ANY($2::text[])) AS hard,
              ${latestChangeSql('p.id')} AS latest_change
         FROM persons p WHERE p.id = ANY($1::uuid[])`,
      [personsToRead, [...PERSON_SPEC.hardKinds]],
    );
    for (const row of persons.rows) {
      this.persons.set(row.id, {
        id: row.id,
        latestChange: latestChangeOf(row.latest_change),
        anchor: row.anchor,
        merged: row.merged,
        hard: hardSets(row.hard ?? []),
        fold: foldedEntityOf(row),
        touched: false,
      });
    }
    await readAliasOwners(
      client,
      COMPANY_SPEC,
      companyKeys,
      this.companyAliases,
      used.companyAliases,
      companyIds,
    );
    for (const id of companyIds) used.companies.add(id);
    for (const id of locationIds) used.locations.add(id);
    // Locked by the batch that reads them, so a refresher (SKIP LOCKED) does not fold them meanwhile. Later batches
    // fold what memory holds; the rebuild refuses to start while a service (and so a refresher) is connected.
    const companies = await client.query<EntityRow & { anchor: number }>(
      `SELECT id, anchor_observation_id AS anchor, ${FOLD_COLUMNS} FROM companies WHERE id = ANY($1::uuid[])
        FOR UPDATE`,
      [[...companyIds].filter((id) => !this.companies.has(id))],
    );
    for (const row of companies.rows) {
      this.companies.set(row.id, {
        id: row.id,
        anchor: row.anchor,
        fold: foldedEntityOf(row),
        touched: false,
      });
    }
    const locations = await client.query<EntityRow & { key: string }>(
      `SELECT id, key, ${FOLD_COLUMNS} FROM locations WHERE id = ANY($1::uuid[]) FOR UPDATE`,
      [[...locationIds].filter((id) => !this.locations.has(id))],
    );
    for (const row of locations.rows) {
      this.locations.set(row.id, { key: row.key, aliases: new Set(), fold: foldedEntityOf(row) });
    }
  }

  /** Ids are name-based (SHA-1): each is computed once while remembered, however often batches name it. */
  private readonly ids = new Map<string, string>();

  private locationId(key: string): string {
    return this.memoised(`location\u0000${key}`, () => uuidv5(`location:${key}`, this.namespace));
  }

  private entityIdOf(spec: EntitySpec, alias: { kind: string; value: string }): string {
    return this.memoised(`${spec.entity}\u0000${alias.kind}\u0000${alias.value}`, () =>
      entityId(this.namespace, spec, { ...alias, display: '' }),
    );
  }

  private memoised(name: string, compute: () => string): string {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = compute();
      this.ids.set(name, id);
    }
    return id;
  }

  /** Applies one observation in memory; false when it needs the full path (nothing was changed then). */
  apply(observation: LogObservation): boolean {
    const { contribution, id } = observation;
    const aliases = contribution.identifiers;
    if (aliases.length === 0) {
      this.skipped.push(id);
      return true;
    }
    const company = this.planCompany(observation);
    if (company === false) return false;
    const person = this.planPerson(observation, company?.id ?? null);
    if (person === false) return false;

    if (company?.create) {
      this.companies.set(company.id, {
        id: company.id,
        anchor: id,
        fold: EMPTY_FOLD,
        touched: true,
      });
      for (const alias of contribution.company!.aliases) {
        this.companyAliases.set(key(alias.kind, alias.value), company.id);
        this.newCompanyAliases.push({ ...alias, owner: company.id, display: alias.value, observationId: id });
      }
    }
    const state = person.state ?? this.createPerson(person.id, id);
    for (const alias of aliases) {
      const aliasKey = key(alias.kind, alias.value);
      if (this.personAliases.has(aliasKey)) continue;
      this.personAliases.set(aliasKey, state.id);
      this.newPersonAliases.push({ ...alias, owner: state.id, observationId: id });
      if (PERSON_SPEC.hardKinds.has(alias.kind)) {
        const values = state.hard.get(alias.kind) ?? new Set<string>();
        values.add(alias.value);
        state.hard.set(alias.kind, values);
      }
    }

    const location = contribution.location;
    const locationId = location ? this.locationId(location.key) : null;
    const locationState = location && locationId ? this.locationState(locationId, location.key) : null;
    if (location && locationState) locationState.aliases.add(location.raw.trim().toLowerCase());
    const companyId = company?.id ?? null;
    const fields = personFieldsOf(contribution.person, companyId, locationId);
    const origin = { observationId: id, source: contribution.source, observedAt: observation.observed_at };
    const at = observation.observed_at.getTime();
    // In place: every state's snapshot is its own (parsed for it, or created empty for it), and a batch's writes are
    // serialised before the next batch folds.
    const snapshot = foldContribution(
      state.fold.snapshot,
      fields,
      origin,
      PERSON_FIELD_GROUPS,
      this.settings.policy,
      true,
    );
    state.fold = {
      snapshot,
      count: state.fold.count + 1,
      firstObservedAt: new Date(Math.min(state.fold.firstObservedAt?.getTime() ?? at, at)),
      lastObservedAt: new Date(Math.max(state.fold.lastObservedAt?.getTime() ?? at, at)),
    };
    state.touched = true;
    this.links.push({ observationId: id, personId: state.id, companyId, locationId });
    // Companies and locations fold here too, in observation order, as the refresh queue would fold them.
    const fold = (entity: RefreshEntity, base: FoldedEntity, fields: Record<string, unknown>) =>
      foldEntityContributions(
        entity,
        base,
        [{ observationId: id, source: contribution.source, observedAt: observation.observed_at, fields }],
        this.settings,
      );
    const companyState = companyId ? this.companies.get(companyId) : undefined;
    if (companyState && contribution.company) {
      companyState.fold = fold('company', companyState.fold, companyContribution(contribution.company));
      companyState.touched = true;
    }
    if (locationState && location)
      locationState.fold = fold('location', locationState.fold, locationContribution(location));
    return true;
  }

  private locationState(id: string, key: string): LocationState {
    let state = this.locations.get(id);
    if (!state) {
      state = { key, aliases: new Set(), fold: EMPTY_FOLD };
      this.locations.set(id, state);
    }
    return state;
  }

  private planCompany(observation: LogObservation): { id: string; create: boolean } | null | false {
    const aliases = observation.contribution.company?.aliases ?? [];
    if (aliases.length === 0) return null;
    const owners = new Set(aliases.map((alias) => this.companyAliases.get(key(alias.kind, alias.value))));
    if (owners.size === 1 && !owners.has(undefined)) {
      const company = this.companies.get([...owners][0]!);
      return company && company.anchor <= observation.id ? { id: company.id, create: false } : false;
    }
    if (owners.size === 1 && owners.has(undefined)) {
      const id = this.entityIdOf(COMPANY_SPEC, aliases[0]!);
      return this.companies.has(id) ? false : { id, create: true };
    }
    return false;
  }

  /**
   * The person the observation folds into, or false for the full path: several persons, a tombstone, a hard
   * identifier conflict, or a point that may change the person's job history (which only a refold re-derives).
   */
  private planPerson(
    observation: LogObservation,
    companyId: string | null,
  ): { id: string; state: PersonState | null } | false {
    const { id: observationId, contribution } = observation;
    const aliases = contribution.identifiers;
    const owners = new Set<string>();
    for (const alias of aliases) {
      const owner = this.personAliases.get(key(alias.kind, alias.value));
      if (owner) owners.add(owner);
    }
    if (owners.size === 0) {
      const id = this.entityIdOf(PERSON_SPEC, aliases[0]!);
      return this.persons.has(id) ? false : { id, state: null };
    }
    if (owners.size > 1) return false;
    const state = this.persons.get([...owners][0]!);
    if (!state || state.merged || state.anchor >= observationId) return false;
    const observationHard = hardSets(aliases.filter((alias) => PERSON_SPEC.hardKinds.has(alias.kind)));
    if (!compatible(observationHard, state.hard)) return false;
    const point = changePointOf(
      { id: observationId, observed_at: observation.observed_at, company_id: companyId },
      contribution,
    );
    return keepsChanges(point, state.latestChange, state.fold.snapshot) ? { id: state.id, state } : false;
  }

  private createPerson(id: string, anchor: number): PersonState {
    const state: PersonState = {
      id,
      latestChange: null,
      anchor,
      merged: false,
      hard: new Map(),
      fold: { snapshot: {}, count: 0, firstObservedAt: null, lastObservedAt: null },
      touched: true,
    };
    this.persons.set(id, state);
    return state;
  }

  /**
   * Serialises everything applied since the batch started into its statements, and starts afresh: what the batch
   * holds in memory may change as soon as the next batch is applied, its writes may not.
   */
  prepareWrites(): PreparedWrites {
    const statements: Statement[] = [];
    const add = (statement: Statement | null) => {
      if (statement) statements.push(statement);
    };
    const touchedCompanies = [...this.companies.values()].filter((company) => company.touched);
    add(upsertCompanies(touchedCompanies));
    for (const company of touchedCompanies) company.touched = false;
    add(insertAliases('company_aliases', 'company_id', this.newCompanyAliases));
    const touchedLocations = [...this.locations].filter(([, location]) => location.aliases.size > 0);
    add(upsertLocations(touchedLocations));
    const spellings = touchedLocations.flatMap(([id, location]) =>
      [...location.aliases].map((value) => [value, id]),
    );
    if (spellings.length > 0) {
      add({
        text: `INSERT INTO location_aliases (value, location_id) SELECT * FROM unnest($1::text[], $2::uuid[])
               ON CONFLICT (value) DO NOTHING`,
        values: [spellings.map((pair) => pair[0]), spellings.map((pair) => pair[1])],
      });
    }
    for (const [, location] of touchedLocations) location.aliases = new Set();
    const touchedPersons = [...this.persons.values()].filter((person) => person.touched);
    add(upsertPersons(touchedPersons));
    for (const person of touchedPersons) person.touched = false;
    add(insertAliases('person_aliases', 'person_id', this.newPersonAliases));
    if (this.links.length > 0) {
      add({
        text: `UPDATE observation_state o
                  SET person_id = l."personId", company_id = l."companyId", location_id = l."locationId",
                      status = 'processed', status_reason = NULL, processed_at = now()
                 FROM jsonb_to_recordset($1::jsonb)
                        AS l("observationId" bigint, "personId" uuid, "companyId" uuid, "locationId" uuid)
                WHERE o.id = l."observationId"`,
        values: [JSON.stringify(this.links)],
      });
    }
    if (this.skipped.length > 0) {
      add({
        text: `UPDATE observation_state SET status = 'skipped', status_reason = $2, processed_at = now()
                WHERE id = ANY($1::bigint[])`,
        values: [this.skipped, SKIP_REASON],
      });
    }
    const prepared = { statements, linked: this.links.length, skipped: this.skipped.length };
    this.newCompanyAliases = [];
    this.newPersonAliases = [];
    this.links = [];
    this.skipped = [];
    return prepared;
  }

  /**
   * Forgets everything the current batch does not use. Call it once the batch before has committed: what it
   * wrote and the current batch does not use is in the database now, where the next batch's load finds it.
   */
  retainCurrentBatch(): void {
    const used = this.used;
    const retain = <V>(map: Map<string, V>, keep: Set<string>) => {
      for (const name of map.keys()) if (!keep.has(name)) map.delete(name);
    };
    retain(this.personAliases, used.personAliases);
    retain(this.persons, used.persons);
    retain(this.companyAliases, used.companyAliases);
    retain(this.companies, used.companies);
    retain(this.locations, used.locations);
    if (this.ids.size > 100_000) this.ids.clear();
  }

  /** Forgets everything (the full path has changed the database under it). */
  clear(): void {
    this.used = new BatchKeys();
    this.retainCurrentBatch();
    this.ids.clear();
  }
}

/**
 * Batch rows go as one JSON document rather than a parameter array per column (here and below): JSON.stringify
 * writes them natively in one pass, where node-postgres escapes array elements one by one into a string it then
 * has to flatten, and a rebuild sends millions of them.
 */
function insertAliases(
  table: 'person_aliases' | 'company_aliases',
  column: 'person_id' | 'company_id',
  aliases: readonly NewAlias[],
): Statement | null {
  if (aliases.length === 0) return null;
  return {
    text: `INSERT INTO ${table} (kind, value, ${column}, display, first_observation_id)
           SELECT kind, value, owner, display, "observationId"
             FROM jsonb_to_recordset($1::jsonb)
                    AS a(kind text, value text, owner uuid, display text, "observationId" bigint)`,
    values: [
      JSON.stringify(
        aliases.map(({ kind, value, owner, display, observationId }) => ({
          kind,
          value,
          owner,
          display,
          observationId,
        })),
      ),
    ],
  };
}

/** A jsonb[] parameter would be stringified, escaped element by element, then unescaped and parsed again. */
function upsertPersons(persons: readonly PersonState[]): Statement | null {
  if (persons.length === 0) return null;
  const rows = persons.map((person) => {
    const snapshot = sortedSnapshot(person.fold.snapshot);
    const columns = personColumns(snapshot);
    return {
      id: person.id,
      anchor: person.anchor,
      snapshot,
      count: person.fold.count,
      first: person.fold.firstObservedAt,
      last: person.fold.lastObservedAt,
      full_name: columns.fullName,
      title: columns.currentTitle,
      company: columns.currentCompany,
      company_id: columns.companyId,
      location_id: columns.locationId,
    };
  });
  return {
    text: `INSERT INTO persons (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                          last_observed_at, full_name, current_title, current_company, current_company_id,
                          location_id)
     SELECT id, anchor, snapshot, count, first, last, full_name, title, company, company_id, location_id
       FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, anchor bigint, snapshot jsonb, count int, first timestamptz,
                                             last timestamptz, full_name text, title text, company text,
                                             company_id uuid, location_id uuid)
     ON CONFLICT (id) DO UPDATE
       SET snapshot = EXCLUDED.snapshot, observations_count = EXCLUDED.observations_count,
           first_observed_at = EXCLUDED.first_observed_at, last_observed_at = EXCLUDED.last_observed_at,
           full_name = EXCLUDED.full_name, current_title = EXCLUDED.current_title,
           current_company = EXCLUDED.current_company, current_company_id = EXCLUDED.current_company_id,
           location_id = EXCLUDED.location_id, updated_at = now()`,
    values: [JSON.stringify(rows)],
  };
}

type EntityRow = FoldRow & { id: string };

/**
 * Finds who owns each alias: from memory when it holds the alias, else with one index probe per alias. Marks every
 * alias as used by the batch and adds every owner found to `owners`.
 */
async function readAliasOwners(
  client: PoolClient,
  spec: EntitySpec,
  wanted: ReadonlyMap<string, { kind: string; value: string }>,
  known: Map<string, string>,
  used: Set<string>,
  owners: Set<string>,
): Promise<void> {
  const unknown: { kind: string; value: string }[] = [];
  for (const [aliasKey, alias] of wanted) {
    used.add(aliasKey);
    const owner = known.get(aliasKey);
    if (owner === undefined) unknown.push(alias);
    else owners.add(owner);
  }
  const { rows } = await client.query<{ kind: string; value: string; owner: string }>(
    `SELECT wanted.kind, wanted.value, owned.owner FROM ${aliasOwnersSql(spec, '$1', '$2')}`,
    [unknown.map((alias) => alias.kind), unknown.map((alias) => alias.value)],
  );
  for (const row of rows) {
    known.set(key(row.kind, row.value), row.owner);
    owners.add(row.owner);
  }
}

function upsertCompanies(companies: readonly CompanyState[]): Statement | null {
  if (companies.length === 0) return null;
  const snapshots = companies.map((company) => sortedSnapshot(company.fold.snapshot));
  return {
    text: `INSERT INTO companies (id, anchor_observation_id, snapshot, observations_count, first_observed_at,
                            last_observed_at, name)
     SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[], $4::int[], $5::timestamptz[], $6::timestamptz[],
                          $7::text[])
     ON CONFLICT (id) DO UPDATE
       SET snapshot = EXCLUDED.snapshot, observations_count = EXCLUDED.observations_count,
           first_observed_at = EXCLUDED.first_observed_at, last_observed_at = EXCLUDED.last_observed_at,
           name = EXCLUDED.name, updated_at = now()`,
    values: [
      companies.map((company) => company.id),
      companies.map((company) => company.anchor),
      snapshots.map((snapshot) => JSON.stringify(snapshot)),
      companies.map((company) => company.fold.count),
      companies.map((company) => company.fold.firstObservedAt),
      companies.map((company) => company.fold.lastObservedAt),
      snapshots.map(companyName),
    ],
  };
}

function upsertLocations(locations: readonly (readonly [string, LocationState])[]): Statement | null {
  if (locations.length === 0) return null;
  return {
    text: `INSERT INTO locations (id, key, snapshot, observations_count, first_observed_at, last_observed_at)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::int[], $5::timestamptz[], $6::timestamptz[])
     ON CONFLICT (key) DO UPDATE
       SET snapshot = EXCLUDED.snapshot, observations_count = EXCLUDED.observations_count,
           first_observed_at = EXCLUDED.first_observed_at, last_observed_at = EXCLUDED.last_observed_at,
           updated_at = now()`,
    values: [
      locations.map(([id]) => id),
      locations.map(([, location]) => location.key),
      locations.map(([, location]) => JSON.stringify(sortedSnapshot(location.fold.snapshot))),
      locations.map(([, location]) => location.fold.count),
      locations.map(([, location]) => location.fold.firstObservedAt),
      locations.map(([, location]) => location.fold.lastObservedAt),
    ],
  };
}

/** Sends a batch's prepared statements, in order, on the caller's transaction. */
export async function runWrites(client: PoolClient, writes: PreparedWrites): Promise<void> {
  for (const statement of writes.statements) await client.query(statement.text, statement.values);
}
