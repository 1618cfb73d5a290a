import { normaliseCompanyProfileUrl, parseCompanyId, parseLinkedInCompanyUrl } from './company-ref';
import { CREDENTIAL_TOKENS } from './data/credentials';
import { parseLocation } from './location';
import type { ParsedLocation } from './location';
import {
  asRecord,
  boundedArray,
  cleanString,
  cleanText,
  foldForKey,
  normaliseEmail,
  normaliseHttpUrl,
  normalisePhone,
  normaliseTwitter,
  normaliseWebsite,
  parseConnections,
  parseDegree,
  parseMonthYear,
  readFirstPresent,
  readOwn,
} from './normalise';
import type { MonthYear, ParsedMonthYear, UnknownRecord } from './normalise';

export type { ParsedLocation } from './location';

export interface Role {
  title: string | null;
  companyName: string | null;
  location: string | null;
  description: string | null;
  startYear: number | null;
  startMonth: number | null;
  endYear: number | null;
  endMonth: number | null;
  isCurrent: boolean;
}

export interface Education {
  school: string | null;
  degree: string | null;
  field: string | null;
  startYear: number | null;
  endYear: number | null;
}

/** Every field optional; a field is OMITTED (not null, not "") when the observation carries no non-empty value for it. */
export interface PersonFields {
  firstName?: string;
  middleName?: string;
  lastName?: string;
  fullName?: string;
  currentTitle?: string;
  currentCompany?: string;
  currentCompanyId?: string;
  companyProfileUrl?: string;
  location?: ParsedLocation;
  industry?: string;
  connections?: number;
  connectionsCapped?: boolean; // "500+" -> 500, true
  degree?: number; // "1" | "1st" -> 1, "2nd" -> 2, "3rd"/"3" -> 3
  summary?: string;
  email?: string;
  phone?: string /* E.164 */;
  twitter?: string;
  websites?: string[];
  picture?: string;
  thumbnail?: string;
  tags?: string[];
  notes?: string[];
  roles?: Role[];
  education?: Education[];
  skills?: string[];
  currentRoleStartYear?: number;
}

export interface ExtractOptions {
  /** ISO 3166 alpha-2 country for phone numbers written without "+"; 'US' when absent or unknown. */
  defaultPhoneCountry?: string;
}

export const MAX_ROLES = 50;
export const MAX_EDUCATION = 20;
export const MAX_SKILLS = 100;
export const MAX_TAGS = 100;
export const MAX_NOTES = 100;
/** How many array items are looked at at all, so a hostile payload cannot make extraction slow. */
const MAX_ITEMS_SCANNED = 1_000;

/**
 * The person fields one Dux-Soup observation (`payload.data` of a visit or scan) carries, normalised.
 * Pure; never throws: each group of fields is extracted on its own, so one malformed value loses only
 * its own group.
 */
export function extractPersonFields(data: unknown, opts: ExtractOptions = {}): PersonFields {
  const record = asRecord(data);
  if (record === undefined) return {};
  const roles = orFallback(() => extractRoles(record), []);
  const groups: (() => PersonFields)[] = [
    () => nameFields(record),
    () => employmentFields(record, roles),
    () => profileFields(record),
    () => contactFields(record, opts.defaultPhoneCountry),
    () => listFields(record),
    () => historyFields(record, roles),
  ];
  const fields: PersonFields = {};
  for (const group of groups) assignDefined(fields, orFallback(group, {}));
  return fields;
}

function orFallback<T>(extract: () => T, fallback: T): T {
  try {
    return extract();
  } catch {
    return fallback;
  }
}

function assignDefined(target: PersonFields, source: PersonFields): void {
  const into = target as Record<string, unknown>;
  const from = source as Record<string, unknown>;
  for (const key of Object.keys(from)) if (from[key] !== undefined) into[key] = from[key];
}

function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length === 0 ? undefined : items;
}

// ---------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------

