/**
 * Parsing of LinkedIn profile URLs and slugs. Pure functions that never throw: anything that is not a
 * recognisable LinkedIn person URL yields null.
 */

/** Longer strings are not URLs we want to parse; real profile URLs (with `?lipi=`) are a few hundred characters. */
const MAX_URL_LENGTH = 4096;
const LINKEDIN_DOMAIN = 'linkedin.com';
const CANONICAL_ORIGIN = 'https://www.linkedin.com';

const SALES_NAV_PREFIX = /^ac[wo]aa/i;
/**
 * In a slug position (`/in/<slug>`, `pid.<slug>`) at least 10 characters must follow the prefix, because short
 * vanity names such as `ACoAAlex` produced false Sales Navigator ids in the old system.
 */
const SLUG_SALES_NAV_ID = /^ac[wo]aa[a-z0-9_-]{10,95}$/i;
/** In an id position (`/sales/lead/<id>`) the path already says it is an id, so only the token shape is checked. */
const ENTITY_ID = /^[a-z0-9_-]{10,100}$/i;

/** LinkedIn custom URLs are 3 to 100 characters; shorter ones in old data were truncation artefacts (`j`, `fl`). */
const MIN_SLUG_CHARS = 3;
const MAX_SLUG_CHARS = 100;
const FORBIDDEN_SLUG_CHARS = /[\s\p{Cc}/?#%,@:;"'<>\\]/u;
const JUNK_SLUGS: ReadonlySet<string> = new Set(['null', 'undefined', 'nan', 'none']);

export type MemberSection = 'in' | 'pub';

export type LinkedInUrlTarget =
  | { shape: 'member'; section: MemberSection; slug: string }
  | { shape: 'sales'; entityId: string }
  | { shape: 'recruiter'; entityId: string };

export type SlugIdentity = { kind: 'sales_nav_id'; id: string } | { kind: 'username'; username: string };

/** What a LinkedIn URL points at, with the slug or id percent-decoded and in its original case. */
export function parseLinkedInUrl(raw: unknown): LinkedInUrlTarget | null {
  const url = toLinkedInUrl(raw);
  return url === null ? null : targetFromPath(url.pathname.split('/').filter(Boolean));
}

/** A slug is either a Sales Navigator id in disguise (`/in/ACwAA…`), a username, or nothing usable. */
export function classifySlug(slug: string): SlugIdentity | null {
  if (SLUG_SALES_NAV_ID.test(slug)) return { kind: 'sales_nav_id', id: slug };
  if (SALES_NAV_PREFIX.test(slug) || !isPlausibleUsername(slug)) return null;
  return { kind: 'username', username: slug };
}

export function isSalesNavEntityId(entityId: string): boolean {
  return SALES_NAV_PREFIX.test(entityId);
}

/** Cuts Dux-Soup's search-context suffix (`,NAME_SEARCH,x1_Y`), then percent-decodes; null when malformed. */
export function cleanPathSegment(segment: string): string | null {
  const commaIndex = segment.indexOf(',');
  const beforeComma = commaIndex === -1 ? segment : segment.slice(0, commaIndex);
  const decoded = safeDecodeURIComponent(beforeComma);
  const cleaned = decoded?.normalize('NFC').trim() ?? '';
  return cleaned === '' ? null : cleaned;
}

export function memberProfileUrl(section: MemberSection, slug: string): string {
  return `${CANONICAL_ORIGIN}/${section}/${slug}`;
}

export function salesLeadUrl(entityId: string): string {
  return `${CANONICAL_ORIGIN}/sales/lead/${entityId}`;
}

export function talentProfileUrl(entityId: string): string {
  return `${CANONICAL_ORIGIN}/talent/profile/${entityId}`;
}

function toLinkedInUrl(raw: unknown): URL | null {
  if (typeof raw !== 'string') return null;
  const trimmed = raw.trim();
  if (trimmed === '' || trimmed.length > MAX_URL_LENGTH) return null;
  const absolute = withDefaultScheme(trimmed);
  const url = absolute === null ? null : tryParseUrl(absolute);
  if (url === null || !isPlainHttpUrl(url)) return null;
  return isLinkedInHost(url.hostname) ? url : null;
}

function withDefaultScheme(value: string): string | null {
  if (/^https?:/i.test(value)) return value;
  if (value.startsWith('//')) return `https:${value}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return null;
  return `https://${value}`;
}

function tryParseUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function isPlainHttpUrl(url: URL): boolean {
  const isHttp = url.protocol === 'https:' || url.protocol === 'http:';
  return isHttp && url.username === '' && url.password === '';
}

function isLinkedInHost(hostname: string): boolean {
  const host = hostname.replace(/\.$/, '');
  return host === LINKEDIN_DOMAIN || host.endsWith(`.${LINKEDIN_DOMAIN}`);
}

function targetFromPath(segments: readonly string[]): LinkedInUrlTarget | null {
  const [first = '', second = '', third = ''] = segments;
  const section = first.toLowerCase();
  const subsection = second.toLowerCase();
  if (section === 'in' || section === 'pub') return memberTarget(section, second);
  if (section === 'sales' && (subsection === 'lead' || subsection === 'people')) {
    return entityTarget('sales', third);
  }
  if ((section === 'talent' || section === 'recruiter') && subsection === 'profile') {
    return entityTarget('recruiter', third);
  }
  return null;
}

function memberTarget(section: MemberSection, rawSlug: string): LinkedInUrlTarget | null {
  const slug = cleanPathSegment(rawSlug);
  return slug === null ? null : { shape: 'member', section, slug };
}

function entityTarget(shape: 'sales' | 'recruiter', rawId: string): LinkedInUrlTarget | null {
  const entityId = cleanPathSegment(rawId);
  return entityId !== null && ENTITY_ID.test(entityId) ? { shape, entityId } : null;
}

function isPlausibleUsername(slug: string): boolean {
  const length = [...slug].length;
  if (length < MIN_SLUG_CHARS || length > MAX_SLUG_CHARS) return false;
  return !FORBIDDEN_SLUG_CHARS.test(slug) && !JUNK_SLUGS.has(slug.toLowerCase());
}

function safeDecodeURIComponent(value: string): string | null {
  try {
    return decodeURIComponent(value);
  } catch {
    return null;
  }
}
