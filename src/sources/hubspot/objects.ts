/**
 * The three HubSpot objects we mirror: which properties we ask for, which modified-date property their
 * incremental sync searches on, and how a record becomes a row of its table.
 */

export type HubspotObjectType = 'contacts' | 'companies' | 'deals';

export const OBJECT_TYPES: readonly HubspotObjectType[] = ['contacts', 'companies', 'deals'];

/** How a property's value is cleaned into its column. */
type ColumnKind = 'text' | 'lower' | 'phone' | 'timestamp' | 'numeric' | 'integer';

interface ColumnSpec {
  column: string;
  /** The first of these properties with a non-empty value fills the column. */
  properties: readonly string[];
  kind: ColumnKind;
}

export interface ObjectDefinition {
  type: HubspotObjectType;
  table: 'hubspot_contacts' | 'hubspot_companies' | 'hubspot_deals';
  /** Singular, as HubSpot's association errors name it ("No company is associated with contact 1."). */
  singular: string;
  /** `lastmodifieddate` for contacts (filtering contacts on hs_lastmodifieddate silently misbehaves). */
  modifiedProperty: 'lastmodifieddate' | 'hs_lastmodifieddate';
  properties: readonly string[];
  columns: readonly ColumnSpec[];
}

/** Contact properties that may hold a LinkedIn profile URL (HubSpot ignores the ones a portal does not have). */
export const CONTACT_LINKEDIN_PROPERTIES = [
  'hs_linkedin_url',
  'linkedin_profile_url',
  'linkedin_url',
] as const;

/**
 * Contact property the push writes the seniority tier to. HubSpot has no standard text property for it: create a
 * single-line text contact property with this internal name in the portal.
 */
export const SENIORITY_PROPERTY = 'linkedin_seniority';

/** Ids of the contacts merged into a contact, `;`-separated ("101;102"). */
export const MERGED_IDS_PROPERTY = 'hs_merged_object_ids';
/** The same as `vid:epoch-ms` pairs ("101:1700000000000;102:..."); either property can miss ids the other has. */
export const MERGED_VIDS_PROPERTY = 'hs_calculated_merged_vids';

const CONTACTS: ObjectDefinition = {
  type: 'contacts',
  table: 'hubspot_contacts',
  singular: 'contact',
  modifiedProperty: 'lastmodifieddate',
  properties: [
    'email',
    'firstname',
    'lastname',
    'phone',
    'mobilephone',
    'jobtitle',
    'company',
    'city',
    'state',
    'country',
    ...CONTACT_LINKEDIN_PROPERTIES,
    SENIORITY_PROPERTY,
    'lifecyclestage',
    'hs_lead_status',
    'hubspot_owner_id',
    MERGED_IDS_PROPERTY,
    MERGED_VIDS_PROPERTY,
    'createdate',
    'lastmodifieddate',
    'hs_object_id',
  ],
  columns: [
    { column: 'email', properties: ['email'], kind: 'lower' },
    { column: 'firstname', properties: ['firstname'], kind: 'text' },
    { column: 'lastname', properties: ['lastname'], kind: 'text' },
    { column: 'phone', properties: ['phone', 'mobilephone'], kind: 'phone' },
    { column: 'jobtitle', properties: ['jobtitle'], kind: 'text' },
    { column: 'company', properties: ['company'], kind: 'text' },
    { column: 'city', properties: ['city'], kind: 'text' },
    { column: 'state', properties: ['state'], kind: 'text' },
    { column: 'country', properties: ['country'], kind: 'text' },
    { column: 'linkedin_url', properties: CONTACT_LINKEDIN_PROPERTIES, kind: 'text' },
    { column: 'lifecyclestage', properties: ['lifecyclestage'], kind: 'text' },
    { column: 'lead_status', properties: ['hs_lead_status'], kind: 'text' },
    { column: 'owner_id', properties: ['hubspot_owner_id'], kind: 'text' },
  ],
};

