import { parseLocation } from '../src/snapshots/location';
import type { ParsedLocation } from '../src/snapshots/location';

type Parts = Omit<ParsedLocation, 'raw' | 'key'>;

const place = (
  city: string | null,
  state: string | null,
  stateCode: string | null,
  country: string | null,
  countryCode: string | null,
): Parts => ({ city, state, stateCode, country, countryCode });

const US = (city: string | null, state: string, code: string): Parts =>
  place(city, state, code, 'United States', 'US');

function partsOf(location: ParsedLocation | null): Parts | null {
  if (location === null) return null;
  const { city, state, stateCode, country, countryCode } = location;
  return { city, state, stateCode, country, countryCode };
}

describe('parseLocation: LinkedIn "City, State, Country"', () => {
  it.each<[string, Parts]>([
    ['Los Angeles, California, United States', US('Los Angeles', 'California', 'CA')],
    ['San Mateo, California, United States', US('San Mateo', 'California', 'CA')],
    ['Austin, Texas, United States', US('Austin', 'Texas', 'TX')],
    ['Washington, District of Columbia, United States', US('Washington', 'District of Columbia', 'DC')],
    ['Atlanta, Georgia, United States', US('Atlanta', 'Georgia', 'GA')],
    ['Toronto, Ontario, Canada', place('Toronto', 'Ontario', 'ON', 'Canada', 'CA')],
    ['Montréal, Québec, Canada', place('Montréal', 'Quebec', 'QC', 'Canada', 'CA')],
    ['London, England, United Kingdom', place('London', 'England', 'ENG', 'United Kingdom', 'GB')],
    ['Edinburgh, Scotland, United Kingdom', place('Edinburgh', 'Scotland', 'SCT', 'United Kingdom', 'GB')],
    ['Cardiff, Wales, United Kingdom', place('Cardiff', 'Wales', 'WLS', 'United Kingdom', 'GB')],
    ['Sydney, New South Wales, Australia', place('Sydney', 'New South Wales', 'NSW', 'Australia', 'AU')],
    ['Bengaluru, Karnataka, India', place('Bengaluru', 'Karnataka', null, 'India', 'IN')],
    ['Kraków, Małopolskie, Poland', place('Kraków', 'Małopolskie', null, 'Poland', 'PL')],
    ['Brooklyn, Kings County, New York, United States', US('Brooklyn', 'New York', 'NY')],
  ])('%s', (input, expected) => {
    expect(partsOf(parseLocation(input))).toEqual(expected);
  });
});

describe('parseLocation: metro areas', () => {
  it.each<[string, Parts]>([
    ['Los Angeles Metropolitan Area', US('Los Angeles', 'California', 'CA')],
    ['Greater Boston', US('Boston', 'Massachusetts', 'MA')],
    ['Greater Chicago Area', US('Chicago', 'Illinois', 'IL')],
    ['Greater Seattle Area', US('Seattle', 'Washington', 'WA')],
    ['San Francisco Bay Area', US('San Francisco', 'California', 'CA')],
    ['Tampa Bay Area', US('Tampa', 'Florida', 'FL')],
    ['New York City Metropolitan Area', US('New York', 'New York', 'NY')],
    ['Dallas-Fort Worth Metroplex', US('Dallas', 'Texas', 'TX')],
    ['Washington DC-Baltimore Area', US('Washington', 'District of Columbia', 'DC')],
    ['Raleigh-Durham-Chapel Hill Area', US('Raleigh', 'North Carolina', 'NC')],
    ['Portland, Oregon Metropolitan Area', US('Portland', 'Oregon', 'OR')],
    ['Kansas City Metropolitan Area', place('Kansas City', null, null, 'United States', 'US')],
    ['Manchester Area, United Kingdom', place('Manchester', 'England', 'ENG', 'United Kingdom', 'GB')],
    ['Greater Toronto Area, Canada', place('Toronto', 'Ontario', 'ON', 'Canada', 'CA')],
    ['Greater Sydney Area', place('Sydney', 'New South Wales', 'NSW', 'Australia', 'AU')],
    ['Greater Paris Metropolitan Region', place('Paris', null, null, 'France', 'FR')],
    ['Área Metropolitana de São Paulo', place('São Paulo', 'São Paulo', 'SP', 'Brazil', 'BR')],
    // Unknown metros keep the city and invent nothing.
    ['Greater Reading Area', place('Reading', null, null, null, null)],
    ['Greater Springfield Area', place('Springfield', null, null, null, null)],
  ])('%s', (input, expected) => {
    expect(partsOf(parseLocation(input))).toEqual(expected);
  });
});

