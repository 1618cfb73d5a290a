import { v5 as uuidv5 } from 'uuid';
import { durationMs } from '../config';
import type { Pool, PoolClient } from '../db/pool';
import { isDatabaseUnavailable, withTransaction } from '../db/pool';
import type { AliasInput, Resolution } from '../identity/resolver';
import {
  aliasOwnersSql,
  compatible,
  COMPANY_SPEC,
  entityId,
  hardSets,
  lockIdentityKeys,
  lockKeys,
  PERSON_SPEC,
  resolveEntity,
} from '../identity/resolver';
import type { Logger } from '../logger';
import type { CompanyRef } from '../snapshots/company-ref';
import type { Contribution, ContributionOptions } from '../snapshots/contributions';
import {
  companyContribution,
  contributionOf,
  locationContribution,
  PERSON_FIELD_GROUPS,
} from '../snapshots/contributions';
import type { PrecedencePolicy, Snapshot } from '../snapshots/fold';
import { foldContribution, sortedSnapshot } from '../snapshots/fold';
import type { ParsedLocation } from '../snapshots/location';
import type { FoldSettings } from '../snapshots/store';
import { EMPTY_FOLD, personColumns, personFieldsOf, refoldPerson } from '../snapshots/store';
import type { ObservationProcessor } from './processor';
import { changePointOf, keepsChanges } from '../intelligence/changes';
import { latestChangeOf } from '../intelligence/changes-store';
import type { DeadLetterPolicy } from '../jobs/dead-letter-policy';
import {
  DEFAULT_DEAD_LETTER_POLICY,
  deadLetterPolicyFromConfig,
  recordDeadLetter,
} from '../jobs/dead-letter-policy';

export interface Phase2Options extends ContributionOptions {
  namespace: string;
  policy: PrecedencePolicy;
  logger: Logger;
  /** Classification, backoff and give-up of dead letters (src/jobs/dead-letter-policy.ts). */
  deadLetterPolicy?: DeadLetterPolicy;
}

export type UpsertOutcome = 'created' | 'updated' | 'merged' | 'none';

export interface Phase2Result extends Record<string, unknown> {
  processed: boolean;
  status: 'processed' | 'skipped' | 'dead' | 'pending' | 'ignored' | 'busy';
  person_id?: string;
  company_id?: string | null;
  location_id?: string | null;
  people_upsert?: UpsertOutcome;
  company_upsert?: UpsertOutcome;
  location_upsert?: UpsertOutcome;
  reason?: string;
}

/** What the caller already holds of a just-stored observation, so Phase 2 need not read it back. */
export interface KnownObservation {
  source: string;
  kind: string;
  payload: unknown;
}

interface FastRead {
  status: string;
  observed_at: string;
  persons:
    | {
        id: string;
        anchor: number;
        version: string;
        merged: boolean;
        snapshot: Snapshot;
        hard: { kind: string; value: string }[] | null;
        latestChange: Record<string, unknown> | null;
      }[]
    | null;
  companies: { id: string; aliases: number; anchor: number }[] | null;
}

/** The observation's state, the persons its identifiers name (with their hard ids) and its company: migration 017. */
const FAST_READ = 'SELECT * FROM phase2_read_person($1, $2, $3, $4, $5, $6)';

/** Phase 2 writes derived state: see migration 015 for why it commits asynchronously. */
const DERIVED = { asyncCommit: true };

const RETRYABLE = new Set(['40001', '40P01']);
const MAX_ATTEMPTS = 5;

interface ObservationRow {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
  status: string;
  person_id: string | null;
  observed_at: Date;
}

/** Identity resolution and snapshots for one committed observation, in one transaction. */
export class Phase2Processor implements ObservationProcessor {
  private readonly settings: FoldSettings;
  /** How many observations each path finished (for metrics, and for tests that must know which path ran). */
  readonly paths = { fast: 0, full: 0 };

  get foldSettings(): FoldSettings {
    return this.settings;
  }

  constructor(
    private readonly pool: Pool,
    private readonly options: Phase2Options,
  ) {
    this.settings = { policy: options.policy, defaultPhoneCountry: options.defaultPhoneCountry };
  }

