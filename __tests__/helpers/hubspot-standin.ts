/**
 * A local stand-in for HubSpot's CRM API, following the documented contract (reference/leadcrm-hubspot.md,
 * "HubSpot API stand-in: minimal faithful contract"), in memory, on 127.0.0.1 and a random port.
 *
 * - Objects v3 (`/crm/v3/objects/{type}`, also `/crm/objects/v3/...`, `/crm/objects/2026-03/...`, type ids 0-1 / 0-2
 *   / 0-3, doubled slashes tolerated): list (`limit` <= 100, opaque `after`, `properties` repeated or
 *   comma-separated, `archived=true`), get, create, update, archive, batch read / create / update / upsert /
 *   archive (<= 100 inputs, 207 multi-status), search (filterGroups, operators, one sort, `query`, limit <= 200,
 *   integer `after`, 400 when `after + limit` passes the 10 000 cap).
 * - Associations v4: batch read (<= 1000 inputs, per-input paging, 207 NO_ASSOCIATIONS_FOUND), writes (default and
 *   labelled PUT, DELETE), visible from both directions, hidden when either side is archived.
 * - Contact merge (`POST /crm/v3/objects/contacts/merge`): the loser vanishes from list, search and batch read, a GET
 *   of its id answers the primary, its links move to the primary, and the primary's hs_merged_object_ids /
 *   hs_calculated_merged_vids name it (and whatever had been merged into it); the primary's modified date moves.
 *   Optionally the loser lingers in search results for a while (a search index catching up).
 * - Bearer auth (401 INVALID_AUTHENTICATION), JSON bodies with `application/json;charset=utf-8` everywhere, the
 *   rate-limit headers, the ten-secondly and search-secondly limits with HubSpot's exact 429 bodies, an optional
 *   daily budget, optional Retry-After.
 * - Test controls, in process or under `/__stub/`: seed (deterministic ids and timestamps from a seed), reset, merge
 *   (optionally leaving the loser out of one of the two merge properties, as HubSpot sometimes does),
 *   scripted faults (the next N calls on a route answer 429 / 500 / 502 / time out / are slow), the request log,
 *   the clock, the limits, an indexing lag (records written appear in search later).
 */
import { Buffer } from 'node:buffer';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HubspotClientOptions } from '../../src/sources/hubspot';

export type ObjectType = 'contacts' | 'companies' | 'deals';
const OBJECT_TYPES: readonly ObjectType[] = ['contacts', 'companies', 'deals'];
const TYPE_IDS: Record<ObjectType, string> = { contacts: '0-1', companies: '0-2', deals: '0-3' };
const SINGULAR: Record<ObjectType, string> = { contacts: 'contact', companies: 'company', deals: 'deal' };
const MODIFIED: Record<ObjectType, string> = {
  contacts: 'lastmodifieddate',
  companies: 'hs_lastmodifieddate',
  deals: 'hs_lastmodifieddate',
};
const ID_BASE: Record<ObjectType, number> = { contacts: 100_000, companies: 200_000, deals: 300_000 };

