import * as fs from 'fs';
import * as path from 'path';
import { extractCompanyRef, normaliseCompanyName } from '../src/snapshots/company-ref';
import type { CompanyRef } from '../src/snapshots/company-ref';
import { deriveMetrics } from '../src/snapshots/derived';
import { extractPersonFields, MAX_EDUCATION, MAX_ROLES, MAX_SKILLS } from '../src/snapshots/fields';
import type { Education, PersonFields, Role } from '../src/snapshots/fields';

interface FixtureEntry {
  index: number;
  kind: 'visit' | 'scan' | 'other';
  payload: { type: string; event: string; data: Record<string, unknown> };
}

const fixtures = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../shared/fixtures/duxsoup-samples-public.json'), 'utf8'),
) as FixtureEntry[];

function fixtureData(index: number): Record<string, unknown> {
  const entry = fixtures.find((candidate) => candidate.index === index);
  if (entry === undefined) throw new Error(`fixture ${index} missing`);
  return entry.payload.data;
}

const profileFixtures = fixtures.filter((entry) => entry.kind !== 'other');

function role(overrides: Partial<Role>): Role {
  return {
    title: null,
    companyName: null,
    location: null,
    description: null,
    startYear: null,
    startMonth: null,
    endYear: null,
    endMonth: null,
    isCurrent: false,
    ...overrides,
  };
}

/** Every string anywhere in the value, for "nothing blank leaks out" checks. */
function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(allStrings);
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// Real and documented fixtures
// ---------------------------------------------------------------------------------------------------------

describe('extractPersonFields on the fixtures', () => {
  it('index 41 (Dux-Soup documentation example, minimal keys)', () => {
    expect(extractPersonFields(fixtureData(41))).toEqual({
      firstName: 'Olivia',
      lastName: 'Marsh',
      fullName: 'Olivia Marsh',
      currentTitle: 'CX Innovation',
      currentCompany: 'Brightwell Services',
      currentRoleStartYear: 2018,
      degree: 1,
      picture:
        'https://media.licdn.com/dms/image/C4E03AQHk2Pq8mWbT1A/profile-displayphoto-shrink_800_800/0?e=1552521600&v=beta&t=Qm4c7XqzL0pR3sV9aT1uY6wE8nB2kJ5hG7dF0sA1zXc',
    });
  });

  it('index 6 (real visit, key order B, string My Notes, emoji tags, undated single position)', () => {
    expect(extractPersonFields(fixtureData(6))).toEqual({
      firstName: 'Alex',
      lastName: 'Moreno',
      fullName: 'Alex Moreno',
      currentTitle: 'Manager, Customer Success',
      currentCompany: 'Juniper Software',
      currentCompanyId: '84316519',
      companyProfileUrl: 'https://www.linkedin.com/company/84316519/',
      industry: 'Software Development',
      connections: 2,
      connectionsCapped: false,
      degree: 1,
      location: {
        raw: 'San Mateo, California, United States',
        city: 'San Mateo',
        state: 'California',
        stateCode: 'CA',
        country: 'United States',
        countryCode: 'US',
        key: 'san mateo|california|united states',
      },
      tags: [
        'ACME',
        '🦆-default-followup-1',
        '🦆-default-followup-2',
        '🦆-default-followup-3',
        '🦆-default-followup-4',
        '🦆-default-followup-5',
        '🦆-default-followup-6',
        '🦆-default-followup-7',
        '🦆-default-followup-8',
      ],
      roles: [role({ title: 'Manager, Customer Success', companyName: 'Juniper Software', isCurrent: true })],
    });
  });

  it('index 51 (scan: Thumbnail, CompanyID, "Manchester Area")', () => {
    expect(extractPersonFields(fixtureData(51))).toEqual({
      firstName: 'Hannah',
      lastName: 'Brooks',
      fullName: 'Hannah Brooks',
      currentTitle: 'Head of Talent',
      currentCompany: 'Quartz & Co',
      currentCompanyId: '5512309',
      industry: 'Human Resources Services',
      thumbnail:
        'https://media.licdn.com/dms/image/v2/D4E03AQF7hN2pQ9zXcA/profile-displayphoto-shrink_100_100/profile-displayphoto-shrink_100_100/0/1712345678901?e=1756944000&v=beta&t=Hh1Ii2Jj3Kk4Ll5Mm6Nn7Oo8Pp9Qq0Rr1Ss2Tt3Uu4Vv',
      location: {
        raw: 'Manchester Area, United Kingdom',
        city: 'Manchester',
        state: 'England',
        stateCode: 'ENG',
        country: 'United Kingdom',
        countryCode: 'GB',
        key: 'manchester|england|united kingdom',
      },
    });
  });

  it('index 52 (scan without a Last Name key, empty company fields)', () => {
    expect(extractPersonFields(fixtureData(52))).toEqual({
      firstName: 'Cher',
      fullName: 'Cher',
      currentTitle: 'Creative Director',
      location: {
        raw: 'Los Angeles, California, United States',
        city: 'Los Angeles',
        state: 'California',
        stateCode: 'CA',
        country: 'United States',
        countryCode: 'US',
        key: 'los angeles|california|united states',
      },
    });
  });

  it('index 43 (mononym with an empty Last Name, array My Notes, dated position)', () => {
    const fields = extractPersonFields(fixtureData(43));
    expect(fields).toMatchObject({
      firstName: 'Sukarno',
      fullName: 'Sukarno',
      connections: 500,
      connectionsCapped: false,
      currentRoleStartYear: 2021,
      location: { city: 'Jakarta', country: 'Indonesia', countryCode: 'ID' },
      skills: ['Negotiation', 'Logistics Management'],
    });
    expect(fields).not.toHaveProperty('lastName');
    expect(fields).not.toHaveProperty('notes');
    expect(fields.roles).toEqual([
      role({
        title: 'Head of Partnerships',
        companyName: 'Nusantara Logistik',
        startYear: 2021,
        startMonth: 3,
        isCurrent: true,
      }),
    ]);
  });

  it('index 47 (3rd degree, empty Connections, country-only location, no positions)', () => {
    const fields = extractPersonFields(fixtureData(47));
    expect(fields).toMatchObject({
      degree: 3,
      location: { country: 'United States', city: null, key: '||united states' },
    });
    expect(fields).not.toHaveProperty('connections');
    expect(fields).not.toHaveProperty('connectionsCapped');
    expect(fields).not.toHaveProperty('roles');
    expect(fields).not.toHaveProperty('skills');
  });

  it('index 0 (real visit: contact fields, 12 positions, schools, 49 skills)', () => {
    const fields = extractPersonFields(fixtureData(0));
    expect(fields).toMatchObject({
      fullName: 'Dana Whitfield',
      currentTitle: 'Chief Information Security Officer',
      currentCompany: 'Orchard Cyber',
      currentCompanyId: '735879098',
      currentRoleStartYear: 2024,
      connections: 7000,
      email: 'dana@whitfield.example',
      phone: '+13105550158',
      twitter: 'danawhitx',
      websites: ['https://www.orchardcyber.example/'],
    });
    expect(fields.summary?.split('\n')).toHaveLength(22);
    expect(fields.roles?.map((entry) => entry.isCurrent)).toEqual([
      true,
      true,
      true,
      ...Array<boolean>(9).fill(false),
    ]);
    expect(fields.roles?.[3]).toEqual(
      role({
        title: 'Executive Director | General Manager | Security Consulting Services',
        companyName: 'Westgate Pictures',
        description: expect.stringContaining('\n\nBuilds teams'),
        startYear: 2021,
        startMonth: 4,
        endYear: 2024,
        endMonth: 12,
      }),
    );
    expect(fields.education).toEqual<Education[]>([
      {
        school: 'Northfield University',
        degree: 'Master of Business Administration - MBA',
        field: 'Leadership',
        startYear: 2019,
        endYear: 2021,
      },
      {
        school: 'Northfield University',
        degree: 'Bachelor of Science',
        field: 'Cybersecurity',
        startYear: null,
        endYear: null,
      },
      {
        school: 'Lakeside State University',
        degree: null,
        field: 'Biology/Biological Sciences, General',
        startYear: null,
        endYear: null,
      },
      {
        school: 'Westbrook College',
        degree: 'Customer Experience Certificate Program',
        field: 'Business',
        startYear: 2022,
        endYear: 2022,
      },
    ]);
    expect(fields.skills).toHaveLength(49);
    expect(fields.skills?.[0]).toBe('Operational Strategy');
  });

  it('index 10 (visit.update) carries the e-mail the create lacked', () => {
    expect(extractPersonFields(fixtureData(9))).not.toHaveProperty('email');
    expect(extractPersonFields(fixtureData(10)).email).toBe('alex@moreno.example');
  });

  it.each(profileFixtures.map((entry) => [entry.index, entry] as const))(
    'fixture %i: no blank strings, no nulls at the top level, deterministic',
    (_index, entry) => {
      const fields = extractPersonFields(entry.payload.data);
      for (const text of allStrings(fields)) expect(text.trim()).not.toBe('');
      for (const value of Object.values(fields)) expect(value).not.toBeNull();
      expect(extractPersonFields(entry.payload.data)).toEqual(fields);
    },
  );
});

