/**
 * Reads of the mirror for the API (`GET /api/hubspot/...`) and the person view, in the original ETL's DTO shapes
 * (B.6 of the reference): ids are HubSpot ids (strings), `status` is ACTIVE or ARCHIVED (contacts: MERGED too, with
 * `mergedInto`), details carry association summaries (every association type of a pair, labels included).
 * Merged contacts are left out of lists unless asked for (`status=merged`) and out of the person view.
 */
import type { Pool } from '../../db/pool';
import type { HubspotObjectType } from './objects';

export type RecordStatus = 'ACTIVE' | 'ARCHIVED' | 'MERGED';

export interface ListFilters {
  status?: RecordStatus;
  /** Exclusive bounds on HubSpot's modified date. */
  updatedFrom?: Date;
  updatedBefore?: Date;
  /** Column -> value; the names are checked against FILTERS by the caller. */
  exact: Record<string, string>;
}

export interface Page {
  limit: number;
  skip: number;
}

/** Per object: the list filters (query parameter -> SQL condition on a whitelisted column). */
export const FILTERS: Readonly<Record<HubspotObjectType, Readonly<Record<string, string>>>> = {
  contacts: {
    email: 'lower(t.email) = lower($)',
    firstname: 'lower(t.firstname) = lower($)',
    lastname: 'lower(t.lastname) = lower($)',
    company: 'lower(t.company) = lower($)',
    lifecyclestage: 't.lifecyclestage = $',
    leadStatus: 't.lead_status = $',
    country: 'lower(t.country) = lower($)',
    ownerId: 't.owner_id = $',
  },
  companies: {
    name: 'lower(t.name) = lower($)',
    domain: 't.domain = lower($)',
    city: 'lower(t.city) = lower($)',
    country: 'lower(t.country) = lower($)',
    industry: 'lower(t.industry) = lower($)',
    ownerId: 't.owner_id = $',
  },
  deals: {
    name: 'lower(t.name) = lower($)',
    stage: 't.stage = $',
    pipeline: 't.pipeline = $',
    ownerId: 't.owner_id = $',
  },
};

/** A contact is merged when a survivor named it (hubspot_contact_merges): `m` is that pair, or nulls. */
const TABLES: Readonly<Record<HubspotObjectType, string>> = {
  contacts: 'hubspot_contacts t LEFT JOIN hubspot_contact_merges m ON m.merged_id = t.hubspot_id',
  companies: 'hubspot_companies t',
  deals: 'hubspot_deals t',
};

const STATUS = `CASE WHEN t.archived THEN 'ARCHIVED' ELSE 'ACTIVE' END`;
const COMMON = `t.hubspot_id::text AS id, ${STATUS} AS status, t.url,
                t.created_at AS "createdAt", t.updated_at AS "updatedAt"`;
const CONTACT_COMMON = `t.hubspot_id::text AS id,
                        CASE WHEN m.merged_id IS NOT NULL THEN 'MERGED' ELSE ${STATUS} END AS status,
                        m.survivor_id::text AS "mergedInto", t.url, t.created_at AS "createdAt",
                        t.updated_at AS "updatedAt"`;

/** Per status filter: the condition (contacts: merged ones only under MERGED; a merged contact is not ACTIVE). */
const STATUS_CONDITIONS: Readonly<
  Record<HubspotObjectType, Readonly<Partial<Record<RecordStatus | 'DEFAULT', string>>>>
> = {
  contacts: {
    DEFAULT: 'm.merged_id IS NULL',
    ACTIVE: 'NOT t.archived AND m.merged_id IS NULL',
    ARCHIVED: 't.archived AND m.merged_id IS NULL',
    MERGED: 'm.merged_id IS NOT NULL',
  },
  companies: { ACTIVE: 'NOT t.archived', ARCHIVED: 't.archived' },
  deals: { ACTIVE: 'NOT t.archived', ARCHIVED: 't.archived' },
};

/** The statuses a list can be filtered on, per object. */
export function statusesOf(type: HubspotObjectType): RecordStatus[] {
  return (['ACTIVE', 'ARCHIVED', 'MERGED'] as const).filter((status) => STATUS_CONDITIONS[type][status]);
}