/** Every property each object has in this portal (custom ones included). */
const SCHEMA: Record<ObjectType, readonly string[]> = {
  contacts: [
    'email',
    'firstname',
    'lastname',
    'phone',
    'mobilephone',
    'jobtitle',
    'company',
    'website',
    'address',
    'city',
    'state',
    'zip',
    'country',
    'hubspot_owner_id',
    'lifecyclestage',
    'hs_lead_status',
    'hs_linkedin_url',
    'linkedinbio',
    'linkedin_seniority',
    'hs_merged_object_ids',
    'hs_calculated_merged_vids',
    'createdate',
    'lastmodifieddate',
    'hs_object_id',
  ],
  companies: [
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
    'description',
    'hubspot_owner_id',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
  deals: [
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
};
const DEFAULT_PROPERTIES: Record<ObjectType, readonly string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  companies: ['name', 'domain', 'createdate', 'hs_lastmodifieddate', 'hs_object_id'],
  deals: [
    'dealname',
    'amount',
    'closedate',
    'pipeline',
    'dealstage',
    'createdate',
    'hs_lastmodifieddate',
    'hs_object_id',
  ],
};
const SEARCHABLE: Record<ObjectType, readonly string[]> = {
  contacts: ['firstname', 'lastname', 'email', 'phone', 'company'],
  companies: ['name', 'domain', 'website', 'phone'],
  deals: ['dealname'],
};
const READ_ONLY = new Set([
  'hs_object_id',
  'createdate',
  'lastmodifieddate',
  'hs_lastmodifieddate',
  'hs_merged_object_ids',
  'hs_calculated_merged_vids',
]);
const DATETIME = new Set(['createdate', 'lastmodifieddate', 'hs_lastmodifieddate', 'closedate']);
const NUMBER = new Set(['hs_object_id', 'amount', 'numberofemployees']);
const ENUMERATION = new Set(['lifecyclestage', 'hs_lead_status', 'dealstage', 'pipeline']);

interface AssociationTypeSpec {
  from: ObjectType;
  to: ObjectType;
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  label: string | null;
  inverse: number;
}
/** HubSpot-defined types (SDK AssociationTypes) and one user-defined label pair. */
export const ASSOCIATION_TYPES: Readonly<Record<number, AssociationTypeSpec>> = {
  279: { from: 'contacts', to: 'companies', category: 'HUBSPOT_DEFINED', label: null, inverse: 280 },
  280: { from: 'companies', to: 'contacts', category: 'HUBSPOT_DEFINED', label: null, inverse: 279 },
  1: { from: 'contacts', to: 'companies', category: 'HUBSPOT_DEFINED', label: 'Primary', inverse: 2 },
  2: { from: 'companies', to: 'contacts', category: 'HUBSPOT_DEFINED', label: 'Primary', inverse: 1 },
  4: { from: 'contacts', to: 'deals', category: 'HUBSPOT_DEFINED', label: null, inverse: 3 },
  3: { from: 'deals', to: 'contacts', category: 'HUBSPOT_DEFINED', label: null, inverse: 4 },
  5: { from: 'deals', to: 'companies', category: 'HUBSPOT_DEFINED', label: 'Primary', inverse: 6 },
  6: { from: 'companies', to: 'deals', category: 'HUBSPOT_DEFINED', label: 'Primary', inverse: 5 },
  341: { from: 'deals', to: 'companies', category: 'HUBSPOT_DEFINED', label: null, inverse: 342 },
  342: { from: 'companies', to: 'deals', category: 'HUBSPOT_DEFINED', label: null, inverse: 341 },
  101: { from: 'contacts', to: 'deals', category: 'USER_DEFINED', label: 'Decision maker', inverse: 102 },
  102: { from: 'deals', to: 'contacts', category: 'USER_DEFINED', label: 'Decision maker', inverse: 101 },
};
const DEFAULT_TYPE: Record<string, number> = {
  'contacts:companies': 279,
  'companies:contacts': 280,
  'contacts:deals': 4,
  'deals:contacts': 3,
  'deals:companies': 341,
  'companies:deals': 342,
};

export const TEN_SECONDLY_MESSAGE = 'You have reached your ten_secondly_rolling limit.';
export const SECONDLY_MESSAGE = 'You have reached your secondly limit.';
export const DAILY_MESSAGE = 'You have reached your daily limit.';

export interface StoredObject {
  id: string;
  type: ObjectType;
  properties: Record<string, string | null>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt: number | null;
  /** Real time (Date.now()) from which search sees this version. */
  searchableFrom: number;
}

export interface StandInOptions {
  token?: string;
  seed?: number;
  portalId?: number;
  /** Fake clock: the first write's time, and how far each write moves it. */
  startTime?: number;
  stepMs?: number;
  limits?: Partial<Limits>;
  searchCap?: number;
  /** Associations per input per page of a v4 batch read. */
  associationPageSize?: number;
  /** `toObjectId` as a string instead of HubSpot's usual number. */
  toObjectIdAsString?: boolean;
  /** Give contacts an `hs_lastmodifieddate` (default: unset, so filters on it match nothing). */
  contactsHaveHsLastModifiedDate?: boolean;
}

export interface Limits {
  /** Non-search calls per window per token (null = no limit). */
  tenSecondly: number | null;
  tenSecondlyWindowMs: number;
  /** Search calls per window per token (null = no limit). */
  searchSecondly: number | null;
  searchWindowMs: number;
  /** Calls per stand-in life (null = no limit). */
  daily: number | null;
  /** Sent with every rate-limit 429 when set. */
  retryAfterSeconds: number | null;
}

const DEFAULT_LIMITS: Limits = {
  tenSecondly: 100,
  tenSecondlyWindowMs: 10_000,
  searchSecondly: 5,
  searchWindowMs: 1_000,
  daily: null,
  retryAfterSeconds: null,
};

export type FaultResponse =
  'ten_secondly' | 'secondly' | 'daily' | 500 | 502 | 503 | 504 | 'timeout' | 'slow';

export interface FaultSpec {
  /** Canonical route (`POST /crm/v3/objects/contacts/search`, see `routeOf`), or '*' for every call. */
  route: string;
  /** Matching calls let through before the fault starts. */
  skip?: number;
  /** Calls the fault answers. */
  count: number;
  response: FaultResponse;
  /** Retry-After on the fault's answer. */
  retryAfterSeconds?: number;
  /** 'slow': answered after this long; 'timeout': held this long (default 60 s) or until the client gives up. */
  delayMs?: number;
}

export interface LoggedRequest {
  method: string;
  path: string;
  route: string;
  query: Record<string, string[]>;
  body: unknown;
  status: number;
  fault: FaultResponse | null;
  at: number;
}

/** The two properties HubSpot records a contact merge in. */
export type MergeProperty = 'hs_merged_object_ids' | 'hs_calculated_merged_vids';

export interface MergeOptions {
  /** Leave the loser (not what was merged into it) out of this property of the primary. */
  omitFrom?: MergeProperty;
}

export interface GenerateSpec {
  contacts?: number;
  companies?: number;
  deals?: number;
  /** Each contact gets its company (types 279 + Primary) and every third contact a deal. */
  associate?: boolean;
}

interface HttpAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

class HubspotError extends Error {
  constructor(
    readonly status: number,
    readonly category: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** Deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST_NAMES = [
  'Ana',
  'Ben',
  'Chloe',
  'Dev',
  'Elif',
  'Farid',
  'Grace',
  'Hugo',
  'Ines',
  'Jonas',
  'Kaito',
  'Lena',
];
const LAST_NAMES = [
  'Alvarez',
  'Brown',
  'Chen',
  'Dubois',
  'Evans',
  'Fischer',
  'Garcia',
  'Haddad',
  'Ivanova',
  'Jensen',
];
const TITLES = [
  'Account Executive',
  'VP of Sales',
  'Software Engineer',
  'Marketing Manager',
  'CFO',
  'Data Analyst',
];
const PLACES = [
  ['San Francisco', 'California', 'United States'],
  ['Austin', 'Texas', 'United States'],
  ['London', 'England', 'United Kingdom'],
  ['Berlin', 'Berlin', 'Germany'],
  ['Toronto', 'Ontario', 'Canada'],
] as const;
const STAGES = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'closedwon', 'closedlost'];
const LIFECYCLE = [
  'subscriber',
  'lead',
  'marketingqualifiedlead',
  'salesqualifiedlead',
  'opportunity',
  'customer',
];

export class HubspotStandIn {
  readonly token: string;
  baseUrl = '';
  readonly requests: LoggedRequest[] = [];
  limits: Limits;
  associationPageSize: number;
  searchCap: number;
  toObjectIdAsString: boolean;
  /** Records written from now on appear in search this many (real) milliseconds later. */
  indexingLagMs = 0;
  /** Merged contacts stay in search results (as their last version) this many real ms after the merge. */
  mergedLingerMs = 0;
  /** How far the fake clock moves per write (0: writes share one modified date, like a bulk import). */
  stepMs: number;

  private readonly options: StandInOptions;
  private readonly server: http.Server;
  private readonly objects = new Map<ObjectType, Map<string, StoredObject>>();
  /** `${type}:${id}` -> `${toType}:${toId}` -> type ids. */
  private readonly links = new Map<string, Map<string, Set<number>>>();
  /** Merged contact id -> the contact it now lives in. */
  private readonly mergedContacts = new Map<string, string>();
  /** Merged contacts search still returns (see mergedLingerMs), until a real time. */
  private readonly lingering = new Map<string, { record: StoredObject; until: number }>();
  private nextIds!: Record<ObjectType, number>;
  private now!: number;
  private random!: () => number;
  private faults: (FaultSpec & { skipped: number; used: number })[] = [];
  private readonly calls = { tenSecondly: [] as number[], search: [] as number[], daily: 0 };
  private readonly held = new Set<() => void>();
  private version = 0;
  private searchCache: { key: string; version: number; ids: StoredObject[]; validUntil: number } | null =
    null;

  constructor(options: StandInOptions = {}) {
    this.options = options;
    this.token = options.token ?? 'pat-na1-standin-token';
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.associationPageSize = options.associationPageSize ?? 500;
    this.searchCap = options.searchCap ?? 10_000;
    this.toObjectIdAsString = options.toObjectIdAsString ?? false;
    this.stepMs = options.stepMs ?? 1000;
    this.reset();
    this.server = http.createServer((req, res) => this.serve(req, res));
  }

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const release of this.held) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------------------
  // Test controls
  // ------------------------------------------------------------------------------------------------------

  /** Empties the portal; the clock, ids and random data start again from the seed. */
  reset(): void {
    for (const type of OBJECT_TYPES) this.objects.set(type, new Map());
    this.links.clear();
    this.mergedContacts.clear();
    this.lingering.clear();
    this.nextIds = { contacts: ID_BASE.contacts, companies: ID_BASE.companies, deals: ID_BASE.deals };
    this.now = this.options.startTime ?? Date.UTC(2024, 0, 1);
    this.random = prng(this.options.seed ?? 1);
    this.faults = [];
    this.requests.length = 0;
    this.calls.tenSecondly = [];
    this.calls.search = [];
    this.calls.daily = 0;
    this.version += 1;
  }

  /** The fake clock (ms). */
  get clock(): number {
    return this.now;
  }

  advanceClock(ms: number): void {
    this.now += ms;
  }

  /** Everything written so far becomes searchable now (the end of an indexing lag). */
  flushIndex(): void {
    for (const type of OBJECT_TYPES)
      for (const record of this.table(type).values()) record.searchableFrom = 0;
    this.version += 1;
  }

  fault(spec: FaultSpec): void {
    this.faults.push({ ...spec, skipped: 0, used: 0 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** The calls whose canonical route is `route`. */
  requestsTo(route: string): LoggedRequest[] {
    return this.requests.filter((request) => request.route === route);
  }

  create(type: ObjectType, properties: Record<string, string | null>): StoredObject {
    const id = String(++this.nextIds[type]);
    const at = this.tick();
    const record: StoredObject = {
      id,
      type,
      properties: {},
      createdAt: at,
      updatedAt: at,
      archived: false,
      archivedAt: null,
      searchableFrom: Date.now() + this.indexingLagMs,
    };
    for (const [name, value] of Object.entries(properties)) {
      if (!READ_ONLY.has(name)) record.properties[name] = value === '' ? null : value;
    }
    this.stamp(record, at, true);
    this.table(type).set(id, record);
    this.version += 1;
    return record;
  }

  update(type: ObjectType, id: string, properties: Record<string, string | null>): StoredObject {
    const record = this.table(type).get(id);
    if (!record) throw new Error(`no ${type} ${id}`);
    for (const [name, value] of Object.entries(properties)) {
      if (!READ_ONLY.has(name)) record.properties[name] = value === '' ? null : value;
    }
    this.stamp(record, this.tick(), false);
    this.version += 1;
    return record;
  }

  archive(type: ObjectType, id: string): StoredObject {
    const record = this.table(type).get(id);
    if (!record) throw new Error(`no ${type} ${id}`);
    const at = this.tick();
    record.archived = true;
    record.archivedAt = at;
    this.stamp(record, at, false);
    this.version += 1;
    return record;
  }

  restore(type: ObjectType, id: string): StoredObject {
    const record = this.table(type).get(id);
    if (!record) throw new Error(`no ${type} ${id}`);
    record.archived = false;
    record.archivedAt = null;
    this.stamp(record, this.tick(), false);
    this.version += 1;
    return record;
  }

  /**
   * Merges contact `loserId` into `primaryId` as HubSpot does: the loser is gone (not archived; a GET of its id
   * answers the primary), its links move to the primary, and the primary's hs_merged_object_ids ("id;id") and
   * hs_calculated_merged_vids ("id:epoch;id:epoch") gain the loser and whatever had been merged into it. The
   * primary's modified date moves. `omitFrom` leaves the loser itself out of one property.
   */
  merge(primaryId: string, loserId: string, options: MergeOptions = {}): StoredObject {
    const contacts = this.table('contacts');
    const primary = contacts.get(primaryId);
    const loser = contacts.get(loserId);
    if (!primary || !loser || primary.archived || loser.archived) {
      throw new HubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
    }
    if (primaryId === loserId)
      throw new HubspotError(400, 'VALIDATION_ERROR', 'Cannot merge an object with itself.');
    const at = this.tick();
    const split = (value: string | null | undefined) =>
      (value ?? '').split(';').filter((part) => part !== '');
    const ids = split(primary.properties.hs_merged_object_ids);
    const vids = split(primary.properties.hs_calculated_merged_vids);
    if (options.omitFrom !== 'hs_merged_object_ids') ids.push(loserId);
    if (options.omitFrom !== 'hs_calculated_merged_vids') vids.push(`${loserId}:${at}`);
    ids.push(...split(loser.properties.hs_merged_object_ids));
    vids.push(...split(loser.properties.hs_calculated_merged_vids));
    primary.properties.hs_merged_object_ids = ids.length > 0 ? [...new Set(ids)].join(';') : null;
    primary.properties.hs_calculated_merged_vids = vids.length > 0 ? [...new Set(vids)].join(';') : null;
    const loserKey = `contacts:${loserId}`;
    for (const [target, types] of this.links.get(loserKey) ?? []) {
      const [toType, toId] = target.split(':') as [ObjectType, string];
      for (const typeId of types) {
        this.linkSet('contacts', primaryId, toType, toId).add(typeId);
        this.linkSet(toType, toId, 'contacts', primaryId).add(ASSOCIATION_TYPES[typeId]!.inverse);
      }
      this.links.get(target)?.delete(loserKey);
    }
    this.links.delete(loserKey);
    if (this.mergedLingerMs > 0) {
      const copy: StoredObject = { ...loser, properties: { ...loser.properties } };
      this.lingering.set(loserId, { record: copy, until: Date.now() + this.mergedLingerMs });
    }
    contacts.delete(loserId);
    for (const [merged, into] of this.mergedContacts)
      if (into === loserId) this.mergedContacts.set(merged, primaryId);
    this.mergedContacts.set(loserId, primaryId);
    this.stamp(primary, at, false);
    this.version += 1;
    return primary;
  }

  /** The contact a merged contact id now lives in (null when the id was never merged). */
  survivorOf(id: string): string | null {
    return this.mergedContacts.get(id) ?? null;
  }

  get(type: ObjectType, id: string): StoredObject | undefined {
    return this.table(type).get(id);
  }

  /** Every record of a type (archived ones too), in id order. */
  all(type: ObjectType): StoredObject[] {
    return [...this.table(type).values()];
  }

  /** Links `from` to `to` with the given types (default: the unlabelled default type); both directions. */
  associate(from: ObjectType, fromId: string, to: ObjectType, toId: string, typeIds?: number[]): void {
    for (const typeId of typeIds ?? [DEFAULT_TYPE[`${from}:${to}`]!]) {
      const spec = ASSOCIATION_TYPES[typeId];
      if (!spec || spec.from !== from || spec.to !== to)
        throw new Error(`type ${typeId} is not ${from} -> ${to}`);
      this.linkSet(from, fromId, to, toId).add(typeId);
      this.linkSet(to, toId, from, fromId).add(spec.inverse);
    }
    this.version += 1;
  }

  /** Removes every link between the two (both directions). Association changes do not bump modified dates. */
  dissociate(from: ObjectType, fromId: string, to: ObjectType, toId: string): void {
    this.links.get(`${from}:${fromId}`)?.delete(`${to}:${toId}`);
    this.links.get(`${to}:${toId}`)?.delete(`${from}:${fromId}`);
    this.version += 1;
  }

  /** Links from one record to records of `to` that are active (what HubSpot reads show). */
  linksOf(from: ObjectType, fromId: string, to: ObjectType): { toId: string; typeIds: number[] }[] {
    const source = this.table(from).get(fromId);
    if (!source || source.archived) return [];
    const found: { toId: string; typeIds: number[] }[] = [];
    for (const [key, types] of this.links.get(`${from}:${fromId}`) ?? []) {
      const [type, toId] = key.split(':') as [ObjectType, string];
      if (type !== to || types.size === 0) continue;
      const target = this.table(to).get(toId);
      if (!target || target.archived) continue;
      found.push({ toId, typeIds: [...types].sort((a, b) => a - b) });
    }
    return found.sort((a, b) => Number(a.toId) - Number(b.toId));
  }

  /** Deterministic realistic records (and links), fast enough for tens of thousands. */
  generate(spec: GenerateSpec): { contacts: string[]; companies: string[]; deals: string[] } {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(this.random() * items.length)]!;
    const made = { contacts: [] as string[], companies: [] as string[], deals: [] as string[] };
    for (let i = 0; i < (spec.companies ?? 0); i += 1) {
      const [city, state, country] = pick(PLACES);
      const n = this.nextIds.companies + 1;
      made.companies.push(
        this.create('companies', {
          name: `Company ${n}`,
          domain: `company-${n}.example`,
          city,
          state,
          country,
          industry: pick(['COMPUTER_SOFTWARE', 'FINANCIAL_SERVICES', 'RETAIL', 'HOSPITAL_HEALTH_CARE']),
          numberofemployees: String(10 + Math.floor(this.random() * 5000)),
        }).id,
      );
    }
    for (let i = 0; i < (spec.deals ?? 0); i += 1) {
      const n = this.nextIds.deals + 1;
      made.deals.push(
        this.create('deals', {
          dealname: `Deal ${n}`,
          dealstage: pick(STAGES),
          pipeline: 'default',
          amount: `${1000 + Math.floor(this.random() * 99_000)}.00`,
          closedate: new Date(this.now + Math.floor(this.random() * 90) * 86_400_000).toISOString(),
        }).id,
      );
    }
    for (let i = 0; i < (spec.contacts ?? 0); i += 1) {
      const n = this.nextIds.contacts + 1;
      const first = pick(FIRST_NAMES);
      const last = pick(LAST_NAMES);
      const [city, state, country] = pick(PLACES);
      const id = this.create('contacts', {
        email: `${first}.${last}.${n}@mail-${n % 97}.example`.toLowerCase(),
        firstname: first,
        lastname: last,
        phone: i % 4 === 0 ? `+1 415 555 ${String(n % 10_000).padStart(4, '0')}` : null,
        jobtitle: pick(TITLES),
        company: `Company ${ID_BASE.companies + 1 + (i % Math.max(1, spec.companies ?? 1))}`,
        city,
        state,
        country,
        lifecyclestage: pick(LIFECYCLE),
        hs_linkedin_url:
          i % 3 === 0 ? `https://www.linkedin.com/in/${first}-${last}-${n}`.toLowerCase() : null,
      }).id;
      made.contacts.push(id);
      if (spec.associate) {
        const company = made.companies[i % Math.max(1, made.companies.length)];
        if (company) this.associate('contacts', id, 'companies', company, [279, 1]);
        const deal = made.deals[Math.floor(i / 3) % Math.max(1, made.deals.length)];
        if (deal && i % 3 === 0) this.associate('contacts', id, 'deals', deal);
      }
    }
    return made;
  }

  /** The record as the API shows it, with every property it has. */
  view(record: StoredObject, properties?: readonly string[]): Record<string, unknown> {
    const names = properties ?? Object.keys(record.properties);
    const shown: Record<string, string | null> = {};
    for (const name of names) {
      if (name in record.properties) shown[name] = record.properties[name] ?? null;
      else if (SCHEMA[record.type].includes(name)) shown[name] = null;
    }
    return {
      id: record.id,
      properties: shown,
      createdAt: iso(record.createdAt),
      updatedAt: iso(record.updatedAt),
      archived: record.archived,
      ...(record.archived && record.archivedAt !== null ? { archivedAt: iso(record.archivedAt) } : {}),
      url: `https://app.hubspot.com/contacts/${this.options.portalId ?? 62515}/record/${TYPE_IDS[record.type]}/${record.id}`,
    };
  }

  // ------------------------------------------------------------------------------------------------------
  // HTTP
  // ------------------------------------------------------------------------------------------------------

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void this.answer(req, res, Buffer.concat(chunks).toString('utf8'));
    });
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse, text: string): Promise<void> {
    // (Not new URL(path, base): a path starting with '//' would be read as a host.)
    const url = new URL(`http://127.0.0.1${req.url ?? '/'}`);
    const path = url.pathname.replace(/\/{2,}/g, '/');
    const method = req.method ?? 'GET';
    const query: Record<string, string[]> = {};
    for (const [name, value] of url.searchParams) (query[name] ??= []).push(value);
    let body: unknown = undefined;
    let badJson = false;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        badJson = true;
        body = text;
      }
    }
    if (path.startsWith('/__stub/')) return this.send(res, this.control(method, path, body));
    const route = routeOf(method, path);
    const fault = this.takeFault(route);
    let answer: HttpAnswer;
    if (fault?.response === 'timeout') {
      // Logged now (status 0: never answered); the connection is dropped when the client gives up or the delay ends.
      this.log(method, path, route, query, body, 0, fault.response);
      await this.hold(req, fault.delayMs ?? 60_000);
      if (!res.writableEnded) res.destroy();
      return;
    }
    if (fault?.response === 'slow' && (await this.hold(req, fault.delayMs ?? 200))) {
      this.log(method, path, route, query, body, 0, fault.response);
      return;
    }
    if (fault && fault.response !== 'slow') {
      answer = this.faultAnswer(fault);
    } else {
      try {
        answer = badJson
          ? errorAnswer(new HubspotError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1'))
          : this.authenticated(req, method, route, () => this.dispatch(method, path, query, body));
      } catch (error) {
        answer =
          error instanceof HubspotError
            ? errorAnswer(error)
            : errorAnswer(new HubspotError(500, 'INTERNAL_ERROR', (error as Error).message));
      }
    }
    this.log(method, path, route, query, body, answer.status, fault?.response ?? null);
    this.send(res, answer);
  }

  private log(
    method: string,
    path: string,
    route: string,
    query: Record<string, string[]>,
    body: unknown,
    status: number,
    fault: FaultResponse | null,
  ): void {
    this.requests.push({ method, path, route, query, body, status, fault, at: Date.now() });
  }

  private send(res: http.ServerResponse, answer: HttpAnswer): void {
    if (res.writableEnded || res.destroyed) return;
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.status === 204) {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    headers['content-type'] = 'application/json;charset=utf-8';
    res.writeHead(answer.status, headers);
    res.end(JSON.stringify(answer.body ?? {}));
  }

  /** Waits `ms`, or less when the client goes away; resolves true when it did. */
  private hold(req: http.IncomingMessage, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const release = (aborted: boolean) => {
        clearTimeout(timer);
        this.held.delete(onClose);
        req.socket.off('close', onClose);
        resolve(aborted);
      };
      const onClose = () => release(true);
      const timer = setTimeout(() => release(false), ms);
      this.held.add(onClose);
      req.socket.on('close', onClose);
    });
  }

  private takeFault(route: string): (FaultSpec & { skipped: number; used: number }) | null {
    for (const fault of this.faults) {
      if (fault.route !== '*' && fault.route !== route) continue;
      if (fault.used >= fault.count) continue;
      if (fault.skipped < (fault.skip ?? 0)) {
        fault.skipped += 1;
        return null;
      }
      fault.used += 1;
      return fault;
    }
    return null;
  }

  private faultAnswer(fault: FaultSpec): HttpAnswer {
    const headers: Record<string, string> = {};
    if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    switch (fault.response) {
      case 'ten_secondly':
      case 'secondly':
      case 'daily':
        return { status: 429, body: this.rateLimitBody(fault.response), headers };
      default: {
        const status = Number(fault.response);
        const message =
          status === 502 ? 'Bad Gateway' : status === 503 ? 'Service Unavailable' : 'internal error';
        return {
          status,
          body: { status: 'error', message, correlationId: this.correlationId(), category: 'INTERNAL_ERROR' },
          headers,
        };
      }
    }
  }

  private rateLimitBody(policy: 'ten_secondly' | 'secondly' | 'daily'): Record<string, unknown> {
    const base = { status: 'error', errorType: 'RATE_LIMIT', correlationId: this.correlationId() };
    if (policy === 'secondly') return { ...base, message: SECONDLY_MESSAGE };
    if (policy === 'daily') return { ...base, message: DAILY_MESSAGE, policyName: 'DAILY' };
    return {
      ...base,
      message: TEN_SECONDLY_MESSAGE,
      policyName: 'TEN_SECONDLY_ROLLING',
      groupName: `publicapi:private_app-api-calls-ten-secondly:1234567:${this.options.portalId ?? 62515}`,
    };
  }

  /** Bearer auth, then the limits; the answer carries the rate-limit headers (search answers do not). */
  private authenticated(
    req: http.IncomingMessage,
    method: string,
    route: string,
    handle: () => HttpAnswer,
  ): HttpAnswer {
    const authorization = req.headers.authorization ?? '';
    if (authorization !== `Bearer ${this.token}`) {
      throw new HubspotError(
        401,
        'INVALID_AUTHENTICATION',
        'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview',
      );
    }
    const isSearch = method === 'POST' && route.endsWith('/search');
    const realNow = Date.now();
    const limits = this.limits;
    const retryHeaders: Record<string, string> =
      limits.retryAfterSeconds === null ? {} : { 'retry-after': String(limits.retryAfterSeconds) };
    if (limits.daily !== null && this.calls.daily >= limits.daily) {
      return { status: 429, body: this.rateLimitBody('daily'), headers: retryHeaders };
    }
    if (isSearch) {
      this.calls.search = this.calls.search.filter((at) => at > realNow - limits.searchWindowMs);
      if (limits.searchSecondly !== null && this.calls.search.length >= limits.searchSecondly) {
        return { status: 429, body: this.rateLimitBody('secondly'), headers: retryHeaders };
      }
      this.calls.search.push(realNow);
    } else {
      this.calls.tenSecondly = this.calls.tenSecondly.filter(
        (at) => at > realNow - limits.tenSecondlyWindowMs,
      );
      if (limits.tenSecondly !== null && this.calls.tenSecondly.length >= limits.tenSecondly) {
        return {
          status: 429,
          body: this.rateLimitBody('ten_secondly'),
          headers: { ...retryHeaders, ...this.rateHeaders(0) },
        };
      }
      this.calls.tenSecondly.push(realNow);
    }
    this.calls.daily += 1;
    const answer = handle();
    if (isSearch) return answer;
    const remaining = limits.tenSecondly === null ? 1000 : limits.tenSecondly - this.calls.tenSecondly.length;
    return { ...answer, headers: { ...answer.headers, ...this.rateHeaders(remaining) } };
  }

  private rateHeaders(remaining: number): Record<string, string> {
    const daily = this.limits.daily ?? 1_000_000;
    return {
      'x-hubspot-ratelimit-max': String(this.limits.tenSecondly ?? 1000),
      'x-hubspot-ratelimit-remaining': String(Math.max(0, remaining)),
      'x-hubspot-ratelimit-interval-milliseconds': String(this.limits.tenSecondlyWindowMs),
      'x-hubspot-ratelimit-daily': String(daily),
      'x-hubspot-ratelimit-daily-remaining': String(Math.max(0, daily - this.calls.daily)),
    };
  }

  private dispatch(method: string, path: string, query: Record<string, string[]>, body: unknown): HttpAnswer {
    const objects = /^\/crm\/(?:v3\/objects|objects\/v3|objects\/2026-03)\/([^/]+)(?:\/(.*))?$/.exec(path);
    if (objects) {
      const type = objectType(objects[1]!);
      if (type) return this.objectRoute(method, type, objects[2] ?? '', query, body);
    }
    const batchRead = /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/.exec(path);
    if (batchRead && method === 'POST') {
      const from = objectType(batchRead[1]!);
      const to = objectType(batchRead[2]!);
      if (from && to) return this.readAssociations(from, to, body);
    }
    const write = /^\/crm\/v4\/objects\/([^/]+)\/(\d+)\/associations\/(?:(default)\/)?([^/]+)\/(\d+)$/.exec(
      path,
    );
    if (write) {
      const from = objectType(write[1]!);
      const to = objectType(write[4]!);
      if (from && to)
        return this.writeAssociation(method, from, write[2]!, to, write[5]!, write[3] !== undefined, body);
    }
    throw new HubspotError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${path}`);
  }

  private objectRoute(
    method: string,
    type: ObjectType,
    rest: string,
    query: Record<string, string[]>,
    body: unknown,
  ): HttpAnswer {
    const archived = query.archived?.[0] === 'true';
    if (rest === '' && method === 'GET') return { status: 200, body: this.list(type, query) };
    if (rest === '' && method === 'POST') {
      const created = this.createChecked(type, propertiesOf(body));
      return { status: 201, body: this.view(created, Object.keys(created.properties)) };
    }
    if (rest === 'search' && method === 'POST') return { status: 200, body: this.search(type, body) };
    if (rest === 'merge' && method === 'POST' && type === 'contacts') {
      const input = (body ?? {}) as { primaryObjectId?: unknown; objectIdToMerge?: unknown };
      const idText = (value: unknown) =>
        (typeof value === 'string' || typeof value === 'number') && /^\d+$/.test(String(value))
          ? String(value)
          : null;
      const primaryId = idText(input.primaryObjectId);
      const loserId = idText(input.objectIdToMerge);
      if (primaryId === null || loserId === null) {
        throw new HubspotError(400, 'VALIDATION_ERROR', 'primaryObjectId and objectIdToMerge are required.');
      }
      const merged = this.merge(primaryId, loserId);
      return { status: 200, body: this.view(merged, Object.keys(merged.properties)) };
    }
    const batch = /^batch\/(read|create|update|upsert|archive)$/.exec(rest);
    if (batch && method === 'POST') return this.batch(type, batch[1]!, body, archived);
    if (/^[^/]+$/.test(rest)) {
      const id = this.resolveId(type, rest, query.idProperty?.[0]);
      // A merged contact's id answers the contact it was merged into.
      const survivor = id !== null && type === 'contacts' ? this.mergedContacts.get(id) : undefined;
      const record = id ? this.table(type).get(survivor ?? id) : undefined;
      if (!record || record.archived !== (method === 'GET' && archived)) {
        throw new HubspotError(404, 'OBJECT_NOT_FOUND', 'Object not found.  objectId are usually numeric.');
      }
      if (method === 'GET') return { status: 200, body: this.view(record, requestedProperties(type, query)) };
      if (method === 'PATCH') {
        const properties = this.checkedProperties(type, propertiesOf(body));
        const updated = this.update(type, record.id, properties);
        return { status: 200, body: this.view(updated, Object.keys(updated.properties)) };
      }
      if (method === 'DELETE') {
        this.archive(type, record.id);
        return { status: 204 };
      }
    }
    throw new HubspotError(404, 'OBJECT_NOT_FOUND', `No route for ${method} ${rest}`);
  }

  private list(type: ObjectType, query: Record<string, string[]>): Record<string, unknown> {
    const limit = Math.min(100, Math.max(1, Number(query.limit?.[0] ?? 10) || 10));
    const afterText = query.after?.[0];
    let afterId = 0;
    if (afterText !== undefined) {
      const decoded = Buffer.from(afterText, 'base64url').toString('utf8');
      if (!/^\d+$/.test(decoded)) throw new HubspotError(400, 'VALIDATION_ERROR', 'Invalid paging cursor');
      afterId = Number(decoded);
    }
    const archived = query.archived?.[0] === 'true';
    const properties = requestedProperties(type, query);
    const page: StoredObject[] = [];
    let more = false;
    for (const record of this.table(type).values()) {
      if (record.archived !== archived || Number(record.id) <= afterId) continue;
      if (page.length === limit) {
        more = true;
        break;
      }
      page.push(record);
    }
    const result: Record<string, unknown> = { results: page.map((record) => this.view(record, properties)) };
    if (more) {
      const after = Buffer.from(page[page.length - 1]!.id).toString('base64url');
      result.paging = { next: { after, link: `${this.baseUrl}/crm/v3/objects/${type}?after=${after}` } };
    }
    return result;
  }

  private search(type: ObjectType, raw: unknown): Record<string, unknown> {
    const body = (raw ?? {}) as Record<string, unknown>;
    const groups = Array.isArray(body.filterGroups) ? (body.filterGroups as { filters?: Filter[] }[]) : [];
    const total = groups.reduce((sum, group) => sum + (group.filters?.length ?? 0), 0);
    if (groups.length > 5 || groups.some((group) => (group.filters?.length ?? 0) > 6) || total > 18) {
      throw new HubspotError(400, 'VALIDATION_ERROR', 'Too many filters or filter groups in the request.');
    }
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw new HubspotError(400, 'VALIDATION_ERROR', 'limit must be between 1 and 200.');
    }
    const after =
      body.after === undefined || body.after === null || body.after === '' ? 0 : Number(body.after);
    if (!Number.isInteger(after) || after < 0) {
      throw new HubspotError(400, 'VALIDATION_ERROR', `Invalid value for after: ${String(body.after)}`);
    }
    if (after + limit > this.searchCap) {
      throw new HubspotError(
        400,
        'VALIDATION_ERROR',
        `Paging beyond ${this.searchCap} results is not supported (after + limit must be at most ${this.searchCap}).`,
      );
    }
    const text = typeof body.query === 'string' ? body.query : '';
    if (text.length > 3000)
      throw new HubspotError(400, 'VALIDATION_ERROR', 'query is longer than 3000 characters.');
    const sorts = Array.isArray(body.sorts) ? (body.sorts as unknown[]) : [];
    if (sorts.length > 1) throw new HubspotError(400, 'VALIDATION_ERROR', 'Only one sort is allowed.');
    const sort = sortOf(sorts[0]);
    const matches = this.matching(type, groups, sort, text);
    const properties = Array.isArray(body.properties)
      ? [...new Set([...(body.properties as string[]), 'hs_object_id', 'createdate', MODIFIED[type]])]
      : DEFAULT_PROPERTIES[type];
    const result: Record<string, unknown> = {
      total: matches.length,
      results: matches.slice(after, after + limit).map((record) => this.view(record, properties)),
    };
    if (after + limit < matches.length) result.paging = { next: { after: String(after + limit) } };
    return result;
  }

  /** Matching, sorted records; one cached result per query while nothing is written (pages re-use it). */
  private matching(
    type: ObjectType,
    groups: { filters?: Filter[] }[],
    sort: { property: string; descending: boolean },
    text: string,
  ): StoredObject[] {
    const key = JSON.stringify([type, groups, sort, text, this.contactsHsLastModified()]);
    const realNow = Date.now();
    const cached = this.searchCache;
    if (cached?.key === key && cached.version === this.version && realNow < cached.validUntil)
      return cached.ids;
    const needle = text.trim().toLowerCase();
    const found: StoredObject[] = [];
    let validUntil = Infinity;
    const lingering: StoredObject[] = [];
    if (type === 'contacts') {
      for (const { record, until } of this.lingering.values()) {
        if (until <= realNow) continue;
        validUntil = Math.min(validUntil, until);
        lingering.push(record);
      }
    }
    for (const record of [...this.table(type).values(), ...lingering]) {
      if (record.archived) continue;
      if (record.searchableFrom > realNow) {
        validUntil = Math.min(validUntil, record.searchableFrom);
        continue;
      }
      if (
        groups.length > 0 &&
        !groups.some((group) => (group.filters ?? []).every((f) => this.test(record, f)))
      ) {
        continue;
      }
      if (
        needle !== '' &&
        !SEARCHABLE[type].some((name) => record.properties[name]?.toLowerCase().includes(needle))
      ) {
        continue;
      }
      found.push(record);
    }
    found.sort((a, b) => {
      const order = compareValues(sort.property, this.value(a, sort.property), this.value(b, sort.property));
      return (sort.descending ? -order : order) || Number(a.id) - Number(b.id);
    });
    this.searchCache = { key, version: this.version, ids: found, validUntil };
    return found;
  }

  private contactsHsLastModified(): boolean {
    return this.options.contactsHaveHsLastModifiedDate === true;
  }

  private value(record: StoredObject, property: string): string | null {
    if (property === 'hs_lastmodifieddate' && record.type === 'contacts' && !this.contactsHsLastModified())
      return null;
    return record.properties[property] ?? null;
  }

  private test(record: StoredObject, filter: Filter): boolean {
    const value = this.value(record, filter.propertyName);
    const property = filter.propertyName;
    switch (filter.operator) {
      case 'HAS_PROPERTY':
        return value !== null;
      case 'NOT_HAS_PROPERTY':
        return value === null;
      case 'EQ':
        return value !== null && compareValues(property, value, filter.value ?? '') === 0;
      case 'NEQ':
        return value === null || compareValues(property, value, filter.value ?? '') !== 0;
      case 'LT':
        return value !== null && compareValues(property, value, filter.value ?? '') < 0;
      case 'LTE':
        return value !== null && compareValues(property, value, filter.value ?? '') <= 0;
      case 'GT':
        return value !== null && compareValues(property, value, filter.value ?? '') > 0;
      case 'GTE':
        return value !== null && compareValues(property, value, filter.value ?? '') >= 0;
      case 'BETWEEN':
        return (
          value !== null &&
          compareValues(property, value, filter.value ?? '') >= 0 &&
          compareValues(property, value, filter.highValue ?? '') <= 0
        );
      case 'IN':
      case 'NOT_IN': {
        // HubSpot: string values of IN must be lower-case; enumerations compare exactly.
        const wanted = filter.values ?? [];
        const held = value === null ? null : ENUMERATION.has(property) ? value : value.toLowerCase();
        const inside = held !== null && wanted.some((item) => compareIn(property, held, item));
        return filter.operator === 'IN' ? inside : !inside;
      }
      case 'CONTAINS_TOKEN':
      case 'NOT_CONTAINS_TOKEN': {
        const pattern = new RegExp(
          `^${(filter.value ?? '')
            .toLowerCase()
            .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')}$`,
        );
        const tokens = (value ?? '').toLowerCase().split(/[^\p{L}\p{N}@.*]+/u);
        const has =
          value !== null &&
          (tokens.some((token) => pattern.test(token)) || pattern.test(value.toLowerCase()));
        return filter.operator === 'CONTAINS_TOKEN' ? has : !has;
      }
      default:
        throw new HubspotError(400, 'VALIDATION_ERROR', `Unknown operator: ${String(filter.operator)}`);
    }
  }

  private batch(type: ObjectType, action: string, raw: unknown, archived: boolean): HttpAnswer {
    const body = (raw ?? {}) as { inputs?: unknown; properties?: unknown; idProperty?: unknown };
    const inputs = Array.isArray(body.inputs) ? (body.inputs as Record<string, unknown>[]) : null;
    if (!inputs) throw new HubspotError(400, 'VALIDATION_ERROR', 'inputs is required.');
    if (inputs.length > 100) {
      throw new HubspotError(
        400,
        'VALIDATION_ERROR',
        `Batch size of ${inputs.length} exceeds the limit of 100.`,
      );
    }
    const started = iso(this.now);
    const results: Record<string, unknown>[] = [];
    const missing: string[] = [];
    const errors: Record<string, unknown>[] = [];
    switch (action) {
      case 'read': {
        const properties = Array.isArray(body.properties)
          ? (body.properties as string[])
          : DEFAULT_PROPERTIES[type];
        for (const input of inputs) {
          const id = this.resolveId(
            type,
            String(input.id),
            (body.idProperty as string | undefined) ?? undefined,
          );
          const record = id ? this.table(type).get(id) : undefined;
          if (!record || record.archived !== archived) missing.push(String(input.id));
          else results.push(this.view(record, properties));
        }
        break;
      }
      case 'create': {
        for (const input of inputs) {
          try {
            const created = this.createChecked(type, propertiesOf(input));
            results.push(this.view(created, Object.keys(created.properties)));
          } catch (error) {
            if (!(error instanceof HubspotError) || error.status !== 409) throw error;
            errors.push({ status: 'error', category: 'CONFLICT', message: error.message, context: {} });
          }
        }
        if (errors.length === 0)
          return {
            status: 201,
            body: { status: 'COMPLETE', results, startedAt: started, completedAt: iso(this.now) },
          };
        break;
      }
      case 'update': {
        const checked = inputs.map((input) => this.checkedProperties(type, propertiesOf(input)));
        inputs.forEach((input, index) => {
          const id = this.resolveId(type, String(input.id), input.idProperty as string | undefined);
          const record = id ? this.table(type).get(id) : undefined;
          if (!record || record.archived) missing.push(String(input.id));
          else {
            const updated = this.update(type, record.id, checked[index]!);
            results.push(this.view(updated, Object.keys(updated.properties)));
          }
        });
        break;
      }
      case 'upsert': {
        for (const input of inputs) {
          const properties = this.checkedProperties(type, propertiesOf(input));
          const id = this.resolveId(type, String(input.id), input.idProperty as string | undefined);
          const existing = id ? this.table(type).get(id) : undefined;
          if (existing && !existing.archived) {
            const updated = this.update(type, existing.id, properties);
            results.push({ ...this.view(updated, Object.keys(updated.properties)), new: false });
          } else {
            const seed: Record<string, string> =
              input.idProperty === 'email' ? { email: String(input.id) } : {};
            const created = this.create(type, { ...seed, ...properties });
            results.push({ ...this.view(created, Object.keys(created.properties)), new: true });
          }
        }
        break;
      }
      case 'archive': {
        for (const input of inputs) {
          const record = this.table(type).get(String(input.id));
          if (record && !record.archived) this.archive(type, record.id);
        }
        return { status: 204 };
      }
    }
    if (missing.length > 0) {
      errors.push({
        status: 'error',
        category: 'OBJECT_NOT_FOUND',
        message: `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`,
        context: { ids: missing },
      });
    }
    const complete = { status: 'COMPLETE', results, startedAt: started, completedAt: iso(this.now) };
    if (errors.length === 0) return { status: 200, body: complete };
    return { status: 207, body: { ...complete, numErrors: errors.length, errors } };
  }

  private readAssociations(from: ObjectType, to: ObjectType, raw: unknown): HttpAnswer {
    const inputs = Array.isArray((raw as { inputs?: unknown })?.inputs)
      ? ((raw as { inputs: { id?: unknown; after?: unknown }[] }).inputs ?? [])
      : null;
    if (!inputs) throw new HubspotError(400, 'VALIDATION_ERROR', 'inputs is required.');
    if (inputs.length > 1000) {
      throw new HubspotError(
        400,
        'VALIDATION_ERROR',
        `Batch size of ${inputs.length} exceeds the limit of 1000.`,
      );
    }
    const started = iso(this.now);
    const results: Record<string, unknown>[] = [];
    const errors: Record<string, unknown>[] = [];
    for (const input of inputs) {
      const fromId = String(input.id);
      const all = this.linksOf(from, fromId, to);
      const offset =
        typeof input.after === 'string' ? Number(Buffer.from(input.after, 'base64url').toString()) || 0 : 0;
      const page = all.slice(offset, offset + this.associationPageSize);
      if (all.length === 0) {
        errors.push({
          status: 'error',
          category: 'OBJECT_NOT_FOUND',
          subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
          message: `No ${SINGULAR[to]} is associated with ${SINGULAR[from]} ${fromId}.`,
          context: { fromObjectId: [fromId], fromObjectType: [SINGULAR[from]], toObjectType: [SINGULAR[to]] },
        });
        continue;
      }
      const result: Record<string, unknown> = {
        from: { id: fromId },
        to: page.map((link) => ({
          toObjectId: this.toObjectIdAsString ? link.toId : Number(link.toId),
          associationTypes: link.typeIds.map((typeId) => ({
            category: ASSOCIATION_TYPES[typeId]!.category,
            typeId,
            label: ASSOCIATION_TYPES[typeId]!.label,
          })),
        })),
      };
      if (offset + this.associationPageSize < all.length) {
        result.paging = {
          next: {
            after: Buffer.from(String(offset + this.associationPageSize)).toString('base64url'),
            link: null,
          },
        };
      }
      results.push(result);
    }
    const complete = { status: 'COMPLETE', results, startedAt: started, completedAt: iso(this.now) };
    if (errors.length === 0) return { status: 200, body: complete };
    return { status: 207, body: { ...complete, numErrors: errors.length, errors } };
  }

  private writeAssociation(
    method: string,
    from: ObjectType,
    fromId: string,
    to: ObjectType,
    toId: string,
    isDefault: boolean,
    body: unknown,
  ): HttpAnswer {
    const source = this.table(from).get(fromId);
    const target = this.table(to).get(toId);
    if (!source || !target || source.archived || target.archived) {
      throw new HubspotError(404, 'OBJECT_NOT_FOUND', 'One or both objects do not exist.');
    }
    if (method === 'DELETE' && !isDefault) {
      this.dissociate(from, fromId, to, toId);
      return { status: 204 };
    }
    if (method !== 'PUT') throw new HubspotError(404, 'OBJECT_NOT_FOUND', `No route for ${method}`);
    if (isDefault) {
      const typeId = DEFAULT_TYPE[`${from}:${to}`]!;
      this.associate(from, fromId, to, toId, [typeId]);
      return {
        status: 200,
        body: {
          status: 'COMPLETE',
          results: [
            {
              from: { id: fromId },
              to: { id: toId },
              associationSpec: { associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId },
            },
          ],
        },
      };
    }
    const specs = Array.isArray(body)
      ? (body as { associationCategory?: string; associationTypeId?: number }[])
      : [];
    const typeIds = specs.map((spec) => Number(spec.associationTypeId));
    for (const typeId of typeIds) {
      const spec = ASSOCIATION_TYPES[typeId];
      if (!spec || spec.from !== from || spec.to !== to) {
        throw new HubspotError(
          400,
          'VALIDATION_ERROR',
          `Invalid association type ${typeId} for ${from} to ${to}.`,
        );
      }
    }
    this.associate(from, fromId, to, toId, typeIds);
    return {
      status: 201,
      body: {
        fromObjectTypeId: TYPE_IDS[from],
        fromObjectId: Number(fromId),
        toObjectTypeId: TYPE_IDS[to],
        toObjectId: Number(toId),
        labels: typeIds.map((typeId) => ASSOCIATION_TYPES[typeId]!.label).filter((label) => label !== null),
      },
    };
  }

  /** `/__stub/...`: the test controls over HTTP. */
  private control(method: string, path: string, body: unknown): HttpAnswer {
    const input = (body ?? {}) as Record<string, unknown>;
    if (method === 'POST' && path === '/__stub/reset') {
      this.reset();
      return { status: 200, body: { ok: true } };
    }
    if (method === 'POST' && path === '/__stub/seed') {
      return { status: 200, body: this.generate(input) };
    }
    if (method === 'POST' && path === '/__stub/merge') {
      try {
        const merged = this.merge(String(input.primaryObjectId), String(input.objectIdToMerge), {
          omitFrom: input.omitFrom as MergeProperty | undefined,
        });
        return { status: 200, body: this.view(merged, Object.keys(merged.properties)) };
      } catch (error) {
        if (error instanceof HubspotError) return errorAnswer(error);
        throw error;
      }
    }
    if (method === 'POST' && path === '/__stub/faults') {
      this.fault(input as unknown as FaultSpec);
      return { status: 200, body: { ok: true } };
    }
    if (method === 'DELETE' && path === '/__stub/faults') {
      this.clearFaults();
      return { status: 200, body: { ok: true } };
    }
    if (method === 'GET' && path === '/__stub/requests')
      return { status: 200, body: { requests: this.requests } };
    if (method === 'DELETE' && path === '/__stub/requests') {
      this.clearRequests();
      return { status: 200, body: { ok: true } };
    }
    if (method === 'POST' && path === '/__stub/clock') {
      if (typeof input.advanceMs === 'number') this.advanceClock(input.advanceMs);
      return { status: 200, body: { now: iso(this.now) } };
    }
    if (method === 'POST' && path === '/__stub/limits') {
      this.limits = { ...this.limits, ...(input as Partial<Limits>) };
      return { status: 200, body: this.limits };
    }
    return { status: 404, body: { status: 'error', message: `no stand-in control ${method} ${path}` } };
  }

  // ------------------------------------------------------------------------------------------------------

  private table(type: ObjectType): Map<string, StoredObject> {
    return this.objects.get(type)!;
  }

  private tick(): number {
    this.now += this.stepMs;
    return this.now;
  }

  /** Every write bumps the modified date (and `updatedAt`); `createdate` is the creation time. */
  private stamp(record: StoredObject, at: number, created: boolean): void {
    record.updatedAt = at;
    if (created) record.properties.createdate = iso(record.createdAt);
    record.properties.hs_object_id = record.id;
    record.properties[MODIFIED[record.type]] = iso(at);
    record.searchableFrom = Date.now() + this.indexingLagMs;
  }

  private linkSet(from: ObjectType, fromId: string, to: ObjectType, toId: string): Set<number> {
    const key = `${from}:${fromId}`;
    let targets = this.links.get(key);
    if (!targets) this.links.set(key, (targets = new Map()));
    let types = targets.get(`${to}:${toId}`);
    if (!types) targets.set(`${to}:${toId}`, (types = new Set()));
    return types;
  }

  private resolveId(type: ObjectType, id: string, idProperty: string | undefined): string | null {
    if (idProperty === 'email' && type === 'contacts') {
      const wanted = id.trim().toLowerCase();
      for (const record of this.table(type).values()) {
        if (record.properties.email?.toLowerCase() === wanted) return record.id;
      }
      return null;
    }
    return /^\d+$/.test(id) ? id : null;
  }

  private checkedProperties(
    type: ObjectType,
    properties: Record<string, unknown>,
  ): Record<string, string | null> {
    const checked: Record<string, string | null> = {};
    const invalid: string[] = [];
    for (const [name, value] of Object.entries(properties)) {
      if (!SCHEMA[type].includes(name) || READ_ONLY.has(name)) invalid.push(name);
      else checked[name] = value === null || value === '' ? null : propertyText(value);
    }
    if (invalid.length > 0) {
      throw new HubspotError(400, 'VALIDATION_ERROR', 'Property values were not valid', {
        errors: invalid.map((name) => ({
          message: `Property "${name}" does not exist`,
          code: 'PROPERTY_DOESNT_EXIST',
          context: { propertyName: [name] },
        })),
      });
    }
    return checked;
  }

  private createChecked(type: ObjectType, properties: Record<string, unknown>): StoredObject {
    const checked = this.checkedProperties(type, properties);
    if (type === 'contacts' && checked.email) {
      const existing = this.resolveId('contacts', checked.email, 'email');
      if (existing)
        throw new HubspotError(409, 'CONFLICT', `Contact already exists. Existing ID: ${existing}`);
    }
    return this.create(type, checked);
  }

  private correlationId(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.random() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }
}

