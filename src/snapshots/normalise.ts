import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js';
import type { CountryCode } from 'libphonenumber-js';
import { normaliseEmail as normaliseIdentityEmail } from '../identity/email';

export type UnknownRecord = Record<string, unknown>;

/** Longest single-line value kept (names, titles, companies, tags). LinkedIn's own limits are far lower. */
export const MAX_LINE_LENGTH = 1_000;
/** Longest multi-line value kept (summary, descriptions, notes). LinkedIn's About limit is 2,600. */
export const MAX_TEXT_LENGTH = 10_000;

// ---------------------------------------------------------------------------------------------------------
// Reading untrusted payloads
// ---------------------------------------------------------------------------------------------------------

export function asRecord(value: unknown): UnknownRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as UnknownRecord)
    : undefined;
}

/** Own properties only: a polluted `Object.prototype` must never supply a field value. */
export function readOwn(record: UnknownRecord | undefined, key: string): unknown {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

/** The first of `keys` holding something other than null, undefined or a blank string. */
export function readFirstPresent(record: UnknownRecord | undefined, keys: readonly string[]): unknown {
  for (const key of keys) {
    const value = readOwn(record, key);
    if (value === undefined || value === null) continue;
    if (typeof value === 'string' && value.trim() === '') continue;
    return value;
  }
  return undefined;
}

/** An array's first `limit` items, or [] for anything that is not an array. */
export function boundedArray(value: unknown, limit: number): unknown[] {
  return Array.isArray(value) ? (value.slice(0, limit) as unknown[]) : [];
}

// ---------------------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------------------

export interface CleanOptions {
  /** Keep line breaks (summary, descriptions, notes); otherwise every whitespace run becomes one space. */
  multiline?: boolean;
  maxLength?: number;
}

/**
 * Trimmed, whitespace-collapsed text, or undefined when the value is not a string/number or is blank.
 * Control characters go (PostgreSQL rejects NUL in text and jsonb) and lone surrogates become U+FFFD
 * (jsonb rejects them), so the result is always storable.
 */
export function cleanString(value: unknown, options: CleanOptions = {}): string | undefined {
  const text = scalarToString(value);
  if (text === undefined) return undefined;
  const maxLength = options.maxLength ?? (options.multiline ? MAX_TEXT_LENGTH : MAX_LINE_LENGTH);
  if (text.length <= maxLength && (options.multiline ? isAlreadyTidy(text) : isAlreadyClean(text)))
    return text;
  // Bound the work before any regex runs; collapsing whitespace can only shorten the text.
  const bounded = replaceLoneSurrogates(truncateCodePoints(text, maxLength * 4));
  const tidied = options.multiline ? tidyMultiline(bounded) : collapseWhitespace(bounded);
  const result = truncateCodePoints(tidied, maxLength).trim();
  return result === '' ? undefined : result;
}

export function cleanText(value: unknown): string | undefined {
  return cleanString(value, { multiline: true });
}

/** Most values need no work: one pass to prove it is cheaper than the five passes of a full clean. */
// eslint-disable-next-line no-control-regex -- control characters are among the things to detect
const NEEDS_CLEANING = /^$|^ | $| {2}|[^\S ]|[\u0000-\u001F\u007F-\u009F\u200B\uFEFF\uD800-\uDFFF]/;

function isAlreadyClean(text: string): boolean {
  return !NEEDS_CLEANING.test(text);
}

/** The multi-line counterpart: text that tidyMultiline, the surrogate repair and trim() would all leave as it is. */
const NEEDS_TIDYING =
  // eslint-disable-next-line no-control-regex -- control characters are among the things to detect
  /^$|^\s|\s$|[^\S\n ]| {2}| \n|\n |\n{3}|[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u200B\uFEFF\uD800-\uDFFF]/;

function isAlreadyTidy(text: string): boolean {
  return !NEEDS_TIDYING.test(text);
}

function scalarToString(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'bigint') return value.toString();
  return undefined;
}

