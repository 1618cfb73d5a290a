import { isSupportedCountry } from 'libphonenumber-js';
import type { Identifier } from '../../identity/identifiers';
import {
  extractIdentifiers,
  IDENTIFIER_PRIORITY,
  identifiersFromLinkedInUrl,
} from '../../identity/identifiers';
import { extractCompanyRef } from '../../snapshots/company-ref';
import type { Contribution, ContributionOptions, ObservationRecord } from '../../snapshots/contributions';
import { personContribution } from '../../snapshots/contributions';
import { COUNTRIES } from '../../snapshots/data/countries';
import { extractPersonFields } from '../../snapshots/fields';
import { parseLocation } from '../../snapshots/location';
import type { ParsedLocation } from '../../snapshots/location';
import { asRecord, readFirstPresent, readOwn } from '../../snapshots/normalise';
import type { UnknownRecord } from '../../snapshots/normalise';

const COUNTRY_BY_CODE = new Map(COUNTRIES.map((country) => [country.code, country]));

/** How far the search for LinkedIn URLs looks into a lead, so a hostile payload cannot make it slow. */
const MAX_SCAN_DEPTH = 4;
const MAX_STRINGS_SCANNED = 200;

const PRIORITY = new Map(IDENTIFIER_PRIORITY.map((kind, rank) => [kind, rank]));

/**
 * What a lead observation (`payload.lead`, see src/sources/leads/store.ts) says about its person, in the shape
 * the folds consume. The lead is mapped onto the Dux-Soup fields the extractors already know, so names, e-mail,
 * phone (E.164) and place are cleaned exactly like LinkedIn data:
 * - identifiers: the e-mail, and every LinkedIn profile / Sales Navigator / recruiter URL found in any string
 *   value (unknown keys included);
 * - phone: the lead's country is the default region for numbers without a `+`, else DEFAULT_PHONE_COUNTRY;
 * - country: an ISO code (`LV`) or a place (`Latvia`, `Riga, Latvia`); a value naming no country is ignored;
 * - company and title only from explicit `company` / `title` (or `jobTitle`) keys. leadCRM's `domain` is the
 *   landing site the form was on, not the person's employer, so it never makes a company.
 * Never throws.
 */
export function leadContribution(observation: ObservationRecord, options: ContributionOptions): Contribution {
  const lead = leadOf(observation.payload);
  const location = countryLocation(readOwn(lead, 'country'));
  const names = nameParts(lead);
  const data: UnknownRecord = {
    'First Name': names.first,
    'Last Name': names.last,
    Email: readOwn(lead, 'email'),
    Phone: readOwn(lead, 'phone'),
    Title: readFirstPresent(lead, ['title', 'jobTitle']),
    Company: readOwn(lead, 'company'),
  };
  const regionCode = location?.countryCode;
  const defaultPhoneCountry =
    regionCode && isSupportedCountry(regionCode) ? regionCode : options.defaultPhoneCountry;
  const fields = extractPersonFields(data, { defaultPhoneCountry });
  if (location) fields.location = location;
  return {
    source: 'lead',
    identifiers: sortedIdentifiers([
      ...extractIdentifiers({ Email: data.Email }),
      ...linkedInIdentifiers(lead),
    ]),
    person: personContribution(fields),
    company: extractCompanyRef({ Company: data.Company }),
    location,
  };
}

function leadOf(payload: unknown): UnknownRecord {
  return asRecord(readOwn(asRecord(payload), 'lead')) ?? {};
}

/** firstName / lastName; a form that only sends `name` or `fullName` is split at its first space. */
function nameParts(lead: UnknownRecord): { first: unknown; last: unknown } {
  const first = readOwn(lead, 'firstName');
  const last = readOwn(lead, 'lastName');
  if (first !== undefined || last !== undefined) return { first, last };
  const full = readFirstPresent(lead, ['fullName', 'name']);
  if (typeof full !== 'string') return { first: undefined, last: undefined };
  const [head, ...rest] = full.trim().split(/\s+/);
  return { first: head, last: rest.join(' ') };
}

function countryLocation(value: unknown): ParsedLocation | null {
  if (typeof value !== 'string') return null;
  const text = value.trim();
  const byCode = /^[a-z]{2}$/i.test(text) ? COUNTRY_BY_CODE.get(text.toUpperCase()) : undefined;
  const parsed = parseLocation(byCode ? byCode.name : text);
  return parsed?.countryCode ? parsed : null;
}

function linkedInIdentifiers(lead: UnknownRecord): Identifier[] {
  const found: Identifier[] = [];
  let scanned = 0;
  const visit = (value: unknown, field: string, depth: number): void => {
    if (scanned >= MAX_STRINGS_SCANNED) return;
    if (typeof value === 'string') {
      scanned += 1;
      for (const token of value.split(/[\s<>"'()[\]]+/)) {
        if (/linkedin\./i.test(token)) found.push(...identifiersFromLinkedInUrl(token, field));
      }
      return;
    }
    if (depth >= MAX_SCAN_DEPTH || value === null || typeof value !== 'object') return;
    const entries = Array.isArray(value)
      ? value.map((item, index) => [String(index), item] as const)
      : Object.entries(value);
    for (const [key, item] of entries) visit(item, Array.isArray(value) ? field : key, depth + 1);
  };
  visit(lead, 'lead', 0);
  return found;
}

/** De-duplicated by (kind, value), strongest first: Phase 2 names a new person after the first one. */
function sortedIdentifiers(identifiers: Identifier[]): Identifier[] {
  const unique = new Map<string, Identifier>();
  for (const identifier of identifiers) {
    const key = `${identifier.kind}\u0000${identifier.value}`;
    if (!unique.has(key)) unique.set(key, identifier);
  }
  return [...unique.values()].sort(
    (a, b) =>
      (PRIORITY.get(a.kind) ?? 0) - (PRIORITY.get(b.kind) ?? 0) ||
      (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  );
}
