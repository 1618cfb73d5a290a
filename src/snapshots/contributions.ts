import type { Identifier } from '../identity/identifiers';
import { extractIdentifiers } from '../identity/identifiers';
import { classifyTitle } from '../intelligence/seniority';
import type { CompanyRef } from './company-ref';
import { extractCompanyRef } from './company-ref';
import type { PersonFields } from './fields';
import { extractPersonFields } from './fields';
import type { ParsedLocation } from './location';
import { leadContribution } from '../sources/leads/contribution';
import { hubspotContribution } from '../sources/hubspot/contribution';

/** What one stored observation says, per entity kind, in the shape the folds consume. */
export interface Contribution {
  /** Provenance label: visit | scan | csv | lead | hubspot. */
  source: string;
  identifiers: Identifier[];
  person: Record<string, unknown>;
  company: CompanyRef | null;
  location: ParsedLocation | null;
}

export interface ObservationRecord {
  id: number;
  source: string;
  kind: string;
  payload: unknown;
}

export interface ContributionOptions {
  defaultPhoneCountry: string;
}

/** Person fields that only make sense together: they are always taken from one observation. */
export const PERSON_FIELD_GROUPS: readonly (readonly string[])[] = [
  ['firstName', 'middleName', 'lastName', 'fullName'],
  [
    'currentTitle',
    'currentCompany',
    'currentCompanyLinkedinId',
    'companyProfileUrl',
    'currentRoleStartYear',
    'companyId',
    'seniorityLevel',
    'seniorityTier',
    'department',
  ],
  ['location', 'city', 'state', 'stateCode', 'country', 'countryCode', 'locationKey', 'locationId'],
  ['connections', 'connectionsCapped'],
];

export const COMPANY_FIELD_GROUPS: readonly (readonly string[])[] = [['website', 'domain']];
export const LOCATION_FIELD_GROUPS: readonly (readonly string[])[] = [
  ['label', 'city', 'state', 'stateCode', 'country', 'countryCode'],
];

export function contributionOf(observation: ObservationRecord, options: ContributionOptions): Contribution {
  if (observation.source === 'lead') return leadContribution(observation, options);
  if (observation.source === 'hubspot') return hubspotContribution(observation, options);
  const data = dataOf(observation);
  const fields = extractPersonFields(data, { defaultPhoneCountry: options.defaultPhoneCountry });
  return {
    source: sourceLabel(observation),
    identifiers: extractIdentifiers(data),
    person: personContribution(fields),
    company: extractCompanyRef(data),
    location: fields.location ?? null,
  };
}

function dataOf(observation: ObservationRecord): unknown {
  const payload = observation.payload;
  if (payload === null || typeof payload !== 'object') return undefined;
  return Object.prototype.hasOwnProperty.call(payload, 'data')
    ? (payload as { data: unknown }).data
    : undefined;
}

function sourceLabel(observation: ObservationRecord): string {
  return observation.source === 'duxsoup' ? observation.kind : observation.source;
}

/** Flattens the extracted fields into snapshot fields (location parts and seniority become plain fields). */
export function personContribution(fields: PersonFields): Record<string, unknown> {
  const { location, currentCompanyId } = fields;
  // A copy key by key: object rest and spread over these wide records cost more than the rest of this function.
  const contribution: Record<string, unknown> = {};
  const source = fields as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    if (key !== 'location' && key !== 'currentCompanyId') contribution[key] = source[key];
  }
  if (currentCompanyId !== undefined) contribution.currentCompanyLinkedinId = currentCompanyId;
  if (location) {
    contribution.location = location.raw;
    contribution.city = location.city;
    contribution.state = location.state;
    contribution.stateCode = location.stateCode;
    contribution.country = location.country;
    contribution.countryCode = location.countryCode;
    contribution.locationKey = location.key;
  }
  if (fields.currentTitle) {
    const classification = classifyTitle(fields.currentTitle);
    contribution.seniorityLevel = classification.level;
    contribution.seniorityTier = classification.tier;
    contribution.department = classification.department;
  }
  return contribution;
}

export function companyContribution(ref: CompanyRef): Record<string, unknown> {
  return {
    name: ref.name,
    linkedinId: ref.linkedinId,
    slug: ref.slug,
    website: ref.website,
    domain: ref.domain,
    industry: ref.industry,
  };
}

export function locationContribution(location: ParsedLocation): Record<string, unknown> {
  return {
    label: location.raw,
    city: location.city,
    state: location.state,
    stateCode: location.stateCode,
    country: location.country,
    countryCode: location.countryCode,
  };
}