const INVISIBLE_CHARACTERS = /[\u200B\uFEFF]/g;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001F\u007F-\u009F]/g;
// eslint-disable-next-line no-control-regex -- as above, minus \t and \n which multi-line text keeps
const CONTROL_CHARACTERS_EXCEPT_TAB_AND_NEWLINE = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;

function collapseWhitespace(text: string): string {
  return text.replace(INVISIBLE_CHARACTERS, '').replace(CONTROL_CHARACTERS, ' ').replace(/\s+/g, ' ').trim();
}

function tidyMultiline(text: string): string {
  return text
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(INVISIBLE_CHARACTERS, '')
    .replace(CONTROL_CHARACTERS_EXCEPT_TAB_AND_NEWLINE, ' ')
    .replace(/[^\S\n]+/g, ' ')
    .replace(/ ?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

function replaceLoneSurrogates(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** Cuts to at most `maxLength` UTF-16 units without splitting a surrogate pair. */
function truncateCodePoints(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const cut = text.slice(0, maxLength);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

// eslint-disable-next-line no-control-regex -- the whole ASCII range, control characters included
const ASCII = /^[\u0000-\u007F]*$/;

const FOLDED_LETTERS: ReadonlyMap<string, string> = new Map([
  ['ł', 'l'],
  ['ø', 'o'],
  ['đ', 'd'],
  ['ß', 'ss'],
  ['æ', 'ae'],
  ['œ', 'oe'],
  ['ı', 'i'],
  ['þ', 'th'],
]);

/**
 * Lower-case, accent-free comparison form: "São Paulo" and "Sao Paulo" fold alike. Only the Latin
 * combining-mark block is removed and the text is recomposed, so Hangul and kana (whose NFD forms also
 * use combining marks) keep their meaning.
 */
export function foldForKey(text: string): string {
  const lower = text.toLowerCase();
  // ASCII has no marks to strip nor letters to fold: the same result without two Unicode normalisations.
  const folded = ASCII.test(lower)
    ? lower
    : lower
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .normalize('NFC')
        .replace(/[łøđßæœıþ]/g, (letter) => FOLDED_LETTERS.get(letter) ?? letter);
  return folded.replace(/\s+/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------------------
// Dux-Soup scalar fields
// ---------------------------------------------------------------------------------------------------------

/** "1" | "1st" | 1 → 1, "2nd" → 2, "3rd" | "3" | "3rd+" → 3; anything else → undefined. */
export function parseDegree(value: unknown): number | undefined {
  if (typeof value === 'number') return value === 1 || value === 2 || value === 3 ? value : undefined;
  const text = cleanString(value, { maxLength: 40 });
  const match = text?.match(/^([123])\s*(?:st|nd|rd)?\s*\+?(?:\s*degree)?$/i);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

export interface Connections {
  count: number;
  /** LinkedIn shows "500+" instead of the real count: the true value is at least `count`. */
  capped: boolean;
}

/** "500+" → {500, capped}, "22395" | "22,395" | 22395 → {22395}, "" or junk → undefined. */
export function parseConnections(value: unknown): Connections | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? { count: value, capped: false } : undefined;
  }
  const text = cleanString(value, { maxLength: 40 });
  const match = text?.match(/^(\d{1,3}(?:[,.\s]\d{3})+|\d{1,12})\s*(\+?)$/);
  if (match?.[1] === undefined) return undefined;
  const count = Number(match[1].replace(/[,.\s]/g, ''));
  return Number.isSafeInteger(count) ? { count, capped: match[2] === '+' } : undefined;
}

/** E.164 ("+13105550158"), or undefined when the value cannot be a phone number. */
export function normalisePhone(value: unknown, defaultCountry = 'US'): string | undefined {
  const text = cleanString(value, { maxLength: 64 });
  if (text === undefined || !/\d/.test(text)) return undefined;
  const country = phoneCountry(defaultCountry);
  // "0044 20 …" is the international dialling prefix most of the world uses instead of "+".
  return possibleE164(text, country) ?? possibleE164(text.replace(/^00(?=\d)/, '+'), country);
}

function phoneCountry(candidate: string): CountryCode {
  const upper = candidate.toUpperCase();
  return isSupportedCountry(upper) ? upper : 'US';
}

function possibleE164(text: string, country: CountryCode): string | undefined {
  try {
    const phone = parsePhoneNumberFromString(text, country);
    return phone?.isPossible() ? phone.number : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Lower-cased address, or undefined for junk ("n/a", no "@", placeholders such as test@example.com).
 * Validation is identity matching's, so a snapshot e-mail is always one the resolver would accept too;
 * of a list ("a@x.com, b@y.com") the first usable address wins.
 */
export function normaliseEmail(value: unknown): string | undefined {
  const text = cleanString(value, { maxLength: 512 });
  for (const candidate of text?.split(/[\s,;]+/) ?? []) {
    const address = normaliseIdentityEmail(candidate.replace(/^<|>$/g, ''));
    if (address !== null) return address;
  }
  return undefined;
}

const TWITTER_HOSTS = new Set(['twitter.com', 'x.com', 'mobile.twitter.com', 'mobile.x.com']);
const TWITTER_RESERVED_PATHS = new Set([
  'i',
  'intent',
  'share',
  'home',
  'search',
  'hashtag',
  'explore',
  'settings',
]);

/** Bare lower-case handle from "@Handle", "handle" or a twitter.com / x.com URL; invalid → undefined. */
export function normaliseTwitter(value: unknown): string | undefined {
  const text = cleanString(value, { maxLength: 512 });
  if (text === undefined) return undefined;
  const candidate = looksLikeTwitterUrl(text) ? handleFromTwitterUrl(text) : text.replace(/^@/, '');
  return candidate !== undefined && /^\w{1,15}$/.test(candidate) ? candidate.toLowerCase() : undefined;
}

function looksLikeTwitterUrl(text: string): boolean {
  return /^(?:https?:\/\/)?(?:www\.|mobile\.)?(?:twitter|x)\.com\//i.test(text);
}

function handleFromTwitterUrl(text: string): string | undefined {
  const url = parseHttpUrl(/^https?:\/\//i.test(text) ? text : `https://${text}`);
  if (url === undefined || !TWITTER_HOSTS.has(url.hostname.replace(/^www\./, ''))) return undefined;
  const first = url.pathname.split('/').find((segment) => segment !== '');
  if (first === undefined || TWITTER_RESERVED_PATHS.has(first.toLowerCase())) return undefined;
  return first.replace(/^@/, '');
}

function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** An http(s) URL kept exactly as given (signed picture URLs must not be rewritten), else undefined. */
export function normaliseHttpUrl(value: unknown): string | undefined {
  const text = cleanString(value, { maxLength: 4_096 });
  return text !== undefined && /^https?:\/\//i.test(text) && parseHttpUrl(text) !== undefined
    ? text
    : undefined;
}

/**
 * Canonical https URL: scheme added when missing, http upgraded, `utm_*` parameters dropped, host
 * lower-cased. Non-web schemes, credentials in the URL and hosts without a dot → undefined.
 */
export function normaliseWebsite(value: unknown): string | undefined {
  const text = cleanString(value, { maxLength: 2_048 });
  if (text === undefined || /\s/.test(text)) return undefined;
  const withScheme = withWebScheme(text);
  const url = parseHttpUrl(withScheme);
  if (url === undefined || url.username !== '' || url.password !== '' || !isPlausibleHost(withScheme)) {
    return undefined;
  }
  url.protocol = 'https:';
  dropTrackingParameters(url);
  return url.href;
}

function withWebScheme(text: string): string {
  if (/^https?:\/\//i.test(text)) return text;
  if (text.startsWith('//')) return `https:${text}`;
  // "mailto:", "javascript:", "ftp:" … are not websites; "example.com:8080" is.
  if (/^[a-z][a-z0-9+.-]*:(?!\d)/i.test(text)) return '';
  return `https://${text}`;
}

/** Checked on the host as written: URL parsing turns "123" into the IPv4 host "0.0.0.123". */
function isPlausibleHost(urlText: string): boolean {
  const host = /^https?:\/\/([^/?#:]*)/i.exec(urlText)?.[1] ?? '';
  return host.includes('.') && !host.startsWith('.') && !host.endsWith('.');
}

function dropTrackingParameters(url: URL): void {
  const tracking = [...url.searchParams.keys()].filter((key) => /^utm_/i.test(key));
  if (tracking.length === 0) return;
  for (const key of tracking) url.searchParams.delete(key);
  if ([...url.searchParams.keys()].length === 0) url.search = '';
}

// ---------------------------------------------------------------------------------------------------------
// Dates
// ---------------------------------------------------------------------------------------------------------

export interface MonthYear {
  year: number;
  /** 1-12, or null when only the year is known. */
  month: number | null;
}

/** A date, `'present'` for an explicit "still ongoing" marker, or null for empty / unreadable input. */
export type ParsedMonthYear = MonthYear | 'present' | null;

const MIN_YEAR = 1900;
const MAX_YEAR = 2100;

const MONTHS: ReadonlyMap<string, number> = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((name, index) => [
    name,
    index + 1,
  ]),
);

const PRESENT_MARKERS = new Set([
  'present',
  'current',
  'now',
  'today',
  'ongoing',
  'heute',
  'actualidad',
  'presente',
  'atual',
  'aujourd’hui',
  "aujourd'hui",
]);

/**
 * Dux-Soup position dates: "9 - 2022", "2014", "" — plus "Sep 2022", "September 2022", "09/2022",
 * "2022-09", ISO dates, a bare year number, the legacy `{month, year}` object and "Present".
 */
export function parseMonthYear(value: unknown): ParsedMonthYear {
  if (typeof value === 'number') return yearOnly(value);
  const record = asRecord(value);
  if (record !== undefined) return fromYearMonthObject(record);
  const text = cleanString(value, { maxLength: 40 })?.toLowerCase();
  if (text === undefined) return null;
  if (PRESENT_MARKERS.has(text)) return 'present';
  return parseDateText(text);
}

function parseDateText(text: string): MonthYear | null {
  const monthFirst = text.match(/^(\d{1,2})\s*[-/.]\s*(\d{4})$/);
  if (monthFirst) return monthYear(monthFirst[2], monthFirst[1]);
  const yearFirst = text.match(/^(\d{4})\s*[-/.]\s*(\d{1,2})(?:[-/.]\d{1,2}(?:t.*)?)?$/);
  if (yearFirst) return monthYear(yearFirst[1], yearFirst[2]);
  const named = text.match(/^(\p{L}{3,})\.?,?\s+(\d{4})$/u);
  if (named?.[1] !== undefined) return monthYear(named[2], monthNumberFromName(named[1]));
  const year = text.match(/^(\d{4})$/);
  return year ? monthYear(year[1], undefined) : null;
}

function monthNumberFromName(name: string): number | undefined {
  return MONTHS.get(name.slice(0, 3));
}

function monthYear(yearText: string | undefined, monthText: string | number | undefined): MonthYear | null {
  const year = Number(yearText);
  if (!Number.isInteger(year) || year < MIN_YEAR || year > MAX_YEAR) return null;
  const month = Number(monthText);
  return { year, month: Number.isInteger(month) && month >= 1 && month <= 12 ? month : null };
}

function yearOnly(value: number): MonthYear | null {
  return monthYear(String(value), undefined);
}

function fromYearMonthObject(record: UnknownRecord): MonthYear | null {
  const year = readOwn(record, 'year');
  const month = readOwn(record, 'month');
  const yearText = typeof year === 'number' || typeof year === 'string' ? String(year).trim() : undefined;
  const monthText = typeof month === 'number' || typeof month === 'string' ? String(month).trim() : undefined;
  return yearText === undefined || !/^\d{4}$/.test(yearText) ? null : monthYear(yearText, monthText);
}
