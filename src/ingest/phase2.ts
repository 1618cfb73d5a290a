import { v5 as uuidv5 } from 'uuid';
import { durationMs } from '../config';
import type { Pool, PoolClient } from '../db/pool';
import { isDatabaseUnavailable, withTransaction } from '../db/pool';
import type { AliasInput, Resolution } from '../identity/resolver';
import { COMPANY_SPEC, lockIdentityKeys, lockKeys, PERSON_SPEC, resolveEntity } from '../identity/resolver';
import type { Logger } from '../logger';
import type { CompanyRef } from '../snapshots/company-ref';
import type { ContributionOptions } from '../snapshots/contributions';
import { contributionOf } from '../snapshots/contributions';
import type { PrecedencePolicy } from '../snapshots/fold';
import type { ParsedLocation } from '../snapshots/location';
import type { FoldSettings } from '../snapshots/store';
import { refoldPerson } from '../snapshots/store';
import type { ObservationProcessor } from './processor';

export interface Phase2Options extends ContributionOptions {
  namespace: string;
  policy: PrecedencePolicy;
  logger: Logger;
  /** Backoff before a dead letter is retried (issue 4 replays them). */
  deadLetterBaseDelayMs?: number;
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
  async process(observationId: number): Promise<Phase2Result> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.processOnce(observationId);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        if (isDatabaseUnavailable(error)) throw error;
        return this.deadLetter(observationId, error);
      }
    }
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
    return withTransaction(this.pool, async (client) => {
      const locked = await client.query<{ status: string }>(
        'SELECT status FROM observations WHERE id = $1 FOR UPDATE SKIP LOCKED',
        [row.id],
      );
      const status = locked.rows[0]?.status;
      if (status !== 'pending' && status !== 'dead') return { processed: false, status: 'busy' };
      await lockIdentityKeys(client, lockKeys(PERSON_SPEC, personAliases));
      const person = await resolveEntity(client, PERSON_SPEC, this.options.namespace, row.id, personAliases);
      await client.query(
        `UPDATE observations
            SET person_id = $2, company_id = $3, location_id = $4, status = 'processed', status_reason = NULL,
                processed_at = now()
          WHERE id = $1`,
        [row.id, person.entityId, company?.id ?? null, location?.id ?? null],
      );
      await refoldPerson(client, person.entityId, this.settings);
      await queueRefresh(client, company?.id ?? null, location?.id ?? null);
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
    });
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
      `UPDATE observations SET status = 'skipped', status_reason = $2, processed_at = now()
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
      `SELECT a.company_id AS id, count(*)::int AS aliases, min(c.anchor_observation_id) AS anchor
         FROM company_aliases a
         JOIN companies c ON c.id = a.company_id
         JOIN unnest($1::text[], $2::text[]) AS wanted(kind, value) ON a.kind = wanted.kind AND a.value = wanted.value
        GROUP BY a.company_id`,
      [aliases.map((alias) => alias.kind), aliases.map((alias) => alias.value)],
    );
    // An older observation than the company's anchor must take the full path: it may re-anchor the company.
    const only = known.rows.length === 1 ? known.rows[0]! : undefined;
    if (only && only.aliases === aliases.length && only.anchor <= observationId) {
      return { id: only.id, outcome: 'updated' };
    }
    return withTransaction(this.pool, async (client) => {
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
    });
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
      `SELECT DISTINCT person_id AS id FROM observations
        WHERE company_id = ANY($1::uuid[]) AND person_id IS NOT NULL ORDER BY 1`,
      [companyIds],
    );
    for (const { id } of rows) await refoldPerson(client, id, this.settings);
    await client.query(
      `INSERT INTO entity_refresh (entity, id) SELECT 'company', unnest($1::uuid[]) ON CONFLICT DO NOTHING`,
      [companyIds.slice(0, 1)],
    );
  }

  private async deadLetter(observationId: number, error: unknown): Promise<Phase2Result> {
    const message = error instanceof Error ? error.message : String(error);
    this.options.logger.error('phase 2 failed; observation dead-lettered', { observationId, error: message });
    const delayMs = this.options.deadLetterBaseDelayMs ?? 60_000;
    await withTransaction(this.pool, async (client) => {
      await client.query(
        `INSERT INTO dead_letters (observation_id, error, next_attempt_at)
         VALUES ($1, $2, now() + $3 * interval '1 millisecond')
         ON CONFLICT (observation_id) DO UPDATE
           SET error = EXCLUDED.error, attempts = dead_letters.attempts + 1, status = 'pending',
               last_attempt_at = now(),
               next_attempt_at = now() + least($3 * power(2, dead_letters.attempts), 3600000) * interval '1 millisecond'`,
        [observationId, message.slice(0, 2000), delayMs],
      );
      await client.query(`UPDATE observations SET status = 'dead', status_reason = $2 WHERE id = $1`, [
        observationId,
        message.slice(0, 500),
      ]);
    });
    return { processed: false, status: 'dead', reason: message };
  }
}

async function queueRefresh(
  client: PoolClient,
  companyId: string | null,
  locationId: string | null,
): Promise<void> {
  const entities = [
    ...(companyId ? [['company', companyId]] : []),
    ...(locationId ? [['location', locationId]] : []),
  ];
  if (entities.length === 0) return;
  await client.query(
    `INSERT INTO entity_refresh (entity, id) SELECT * FROM unnest($1::text[], $2::uuid[]) ON CONFLICT DO NOTHING`,
    [entities.map((entity) => entity[0]), entities.map((entity) => entity[1])],
  );
}

function outcomeOf(resolution: Resolution): UpsertOutcome {
  if (resolution.mergedIds.length > 0) return 'merged';
  return resolution.created ? 'created' : 'updated';
}

export function phase2FromConfig(
  pool: Pool,
  config: { CANONICAL_ID_NAMESPACE: string; VISIT_PRECEDENCE_WINDOW: string; DEFAULT_PHONE_COUNTRY: string },
  logger: Logger,
): Phase2Processor {
  return new Phase2Processor(pool, {
    namespace: config.CANONICAL_ID_NAMESPACE,
    policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
    defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
    logger,
  });
}