interface Filter {
  propertyName: string;
  operator: string;
  value?: string;
  highValue?: string;
  values?: string[];
}

function errorAnswer(error: HubspotError): HttpAnswer {
  return {
    status: error.status,
    body: {
      status: 'error',
      message: error.message,
      correlationId: '00000000-0000-4000-a000-000000000000',
      category: error.category,
      ...error.extra,
    },
  };
}

/** The canonical route of a call, as faults and the request log name it (object ids become `{id}`). */
export function routeOf(method: string, path: string): string {
  const clean = path.replace(/\/{2,}/g, '/');
  const objects = /^\/crm\/(?:v3\/objects|objects\/v3|objects\/2026-03)\/([^/]+)(\/.*)?$/.exec(clean);
  if (objects) {
    const type = objectType(objects[1]!) ?? objects[1]!;
    const rest = (objects[2] ?? '').replace(/^\/\d+$/, '/{id}');
    return `${method} /crm/v3/objects/${type}${rest}`;
  }
  const read = /^\/crm\/v4\/associations\/([^/]+)\/([^/]+)\/batch\/read$/.exec(clean);
  if (read) {
    return `${method} /crm/v4/associations/${objectType(read[1]!) ?? read[1]}/${objectType(read[2]!) ?? read[2]}/batch/read`;
  }
  return `${method} ${clean.replace(/\/\d+(?=\/|$)/g, '/{id}')}`;
}