  /**
   * Never throws for a problem with the observation itself: that becomes a dead letter. Database outages do
   * throw, leaving the observation `pending` for the sweeper.
   */
  async process(observationId: number, known?: KnownObservation): Promise<Phase2Result> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const fast = attempt === 1 ? await this.processFast(observationId, known) : null;
        if (fast) {
          this.paths.fast += 1;
          return fast;
        }
        const full = await this.processOnce(observationId);
        if (full.processed) this.paths.full += 1;
        return full;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        if (isDatabaseUnavailable(error)) throw error;
        return this.deadLetter(observationId, error);
      }
    }
  }

  /**
   * The common cases in two round trips: one read of the person the identifiers name (or of nobody) and the
   * company, then `phase2_apply_person`, which applies the folded snapshot under the full path's locks if
   * nothing read has changed. Null sends the observation down the full path, which handles everything else
   * (merges, conflicts, revived tombstones, new companies racing, dead letters).
   */
  private async processFast(observationId: number, known?: KnownObservation): Promise<Phase2Result | null> {
    if (!known) return null;
    const contribution = contributionOf({ id: observationId, ...known }, this.settings);
    if (contribution.identifiers.length === 0) return null;
    const aliases = contribution.identifiers;
    const companyAliases = contribution.company?.aliases ?? [];
    const read = await this.pool.query<FastRead>({
      name: 'phase2.fast-read',
      text: FAST_READ,
      values: [
        observationId,
        aliases.map((alias) => alias.kind),
        aliases.map((alias) => alias.value),
        [...PERSON_SPEC.hardKinds],
        companyAliases.map((alias) => alias.kind),
        companyAliases.map((alias) => alias.value),
      ],
    });
    const state = read.rows[0];
    if (!state || state.status !== 'pending') return null;
    const persons = state.persons ?? [];
    const existing = persons[0];
    if (persons.length > 1 || (existing && (existing.merged || existing.anchor >= observationId)))
      return null;
    if (
      existing &&
      !compatible(
        hardSets(aliases.filter((a) => PERSON_SPEC.hardKinds.has(a.kind))),
        hardSets(existing.hard ?? []),
      )
    ) {
      return null;
    }
    const companies = state.companies ?? [];
    let company: { id: string; outcome: UpsertOutcome } | null = null;
    if (companyAliases.length > 0) {
      const only = companies.length === 1 ? companies[0]! : undefined;
      company =
        only && only.aliases === companyAliases.length && only.anchor <= observationId
          ? { id: only.id, outcome: 'updated' }
          : await this.resolveCompany(observationId, contribution.company);
    }
    const location = contribution.location;
    const locationId = location ? uuidv5(`location:${location.key}`, this.options.namespace) : null;

    const personId = existing?.id ?? entityId(this.options.namespace, PERSON_SPEC, aliases[0]!);
    const observedAt = new Date(state.observed_at);
    // This path cannot re-derive job history: an observation that may change it takes the full path (refold).
    if (existing) {
      const point = changePointOf(
        { id: observationId, observed_at: observedAt, company_id: company?.id ?? null },
        contribution,
      );
      if (!keepsChanges(point, latestChangeOf(existing.latestChange), existing.snapshot)) return null;
    }
    const base = existing
      ? { snapshot: existing.snapshot, count: 0, firstObservedAt: null, lastObservedAt: null }
      : EMPTY_FOLD;
    const fields = personFieldsOf(contribution.person, company?.id ?? null, locationId);
    const origin = { observationId, source: contribution.source, observedAt };
    const snapshot = sortedSnapshot(
      foldContribution(base.snapshot, fields, origin, PERSON_FIELD_GROUPS, this.settings.policy),
    );
    const columns = personColumns(snapshot);
    const applied = await this.pool.query<{
      outcome: 'created' | 'updated' | 'stale';
      location_created: boolean;
    }>({
      name: 'phase2.apply-person',
      text: `SELECT outcome, location_created
               FROM phase2_apply_person($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                                        $19, $20, $21)`,
      values: [
        observationId,
        aliases.map((alias) => alias.kind),
        aliases.map((alias) => alias.value),
        aliases.map((alias) => alias.display),
        existing?.id ?? null,
        existing?.version ?? null,
        personId,
        JSON.stringify(snapshot),
        columns.fullName,
        columns.currentTitle,
        columns.currentCompany,
        columns.companyId,
        columns.locationId,
        observedAt,
        company?.id ?? null,
        locationId,
        location?.key ?? null,
        location ? location.raw.trim().toLowerCase() : null,
        contribution.source,
        queuedFields(contribution.company && company ? companyContribution(contribution.company) : null),
        queuedFields(location ? locationContribution(location) : null),
      ],
    });
    const outcome = applied.rows[0]!;
    if (outcome.outcome === 'stale') return null;
    return {
      processed: true,
      status: 'processed',
      person_id: personId,
      company_id: company?.id ?? null,
      location_id: locationId,
      people_upsert: outcome.outcome,
      company_upsert: company?.outcome ?? 'none',
      location_upsert: locationId ? (outcome.location_created ? 'created' : 'updated') : 'none',
    };
  }

  /**
   * Company and location are resolved first, each in its own short step, so their locks are never held while
   * the person is resolved; then the person, the observation's links and its status commit together.
   */
  private async processOnce(observationId: number): Promise<Phase2Result> {
    const row = await this.loadPending(observationId);
    if ('processed' in row) return row;
    const contribution = contributionOf(row, this.settings);
    if (contribution.identifiers.length === 0) return this.skip(row.id);

    const company = await this.resolveCompany(row.id, contribution.company);
    const location = contribution.location ? await this.resolveLocation(contribution.location) : null;
    const personAliases: AliasInput[] = contribution.identifiers.map(({ kind, value, display }) => ({
      kind,
      value,
      display,
    }));
    return withTransaction(
      this.pool,
      async (client) => {
        const locked = await client.query<{ status: string }>(
          'SELECT status FROM observation_state WHERE id = $1 FOR UPDATE SKIP LOCKED',
          [row.id],
        );
        const status = locked.rows[0]?.status;
        if (status !== 'pending' && status !== 'dead') return { processed: false, status: 'busy' };
        await lockIdentityKeys(client, lockKeys(PERSON_SPEC, personAliases));
        const person = await resolveEntity(
          client,
          PERSON_SPEC,
          this.options.namespace,
          row.id,
          personAliases,
        );
        await client.query(
          `UPDATE observation_state
            SET person_id = $2, company_id = $3, location_id = $4, status = 'processed', status_reason = NULL,
                processed_at = now()
          WHERE id = $1`,
          [row.id, person.entityId, company?.id ?? null, location?.id ?? null],
        );
        await refoldPerson(client, person.entityId, this.settings);
        await queueRefresh(client, row, contribution, company?.id ?? null, location?.id ?? null);
        if (status === 'dead') {
          await client.query(
            `UPDATE dead_letters SET status = 'resolved', resolved_at = now() WHERE observation_id = $1`,
            [row.id],
          );
        }
        return {
          processed: true,
          status: 'processed',
          person_id: person.entityId,
          company_id: company?.id ?? null,
          location_id: location?.id ?? null,
          people_upsert: outcomeOf(person),
          company_upsert: company?.outcome ?? 'none',
          location_upsert: location?.outcome ?? 'none',
        };
      },
      DERIVED,
    );
  }

  private async loadPending(observationId: number): Promise<ObservationRow | Phase2Result> {
    const found = await this.pool.query<ObservationRow>(
      `SELECT id, source, kind, payload, status, person_id, COALESCE(event_time, received_at) AS observed_at
         FROM observations WHERE id = $1`,
      [observationId],
    );
    const row = found.rows[0];
    if (!row) return { processed: false, status: 'busy', reason: 'no such observation' };
    if (row.status === 'ignored') return { processed: false, status: 'ignored' };
    if (row.status === 'processed' && row.person_id) {
      return { processed: true, status: 'processed', person_id: row.person_id, people_upsert: 'none' };
    }
    if (row.status === 'skipped') return { processed: false, status: 'skipped' };
    return row;
  }

  private async skip(observationId: number): Promise<Phase2Result> {
    const reason = 'no usable identifier (no member id, Sales Navigator id, profile URL or email)';
    await this.pool.query(
      `UPDATE observation_state SET status = 'skipped', status_reason = $2, processed_at = now()
        WHERE id = $1 AND status IN ('pending', 'dead')`,
      [observationId, reason],
    );
    return { processed: false, status: 'skipped', reason };
  }

  /**
   * Most observations name a company we already know under every alias they carry: that is one read. Only a
   * new company, a new alias or a merge takes the company's locks, in a transaction of its own.
   */
  private async resolveCompany(
    observationId: number,
    ref: CompanyRef | null,
  ): Promise<{ id: string; outcome: UpsertOutcome } | null> {
    const aliases: AliasInput[] = (ref?.aliases ?? []).map(({ kind, value }) => ({
      kind,
      value,
      display: value,
    }));
    if (aliases.length === 0) return null;
    const known = await this.pool.query<{ id: string; aliases: number; anchor: number }>(
      `SELECT owned.owner AS id, count(*)::int AS aliases, min(c.anchor_observation_id) AS anchor
         FROM ${aliasOwnersSql(COMPANY_SPEC, '$1', '$2')}
         JOIN companies c ON c.id = owned.owner
        GROUP BY owned.owner`,
      [aliases.map((alias) => alias.kind), aliases.map((alias) => alias.value)],
    );
    // An older observation than the company's anchor must take the full path: it may re-anchor the company.
    const only = known.rows.length === 1 ? known.rows[0]! : undefined;
    if (only && only.aliases === aliases.length && only.anchor <= observationId) {
      return { id: only.id, outcome: 'updated' };
    }
    return withTransaction(
      this.pool,
      async (client) => {
        await lockIdentityKeys(client, lockKeys(COMPANY_SPEC, aliases));
        const resolution = await resolveEntity(
          client,
          COMPANY_SPEC,
          this.options.namespace,
          observationId,
          aliases,
        );
        if (resolution.mergedIds.length > 0) {
          await this.refoldPeopleOfCompanies(client, [resolution.entityId, ...resolution.mergedIds]);
        }
        return { id: resolution.entityId, outcome: outcomeOf(resolution) };
      },
      DERIVED,
    );
  }

  /** Locations are keyed by their parsed form: a unique key settles races, no lock is needed. */
  private async resolveLocation(location: ParsedLocation): Promise<{ id: string; outcome: UpsertOutcome }> {
    const id = uuidv5(`location:${location.key}`, this.options.namespace);
    const inserted = await this.pool.query(
      `WITH location AS (INSERT INTO locations (id, key) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING id),
            alias AS (INSERT INTO location_aliases (value, location_id) VALUES ($3, $1) ON CONFLICT (value) DO NOTHING)
       SELECT id FROM location`,
      [id, location.key, location.raw.trim().toLowerCase()],
    );
    return { id, outcome: inserted.rowCount === 1 ? 'created' : 'updated' };
  }

  /** People whose current company was merged away point at the survivor after a refold. */
  private async refoldPeopleOfCompanies(client: PoolClient, companyIds: string[]): Promise<void> {
    const { rows } = await client.query<{ id: string }>(
      `SELECT DISTINCT person_id AS id FROM observation_state
        WHERE company_id = ANY($1::uuid[]) AND person_id IS NOT NULL ORDER BY 1`,
      [companyIds],
    );
    for (const { id } of rows) await refoldPerson(client, id, this.settings);
    await client.query(
      `INSERT INTO entity_refresh (entity, id, observation_id) VALUES ('company', $1, NULL) ON CONFLICT DO NOTHING`,
      [companyIds[0]],
    );
  }

  private async deadLetter(observationId: number, error: unknown): Promise<Phase2Result> {
    const message = error instanceof Error ? error.message : String(error);
    this.options.logger.error('phase 2 failed; observation dead-lettered', { observationId, error: message });
    // One statement records the attempt, classifies it and schedules (or gives up) the retry.
    const policy = this.options.deadLetterPolicy ?? DEFAULT_DEAD_LETTER_POLICY;
    await recordDeadLetter(this.pool, observationId, error, policy);
    return { processed: false, status: 'dead', reason: message };
  }
}