const COMPANIES: ObjectDefinition = {
  type: 'companies',
  table: 'hubspot_companies',
  singular: 'company',
  modifiedProperty: 'hs_lastmodifieddate',
  properties: [
    'name',
    'domain',
    'website',
    'phone',
    'city',
    'state',
    'country',
    'industry',
    'numberofemployees',
    'linkedin_company_page',
    'hubspot_owner_id',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
  columns: [
    { column: 'name', properties: ['name'], kind: 'text' },
    { column: 'domain', properties: ['domain'], kind: 'lower' },
    { column: 'website', properties: ['website'], kind: 'text' },
    { column: 'phone', properties: ['phone'], kind: 'phone' },
    { column: 'city', properties: ['city'], kind: 'text' },
    { column: 'state', properties: ['state'], kind: 'text' },
    { column: 'country', properties: ['country'], kind: 'text' },
    { column: 'industry', properties: ['industry'], kind: 'text' },
    { column: 'employees', properties: ['numberofemployees'], kind: 'integer' },
    { column: 'linkedin_url', properties: ['linkedin_company_page'], kind: 'text' },
    { column: 'owner_id', properties: ['hubspot_owner_id'], kind: 'text' },
  ],
};

const DEALS: ObjectDefinition = {
  type: 'deals',
  table: 'hubspot_deals',
  singular: 'deal',
  modifiedProperty: 'hs_lastmodifieddate',
  properties: [
    'dealname',
    'dealstage',
    'pipeline',
    'amount',
    'closedate',
    'hubspot_owner_id',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
  columns: [
    { column: 'name', properties: ['dealname'], kind: 'text' },
    { column: 'stage', properties: ['dealstage'], kind: 'text' },
    { column: 'pipeline', properties: ['pipeline'], kind: 'text' },
    { column: 'amount', properties: ['amount'], kind: 'numeric' },
    { column: 'close_date', properties: ['closedate'], kind: 'timestamp' },
    { column: 'owner_id', properties: ['hubspot_owner_id'], kind: 'text' },
  ],
};

export const OBJECTS: Readonly<Record<HubspotObjectType, ObjectDefinition>> = {
  contacts: CONTACTS,
  companies: COMPANIES,
  deals: DEALS,
};

/** A record as HubSpot's v3 object endpoints return it. */
export interface HubspotRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
  archivedAt?: string;
  url?: string;
}

/** A row for the object's table; column names come from the definition only. */
export interface ObjectRow {
  hubspot_id: string;
  archived: boolean;
  url: string | null;
  created_at: string | null;
  updated_at: string | null;
  archived_at: string | null;
  raw: HubspotRecord;
  [column: string]: unknown;
}

/** HubSpot datetimes: ISO-8601, or epoch milliseconds as a string (older properties). Null when unparsable. */
export function parseHubspotTime(value: unknown): Date | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const text = String(value).trim();
  if (text === '') return null;
  const ms = /^\d{1,15}$/.test(text) ? Number(text) : Date.parse(text);
  return Number.isFinite(ms) ? new Date(ms) : null;
}

function cleaned(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  return text === '' ? null : text;
}

function columnValue(kind: ColumnKind, text: string): unknown {
  switch (kind) {
    case 'text':
      return text;
    case 'lower':
      return text.toLowerCase();
    case 'phone': {
      const phone = text.replace(/[^\d+]/g, '');
      return phone === '' ? null : phone;
    }
    case 'timestamp':
      return parseHubspotTime(text)?.toISOString() ?? null;
    case 'numeric':
      return /^-?\d+(\.\d+)?$/.test(text) ? text : null;
    case 'integer':
      return /^-?\d{1,9}$/.test(text) ? Number(text) : null;
  }
}

/** The modified date of a record: its modified-date property, else `updatedAt`. */
export function modifiedAt(definition: ObjectDefinition, record: HubspotRecord): Date | null {
  return (
    parseHubspotTime(record.properties?.[definition.modifiedProperty]) ?? parseHubspotTime(record.updatedAt)
  );
}

const MERGED_IDS_MAX = 500;

/**
 * The contacts merged into this one (id -> merge time in epoch ms, null when unknown): the union of
 * hs_merged_object_ids and hs_calculated_merged_vids, since HubSpot fills them separately and either can omit ids.
 * Never the contact's own id.
 */
export function mergedContactIds(
  properties: Readonly<Record<string, unknown>> | undefined,
  ownId: string | null,
): Map<string, number | null> {
  const merged = new Map<string, number | null>();
  const entries = (name: string) => {
    const value = properties?.[name];
    return typeof value === 'string' ? value.split(';').slice(0, MERGED_IDS_MAX) : [];
  };
  for (const entry of entries(MERGED_VIDS_PROPERTY)) {
    const pair = /^\s*(\d{1,18})\s*(?::\s*(\d{1,15})\s*)?$/.exec(entry);
    if (pair && pair[1] !== ownId) merged.set(pair[1]!, pair[2] === undefined ? null : Number(pair[2]));
  }
  for (const entry of entries(MERGED_IDS_PROPERTY)) {
    const id = entry.trim();
    if (/^\d{1,18}$/.test(id) && id !== ownId && !merged.has(id)) merged.set(id, null);
  }
  return merged;
}

/** hs_object_id, else the record id: HubSpot's own id for the object. */
export function objectIdOf(record: HubspotRecord): string | null {
  const id = cleaned(record.properties?.hs_object_id) ?? cleaned(record.id);
  return id !== null && /^\d{1,18}$/.test(id) ? id : null;
}

export function rowOf(definition: ObjectDefinition, record: HubspotRecord): ObjectRow | null {
  const id = objectIdOf(record);
  if (id === null) return null;
  const properties = record.properties ?? {};
  const row: ObjectRow = {
    hubspot_id: id,
    archived: record.archived === true,
    url: cleaned(record.url),
    created_at:
      (parseHubspotTime(properties.createdate) ?? parseHubspotTime(record.createdAt))?.toISOString() ?? null,
    updated_at: modifiedAt(definition, record)?.toISOString() ?? null,
    archived_at: parseHubspotTime(record.archivedAt)?.toISOString() ?? null,
    raw: record,
  };
  for (const spec of definition.columns) {
    const text = spec.properties.map((name) => cleaned(properties[name])).find((value) => value !== null);
    row[spec.column] = text === undefined ? null : columnValue(spec.kind, text);
  }
  return row;
}