function nameFields(record: UnknownRecord): PersonFields {
  const firstName = cleanName(readOwn(record, 'First Name'));
  const { middle, last } = withoutCredentials(
    nameTokens(readOwn(record, 'Middle Name')),
    nameTokens(readOwn(record, 'Last Name')),
  );
  const middleName = cleanName(middle.join(' '));
  const lastName = cleanName(last.join(' '));
  const fullName = [firstName, middleName, lastName].filter((part) => part !== undefined).join(' ');
  return { firstName, middleName, lastName, fullName: fullName === '' ? undefined : fullName };
}

function cleanName(value: unknown): string | undefined {
  const text = cleanString(value)?.replace(/^[\s,;]+|[\s,;]+$/g, '');
  return text === '' ? undefined : text;
}

function nameTokens(value: unknown): string[] {
  return cleanName(value)?.split(' ') ?? [];
}

/**
 * Dux-Soup splits the display name on spaces, so "Marco Ferreira CISM CISSP ITIL LSS" arrives as Middle
 * "Ferreira Cism Cissp Itil", Last "Lss". Trailing credentials are dropped from middle + last; if that
 * empties the last name, the last remaining middle token becomes it. Names without credentials are
 * returned untouched.
 */
function withoutCredentials(middle: string[], last: string[]): { middle: string[]; last: string[] } {
  const all = [...middle, ...last];
  let kept = all.length;
  while (kept > 0 && isCredential(all[kept - 1] ?? '')) kept -= 1;
  if (kept === all.length) return { middle, last };
  if (kept > middle.length) return { middle, last: all.slice(middle.length, kept) };
  return { middle: all.slice(0, Math.max(kept - 1, 0)), last: all.slice(Math.max(kept - 1, 0), kept) };
}

function isCredential(token: string): boolean {
  const parts = token.split(/[,/]/).filter((part) => part !== '');
  return (
    parts.length > 0 &&
    parts.every((part) => CREDENTIAL_TOKENS.has(part.replace(/[.;()®™]/g, '').toUpperCase()))
  );
}

// ---------------------------------------------------------------------------------------------------------
// Current employment
// ---------------------------------------------------------------------------------------------------------

function employmentFields(record: UnknownRecord, roles: readonly Role[]): PersonFields {
  const title = cleanString(readOwn(record, 'Title'));
  const company = cleanString(readOwn(record, 'Company'));
  const primary = primaryRole(roles, title, company);
  const profile = readOwn(record, 'CompanyProfile');
  const fromYear = parseMonthYear(readOwn(record, 'From'));
  return {
    currentTitle: title ?? primary?.title ?? undefined,
    currentCompany: company ?? primary?.companyName ?? undefined,
    currentCompanyId: parseCompanyId(readOwn(record, 'CompanyID')) ?? parseLinkedInCompanyUrl(profile)?.id,
    companyProfileUrl: normaliseCompanyProfileUrl(profile),
    industry: cleanString(readOwn(record, 'Industry')),
    currentRoleStartYear: (isDate(fromYear) ? fromYear.year : undefined) ?? primary?.startYear ?? undefined,
  };
}

/**
 * The current role the top-level Title/Company describe. With neither given it is the first current
 * role; otherwise the first current role agreeing with what is given, and none when no role agrees
 * (filling a gap from a different job would invent a pairing).
 */
function primaryRole(
  roles: readonly Role[],
  title: string | undefined,
  company: string | undefined,
): Role | undefined {
  const current = roles.filter((role) => role.isCurrent);
  if (title === undefined && company === undefined) return current[0];
  return current.find((role) => sameText(role.title, title) || sameText(role.companyName, company));
}

function sameText(a: string | null, b: string | undefined): boolean {
  return a !== null && b !== undefined && foldForKey(a) === foldForKey(b);
}

// ---------------------------------------------------------------------------------------------------------
// Profile, contact, lists
// ---------------------------------------------------------------------------------------------------------