describe('parseLocation: counties, states and countries on their own', () => {
  it.each<[string, Parts | null]>([
    ['Los Angeles County, California, United States', US(null, 'California', 'CA')],
    ['Cook County, Illinois', US(null, 'Illinois', 'IL')],
    ['Orleans Parish, Louisiana, United States', US(null, 'Louisiana', 'LA')],
    ['County Cork, Ireland', place(null, null, null, 'Ireland', 'IE')],
    ['Los Angeles County', null],
    ['California, United States', US(null, 'California', 'CA')],
    ['England, United Kingdom', place(null, 'England', 'ENG', 'United Kingdom', 'GB')],
    ['California', US(null, 'California', 'CA')],
    ['Ontario', place(null, 'Ontario', 'ON', 'Canada', 'CA')],
    ['United States', place(null, null, null, 'United States', 'US')],
    ['USA', place(null, null, null, 'United States', 'US')],
    ['U.S.A.', place(null, null, null, 'United States', 'US')],
    ['Germany', place(null, null, null, 'Germany', 'DE')],
    ['Deutschland', place(null, null, null, 'Germany', 'DE')],
    ['España', place(null, null, null, 'Spain', 'ES')],
    ['Brasil', place(null, null, null, 'Brazil', 'BR')],
    ['中国', place(null, null, null, 'China', 'CN')],
    ['日本', place(null, null, null, 'Japan', 'JP')],
    ['대한민국', place(null, null, null, 'South Korea', 'KR')],
    ['Georgia', place(null, null, null, 'Georgia', 'GE')],
    // A city-state is a city, not just a state.
    ['Berlin, Germany', place('Berlin', 'Berlin', 'BE', 'Germany', 'DE')],
    ['Berlin', place('Berlin', 'Berlin', 'BE', 'Germany', 'DE')],
    ['Singapore, Singapore', place('Singapore', null, null, 'Singapore', 'SG')],
  ])('%s', (input, expected) => {
    expect(partsOf(parseLocation(input))).toEqual(expected);
  });
});

describe('parseLocation: "City, Country" and codes', () => {
  it.each<[string, Parts]>([
    ['Jakarta, Indonesia', place('Jakarta', null, null, 'Indonesia', 'ID')],
    ['London, United Kingdom', place('London', 'England', 'ENG', 'United Kingdom', 'GB')],
    ['Paris, France', place('Paris', null, null, 'France', 'FR')],
    ['Dubai, United Arab Emirates', place('Dubai', null, null, 'United Arab Emirates', 'AE')],
    ['Istanbul, Türkiye', place('Istanbul', null, null, 'Türkiye', 'TR')],
    ['Istanbul, Turkey', place('Istanbul', null, null, 'Türkiye', 'TR')],
    ['Tbilisi, Georgia', place('Tbilisi', null, null, 'Georgia', 'GE')],
    ['Atlanta, Georgia', US('Atlanta', 'Georgia', 'GA')],
    ['Austin, TX', US('Austin', 'Texas', 'TX')],
    ['Austin, Texas', US('Austin', 'Texas', 'TX')],
    ['austin, tx', US('austin', 'Texas', 'TX')],
    ['Washington, D.C.', US('Washington', 'District of Columbia', 'DC')],
    ['Paris, IN', US('Paris', 'Indiana', 'IN')],
    ['Toronto, CA', place('Toronto', 'Ontario', 'ON', 'Canada', 'CA')],
    ['Vancouver, BC', place('Vancouver', 'British Columbia', 'BC', 'Canada', 'CA')],
    ['Sydney, NSW', place('Sydney', 'New South Wales', 'NSW', 'Australia', 'AU')],
    ['Munich, DE', place('Munich', 'Bavaria', 'BY', 'Germany', 'DE')],
    ['Lyon, FR', place('Lyon', null, null, 'France', 'FR')],
    ['London, Ontario', place('London', 'Ontario', 'ON', 'Canada', 'CA')],
    ['Paris, Texas, United States', US('Paris', 'Texas', 'TX')],
    ['Springfield, Atlantis', place('Springfield', null, null, 'Atlantis', null)],
    ['Paris, Île-de-France', place('Paris', null, null, 'Île-de-France', null)],
  ])('%s', (input, expected) => {
    expect(partsOf(parseLocation(input))).toEqual(expected);
  });
});