const LIST_COLUMNS: Readonly<Record<HubspotObjectType, string>> = {
  contacts: `${CONTACT_COMMON}, t.email, t.firstname, t.lastname`,
  companies: `${COMMON}, t.name, t.domain AS "websiteDomain"`,
  deals: `${COMMON}, t.name, t.stage`,
};

const DETAIL_COLUMNS: Readonly<Record<HubspotObjectType, string>> = {
  contacts: `${LIST_COLUMNS.contacts}, t.phone, t.jobtitle, t.company, t.city, t.state, t.country,
             t.linkedin_url AS "linkedinUrl", t.lifecyclestage, t.lead_status AS "leadStatus", t.owner_id AS "ownerId",
             t.archived_at AS "archivedAt", t.synced_at AS "syncedAt",
             COALESCE((SELECT array_agg(f.merged_id::text ORDER BY f.merged_id)
                         FROM hubspot_contact_merges f WHERE f.survivor_id = t.hubspot_id), '{}') AS "mergedFrom"`,
  companies: `${LIST_COLUMNS.companies}, t.phone, t.city, t.state, t.country, t.industry, t.website,
              t.employees, t.linkedin_url AS "linkedinUrl", t.owner_id AS "ownerId", t.archived_at AS "archivedAt",
              t.synced_at AS "syncedAt"`,
  deals: `${LIST_COLUMNS.deals}, t.amount::text AS amount, t.close_date AS "closeDate", t.pipeline,
          t.owner_id AS "ownerId", t.archived_at AS "archivedAt", t.synced_at AS "syncedAt"`,
};

export async function listRecords(
  pool: Pool,
  type: HubspotObjectType,
  filters: ListFilters,
  page: Page,
): Promise<{ items: Record<string, unknown>[]; totalCount: number }> {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (condition: string, value: unknown) => {
    values.push(value);
    conditions.push(condition.replace('$', `$${values.length}`));
  };
  const statusCondition = STATUS_CONDITIONS[type][filters.status ?? 'DEFAULT'];
  if (statusCondition) conditions.push(statusCondition);
  if (filters.updatedFrom) add('t.updated_at >= $', filters.updatedFrom);
  if (filters.updatedBefore) add('t.updated_at < $', filters.updatedBefore);
  for (const [name, value] of Object.entries(filters.exact)) {
    const condition = FILTERS[type][name];
    if (condition) add(condition, value);
  }
  const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
  const at = values.length;
  const [items, count] = await Promise.all([
    pool.query<Record<string, unknown>>(
      `SELECT ${LIST_COLUMNS[type]} FROM ${TABLES[type]} ${where}
        ORDER BY t.updated_at DESC NULLS LAST, t.hubspot_id DESC LIMIT $${at + 1} OFFSET $${at + 2}`,
      [...values, page.limit, page.skip],
    ),
    pool.query<{ total: number }>(`SELECT count(*)::int AS total FROM ${TABLES[type]} ${where}`, values),
  ]);
  return { items: items.rows.map(isoDates), totalCount: count.rows[0]!.total };
}

/** Links of a pair, every type: `[{category, typeId, label}]`. */
const TYPES = `jsonb_agg(DISTINCT jsonb_build_object('category', a.category, 'typeId', a.association_type_id,
                                                    'label', a.label))`;

const ASSOCIATED: Readonly<Record<HubspotObjectType, string>> = {
  contacts: `
    SELECT json_build_object(
      'companies', COALESCE((SELECT json_agg(x ORDER BY x.id) FROM (
          SELECT a.to_id::text AS id, c.name, ${TYPES} AS types
            FROM hubspot_associations a LEFT JOIN hubspot_companies c ON c.hubspot_id = a.to_id
           WHERE a.from_type = 'contacts' AND a.from_id = $1 AND a.to_type = 'companies'
           GROUP BY a.to_id, c.name) x), '[]'),
      'deals', COALESCE((SELECT json_agg(x ORDER BY x.id) FROM (
          SELECT a.to_id::text AS id, d.name, d.stage, d.amount::text AS amount,
                 to_char(d.close_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "closeDate",
                 CASE WHEN d.archived THEN 'ARCHIVED' WHEN d.hubspot_id IS NULL THEN NULL ELSE 'ACTIVE' END AS status,
                 ${TYPES} AS types
            FROM hubspot_associations a LEFT JOIN hubspot_deals d ON d.hubspot_id = a.to_id
           WHERE a.from_type = 'contacts' AND a.from_id = $1 AND a.to_type = 'deals'
           GROUP BY a.to_id, d.name, d.stage, d.amount, d.close_date, d.archived, d.hubspot_id) x), '[]')
    ) AS associated`,
  companies: contactsOf('companies'),
  deals: contactsOf('deals'),
};

