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
import type { Origin, PrecedencePolicy } from '../snapshots/fold';
import type { ParsedLocation } from '../snapshots/location';
import type { FoldSettings } from '../snapshots/store';
import {
  foldCompanyObservation,
  foldLocationObservation,
  refoldCompany,
  refoldPerson,
} from '../snapshots/store';
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
        return await withTransaction(this.pool, (client) => this.processIn(client, observationId));
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code && RETRYABLE.has(code) && attempt < MAX_ATTEMPTS) continue;
        if (isDatabaseUnavailable(error)) throw error;
        return this.deadLetter(observationId, error);
      }
    }
  }

  /** Processes inside the caller's transaction (rebuilds use this directly). */
  async processIn(client: PoolClient, observationId: number): Promise<Phase2Result> {
    const found = await client.query<ObservationRow>(
      `SELECT id, source, kind, payload, status, person_id, COALESCE(event_time, received_at) AS observed_at
         FROM observations WHERE id = $1 FOR UPDATE SKIP LOCKED`,
      [observationId],
    );
    const row = found.rows[0];
    if (!row) return { processed: false, status: 'busy' };
    if (row.status === 'ignored') return { processed: false, status: 'ignored' };
    if (row.status === 'processed' && row.person_id) {
      return { processed: true, status: 'processed', person_id: row.person_id, people_upsert: 'none' };
    }

    const contribution = contributionOf(row, this.settings);
    const origin: Origin = {
      observationId: row.id,
      source: contribution.source,
      observedAt: row.observed_at,
    };
    if (contribution.identifiers.length === 0) {
      const reason = 'no usable identifier (no member id, Sales Navigator id, profile URL or email)';
      await client.query(
        `UPDATE observations SET status = 'skipped', status_reason = $2, processed_at = now() WHERE id = $1`,
        [row.id, reason],
      );
      return { processed: false, status: 'skipped', reason };
    }

    const personAliases: AliasInput[] = contribution.identifiers.map(({ kind, value, display }) => ({
      kind,
      value,
      display,
    }));
    const companyAliases: AliasInput[] = (contribution.company?.aliases ?? []).map(({ kind, value }) => ({
      kind,
      value,
      display: value,
    }));
    const location = contribution.location;
    await lockIdentityKeys(client, [
      ...lockKeys(PERSON_SPEC, personAliases),
      ...lockKeys(COMPANY_SPEC, companyAliases),
      ...(location ? [`location:${location.key}`] : []),
    ]);

    const company = await this.foldCompany(client, origin, contribution.company, companyAliases);
    const locationOutcome = location ? await this.foldLocation(client, origin, location) : null;

    const person = await resolveEntity(client, PERSON_SPEC, this.options.namespace, row.id, personAliases);
    await client.query(
      `UPDATE observations SET person_id = $2, status = 'processed', status_reason = NULL, processed_at = now()
        WHERE id = $1`,
      [row.id, person.entityId],
    );
    await refoldPerson(client, person.entityId, this.settings);
    if (company && company.resolution.mergedIds.length > 0) {
      await this.refoldPeopleOfCompanies(client, [
        company.resolution.entityId,
        ...company.resolution.mergedIds,
      ]);
    }
    await client.query(
      `UPDATE dead_letters SET status = 'resolved', resolved_at = now() WHERE observation_id = $1 AND status <> 'resolved'`,
      [row.id],
    );
    return {
      processed: true,
      status: 'processed',
      person_id: person.entityId,
      company_id: company?.resolution.entityId ?? null,
      location_id: locationOutcome?.id ?? null,
      people_upsert: outcomeOf(person),
      company_upsert: company ? outcomeOf(company.resolution) : 'none',
      location_upsert: locationOutcome ? locationOutcome.outcome : 'none',
    };
  }

  private async foldCompany(
    client: PoolClient,
    origin: Origin,
    ref: CompanyRef | null,
    aliases: AliasInput[],
  ): Promise<{ resolution: Resolution } | null> {
    if (!ref || aliases.length === 0) return null;
    const resolution = await resolveEntity(
      client,
      COMPANY_SPEC,
      this.options.namespace,
      origin.observationId,
      aliases,
    );
    if (resolution.mergedIds.length > 0) {
      await client.query('UPDATE observations SET company_id = $2 WHERE id = $1', [
        origin.observationId,
        resolution.entityId,
      ]);
      await refoldCompany(client, resolution.entityId, this.settings);
    } else {
      await foldCompanyObservation(client, resolution.entityId, ref, origin, this.settings);
    }
    return { resolution };
  }

  private async foldLocation(
    client: PoolClient,
    origin: Origin,
    location: ParsedLocation,
  ): Promise<{ id: string; outcome: UpsertOutcome }> {
    const id = uuidv5(`location:${location.key}`, this.options.namespace);
    const inserted = await client.query(
      'INSERT INTO locations (id, key) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING',
      [id, location.key],
    );
    await client.query(
      `INSERT INTO location_aliases (value, location_id) VALUES ($1, $2) ON CONFLICT (value) DO NOTHING`,
      [location.raw.trim().toLowerCase(), id],
    );
    await foldLocationObservation(client, id, location, origin, this.settings);
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