function profileFields(record: UnknownRecord): PersonFields {
  const connections = parseConnections(readOwn(record, 'Connections'));
  return {
    connections: connections?.count,
    connectionsCapped: connections?.capped,
    degree: parseDegree(readFirstPresent(record, ['Degree', 'Connection Degree'])),
    summary: cleanText(readOwn(record, 'Summary')),
    picture: normaliseHttpUrl(readOwn(record, 'Picture')),
    thumbnail: normaliseHttpUrl(readOwn(record, 'Thumbnail')),
    location: parseLocation(readOwn(record, 'Location')) ?? undefined,
  };
}

function contactFields(record: UnknownRecord, defaultPhoneCountry: string | undefined): PersonFields {
  return {
    email: normaliseEmail(readOwn(record, 'Email')),
    phone: normalisePhone(readOwn(record, 'Phone'), defaultPhoneCountry),
    twitter: normaliseTwitter(readOwn(record, 'Twitter')),
    websites: nonEmpty(websites(record)),
  };
}

/** PersonalWebsite first (it may list several), then CompanyWebsite; canonical and de-duplicated. */
function websites(record: UnknownRecord): string[] {
  const personal = cleanString(readOwn(record, 'PersonalWebsite'))?.split(/[\s;]+|,\s+/) ?? [];
  const candidates = [...personal.slice(0, 20), readOwn(record, 'CompanyWebsite')];
  return unique(
    candidates.map(normaliseWebsite).filter((url) => url !== undefined),
    (url) => url,
  );
}

function listFields(record: UnknownRecord): PersonFields {
  return {
    tags: nonEmpty(stringList(readOwn(record, 'My Tags'), { splitCommas: true, limit: MAX_TAGS })),
    notes: nonEmpty(stringList(readOwn(record, 'My Notes'), { multiline: true, limit: MAX_NOTES })),
  };
}

interface StringListOptions {
  limit: number;
  /** A single string holds a comma-separated list (Dux-Soup's CSV export writes tags that way). */
  splitCommas?: boolean;
  multiline?: boolean;
}

/** An array of strings or a single string → cleaned, non-empty, de-duplicated strings. */
function stringList(value: unknown, options: StringListOptions): string[] {
  const items =
    typeof value === 'string'
      ? options.splitCommas
        ? value.split(',')
        : [value]
      : boundedArray(value, MAX_ITEMS_SCANNED);
  const cleaned = items
    .map((item) => (options.multiline ? cleanText(item) : cleanString(item)))
    .filter((item) => item !== undefined);
  return unique(cleaned, (item) => item).slice(0, options.limit);
}

function unique<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const key = keyOf(item);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------------------
// extended: positions, schools, skills
// ---------------------------------------------------------------------------------------------------------

function historyFields(record: UnknownRecord, roles: Role[]): PersonFields {
  return {
    roles: nonEmpty(roles),
    education: nonEmpty(orFallback(() => extractEducation(record), [])),
    skills: nonEmpty(orFallback(() => extractSkills(record), [])),
  };
}

function extendedList(record: UnknownRecord, key: string): unknown[] {
  return boundedArray(readOwn(asRecord(readOwn(record, 'extended')), key), MAX_ITEMS_SCANNED);
}

function extractRoles(record: UnknownRecord): Role[] {
  const roles: Role[] = [];
  for (const [index, position] of extendedList(record, 'positions').entries()) {
    const role = roleFrom(asRecord(position), index);
    if (role !== undefined) roles.push(role);
    if (roles.length === MAX_ROLES) break;
  }
  return roles;
}

/**
 * One position, in the real PascalCase shape `{Company, Location?, Title, Description, From, To}` or the
 * legacy `{title, companyName, description, startDate:{month,year}, endDate, isCurrent, location}`.
 */
