/**
 * Identifier extraction from Dux-Soup `data` objects and loose LinkedIn URLs. Pure functions that never
 * throw: malformed input just yields fewer identifiers.
 */
import { cleanEmail } from './email';
import {
  classifySlug,
  cleanPathSegment,
  isSalesNavEntityId,
  memberProfileUrl,
  parseLinkedInUrl,
  salesLeadUrl,
  talentProfileUrl,
} from './linkedin-urls';
import type { LinkedInUrlTarget, SlugIdentity } from './linkedin-urls';

export { normaliseEmail } from './email';

export type IdentifierKind =
  | 'sales_nav_id'
  | 'member_id'
  | 'username'
  | 'profile_url'
  | 'public_url'
  | 'recruiter_url'
  | 'sales_url'
  | 'duxsoup_id'
  | 'email'
  // --- hubspot: a HubSpot contact id, the weakest identifier (an alias that links the contact) ---
  | 'hubspot_contact_id';

/** Waterfall priority, strongest first. */
export const IDENTIFIER_PRIORITY: readonly IdentifierKind[] = [
  'sales_nav_id',
  'member_id',
  'username',
  'profile_url',
  'public_url',
  'recruiter_url',
  'sales_url',
  'duxsoup_id',
  'email',
  'hubspot_contact_id',
];

/** Two people with different values of one of these kinds can never be the same human. */
export const HARD_KINDS: ReadonlySet<IdentifierKind> = new Set<IdentifierKind>(['sales_nav_id', 'member_id']);

export interface Identifier {
  kind: IdentifierKind;
  /** Normalised value used as the alias key (lower-cased where comparison is case-insensitive). */
  value: string;
  /** The value as first seen, original case (e.g. Sales Nav id `ACwAAA…`). */
  display: string;
  /** Which payload field it came from, e.g. 'SalesProfile', 'data.id'. */
  field: string;
}

type MemberUrlKind = 'profile_url' | 'public_url';

const DUXSOUP_ID_FIELD = 'data.id';
const EMAIL_FIELD = 'Email';
const PUBLIC_PROFILE_FIELD = 'PublicProfile';
/** Scan order decides which field an identifier is attributed to when several fields carry it. */
const URL_FIELDS: readonly string[] = [
  'Profile',
  PUBLIC_PROFILE_FIELD,
  'Profile URL',
  'SalesProfile',
  'RecruiterProfile',
];

const MAX_DUXSOUP_ID_LENGTH = 256;
const JUNK_DUXSOUP_IDS: ReadonlySet<string> = new Set(['null', 'undefined', 'none', 'n/a', 'nan', '-']);
const MEMBER_ID = /^(?:id\.)?(\d{1,64})$/i;
const MIN_MEMBER_ID_DIGITS = 7;
const MAX_MEMBER_ID_DIGITS = 15;
const LEGACY_PID = /^pid\.(.+)$/is;

const PRIORITY_RANK: ReadonlyMap<IdentifierKind, number> = new Map(
  IDENTIFIER_PRIORITY.map((kind, rank) => [kind, rank]),
);

/** All identifiers in a Dux-Soup `data` object, de-duplicated by (kind, value), sorted by IDENTIFIER_PRIORITY then value. */
export function extractIdentifiers(data: unknown): Identifier[] {
  if (!isRecord(data)) return [];
  return dedupeAndSort([
    ...identifiersFromDuxSoupId(readOwnValue(data, 'id')),
    ...URL_FIELDS.flatMap((field) =>
      identifiersFromUrl(readOwnValue(data, field), field, memberUrlKindOf(field)),
    ),
    ...identifiersFromEmail(readOwnValue(data, EMAIL_FIELD)),
  ]);
}

/** Identifiers from one LinkedIn URL of unknown role (used for leads / HubSpot LinkedIn URL properties); field name is passed through. */
export function identifiersFromLinkedInUrl(url: unknown, field: string): Identifier[] {
  return dedupeAndSort(identifiersFromUrl(url, field, 'profile_url'));
}

/** 'id.8315271696' | '8315271696' -> '8315271696'; null for fewer than 7 significant digits or all zeros. */
export function parseMemberId(value: unknown): string | null {
  const text = memberIdText(value);
  const digits = text === null ? undefined : MEMBER_ID.exec(text)?.[1];
  if (digits === undefined) return null;
  const significant = digits.replace(/^0+/, '');
  const isMemberLength =
    significant.length >= MIN_MEMBER_ID_DIGITS && significant.length <= MAX_MEMBER_ID_DIGITS;
  return isMemberLength ? significant : null;
}

/** Sales Navigator id in its original case, from a LinkedIn URL or a bare id (cut at the first comma or `?`). */
export function parseSalesNavId(url: unknown): string | null {
  const target = parseLinkedInUrl(url);
  if (target !== null) return salesNavIdOf(target);
  if (typeof url !== 'string') return null;
  const bareId = cleanPathSegment(url.split('?', 1)[0] ?? '');
  const identity = bareId === null ? null : classifySlug(bareId);
  return identity?.kind === 'sales_nav_id' ? identity.id : null;
}

/** Lower-cased username from an `/in/` or `/pub/` URL, or from a legacy Dux-Soup `pid.<slug>` id. */
export function parseUsername(url: unknown): string | null {
  const target = parseLinkedInUrl(url);
  const identity = target?.shape === 'member' ? classifySlug(target.slug) : legacyPidIdentity(url);
  return identity?.kind === 'username' ? identity.username.toLowerCase() : null;
}

