import { KNOWN_CITIES } from './data/cities';
import type { KnownCity } from './data/cities';
import { COUNTRIES } from './data/countries';
import type { CountryEntry } from './data/countries';
import { SUBDIVISION_SETS } from './data/subdivisions';
import { memoiseByString } from '../memoise';
import { cleanString, foldForKey } from './normalise';

export interface ParsedLocation {
  raw: string;
  city: string | null;
  state: string | null;
  stateCode: string | null;
  country: string | null;
  countryCode: string | null;
  /** normalised key 'city|state|country' lower-case, unaccented */
  key: string;
}

interface Subdivision {
  countryCode: string;
  code: string;
  name: string;
}

type Components = Omit<ParsedLocation, 'raw' | 'key'>;

/** What the last comma-separated part of a location says about the state and country. */
type Tail =
  | { kind: 'country'; country: CountryEntry }
  | { kind: 'subdivision'; subdivision: Subdivision }
  | { kind: 'unknown'; country: string };

const MAX_LOCATION_LENGTH = 300;

/**
 * Parses a LinkedIn-style location ("City, State, Country", "Greater X Area", "X Metropolitan Area",
 * "X County, State, Country", "City, Country", a country or state alone). Returns null for empty input
 * and for input in which no place could be recognised. Never throws.
 */
export function parseLocation(raw: unknown): ParsedLocation | null {
  return typeof raw === 'string' ? parseLocationText(raw) : null;
}

const parseLocationText = memoiseByString((raw: string): ParsedLocation | null => {
  try {
    const text = cleanString(raw, { maxLength: MAX_LOCATION_LENGTH });
    if (text === undefined) return null;
    const components = parseComponents(splitParts(text));
    return components === null ? null : withKey(text, components);
  } catch {
    return null;
  }
});

/** Comparison form for place names: folded, dots dropped ("U.S.A." → "usa", "St. Louis" → "st louis"). */
function lookupKey(text: string): string {
  return foldForKey(text.replace(/\./g, ''));
}