// ---------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------

describe('names and post-nominal credentials', () => {
  it.each<[string, Record<string, unknown>, PersonFields]>([
    [
      'plain',
      { 'First Name': 'Dana', 'Middle Name': '', 'Last Name': 'Whitfield' },
      { firstName: 'Dana', lastName: 'Whitfield', fullName: 'Dana Whitfield' },
    ],
    [
      'middle name kept',
      { 'First Name': 'Ana', 'Middle Name': 'Maria', 'Last Name': 'Silva' },
      { firstName: 'Ana', middleName: 'Maria', lastName: 'Silva', fullName: 'Ana Maria Silva' },
    ],
    [
      'whitespace collapsed',
      { 'First Name': '  Ana ', 'Middle Name': ' ', 'Last Name': ' de   la  Cruz ' },
      { firstName: 'Ana', lastName: 'de la Cruz', fullName: 'Ana de la Cruz' },
    ],
    [
      'Last Name is a credential',
      { 'First Name': 'Daniel', 'Middle Name': 'Okafor', 'Last Name': 'Cissp' },
      { firstName: 'Daniel', lastName: 'Okafor', fullName: 'Daniel Okafor' },
    ],
    [
      'several credentials across middle and last',
      { 'First Name': 'Marco', 'Middle Name': 'Ferreira Cism Cissp Itil', 'Last Name': 'Lss' },
      { firstName: 'Marco', lastName: 'Ferreira', fullName: 'Marco Ferreira' },
    ],
    [
      'credentials after a two-word surname',
      { 'First Name': 'Eva', 'Middle Name': 'van Dijk', 'Last Name': 'PMP' },
      { firstName: 'Eva', middleName: 'van', lastName: 'Dijk', fullName: 'Eva van Dijk' },
    ],
    [
      'dotted and trademarked credentials',
      { 'First Name': 'Kim', 'Middle Name': 'Lee Ph.D.', 'Last Name': 'PMP®' },
      { firstName: 'Kim', lastName: 'Lee', fullName: 'Kim Lee' },
    ],
    [
      'comma before the credential',
      { 'First Name': 'Jane', 'Middle Name': 'Smith,', 'Last Name': 'MBA' },
      { firstName: 'Jane', lastName: 'Smith', fullName: 'Jane Smith' },
    ],
    [
      'credential list inside one token',
      { 'First Name': 'Jane', 'Middle Name': 'Smith', 'Last Name': 'MBA,CPA' },
      { firstName: 'Jane', lastName: 'Smith', fullName: 'Jane Smith' },
    ],
    [
      'credential inside the Last Name field',
      { 'First Name': 'Jane', 'Last Name': 'Smith MD' },
      { firstName: 'Jane', lastName: 'Smith', fullName: 'Jane Smith' },
    ],
    [
      'credentials in middle with empty last',
      { 'First Name': 'Sam', 'Middle Name': 'Lee CFA', 'Last Name': '' },
      { firstName: 'Sam', lastName: 'Lee', fullName: 'Sam Lee' },
    ],
    [
      'only credentials after the first name',
      { 'First Name': 'Kim', 'Middle Name': '', 'Last Name': 'PhD' },
      { firstName: 'Kim', fullName: 'Kim' },
    ],
    [
      'Jr is a name, not a credential',
      { 'First Name': 'John', 'Middle Name': 'Doe', 'Last Name': 'Jr.' },
      { firstName: 'John', middleName: 'Doe', lastName: 'Jr.', fullName: 'John Doe Jr.' },
    ],
    [
      'Sr kept after stripping a credential',
      { 'First Name': 'John', 'Middle Name': 'Doe Sr', 'Last Name': 'CPA' },
      { firstName: 'John', lastName: 'Sr', middleName: 'Doe', fullName: 'John Doe Sr' },
    ],
    [
      'a surname that is also a word is kept',
      { 'First Name': 'Li', 'Last Name': 'Ma' },
      { firstName: 'Li', lastName: 'Ma', fullName: 'Li Ma' },
    ],
    ['mononym', { 'First Name': 'Sukarno', 'Last Name': '' }, { firstName: 'Sukarno', fullName: 'Sukarno' }],
    ['Last Name key absent', { 'First Name': 'Cher' }, { firstName: 'Cher', fullName: 'Cher' }],
    ['only a last name', { 'Last Name': 'Okoro' }, { lastName: 'Okoro', fullName: 'Okoro' }],
    [
      'non-ASCII',
      { 'First Name': 'Zoë', 'Last Name': 'Łukasiewicz-Müller' },
      { firstName: 'Zoë', lastName: 'Łukasiewicz-Müller', fullName: 'Zoë Łukasiewicz-Müller' },
    ],
    [
      'CJK',
      { 'First Name': '伟', 'Last Name': '王' },
      { firstName: '伟', lastName: '王', fullName: '伟 王' },
    ],
    [
      'emoji kept',
      { 'First Name': 'Jane 🚀', 'Last Name': 'Doe | Growth' },
      { firstName: 'Jane 🚀', lastName: 'Doe | Growth', fullName: 'Jane 🚀 Doe | Growth' },
    ],
    ['wrong types', { 'First Name': { a: 1 }, 'Middle Name': null, 'Last Name': ['Doe'] }, {}],
  ])('%s', (_name, data, expected) => {
    const fields = extractPersonFields(data);
    expect({
      firstName: fields.firstName,
      middleName: fields.middleName,
      lastName: fields.lastName,
      fullName: fields.fullName,
    }).toEqual({
      firstName: undefined,
      middleName: undefined,
      lastName: undefined,
      fullName: undefined,
      ...expected,
    });
    for (const key of ['firstName', 'middleName', 'lastName', 'fullName'] as const) {
      expect(Object.hasOwn(fields, key)).toBe(expected[key] !== undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------
// Scalar fields
// ---------------------------------------------------------------------------------------------------------

describe('scalar profile fields', () => {
  it.each<[string, Record<string, unknown>, PersonFields]>([
    ['Connections "500+"', { Connections: '500+' }, { connections: 500, connectionsCapped: true }],
    ['Connections digits', { Connections: '22395' }, { connections: 22395, connectionsCapped: false }],
    ['Connections number', { Connections: 22395 }, { connections: 22395, connectionsCapped: false }],
    ['Connections empty', { Connections: '' }, {}],
    ['Degree "1"', { Degree: '1' }, { degree: 1 }],
    ['Degree "1st"', { Degree: '1st' }, { degree: 1 }],
    ['Degree "2nd"', { Degree: '2nd' }, { degree: 2 }],
    ['Degree "3rd"', { Degree: '3rd' }, { degree: 3 }],
    ['Connection Degree (scan)', { 'Connection Degree': '2nd' }, { degree: 2 }],
    ['empty Degree falls back to Connection Degree', { Degree: '', 'Connection Degree': '3' }, { degree: 3 }],
    [
      'Summary keeps newlines',
      { Summary: '  Line one  \n\n\n\nLine   two ' },
      { summary: 'Line one\n\nLine two' },
    ],
    ['Email lower-cased', { Email: ' Dana@Whitfield.EXAMPLE ' }, { email: 'dana@whitfield.example' }],
    ['Email junk', { Email: 'n/a' }, {}],
    ['Phone to E.164', { Phone: '(310) 555-0158' }, { phone: '+13105550158' }],
    ['Phone junk', { Phone: 'call me' }, {}],
    ['Twitter with @', { Twitter: '@DanaWhitX' }, { twitter: 'danawhitx' }],
    ['Twitter URL', { Twitter: 'https://x.com/danawhitx' }, { twitter: 'danawhitx' }],
    ['Picture must be http(s)', { Picture: 'not-a-url', Thumbnail: 'javascript:alert(1)' }, {}],
    [
      'Industry',
      { Industry: ' IT Services and IT Consulting ' },
      { industry: 'IT Services and IT Consulting' },
    ],
    [
      'Title with "@ Company" kept as given',
      { Title: 'Founder @ Acme', Company: 'Acme' },
      { currentTitle: 'Founder @ Acme', currentCompany: 'Acme' },
    ],
    ['CompanyID digits', { CompanyID: '5512309' }, { currentCompanyId: '5512309' }],
    ['CompanyID number', { CompanyID: 5512309 }, { currentCompanyId: '5512309' }],
    ['CompanyID junk ignored', { CompanyID: 'acme' }, {}],
    [
      'company id from CompanyProfile',
      { CompanyProfile: 'https://www.linkedin.com/company/84316519/?trk=x' },
      { currentCompanyId: '84316519', companyProfileUrl: 'https://www.linkedin.com/company/84316519/' },
    ],
    [
      'CompanyID wins over CompanyProfile',
      { CompanyID: '1', CompanyProfile: 'https://www.linkedin.com/company/2/' },
      { currentCompanyId: '1', companyProfileUrl: 'https://www.linkedin.com/company/2/' },
    ],
    [
      'slug CompanyProfile gives a URL but no id',
      { CompanyProfile: 'http://linkedin.com/company/acme-corp' },
      { companyProfileUrl: 'https://linkedin.com/company/acme-corp' },
    ],
    ['top-level From', { From: '2024' }, { currentRoleStartYear: 2024 }],
    ['top-level From empty', { From: '' }, {}],
  ])('%s', (_name, data, expected) => {
    expect(extractPersonFields(data)).toEqual(expected);
  });

  it('uses the default phone country option', () => {
    expect(extractPersonFields({ Phone: '020 7946 0958' }, { defaultPhoneCountry: 'GB' }).phone).toBe(
      '+442079460958',
    );
    expect(extractPersonFields({ Phone: '020 7946 0958' })).not.toHaveProperty('phone');
    expect(extractPersonFields({ Phone: '+44 20 7946 0958' }).phone).toBe('+442079460958');
  });

  it('collects websites: scheme added, http upgraded, utm dropped, de-duplicated, personal first', () => {
    expect(
      extractPersonFields({
        PersonalWebsite: 'blog.dana.example, http://dana.example/?utm_source=linkedin',
        CompanyWebsite: 'https://dana.example/',
      }).websites,
    ).toEqual(['https://blog.dana.example/', 'https://dana.example/']);
    expect(extractPersonFields({ PersonalWebsite: '', CompanyWebsite: 'mailto:x@y.z' })).not.toHaveProperty(
      'websites',
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Tags and notes
// ---------------------------------------------------------------------------------------------------------

describe('My Tags and My Notes', () => {
  it.each<[string, unknown, string[] | undefined]>([
    ['empty array', [], undefined],
    ['empty string', '', undefined],
    ['string', 'Met at SaaStr', ['Met at SaaStr']],
    ['string with commas is one note', 'Called, left voicemail', ['Called, left voicemail']],
    ['array', ['a', 'b'], ['a', 'b']],
    ['array with blanks, junk and duplicates', ['a', '', '  ', null, { x: 1 }, 7, 'a'], ['a', '7']],
    ['multi-line note keeps newlines', ['Line 1\nLine 2'], ['Line 1\nLine 2']],
    ['emoji', ['🦆 follow up'], ['🦆 follow up']],
    ['wrong type', { note: 'x' }, undefined],
    ['null', null, undefined],
  ])('My Notes %s', (_name, notes, expected) => {
    expect(extractPersonFields({ 'My Notes': notes }).notes).toEqual(expected);
  });

  it.each<[string, unknown, string[] | undefined]>([
    ['empty array', [], undefined],
    [
      'array with emoji campaign tags',
      ['ACME', '🦆-testing a message sent -enrolled'],
      ['ACME', '🦆-testing a message sent -enrolled'],
    ],
    ['comma-separated string', 'ACME, 🦆-default-followup-1 ,', ['ACME', '🦆-default-followup-1']],
    ['duplicates removed', ['ACME', 'ACME', ' ACME '], ['ACME']],
    ['number', 5, undefined],
  ])('My Tags %s', (_name, tags, expected) => {
    expect(extractPersonFields({ 'My Tags': tags }).tags).toEqual(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Roles
// ---------------------------------------------------------------------------------------------------------

const withPositions = (positions: unknown, extra: Record<string, unknown> = {}): PersonFields =>
  extractPersonFields({ ...extra, extended: { positions } });

describe('roles from extended.positions', () => {
  it('reads the real PascalCase shape with M - YYYY dates and an optional Location', () => {
    expect(
      withPositions([
        {
          Company: ' Juniper  Software ',
          Location: 'San Mateo, CA',
          Title: 'Manager',
          Description: ' a \n\n b ',
          From: '9 - 2022',
          To: '',
        },
        { Company: 'Acme', Title: 'Engineer', Description: '', From: '2014', To: '8 - 2022' },
      ]).roles,
    ).toEqual([
      role({
        title: 'Manager',
        companyName: 'Juniper Software',
        location: 'San Mateo, CA',
        description: 'a\n\nb',
        startYear: 2022,
        startMonth: 9,
        isCurrent: true,
      }),
      role({ title: 'Engineer', companyName: 'Acme', startYear: 2014, endYear: 2022, endMonth: 8 }),
    ]);
  });

  it('reads the legacy lower-case shape', () => {
    expect(
      withPositions([
        {
          title: 'VP Sales',
          companyName: 'Acme',
          companyId: '123',
          description: 'Sold things',
          startDate: { month: 3, year: 2020 },
          endDate: null,
          isCurrent: true,
          location: 'Austin, TX',
        },
        {
          title: 'AE',
          companyName: 'Beta',
          startDate: { year: 2015 },
          endDate: { month: 2, year: 2020 },
          isCurrent: false,
        },
      ]).roles,
    ).toEqual([
      role({
        title: 'VP Sales',
        companyName: 'Acme',
        description: 'Sold things',
        location: 'Austin, TX',
        startYear: 2020,
        startMonth: 3,
        isCurrent: true,
      }),
      role({ title: 'AE', companyName: 'Beta', startYear: 2015, endYear: 2020, endMonth: 2 }),
    ]);
  });

  it.each<[string, Record<string, unknown>[], boolean[]]>([
    ['first position, undated, To empty → current', [{ Title: 'A', From: '', To: '' }], [true]],
    [
      'later undated position with empty To → not current',
      [
        { Title: 'A', From: '2020', To: '' },
        { Title: 'B', From: '', To: '' },
      ],
      [true, false],
    ],
    [
      'later dated position with empty To → current (concurrent roles)',
      [
        { Title: 'A', From: '2020', To: '' },
        { Title: 'B', From: '1 - 2025', To: '' },
      ],
      [true, true],
    ],
    [
      'To "Present" → current',
      [
        { Title: 'A', From: '2010', To: '2012' },
        { Title: 'B', From: '', To: 'Present' },
      ],
      [false, true],
    ],
    ['To missing → like empty', [{ Title: 'A', From: '2020' }], [true]],
    ['ended → not current', [{ Title: 'A', From: '2020', To: '2021' }], [false]],
    [
      'legacy end-date object → not current',
      [{ title: 'A', startDate: { year: 2020 }, endDate: { year: 2021 } }],
      [false],
    ],
    ['unreadable To is an end, not current', [{ Title: 'A', From: '2020', To: 'sometime' }], [false]],
  ])('isCurrent: %s', (_name, positions, expected) => {
    expect(withPositions(positions).roles?.map((entry) => entry.isCurrent)).toEqual(expected);
  });

  it('drops an end date before the start date', () => {
    expect(withPositions([{ Title: 'A', From: '5 - 2020', To: '3 - 2019' }]).roles?.[0]).toEqual(
      role({ title: 'A', startYear: 2020, startMonth: 5 }),
    );
  });

  it('skips positions without a title or company and non-object entries', () => {
    const roles = withPositions([
      null,
      'x',
      5,
      [],
      {},
      { Title: '', Company: ' ' },
      { Company: 'Acme' },
    ]).roles;
    expect(roles).toEqual([role({ companyName: 'Acme', isCurrent: false })]);
  });

  it(`keeps at most ${MAX_ROLES} roles`, () => {
    const positions = Array.from({ length: 500 }, (_unused, index) => ({
      Title: `Role ${index}`,
      From: '2000',
      To: '2001',
    }));
    const roles = withPositions(positions).roles ?? [];
    expect(roles).toHaveLength(MAX_ROLES);
    expect(roles[0]?.title).toBe('Role 0');
  });

  it.each<[string, Record<string, unknown>, PersonFields]>([
    [
      'empty Title and Company come from the first current role',
      { Title: '', Company: '' },
      { currentTitle: 'CTO', currentCompany: 'Acme', currentRoleStartYear: 2021 },
    ],
    [
      'a Title that matches a current role fills the company',
      { Title: 'Advisor' },
      { currentTitle: 'Advisor', currentCompany: 'Beta', currentRoleStartYear: 2022 },
    ],
    ['a Title matching no role fills nothing', { Title: 'Chef' }, { currentTitle: 'Chef' }],
    [
      'top-level From wins over the role',
      { Title: 'CTO', Company: 'Acme', From: '2019' },
      { currentTitle: 'CTO', currentCompany: 'Acme', currentRoleStartYear: 2019 },
    ],
  ])('current-role fallback: %s', (_name, extra, expected) => {
    const fields = withPositions(
      [
        { Title: 'CTO', Company: 'Acme', From: '6 - 2021', To: '' },
        { Title: 'Advisor', Company: 'Beta', From: '2022', To: '' },
        { Title: 'Engineer', Company: 'Gamma', From: '2010', To: '2020' },
      ],
      extra,
    );
    expect({
      currentTitle: fields.currentTitle,
      currentCompany: fields.currentCompany,
      currentRoleStartYear: fields.currentRoleStartYear,
    }).toEqual({
      currentTitle: undefined,
      currentCompany: undefined,
      currentRoleStartYear: undefined,
      ...expected,
    });
  });

  it('ignores extended of the wrong type', () => {
    expect(extractPersonFields({ extended: 'positions' })).toEqual({});
    expect(extractPersonFields({ extended: { positions: { Title: 'A' }, schools: 'x', skills: 7 } })).toEqual(
      {},
    );
  });
});

// ---------------------------------------------------------------------------------------------------------
// Education and skills
// ---------------------------------------------------------------------------------------------------------

describe('education from extended.schools', () => {
  const withSchools = (schools: unknown): Education[] | undefined =>
    extractPersonFields({ extended: { schools } }).education;

  it('reads the real shape, tolerates a missing Name, de-duplicates identical entries', () => {
    expect(
      withSchools([
        { Name: 'Northfield University', Degree: 'MBA', Field: 'Leadership', From: '2019', To: '2021' },
        { Degree: 'Bachelor of Science', Field: 'Biology', From: '', To: '' },
        { Degree: 'Bachelor of Science', Field: 'Biology', From: '', To: '' },
        { Name: 'northfield university', Degree: 'mba', Field: 'LEADERSHIP', From: '2019', To: '2021' },
        {
          Name: 'Westbrook College',
          Degree: 'Certificate',
          Field: 'Business',
          From: '2 - 2022',
          To: '11 - 2022',
        },
      ]),
    ).toEqual<Education[]>([
      { school: 'Northfield University', degree: 'MBA', field: 'Leadership', startYear: 2019, endYear: 2021 },
      { school: null, degree: 'Bachelor of Science', field: 'Biology', startYear: null, endYear: null },
      {
        school: 'Westbrook College',
        degree: 'Certificate',
        field: 'Business',
        startYear: 2022,
        endYear: 2022,
      },
    ]);
  });

  it('reads the legacy shape', () => {
    expect(
      withSchools([
        {
          schoolName: 'MIT',
          degree: 'BS',
          fieldOfStudy: 'Physics',
          startDate: { year: 2001 },
          endDate: { year: 2005 },
        },
      ]),
    ).toEqual([{ school: 'MIT', degree: 'BS', field: 'Physics', startYear: 2001, endYear: 2005 }]);
  });

  it('drops empty entries and an end year before the start year', () => {
    expect(
      withSchools([
        { Name: '', Degree: '', Field: '', From: '', To: '' },
        null,
        { Name: 'X', From: '2010', To: '2005' },
      ]),
    ).toEqual([{ school: 'X', degree: null, field: null, startYear: 2010, endYear: null }]);
  });

  it(`keeps at most ${MAX_EDUCATION} entries`, () => {
    expect(
      withSchools(Array.from({ length: 60 }, (_unused, index) => ({ Name: `School ${index}` }))),
    ).toHaveLength(MAX_EDUCATION);
  });
});

describe('skills from extended.skills', () => {
  const withSkills = (skills: unknown): string[] | undefined =>
    extractPersonFields({ extended: { skills } }).skills;

  it('never splits on commas, trims, de-duplicates case-insensitively keeping the first spelling', () => {
    expect(
      withSkills([
        'AWS Console, AWS CLI, Amazon EC2',
        ' Kanban ',
        'kanban',
        'KANBAN',
        'Café',
        '',
        null,
        3,
        { name: 'Go' },
      ]),
    ).toEqual(['AWS Console, AWS CLI, Amazon EC2', 'Kanban', 'Café', 'Go']);
  });

  it(`caps at ${MAX_SKILLS}`, () => {
    const skills = withSkills(Array.from({ length: 300 }, (_unused, index) => `Skill ${index}`)) ?? [];
    expect(skills).toHaveLength(MAX_SKILLS);
    expect(skills[99]).toBe('Skill 99');
  });

  it('is omitted when empty', () => {
    expect(withSkills([])).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Hostile input
// ---------------------------------------------------------------------------------------------------------

const EVERY_FIELD = [
  'First Name',
  'Middle Name',
  'Last Name',
  'Title',
  'Company',
  'CompanyID',
  'CompanyProfile',
  'Location',
  'Industry',
  'Connections',
  'Degree',
  'Connection Degree',
  'Summary',
  'Email',
  'Phone',
  'Twitter',
  'CompanyWebsite',
  'PersonalWebsite',
  'Picture',
  'Thumbnail',
  'My Tags',
  'My Notes',
  'From',
  'extended',
];

describe('hostile input never throws', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['string', 'visit'],
    ['number', 7],
    ['array', [{ 'First Name': 'A' }]],
    ['function', () => ({ 'First Name': 'A' })],
    ['symbol', Symbol('x')],
    ['Date', new Date()],
    ['Map', new Map([['First Name', 'A']])],
  ])('%s → {}', (_name, input) => {
    expect(extractPersonFields(input)).toEqual({});
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['object', { nested: { deeper: true } }],
    ['array of objects', [{ a: 1 }, { b: 2 }]],
    ['boolean', true],
    ['NaN', Number.NaN],
  ])('every field set to %s → nothing extracted', (_name, value) => {
    const data = Object.fromEntries(EVERY_FIELD.map((key) => [key, value]));
    expect(extractPersonFields(data)).toEqual({});
  });

  it('numbers where strings are expected are read as text', () => {
    expect(extractPersonFields({ 'First Name': 42, Title: 7, Connections: 12, Degree: 2 })).toEqual({
      firstName: '42',
      fullName: '42',
      currentTitle: '7',
      connections: 12,
      connectionsCapped: false,
      degree: 2,
    });
  });

  it('bounds 10 000-character fields', () => {
    const long = 'x'.repeat(10_000);
    const data: Record<string, unknown> = Object.fromEntries(
      EVERY_FIELD.filter((key) => key !== 'extended').map((key) => [key, long]),
    );
    data.Summary = `${'word '.repeat(2_000)}`.trim();
    data.extended = {
      positions: [{ Title: long, Company: long, Description: long, From: long, To: long }],
      skills: [long],
      schools: [{ Name: long }],
    };
    const started = Date.now();
    const fields = extractPersonFields(data);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fields.firstName).toHaveLength(1_000);
    expect(fields.summary).toHaveLength(9_999);
    expect(fields.roles?.[0]?.description).toHaveLength(10_000);
    expect(fields.skills?.[0]).toHaveLength(1_000);
    expect(fields).not.toHaveProperty('email');
    expect(fields).not.toHaveProperty('phone');
    expect(fields).not.toHaveProperty('connections');
  });

  it('keeps emoji and non-ASCII text intact', () => {
    expect(
      extractPersonFields({
        Title: 'Growth 🚀 Lead',
        Company: 'Société Générale',
        Summary: '👋 Olá\nこんにちは',
        Location: '東京, 日本',
      }),
    ).toMatchObject({
      currentTitle: 'Growth 🚀 Lead',
      currentCompany: 'Société Générale',
      summary: '👋 Olá\nこんにちは',
      location: { city: '東京', country: 'Japan', countryCode: 'JP' },
    });
  });

  it('does not pollute prototypes with __proto__ / constructor keys', () => {
    const payload = JSON.parse(`{
      "__proto__": { "polluted": true, "Title": "Injected" },
      "constructor": { "prototype": { "polluted": true } },
      "First Name": "Ann",
      "My Tags": ["__proto__", "constructor"],
      "extended": {
        "__proto__": { "positions": [{ "Title": "Injected" }] },
        "positions": [{ "__proto__": { "isCurrent": true }, "Title": "CTO", "From": "2020", "To": "2021" }],
        "skills": ["__proto__", "toString"],
        "schools": [{ "__proto__": { "Name": "Injected" }, "Degree": "BS" }]
      },
      "Location": "__proto__, constructor"
    }`) as unknown;
    const fields = extractPersonFields(payload);
    expect(Object.getPrototypeOf(fields)).toBe(Object.prototype);
    expect(Object.hasOwn(fields, '__proto__')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(fields).toMatchObject({
      firstName: 'Ann',
      tags: ['__proto__', 'constructor'],
      skills: ['__proto__', 'toString'],
      roles: [role({ title: 'CTO', startYear: 2020, endYear: 2021 })],
      education: [{ school: null, degree: 'BS', field: null, startYear: null, endYear: null }],
    });
    expect(fields).not.toHaveProperty('currentTitle');
  });

  it('ignores values a polluted Object.prototype would supply', () => {
    Object.defineProperty(Object.prototype, 'Title', {
      value: 'Injected',
      configurable: true,
      writable: true,
    });
    try {
      expect(extractPersonFields({ 'First Name': 'Ann' })).toEqual({ firstName: 'Ann', fullName: 'Ann' });
    } finally {
      delete (Object.prototype as Record<string, unknown>).Title;
    }
  });

  it('a throwing getter loses only its own group of fields', () => {
    const data = {
      'First Name': 'Ann',
      Email: 'ann@acme.example',
      get Title(): string {
        throw new Error('boom');
      },
    };
    expect(extractPersonFields(data)).toEqual({
      firstName: 'Ann',
      fullName: 'Ann',
      email: 'ann@acme.example',
    });
  });

  it('a proxy that throws on every trap yields {}', () => {
    const fail = (): never => {
      throw new Error('trap');
    };
    const hostile = new Proxy({}, { get: fail, has: fail, ownKeys: fail, getOwnPropertyDescriptor: fail });
    expect(extractPersonFields(hostile)).toEqual({});
    expect(extractCompanyRef(hostile)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Company reference
// ---------------------------------------------------------------------------------------------------------

describe('extractCompanyRef', () => {
  it('index 0: id from CompanyProfile, website and domain', () => {
    expect(extractCompanyRef(fixtureData(0))).toEqual<CompanyRef>({
      linkedinId: '735879098',
      name: 'Orchard Cyber',
      website: 'https://www.orchardcyber.example/',
      domain: 'orchardcyber.example',
      industry: 'Computer and Network Security',
      aliases: [
        { kind: 'linkedin_id', value: '735879098' },
        { kind: 'name_domain', value: 'orchard cyber|orchardcyber.example' },
        { kind: 'name', value: 'orchard cyber' },
      ],
    });
  });

  it('index 51: CompanyID and a legal suffix stripped from the alias', () => {
    expect(extractCompanyRef(fixtureData(51))).toEqual<CompanyRef>({
      linkedinId: '5512309',
      name: 'Quartz & Co',
      industry: 'Human Resources Services',
      aliases: [
        { kind: 'linkedin_id', value: '5512309' },
        { kind: 'name', value: 'quartz' },
      ],
    });
  });

  it('index 52: no company information → null', () => {
    expect(extractCompanyRef(fixtureData(52))).toBeNull();
  });

  it.each<[string, Record<string, unknown>, Partial<CompanyRef>]>([
    [
      'slug URL',
      { CompanyProfile: 'https://www.linkedin.com/company/Acme-Corp/' },
      { slug: 'acme-corp', aliases: [{ kind: 'slug', value: 'acme-corp' }] },
    ],
    [
      'slug URL without scheme, with a sub-page',
      { CompanyProfile: 'linkedin.com/company/acme-corp/life/?trk=x' },
      { slug: 'acme-corp' },
    ],
    [
      'percent-encoded slug',
      { CompanyProfile: 'https://www.linkedin.com/company/caf%C3%A9-m%C3%BCller/' },
      { slug: 'café-müller' },
    ],
    [
      'decomposed accents are recomposed',
      { CompanyProfile: 'https://www.linkedin.com/company/cafe%CC%81/' },
      { slug: 'caf\u00e9' },
    ],
    [
      'Sales Navigator URL',
      { CompanyProfile: 'https://www.linkedin.com/sales/company/1035' },
      { linkedinId: '1035', aliases: [{ kind: 'linkedin_id', value: '1035' }] },
    ],
    [
      'school page',
      { CompanyProfile: 'https://www.linkedin.com/school/stanford-university/' },
      { slug: 'stanford-university' },
    ],
    [
      'CompanyID wins over the profile id',
      { CompanyID: '1', CompanyProfile: 'https://www.linkedin.com/company/2/' },
      { linkedinId: '1' },
    ],
    ['CompanyID as a number', { CompanyID: 42 }, { linkedinId: '42' }],
    ['CompanyID as a URN', { CompanyID: 'urn:li:company:42' }, { linkedinId: '42' }],
    [
      'subdomain and two-level public suffix',
      { Company: 'Acme Ltd', CompanyWebsite: 'https://careers.acme.co.uk/jobs?utm_source=company_page' },
      {
        website: 'https://careers.acme.co.uk/jobs',
        domain: 'acme.co.uk',
        aliases: [
          { kind: 'name_domain', value: 'acme|acme.co.uk' },
          { kind: 'name', value: 'acme' },
        ],
      },
    ],
    [
      'hosting platform keeps the sub-domain',
      { Company: 'Acme', CompanyWebsite: 'acme.github.io' },
      { domain: 'acme.github.io' },
    ],
    [
      'a social page says nothing about the domain',
      { Company: 'Acme', CompanyWebsite: 'https://www.facebook.com/acme' },
      { website: 'https://www.facebook.com/acme', domain: undefined },
    ],
    [
      'placeholder name with an id keeps only the id alias',
      { Company: 'Self-employed', CompanyID: '7' },
      { name: 'Self-employed', aliases: [{ kind: 'linkedin_id', value: '7' }] },
    ],
  ])('%s', (_name, data, expected) => {
    const ref = extractCompanyRef(data);
    expect(ref).not.toBeNull();
    for (const [key, value] of Object.entries(expected))
      expect(ref?.[key as keyof CompanyRef]).toEqual(value);
  });

  it.each<[string, unknown]>([
    ['nothing', {}],
    ['only an industry', { Industry: 'Software Development' }],
    ['only a placeholder name', { Company: 'Self-employed' }],
    ['a non-LinkedIn profile URL', { CompanyProfile: 'https://example.com/company/123' }],
    ['wrong types', { Company: { name: 'Acme' }, CompanyID: [1], CompanyProfile: 5, CompanyWebsite: null }],
    ['not an object', 'Acme'],
    ['null', null],
  ])('%s → null', (_name, data) => {
    expect(extractCompanyRef(data)).toBeNull();
  });

  it('never carries a polluted prototype', () => {
    const ref = extractCompanyRef(JSON.parse('{"__proto__": {"polluted": true}, "Company": "Acme"}'));
    expect(Object.getPrototypeOf(ref)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('normaliseCompanyName', () => {
  it.each<[string, string | undefined]>([
    ['Acme, Inc.', 'acme'],
    ['ACME Corp', 'acme'],
    ['Acme Corporation', 'acme'],
    ['Acme Co., Ltd.', 'acme'],
    ['Acme Limited', 'acme'],
    ['Acme LLC', 'acme'],
    ['Acme PLC', 'acme'],
    ['Müller GmbH', 'muller'],
    ['Siemens AG', 'siemens'],
    ['Société Générale S.A.', 'societe generale'],
    ['Philips B.V.', 'philips'],
    ['Harbor & Pine', 'harbor and pine'],
    ['Harbor and Pine, LLC', 'harbor and pine'],
    ['Quartz & Co', 'quartz'],
    ["McDonald's Corporation", 'mcdonalds'],
    ['Tri-County   Supply', 'tri county supply'],
    ['Inc', 'inc'],
    ['株式会社トヨタ', '株式会社トヨタ'],
    ['!!!', undefined],
    ['', undefined],
  ])('%j → %j', (input, expected) => {
    expect(normaliseCompanyName(input)).toBe(expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Derived metrics
// ---------------------------------------------------------------------------------------------------------

describe('deriveMetrics', () => {
  const asOf = new Date('2025-01-01T00:00:00Z');

  it.each<[string, Role[] | undefined, ReturnType<typeof deriveMetrics>]>([
    [
      'no roles',
      undefined,
      { yearsAtCurrentCompany: null, totalTenureYears: null, rolesCount: 0, averageTenureYears: null },
    ],
    [
      'empty roles',
      [],
      { yearsAtCurrentCompany: null, totalTenureYears: null, rolesCount: 0, averageTenureYears: null },
    ],
    [
      'one current role',
      [role({ companyName: 'Acme', startYear: 2021, startMonth: 1, isCurrent: true })],
      { yearsAtCurrentCompany: 4, totalTenureYears: 4, rolesCount: 1, averageTenureYears: 4 },
    ],
    [
      'promotion at the same employer counts as one stay',
      [
        role({ companyName: 'Acme', startYear: 2021, startMonth: 1, isCurrent: true }),
        role({ companyName: 'ACME', startYear: 2018, startMonth: 1, endYear: 2020, endMonth: 12 }),
      ],
      { yearsAtCurrentCompany: 7, totalTenureYears: 7, rolesCount: 2, averageTenureYears: 3.5 },
    ],
    [
      'a return to a former employer starts a new stay',
      [
        role({ companyName: 'Acme', startYear: 2015, startMonth: 1, isCurrent: true }),
        role({ companyName: 'Acme', startYear: 2010, endYear: 2012 }),
      ],
      { yearsAtCurrentCompany: 10, totalTenureYears: 13, rolesCount: 2, averageTenureYears: 6.5 },
    ],
    [
      'overlapping roles are not double-counted',
      [
        role({ companyName: 'A', startYear: 2020, startMonth: 1, endYear: 2021, endMonth: 12 }),
        role({ companyName: 'B', startYear: 2021, startMonth: 1, endYear: 2022, endMonth: 12 }),
      ],
      { yearsAtCurrentCompany: null, totalTenureYears: 3, rolesCount: 2, averageTenureYears: 2 },
    ],
    [
      'year-only dates span whole years',
      [role({ companyName: 'A', startYear: 2014, endYear: 2016 })],
      { yearsAtCurrentCompany: null, totalTenureYears: 3, rolesCount: 1, averageTenureYears: 3 },
    ],
    [
      'undated, future and open-but-not-current roles are counted but not measured',
      [
        role({ companyName: 'Now', isCurrent: true }),
        role({ companyName: 'Future', startYear: 2026, isCurrent: true }),
        role({ companyName: 'Open', startYear: 2010 }),
        role({ companyName: 'Done', startYear: 2019, startMonth: 7, endYear: 2020, endMonth: 6 }),
      ],
      { yearsAtCurrentCompany: null, totalTenureYears: 1, rolesCount: 4, averageTenureYears: 1 },
    ],
    [
      'one decimal',
      [role({ companyName: 'Acme', startYear: 2021, startMonth: 3, isCurrent: true })],
      { yearsAtCurrentCompany: 3.8, totalTenureYears: 3.8, rolesCount: 1, averageTenureYears: 3.8 },
    ],
  ])('%s', (_name, roles, expected) => {
    expect(deriveMetrics(roles, asOf)).toEqual(expected);
  });

  it('skips entries that are not roles instead of throwing', () => {
    const junk = [
      null,
      'x',
      3,
      role({ companyName: 'A', startYear: 2020, startMonth: 1, endYear: 2020, endMonth: 12 }),
    ];
    expect(deriveMetrics(junk as unknown as Role[], asOf)).toEqual({
      yearsAtCurrentCompany: null,
      totalTenureYears: 1,
      rolesCount: 1,
      averageTenureYears: 1,
    });
  });

  it('an invalid asOf measures nothing', () => {
    expect(deriveMetrics([role({ startYear: 2020, isCurrent: true })], new Date('nope'))).toEqual({
      yearsAtCurrentCompany: null,
      totalTenureYears: null,
      rolesCount: 1,
      averageTenureYears: null,
    });
  });

  it('index 0: concurrent current roles and a 24-year career', () => {
    const roles = extractPersonFields(fixtureData(0)).roles;
    expect(deriveMetrics(roles, new Date('2025-07-03T00:00:00Z'))).toEqual({
      yearsAtCurrentCompany: 0.6,
      totalTenureYears: 24.4,
      rolesCount: 12,
      averageTenureYears: 2.4,
    });
  });
});