function objectType(name: string): ObjectType | null {
  const lower = name.toLowerCase();
  for (const type of OBJECT_TYPES) {
    if (lower === type || lower === SINGULAR[type] || lower === TYPE_IDS[type]) return type;
  }
  return null;
}

function requestedProperties(type: ObjectType, query: Record<string, string[]>): readonly string[] {
  const requested = (query.properties ?? [])
    .flatMap((value) => value.split(','))
    .filter((name) => name !== '');
  if (requested.length === 0) return DEFAULT_PROPERTIES[type];
  return [...new Set([...requested, 'hs_object_id', 'createdate', MODIFIED[type]])];
}

function propertiesOf(body: unknown): Record<string, unknown> {
  const properties = (body as { properties?: unknown } | null)?.properties;
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) {
    throw new HubspotError(400, 'VALIDATION_ERROR', 'properties is required.');
  }
  return properties as Record<string, unknown>;
}

function sortOf(sort: unknown): { property: string; descending: boolean } {
  if (typeof sort === 'string') {
    return sort.startsWith('-')
      ? { property: sort.slice(1), descending: true }
      : { property: sort, descending: false };
  }
  if (sort && typeof sort === 'object') {
    const rule = sort as { propertyName?: string; direction?: string };
    return { property: rule.propertyName ?? 'createdate', descending: rule.direction === 'DESCENDING' };
  }
  return { property: 'createdate', descending: false };
}

