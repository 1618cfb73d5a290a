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
import type { ParsedLocation } from '../../snapshots/location';
import { parseLocation } from '../../snapshots/location';
import { asRecord, readOwn } from '../../snapshots/normalise';
import type { UnknownRecord } from '../../snapshots/normalise';
import { MERGED_IDS_PROPERTY, mergedContactIds } from './objects';

export const HUBSPOT_CONTACT_ID_KIND = 'hubspot_contact_id';

const COUNTRY_BY_CODE = new Map(COUNTRIES.map((country) => [country.code, country]));
const PRIORITY = new Map(IDENTIFIER_PRIORITY.map((kind, rank) => [kind, rank]));
const MAX_PROPERTIES_SCANNED = 500;

const EMPTY: Contribution = { source: 'hubspot', identifiers: [], person: {}, company: null, location: null };

/**
 * What a HubSpot contact observation (`payload.hubspot`, a v3 contact record; see store.ts) says about its
 * person, in the shape the folds consume. Properties are mapped onto the Dux-Soup fields the extractors know,
 * so names, e-mail, phone (E.164) and place are cleaned exactly like LinkedIn data:
 * - identifiers: the e-mail, every LinkedIn profile URL held by a property whose name mentions LinkedIn
 *   (hs_linkedin_url, linkedin_profile_url, custom ones), and the contact id (kind hubspot_contact_id), plus the ids
 *   of the contacts merged into this one (hs_merged_object_ids, hs_calculated_merged_vids): HubSpot says they are
 *   the same person, so their people merge and a merged contact's id keeps resolving to the survivor's person;
 * - company and job title from `company` / `jobtitle`; place from city / state / country;
 * - a property still holding the value this service pushed to HubSpot (`payload.pushed`) is ignored: a value
 *   we wrote and read back is not a new observation of the person.
 * HubSpot ranks below LinkedIn data (FILL_ONLY_SOURCES in snapshots/fold.ts). Never throws.
 */
export function hubspotContribution(
  observation: ObservationRecord,
  options: ContributionOptions,
): Contribution {
  try {
    const payload = asRecord(observation.payload);
    const record = asRecord(readOwn(payload, 'hubspot'));
    const id = contactIdOf(record);
    if (!record || id === null) return EMPTY;
    const properties = ownProperties(
      asRecord(readOwn(record, 'properties')),
      asRecord(readOwn(payload, 'pushed')),
    );
    const location = placeOf(properties);
    const data: UnknownRecord = {
      'First Name': properties.firstname,
      'Last Name': properties.lastname,
      Email: properties.email,
      Phone: properties.phone ?? properties.mobilephone,
      Title: properties.jobtitle,
      Company: properties.company,
    };
    const region = location?.countryCode;
    const defaultPhoneCountry = region && isSupportedCountry(region) ? region : options.defaultPhoneCountry;
    const fields = extractPersonFields(data, { defaultPhoneCountry });
    if (location) fields.location = location;
    return {
      source: 'hubspot',
      identifiers: sortedIdentifiers([
        ...extractIdentifiers({ Email: data.Email }),
        ...linkedInIdentifiers(properties),
        { kind: HUBSPOT_CONTACT_ID_KIND, value: id, display: id, field: 'hs_object_id' },
        ...mergedIdentifiers(asRecord(readOwn(record, 'properties')), id),
      ]),
      person: personContribution(fields),
      company: extractCompanyRef({ Company: data.Company }),
      location,
    };
  } catch {
    return EMPTY;
  }
}

function contactIdOf(record: UnknownRecord | undefined): string | null {
  const properties = asRecord(readOwn(record, 'properties'));
  const raw = readOwn(properties, 'hs_object_id') ?? readOwn(record, 'id');
  const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : '';
  return /^\d{1,18}$/.test(text) ? text : null;
}

/** String properties with a value, minus those still holding what we pushed. */
function ownProperties(
  properties: UnknownRecord | undefined,
  pushed: UnknownRecord | undefined,
): Record<string, string> {
  const kept: Record<string, string> = {};
  let scanned = 0;
  for (const [name, value] of Object.entries(properties ?? {})) {
    if (++scanned > MAX_PROPERTIES_SCANNED) break;
    if (typeof value !== 'string' || value.trim() === '') continue;
    const ours = readOwn(pushed, name);
    if (typeof ours === 'string' && sameValue(ours, value)) continue;
    kept[name] = value;
  }
  return kept;
}

export function sameValue(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** "city, state, country" parsed like a LinkedIn location; a country given as an ISO code is spelled out. */
function placeOf(properties: Record<string, string>): ParsedLocation | null {
  const country = properties.country?.trim();
  const countryName =
    country && /^[a-z]{2}$/i.test(country) ? COUNTRY_BY_CODE.get(country.toUpperCase())?.name : country;
  const parts = [properties.city, properties.state, countryName].map((part) => part?.trim()).filter(Boolean);
  if (parts.length === 0) return null;
  return parseLocation(parts.join(', '));
}

function mergedIdentifiers(properties: UnknownRecord | undefined, ownId: string): Identifier[] {
  return [...mergedContactIds(properties, ownId).keys()].map((value) => ({
    kind: HUBSPOT_CONTACT_ID_KIND,
    value,
    display: value,
    field: MERGED_IDS_PROPERTY,
  }));
}

function linkedInIdentifiers(properties: Record<string, string>): Identifier[] {
  const found: Identifier[] = [];
  for (const [name, value] of Object.entries(properties)) {
    if (!/linkedin/i.test(name) || !/linkedin\./i.test(value)) continue;
    for (const token of value.split(/[\s<>"'()[\]]+/)) {
      if (/linkedin\./i.test(token)) found.push(...identifiersFromLinkedInUrl(token, name));
    }
  }
  return found;
}

/** De-duplicated by (kind, value), strongest first: Phase 2 names a new person after the first one. */
function sortedIdentifiers(identifiers: Identifier[]): Identifier[] {
  const unique = new Map<string, Identifier>();
  for (const identifier of identifiers) {
    const key = `${identifier.kind}\u0000${identifier.value}`;
    if (!unique.has(key)) unique.set(key, identifier);
  }
  const rank = (kind: string) => PRIORITY.get(kind as Identifier['kind']) ?? PRIORITY.size;
  return [...unique.values()].sort(
    (a, b) => rank(a.kind) - rank(b.kind) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0),
  );
}