function identifiersFromDuxSoupId(raw: unknown): Identifier[] {
  const duxSoupId = duxSoupIdText(raw);
  if (duxSoupId === null) return [];
  const identifiers = [makeIdentifier('duxsoup_id', duxSoupId, DUXSOUP_ID_FIELD)];
  const memberId = parseMemberId(duxSoupId);
  if (memberId !== null) identifiers.push(makeIdentifier('member_id', memberId, DUXSOUP_ID_FIELD));
  const pidIdentity = legacyPidIdentity(duxSoupId);
  if (pidIdentity !== null) identifiers.push(identifierFromSlug(pidIdentity, DUXSOUP_ID_FIELD));
  return identifiers;
}

function identifiersFromUrl(raw: unknown, field: string, memberUrlKind: MemberUrlKind): Identifier[] {
  const target = parseLinkedInUrl(raw);
  if (target === null) return [];
  switch (target.shape) {
    case 'member':
      return identifiersFromMemberUrl(target, field, memberUrlKind);
    case 'sales':
      return identifiersFromEntityUrl(target.entityId, 'sales_url', salesLeadUrl(target.entityId), field);
    case 'recruiter':
      return identifiersFromEntityUrl(
        target.entityId,
        'recruiter_url',
        talentProfileUrl(target.entityId),
        field,
      );
  }
}

function identifiersFromMemberUrl(
  target: Extract<LinkedInUrlTarget, { shape: 'member' }>,
  field: string,
  urlKind: MemberUrlKind,
): Identifier[] {
  const identity = classifySlug(target.slug);
  if (identity === null) return [];
  const normalisedUrl = memberProfileUrl(target.section, target.slug);
  return [identifierFromSlug(identity, field), makeIdentifier(urlKind, normalisedUrl, field)];
}

function identifiersFromEntityUrl(
  entityId: string,
  urlKind: 'sales_url' | 'recruiter_url',
  normalisedUrl: string,
  field: string,
): Identifier[] {
  const urlIdentifier = makeIdentifier(urlKind, normalisedUrl, field);
  if (!isSalesNavEntityId(entityId)) return [urlIdentifier];
  return [makeIdentifier('sales_nav_id', entityId, field), urlIdentifier];
}

function identifiersFromEmail(raw: unknown): Identifier[] {
  const email = cleanEmail(raw);
  return email === null ? [] : [makeIdentifier('email', email, EMAIL_FIELD)];
}

function identifierFromSlug(identity: SlugIdentity, field: string): Identifier {
  return identity.kind === 'sales_nav_id'
    ? makeIdentifier('sales_nav_id', identity.id, field)
    : makeIdentifier('username', identity.username, field);
}

function salesNavIdOf(target: LinkedInUrlTarget): string | null {
  if (target.shape !== 'member') return isSalesNavEntityId(target.entityId) ? target.entityId : null;
  const identity = classifySlug(target.slug);
  return identity?.kind === 'sales_nav_id' ? identity.id : null;
}

function legacyPidIdentity(value: unknown): SlugIdentity | null {
  if (typeof value !== 'string' || value.length > MAX_DUXSOUP_ID_LENGTH) return null;
  const rawSlug = LEGACY_PID.exec(value.trim())?.[1];
  const slug = rawSlug === undefined ? null : cleanPathSegment(rawSlug);
  return slug === null ? null : classifySlug(slug);
}

function duxSoupIdText(raw: unknown): string | null {
  const text = typeof raw === 'number' ? safeIntegerText(raw) : typeof raw === 'string' ? raw.trim() : null;
  if (text === null || text === '' || text.length > MAX_DUXSOUP_ID_LENGTH) return null;
  return JUNK_DUXSOUP_IDS.has(text.toLowerCase()) ? null : text;
}

function memberIdText(value: unknown): string | null {
  if (typeof value === 'number') return safeIntegerText(value);
  return typeof value === 'string' ? value.trim() : null;
}

function safeIntegerText(value: number): string | null {
  return Number.isSafeInteger(value) && value > 0 ? String(value) : null;
}

function memberUrlKindOf(field: string): MemberUrlKind {
  return field === PUBLIC_PROFILE_FIELD ? 'public_url' : 'profile_url';
}

function makeIdentifier(kind: IdentifierKind, display: string, field: string): Identifier {
  return { kind, value: display.toLowerCase(), display, field };
}

function dedupeAndSort(identifiers: readonly Identifier[]): Identifier[] {
  const firstSeen = new Map<string, Identifier>();
  for (const identifier of identifiers) {
    const key = `${identifier.kind}\u0000${identifier.value}`;
    if (!firstSeen.has(key)) firstSeen.set(key, identifier);
  }
  return [...firstSeen.values()].sort(compareIdentifiers);
}

function compareIdentifiers(a: Identifier, b: Identifier): number {
  const byPriority = (PRIORITY_RANK.get(a.kind) ?? 0) - (PRIORITY_RANK.get(b.kind) ?? 0);
  if (byPriority !== 0) return byPriority;
  if (a.value === b.value) return 0;
  return a.value < b.value ? -1 : 1;
}

function isRecord(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own data properties only: inherited values (`__proto__` tricks) and getters are never read. */
function readOwnValue(record: object, key: string): unknown {
  try {
    return Object.getOwnPropertyDescriptor(record, key)?.value;
  } catch {
    return undefined; // a hostile Proxy trap
  }
}