function numeric(property: string, value: string): number {
  if (DATETIME.has(property)) return /^\d+$/.test(value.trim()) ? Number(value) : Date.parse(value);
  return Number(value);
}

/** Datetimes and numbers by value; enumerations exactly; other strings case-insensitively. Null sorts last. */
function compareValues(property: string, a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (DATETIME.has(property) || NUMBER.has(property)) {
    const x = numeric(property, a);
    const y = numeric(property, b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  const x = ENUMERATION.has(property) ? a : a.toLowerCase();
  const y = ENUMERATION.has(property) ? b : b.toLowerCase();
  return x === y ? 0 : x < y ? -1 : 1;
}

function compareIn(property: string, held: string, wanted: string): boolean {
  if (DATETIME.has(property) || NUMBER.has(property))
    return numeric(property, held) === numeric(property, wanted);
  return held === wanted;
}

/** HubSpot stores every property value as a string ("50000", "true"). */
function propertyText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export async function startHubspotStandIn(options: StandInOptions = {}): Promise<HubspotStandIn> {
  return new HubspotStandIn(options).listen();
}

/** Client settings for tests: the stand-in's URL and token, short backoffs, no search pacing. */
export function testClientOptions(
  standIn: HubspotStandIn,
  overrides: Partial<HubspotClientOptions> = {},
): HubspotClientOptions {
  return {
    baseUrl: standIn.baseUrl,
    token: standIn.token,
    timeoutMs: 5_000,
    maxRetries: 5,
    backoff: { baseDelayMs: 5, tenSecondlyBaseDelayMs: 5, secondlyBaseDelayMs: 5, maxDelayMs: 40 },
    searchIntervalMs: 0,
    ...overrides,
  };
}