describe('parseLocation: non-ASCII, whitespace, punctuation', () => {
  it.each<[string, Parts]>([
    ['São Paulo, São Paulo, Brasil', place('São Paulo', 'São Paulo', 'SP', 'Brazil', 'BR')],
    ['München, Bayern, Deutschland', place('München', 'Bavaria', 'BY', 'Germany', 'DE')],
    ['Munich, Bavaria, Germany', place('Munich', 'Bavaria', 'BY', 'Germany', 'DE')],
    ['北京, 中国', place('北京', null, null, 'China', 'CN')],
    ['北京，中国', place('北京', null, null, 'China', 'CN')],
    ['Zürich, Schweiz', place('Zürich', null, null, 'Switzerland', 'CH')],
    ['  Austin ,   Texas ,  United States , ', US('Austin', 'Texas', 'TX')],
    ['Austin,,Texas,,United States,,,', US('Austin', 'Texas', 'TX')],
    ['Austin\t,\nTexas', US('Austin', 'Texas', 'TX')],
  ])('%j', (input, expected) => {
    expect(partsOf(parseLocation(input))).toEqual(expected);
  });

  it('keeps the cleaned input as raw', () => {
    expect(parseLocation('  Austin ,   Texas ')?.raw).toBe('Austin , Texas');
  });
});

describe('parseLocation: key', () => {
  it.each<[string, string]>([
    ['Los Angeles, California, United States', 'los angeles|california|united states'],
    ['United States', '||united states'],
    ['Los Angeles County, California, United States', '|california|united states'],
    ['São Paulo, São Paulo, Brasil', 'sao paulo|sao paulo|brazil'],
    ['München, Bayern, Deutschland', 'munchen|bavaria|germany'],
    ['北京, 中国', '北京||china'],
    ['St. Louis, Missouri, United States', 'st louis|missouri|united states'],
  ])('%s → %s', (input, key) => {
    expect(parseLocation(input)?.key).toBe(key);
  });

  it.each<[string, string]>([
    ['São Paulo, São Paulo, Brasil', 'Sao Paulo, SP, Brazil'],
    ['Austin, Texas, United States', 'Austin, TX'],
    ['Austin, Texas, United States', 'AUSTIN , texas , USA'],
    ['London, England, United Kingdom', 'London, UK'],
    ['Los Angeles Metropolitan Area', 'Los Angeles, CA'],
    ['New York City Metropolitan Area', 'New York, New York, United States'],
    ['Zürich, Switzerland', 'Zurich, Schweiz'],
  ])('%s and %s share a key', (a, b) => {
    expect(parseLocation(a)?.key).toBe(parseLocation(b)?.key);
  });

  it('separates places that only share a city name', () => {
    expect(parseLocation('London, Ontario, Canada')?.key).not.toBe(
      parseLocation('London, United Kingdom')?.key,
    );
    expect(parseLocation('Tbilisi, Georgia')?.key).not.toBe(parseLocation('Atlanta, Georgia')?.key);
  });
});

describe('parseLocation: hostile and empty input never throws', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['empty string', ''],
    ['whitespace', '   '],
    ['only commas', ', , ,'],
    ['number', 42],
    ['object', { city: 'Austin' }],
    ['array', ['Austin', 'Texas']],
    ['boolean', false],
  ])('%s → null', (_name, input) => {
    expect(parseLocation(input)).toBeNull();
  });

  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf, prototype, __proto__'])(
    'prototype-like names are plain text: %s',
    (input) => {
      const result = parseLocation(input);
      expect(result?.countryCode).toBeNull();
      expect(result?.stateCode).toBeNull();
      expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    },
  );

  it('bounds a 10 000-character location', () => {
    const result = parseLocation(`${'A'.repeat(10_000)}, Texas, United States`);
    expect(result?.raw.length).toBeLessThanOrEqual(300);
    expect(result?.city).toHaveLength(300);
  });

  it('handles a long run of whitespace and metro words quickly', () => {
    const started = Date.now();
    parseLocation(`Greater ${' '.repeat(5_000)}x${' Area'.repeat(2_000)}`);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('keeps emoji as text', () => {
    expect(parseLocation('🌍 Remote')).toMatchObject({ city: '🌍 Remote', country: null });
  });
});