function splitParts(text: string): string[] {
  return text
    .split(/[,，、،]/)
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

function withKey(raw: string, components: Components): ParsedLocation {
  const key = [components.city, components.state, components.country]
    .map((part) => (part === null ? '' : lookupKey(part).replace(/\|/g, ' ')))
    .join('|');
  return { raw, ...components, key };
}

function parseComponents(parts: readonly string[]): Components | null {
  if (parts.length === 0) return null;
  const cores = parts.map((part) => metroCore(part) ?? part);
  const isMetro = cores.some((core, index) => core !== parts[index]);
  const components = cores.length === 1 ? parseSinglePart(cores[0] ?? '') : parseMultiPart(cores);
  if (components === null) return null;
  const completed = completeFromKnownCity(components, isMetro);
  return Object.values(completed).every((value) => value === null) ? null : completed;
}

// ---------------------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------------------

function parseSinglePart(part: string): Components | null {
  const country = COUNTRY_BY_NAME.get(lookupKey(part));
  if (country !== undefined) return { ...EMPTY, ...countryFields(country) };
  if (isCountyName(part)) return null;
  const subdivision = SUBDIVISION_BY_NAME.get(lookupKey(part));
  const asState = subdivision === undefined ? undefined : stateNamed(part, subdivision.countryCode);
  return asState === undefined ? { ...EMPTY, city: part } : { ...EMPTY, ...subdivisionFields(asState) };
}

function parseMultiPart(parts: readonly string[]): Components {
  const head = parts.slice(0, -1);
  const first = head[0] ?? '';
  const city = isCountyName(first) ? null : first;
  const tail = resolveTail(parts[parts.length - 1] ?? '', city);
  const middle = head.length >= 2 ? (head[head.length - 1] ?? null) : null;

  if (tail.kind === 'subdivision') return { ...EMPTY, city, ...subdivisionFields(tail.subdivision) };
  if (tail.kind === 'unknown') return { ...EMPTY, city, state: middle, country: tail.country };

  if (middle !== null) {
    return {
      ...EMPTY,
      city,
      ...stateWithinCountry(middle, tail.country.code),
      ...countryFields(tail.country),
    };
  }
  // "California, United States" names a state, not a city.
  const asState = city === null ? undefined : stateNamed(city, tail.country.code);
  if (asState !== undefined) return { ...EMPTY, ...subdivisionFields(asState) };
  return { ...EMPTY, city, ...countryFields(tail.country) };
}

/** The subdivision of `countryCode` called `name`, unless `name` is also that state's city (Berlin). */
function stateNamed(name: string, countryCode: string): Subdivision | undefined {
  const subdivision = SUBDIVISION_BY_COUNTRY_AND_NAME.get(`${countryCode}|${lookupKey(name)}`);
  return subdivision === undefined || isCityState(name, subdivision) ? undefined : subdivision;
}

function resolveTail(last: string, city: string | null): Tail {
  const key = lookupKey(last);
  const country = COUNTRY_BY_NAME.get(key);
  const subdivision = SUBDIVISION_BY_NAME.get(key);
  const cityCountry = city === null ? undefined : KNOWN_CITY.get(lookupKey(city))?.countryCode;
  // "Atlanta, Georgia" is the US state; "Tbilisi, Georgia" (LinkedIn's usual form) is the country.
  if (country !== undefined && subdivision !== undefined && cityCountry === subdivision.countryCode) {
    return { kind: 'subdivision', subdivision };
  }
  if (country !== undefined) return { kind: 'country', country };
  const fromCode = /^[a-z]{2,3}$/.test(key) ? resolveCode(key.toUpperCase(), cityCountry) : undefined;
  if (fromCode !== undefined) return fromCode;
  if (subdivision !== undefined) return { kind: 'subdivision', subdivision };
  return { kind: 'unknown', country: last };
}

/**
 * A bare code is read as a state first ("Austin, TX"), because LinkedIn never writes country codes and
 * other sources mostly write US states; a known city breaks the tie ("Toronto, CA" is Canada).
 */
function resolveCode(code: string, cityCountry: string | undefined): Tail | undefined {
  const subdivision = SUBDIVISION_BY_BARE_CODE.get(code);
  const country = COUNTRY_BY_CODE.get(code);
  if (country !== undefined && (subdivision === undefined || cityCountry === country.code)) {
    return { kind: 'country', country };
  }
  return subdivision === undefined ? undefined : { kind: 'subdivision', subdivision };
}

function stateWithinCountry(token: string, countryCode: string): Pick<Components, 'state' | 'stateCode'> {
  const key = lookupKey(token);
  const subdivision =
    SUBDIVISION_BY_COUNTRY_AND_NAME.get(`${countryCode}|${key}`) ??
    SUBDIVISION_BY_COUNTRY_AND_CODE.get(`${countryCode}|${key.toUpperCase()}`);
  return subdivision === undefined
    ? { state: token, stateCode: null }
    : { state: subdivision.name, stateCode: subdivision.code };
}

/** Berlin, Hamburg, São Paulo …: a name that is both a city and its own state reads as the city. */
function isCityState(name: string, subdivision: Subdivision): boolean {
  const known = KNOWN_CITY.get(lookupKey(name));
  return known?.countryCode === subdivision.countryCode && known.state === subdivision.name;
}

/**
 * Fills the state and country of a well-known city when the string leaves them out, and for metro
 * names writes the principal city ("Dallas-Fort Worth Metroplex" → Dallas). Never overrides what the
 * string says: a different country or state means a different place with the same name.
 */
function completeFromKnownCity(components: Components, isMetro: boolean): Components {
  const known = components.city === null ? undefined : KNOWN_CITY.get(lookupKey(components.city));
  if (known === undefined || !isConsistent(components, known)) return components;
  const country = COUNTRY_BY_CODE.get(known.countryCode);
  const state =
    known.state === undefined
      ? undefined
      : SUBDIVISION_BY_COUNTRY_AND_NAME.get(`${known.countryCode}|${lookupKey(known.state)}`);
  return {
    city: isMetro ? known.city : components.city,
    state: components.state ?? known.state ?? null,
    stateCode: components.stateCode ?? state?.code ?? null,
    country: components.country ?? country?.name ?? null,
    countryCode: components.countryCode ?? country?.code ?? null,
  };
}

function isConsistent(components: Components, known: KnownCity): boolean {
  if (components.country !== null && components.countryCode !== known.countryCode) return false;
  return (
    components.state === null ||
    known.state === undefined ||
    lookupKey(components.state) === lookupKey(known.state)
  );
}

// ---------------------------------------------------------------------------------------------------------
// Patterns
// ---------------------------------------------------------------------------------------------------------

const METRO_PATTERNS: readonly RegExp[] = [
  /^greater\s+(.+?)\s+(?:metropolitan\s+)?(?:area|region)$/i,
  /^greater\s+(.+)$/i,
  /^(.+?)\s+(?:metropolitan|metro)\s+(?:area|region)$/i,
  /^(.+?)\s+metro(?:plex)?$/i,
  /^(.+?)\s+bay\s+area$/i,
  /^(.+?)\s+area$/i,
  /^(?:área|area|région|region)\s+metropolitan[ae]\s+(?:de|di|da|do)\s+(.+)$/i,
  /^metropolregion\s+(.+)$/i,
];

/** "Greater Boston Area" → "Boston"; undefined when the part is not a metro name. */
function metroCore(part: string): string | undefined {
  // The generic "X Area" pattern would turn the bare "Bay Area" into a city called "Bay".
  if (/^(?:sf\s+)?bay\s+area$/i.test(part)) return 'San Francisco';
  for (const pattern of METRO_PATTERNS) {
    const core = pattern.exec(part)?.[1]?.trim();
    if (core !== undefined && core !== '') return core;
  }
  return undefined;
}

/** Counties and parishes are not cities: "Los Angeles County, California" has no city. */
function isCountyName(part: string): boolean {
  return /\s(?:county|parish)$/i.test(part) || /^county\s/i.test(part);
}

// ---------------------------------------------------------------------------------------------------------
// Lookup tables (Maps, never plain objects: place names like "constructor" must not hit the prototype)
// ---------------------------------------------------------------------------------------------------------

const EMPTY: Components = { city: null, state: null, stateCode: null, country: null, countryCode: null };

function countryFields(country: CountryEntry): Pick<Components, 'country' | 'countryCode'> {
  return { country: country.name, countryCode: country.code };
}

function subdivisionFields(subdivision: Subdivision): Omit<Components, 'city'> {
  const country = COUNTRY_BY_CODE.get(subdivision.countryCode);
  return {
    state: subdivision.name,
    stateCode: subdivision.code,
    country: country?.name ?? null,
    countryCode: subdivision.countryCode,
  };
}

function setFirst<V>(map: Map<string, V>, key: string, value: V): void {
  if (!map.has(key)) map.set(key, value);
}

const COUNTRY_BY_CODE = new Map<string, CountryEntry>(COUNTRIES.map((country) => [country.code, country]));

const COUNTRY_BY_NAME = new Map<string, CountryEntry>();
for (const country of COUNTRIES) {
  for (const name of [country.name, ...country.aliases]) setFirst(COUNTRY_BY_NAME, lookupKey(name), country);
}

const SUBDIVISION_BY_NAME = new Map<string, Subdivision>();
const SUBDIVISION_BY_BARE_CODE = new Map<string, Subdivision>();
const SUBDIVISION_BY_COUNTRY_AND_NAME = new Map<string, Subdivision>();
const SUBDIVISION_BY_COUNTRY_AND_CODE = new Map<string, Subdivision>();
for (const set of SUBDIVISION_SETS) {
  for (const entry of set.entries) {
    const subdivision: Subdivision = { countryCode: set.countryCode, code: entry.code, name: entry.name };
    for (const name of [entry.name, ...(entry.aliases ?? [])]) {
      setFirst(SUBDIVISION_BY_NAME, lookupKey(name), subdivision);
      setFirst(SUBDIVISION_BY_COUNTRY_AND_NAME, `${set.countryCode}|${lookupKey(name)}`, subdivision);
    }
    setFirst(SUBDIVISION_BY_COUNTRY_AND_CODE, `${set.countryCode}|${entry.code}`, subdivision);
    if (set.bareCodes) setFirst(SUBDIVISION_BY_BARE_CODE, entry.code, subdivision);
  }
}

const KNOWN_CITY = new Map<string, KnownCity>();
for (const known of KNOWN_CITIES) {
  for (const name of [known.city, ...(known.aliases ?? [])]) setFirst(KNOWN_CITY, lookupKey(name), known);
}