function roleFrom(position: UnknownRecord | undefined, index: number): Role | undefined {
  if (position === undefined) return undefined;
  const title = cleanString(readFirstPresent(position, ['Title', 'title']));
  const companyName = cleanString(readFirstPresent(position, ['Company', 'companyName', 'company']));
  if (title === undefined && companyName === undefined) return undefined;
  const start = parseMonthYear(readFirstPresent(position, ['From', 'startDate']));
  const toValue = readFirstPresent(position, ['To', 'endDate']);
  const end = parseMonthYear(toValue);
  const startDate = isDate(start) ? start : null;
  const endDate = isDate(end) && (startDate === null || !isBefore(end, startDate)) ? end : null;
  return {
    title: title ?? null,
    companyName: companyName ?? null,
    location: cleanString(readFirstPresent(position, ['Location', 'location'])) ?? null,
    description: cleanText(readFirstPresent(position, ['Description', 'description'])) ?? null,
    startYear: startDate?.year ?? null,
    startMonth: startDate?.month ?? null,
    endYear: endDate?.year ?? null,
    endMonth: endDate?.month ?? null,
    isCurrent: isCurrentPosition(position, {
      index,
      startDate,
      end,
      hasEnd: isDate(end) || cleanString(toValue) !== undefined,
    }),
  };
}

/**
 * Dux-Soup marks the current role only by an empty `To`. An empty `To` on an undated position further
 * down the list is more likely a past role whose dates LinkedIn did not show, so only the first
 * position, or a dated one, counts as current. A legacy boolean `isCurrent` wins.
 */
function isCurrentPosition(
  position: UnknownRecord,
  facts: {
    index: number;
    startDate: MonthYear | null;
    end: ParsedMonthYear;
    hasEnd: boolean;
  },
): boolean {
  const explicit = readOwn(position, 'isCurrent');
  if (typeof explicit === 'boolean') return explicit;
  if (facts.end === 'present') return true;
  return !facts.hasEnd && (facts.index === 0 || facts.startDate !== null);
}

function isDate(value: ParsedMonthYear): value is MonthYear {
  return value !== null && value !== 'present';
}

function isBefore(a: MonthYear, b: MonthYear): boolean {
  return a.year * 12 + (a.month ?? 12) < b.year * 12 + (b.month ?? 1);
}

function extractEducation(record: UnknownRecord): Education[] {
  const entries = extendedList(record, 'schools')
    .map((school) => educationFrom(asRecord(school)))
    .filter((entry) => entry !== undefined);
  return unique(entries, educationKey).slice(0, MAX_EDUCATION);
}

/** `{Name?, Degree, Field, From, To}` (Name is sometimes missing) or legacy `{schoolName, degree, fieldOfStudy, startDate, endDate}`. */
function educationFrom(school: UnknownRecord | undefined): Education | undefined {
  if (school === undefined) return undefined;
  const startYear = yearOf(readFirstPresent(school, ['From', 'startDate']));
  const endYear = yearOf(readFirstPresent(school, ['To', 'endDate']));
  const entry: Education = {
    school: cleanString(readFirstPresent(school, ['Name', 'schoolName', 'school'])) ?? null,
    degree: cleanString(readFirstPresent(school, ['Degree', 'degree', 'degreeName'])) ?? null,
    field: cleanString(readFirstPresent(school, ['Field', 'fieldOfStudy', 'field'])) ?? null,
    startYear,
    endYear: startYear !== null && endYear !== null && endYear < startYear ? null : endYear,
  };
  return Object.values(entry).every((value) => value === null) ? undefined : entry;
}

function yearOf(value: unknown): number | null {
  const parsed = parseMonthYear(value);
  return isDate(parsed) ? parsed.year : null;
}

function educationKey(entry: Education): string {
  const fold = (text: string | null): string => (text === null ? '' : foldForKey(text));
  return JSON.stringify([
    fold(entry.school),
    fold(entry.degree),
    fold(entry.field),
    entry.startYear,
    entry.endYear,
  ]);
}

/** Skills are never split on commas ("AWS Console, AWS CLI" is one LinkedIn skill); case-insensitive de-dup keeps the first spelling. */
function extractSkills(record: UnknownRecord): string[] {
  const skills = extendedList(record, 'skills')
    .map((skill) => cleanString(typeof skill === 'string' ? skill : readOwn(asRecord(skill), 'name')))
    .filter((skill) => skill !== undefined);
  return unique(skills, (skill) => skill.toLowerCase()).slice(0, MAX_SKILLS);
}