/** Queues the company and location this observation links to, with what it says about them. */
async function queueRefresh(
  client: PoolClient,
  row: ObservationRow,
  contribution: Contribution,
  companyId: string | null,
  locationId: string | null,
): Promise<void> {
  const queued = [
    ...(companyId && contribution.company
      ? [{ entity: 'company', id: companyId, fields: companyContribution(contribution.company) }]
      : []),
    ...(locationId && contribution.location
      ? [{ entity: 'location', id: locationId, fields: locationContribution(contribution.location) }]
      : []),
  ];
  if (queued.length === 0) return;
  await client.query(
    `INSERT INTO entity_refresh (entity, id, observation_id, source, observed_at, fields)
     SELECT entity, id, $3, $4, $5, fields FROM unnest($1::text[], $2::uuid[], $6::jsonb[]) AS queued(entity, id, fields)
     ON CONFLICT DO NOTHING`,
    [
      queued.map((entry) => entry.entity),
      queued.map((entry) => entry.id),
      row.id,
      contribution.source,
      row.observed_at,
      queued.map((entry) => queuedFields(entry.fields)),
    ],
  );
}

/** Fields as the refresher will fold them: exactly what a refold from the stored payload would produce. */
function queuedFields(fields: Record<string, unknown> | null): string | null {
  return fields ? JSON.stringify(fields) : null;
}

function outcomeOf(resolution: Resolution): UpsertOutcome {
  if (resolution.mergedIds.length > 0) return 'merged';
  return resolution.created ? 'created' : 'updated';
}

export function phase2FromConfig(
  pool: Pool,
  config: {
    CANONICAL_ID_NAMESPACE: string;
    VISIT_PRECEDENCE_WINDOW: string;
    DEFAULT_PHONE_COUNTRY: string;
  } & Parameters<typeof deadLetterPolicyFromConfig>[0],
  logger: Logger,
): Phase2Processor {
  return new Phase2Processor(pool, {
    namespace: config.CANONICAL_ID_NAMESPACE,
    policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
    defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
    logger,
    deadLetterPolicy: deadLetterPolicyFromConfig(config),
  });
}