function contactsOf(type: 'companies' | 'deals'): string {
  return `
    SELECT json_build_object(
      'contacts', COALESCE((SELECT json_agg(x ORDER BY x.id) FROM (
          SELECT a.from_id::text AS id, c.firstname, c.lastname, c.email, ${TYPES} AS types
            FROM hubspot_associations a LEFT JOIN hubspot_contacts c ON c.hubspot_id = a.from_id
           WHERE a.from_type = 'contacts' AND a.to_type = '${type}' AND a.to_id = $1
           GROUP BY a.from_id, c.firstname, c.lastname, c.email) x), '[]')
    ) AS associated`;
}

export async function getRecord(
  pool: Pool,
  type: HubspotObjectType,
  hubspotId: string,
): Promise<Record<string, unknown> | null> {
  if (!/^\d{1,18}$/.test(hubspotId)) return null;
  const { rows } = await pool.query<Record<string, unknown>>(
    `SELECT ${DETAIL_COLUMNS[type]}, t.raw -> 'properties' AS properties FROM ${TABLES[type]} WHERE t.hubspot_id = $1`,
    [hubspotId],
  );
  const row = rows[0];
  if (!row) return null;
  const linked = await pool.query<{ associated: Record<string, unknown> }>(ASSOCIATED[type], [hubspotId]);
  const extra: Record<string, unknown> = {};
  if (type === 'contacts') {
    const person = await pool.query<{ person_id: string }>(
      `SELECT a.person_id FROM person_aliases a WHERE a.kind = 'hubspot_contact_id' AND a.value = $1`,
      [hubspotId],
    );
    extra.personId = person.rows[0]?.person_id ?? null;
  }
  return { ...isoDates(row), ...extra, ...linked.rows[0]!.associated };
}

export interface PersonHubspotContact extends Record<string, unknown> {
  id: string;
  deals: Record<string, unknown>[];
  companies: Record<string, unknown>[];
}

/**
 * The HubSpot contacts linked to a person (alias hubspot_contact_id), with their companies and deals. A merged
 * contact's alias still names the person, but only its survivor is listed.
 */
export async function hubspotContactsOfPerson(pool: Pool, personId: string): Promise<PersonHubspotContact[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT c.hubspot_id::text AS id
       FROM person_aliases a
       JOIN hubspot_contacts c ON c.hubspot_id = CASE WHEN a.value ~ '^[0-9]{1,18}$' THEN a.value::bigint END
      WHERE a.person_id = $1 AND a.kind = 'hubspot_contact_id'
        AND NOT EXISTS (SELECT 1 FROM hubspot_contact_merges m WHERE m.merged_id = c.hubspot_id)
      ORDER BY c.hubspot_id LIMIT 20`,
    [personId],
  );
  const contacts: PersonHubspotContact[] = [];
  for (const { id } of rows) {
    const record = await getRecord(pool, 'contacts', id);
    if (!record) continue;
    const { properties: _properties, personId: _personId, ...view } = record;
    contacts.push(view as PersonHubspotContact);
  }
  return contacts;
}

/** The contact a merged contact id was merged into, when a survivor named it (whether or not we hold its row). */
export async function survivorOfContact(pool: Pool, hubspotId: string): Promise<string | null> {
  if (!/^\d{1,18}$/.test(hubspotId)) return null;
  const { rows } = await pool.query<{ survivor: string }>(
    'SELECT survivor_id::text AS survivor FROM hubspot_contact_merges WHERE merged_id = $1',
    [hubspotId],
  );
  return rows[0]?.survivor ?? null;
}

function isoDates(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row))
    out[key] = value instanceof Date ? value.toISOString() : value;
  return out;
}
