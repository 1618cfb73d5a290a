import fs from 'node:fs';
import path from 'node:path';

import {
  HARD_KINDS,
  IDENTIFIER_PRIORITY,
  extractIdentifiers,
  identifiersFromLinkedInUrl,
  normaliseEmail,
  parseMemberId,
  parseSalesNavId,
  parseUsername,
} from '../src/identity/identifiers';
import type { Identifier, IdentifierKind } from '../src/identity/identifiers';

interface Fixture {
  index: number;
  kind: string;
  payload: { type: string; data: unknown };
}

/** [kind, value, display, field] */
type Row = [IdentifierKind, string, string, string];

const fixtures = JSON.parse(
  fs.readFileSync(path.join(__dirname, '../../shared/fixtures/duxsoup-samples-public.json'), 'utf8'),
) as Fixture[];

function fixtureData(index: number): unknown {
  const fixture = fixtures.find((candidate) => candidate.index === index);
  if (fixture === undefined) throw new Error(`fixture ${index} missing`);
  return fixture.payload.data;
}

function rows(identifiers: Identifier[]): Row[] {
  return identifiers.map(({ kind, value, display, field }) => [kind, value, display, field]);
}

function valuesOf(identifiers: Identifier[], kind: IdentifierKind): string[] {
  return identifiers.filter((identifier) => identifier.kind === kind).map((identifier) => identifier.value);
}

function sharedAliases(a: Identifier[], b: Identifier[]): string[] {
  const keysOfB = new Set(b.map((identifier) => `${identifier.kind}:${identifier.value}`));
  return a.map((identifier) => `${identifier.kind}:${identifier.value}`).filter((key) => keysOfB.has(key));
}

const DANA_NAV_ID = 'ACwAAAQj9pHGb3761KUelHwsxPPmF-bjSFcwfPJ';
const ALEX_NAV_ID = 'ACoAAFpjSM0WuV_8N6yF-bJ9IKffW92TKwMlaTk';
const HANNAH_NAV_ID = 'ACwAACTr5YsBn2QpW8vXz1MkLdHj3FgE0aU9oId';
const OUT_OF_NETWORK_NAV_ID = 'ACwAAB7kLmN2pQr4StUv6WxYz8AbCdEfGhIjKlM';
const LI = 'https://www.linkedin.com';

/** Modelled on fixture 49 (not in the public subset): out-of-network member with `/in/<ACwAA…>` as Profile. */
const OUT_OF_NETWORK_VISIT = {
  id: 'id.52018377',
  Profile: `${LI}/in/${OUT_OF_NETWORK_NAV_ID}`,
  SalesProfile: `${LI}/sales/lead/${OUT_OF_NETWORK_NAV_ID},OUT_OF_NETWORK,Zx9q`,
  RecruiterProfile: `${LI}/talent/profile/${OUT_OF_NETWORK_NAV_ID}`,
  'First Name': 'LinkedIn',
  'Last Name': 'Member',
  Email: '',
};

describe('constants', () => {
  it('orders the waterfall strongest first', () => {
    expect(IDENTIFIER_PRIORITY).toEqual([
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
    ]);
  });

  it('treats only Sales Navigator ids and member numbers as hard', () => {
    expect([...HARD_KINDS].sort()).toEqual(['member_id', 'sales_nav_id']);
  });
});

describe('extractIdentifiers on the public fixtures', () => {
  const expectedByFixture: Array<[string, number, Row[]]> = [
    [
      'real visit with /sales/lead/…,NAME_SEARCH and e-mail',
      0,
      [
        ['sales_nav_id', DANA_NAV_ID.toLowerCase(), DANA_NAV_ID, 'SalesProfile'],
        ['member_id', '18619978', '18619978', 'data.id'],
        ['username', 'danawhitfield', 'danawhitfield', 'Profile'],
        ['profile_url', `${LI}/in/danawhitfield`, `${LI}/in/danawhitfield`, 'Profile'],
        [
          'recruiter_url',
          `${LI}/talent/profile/${DANA_NAV_ID.toLowerCase()}`,
          `${LI}/talent/profile/${DANA_NAV_ID}`,
          'RecruiterProfile',
        ],
        [
          'sales_url',
          `${LI}/sales/lead/${DANA_NAV_ID.toLowerCase()}`,
          `${LI}/sales/lead/${DANA_NAV_ID}`,
          'SalesProfile',
        ],
        ['duxsoup_id', 'id.18619978', 'id.18619978', 'data.id'],
        ['email', 'dana@whitfield.example', 'dana@whitfield.example', 'Email'],
      ],
    ],
    [
      'real visit with /sales/people/…,name and trailing-slash Profile',
      6,
      [
        ['sales_nav_id', ALEX_NAV_ID.toLowerCase(), ALEX_NAV_ID, 'SalesProfile'],
        ['member_id', '8315271696', '8315271696', 'data.id'],
        ['username', 'alex-moreno-hmlkgf4z', 'alex-moreno-hmlkgf4z', 'Profile'],
        ['profile_url', `${LI}/in/alex-moreno-hmlkgf4z`, `${LI}/in/alex-moreno-hmlkgf4z`, 'Profile'],
        [
          'recruiter_url',
          `${LI}/talent/profile/${ALEX_NAV_ID.toLowerCase()}`,
          `${LI}/talent/profile/${ALEX_NAV_ID}`,
          'RecruiterProfile',
        ],
        [
          'sales_url',
          `${LI}/sales/lead/${ALEX_NAV_ID.toLowerCase()}`,
          `${LI}/sales/lead/${ALEX_NAV_ID}`,
          'SalesProfile',
        ],
        ['duxsoup_id', 'id.8315271696', 'id.8315271696', 'data.id'],
      ],
    ],
    [
      'documented minimal visit',
      41,
      [
        ['member_id', '31829455', '31829455', 'data.id'],
        ['username', 'oliviamarsh2', 'oliviamarsh2', 'Profile'],
        ['profile_url', `${LI}/in/oliviamarsh2`, `${LI}/in/oliviamarsh2`, 'Profile'],
        ['duxsoup_id', 'id.31829455', 'id.31829455', 'data.id'],
      ],
    ],
    [
      'legacy /pub/ Profile, 7-digit id, empty Sales/Recruiter URLs',
      47,
      [
        ['member_id', '3302118', '3302118', 'data.id'],
        ['username', 'maria-delgado', 'maria-delgado', 'Profile'],
        ['profile_url', `${LI}/pub/maria-delgado`, `${LI}/pub/maria-delgado`, 'Profile'],
        ['duxsoup_id', 'id.3302118', 'id.3302118', 'data.id'],
      ],
    ],
    [
      'legacy pid.<slug> id',
      48,
      [
        ['username', 'jane-okoro-7f3e2a', 'jane-okoro-7f3e2a', 'data.id'],
        ['profile_url', `${LI}/in/jane-okoro-7f3e2a`, `${LI}/in/jane-okoro-7f3e2a`, 'Profile'],
        ['duxsoup_id', 'pid.jane-okoro-7f3e2a', 'pid.jane-okoro-7f3e2a', 'data.id'],
      ],
    ],
    [
      'scan with Profile, PublicProfile and SalesProfile',
      51,
      [
        ['sales_nav_id', HANNAH_NAV_ID.toLowerCase(), HANNAH_NAV_ID, 'SalesProfile'],
        ['member_id', '618273645', '618273645', 'data.id'],
        ['username', 'hannah-brooks-4e5f6a7b', 'hannah-brooks-4e5f6a7b', 'Profile'],
        ['profile_url', `${LI}/in/hannah-brooks-4e5f6a7b`, `${LI}/in/hannah-brooks-4e5f6a7b`, 'Profile'],
        ['public_url', `${LI}/in/hannah-brooks-4e5f6a7b`, `${LI}/in/hannah-brooks-4e5f6a7b`, 'PublicProfile'],
        [
          'sales_url',
          `${LI}/sales/lead/${HANNAH_NAV_ID.toLowerCase()}`,
          `${LI}/sales/lead/${HANNAH_NAV_ID}`,
          'SalesProfile',
        ],
        ['duxsoup_id', 'id.618273645', 'id.618273645', 'data.id'],
      ],
    ],
    [
      'scan without SalesProfile',
      52,
      [
        ['member_id', '90012873', '90012873', 'data.id'],
        ['username', 'cher-example', 'cher-example', 'Profile'],
        ['profile_url', `${LI}/in/cher-example`, `${LI}/in/cher-example`, 'Profile'],
        ['public_url', `${LI}/in/cher-example`, `${LI}/in/cher-example`, 'PublicProfile'],
        ['duxsoup_id', 'id.90012873', 'id.90012873', 'data.id'],
      ],
    ],
  ];

  it.each(expectedByFixture)('fixture: %s (#%i)', (_label, index, expected) => {
    expect(rows(extractIdentifiers(fixtureData(index)))).toEqual(expected);
  });

  it('handles an out-of-network visit with /in/<ACwAA…> as Profile (fixture 49 shape)', () => {
    const navId = OUT_OF_NETWORK_NAV_ID;
    expect(rows(extractIdentifiers(OUT_OF_NETWORK_VISIT))).toEqual([
      ['sales_nav_id', navId.toLowerCase(), navId, 'Profile'],
      ['member_id', '52018377', '52018377', 'data.id'],
      ['profile_url', `${LI}/in/${navId.toLowerCase()}`, `${LI}/in/${navId}`, 'Profile'],
      [
        'recruiter_url',
        `${LI}/talent/profile/${navId.toLowerCase()}`,
        `${LI}/talent/profile/${navId}`,
        'RecruiterProfile',
      ],
      ['sales_url', `${LI}/sales/lead/${navId.toLowerCase()}`, `${LI}/sales/lead/${navId}`, 'SalesProfile'],
      ['duxsoup_id', 'id.52018377', 'id.52018377', 'data.id'],
    ]);
  });

  it.each(fixtures.map((fixture): [number, string, Fixture] => [fixture.index, fixture.kind, fixture]))(
    'fixture #%i (%s) yields well-formed, unique, sorted identifiers',
    (_index, _kind, fixture) => {
      const identifiers = extractIdentifiers(fixture.payload.data);
      const keys = identifiers.map((identifier) => `${identifier.kind}:${identifier.value}`);
      const ranks = identifiers.map((identifier) => IDENTIFIER_PRIORITY.indexOf(identifier.kind));

      expect(new Set(keys).size).toBe(keys.length);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      for (const identifier of identifiers) {
        expect(identifier.value).toBe(identifier.display.toLowerCase());
        expect(identifier.value).toBe(identifier.value.trim());
        expect(identifier.value).not.toBe('');
      }
    },
  );

  const personFixtures = fixtures.filter((fixture) => fixture.kind !== 'other');

  it.each(personFixtures.map((fixture): [number, Fixture] => [fixture.index, fixture]))(
    'person fixture #%i has a member id or a username',
    (_index, fixture) => {
      const kinds = extractIdentifiers(fixture.payload.data).map((identifier) => identifier.kind);
      expect(kinds.some((kind) => kind === 'member_id' || kind === 'username')).toBe(true);
    },
  );

  it('gives the create (#9) and the update (#10) of one visit the same hard identifiers', () => {
    const hardOf = (index: number): string[] =>
      extractIdentifiers(fixtureData(index))
        .filter((identifier) => HARD_KINDS.has(identifier.kind))
        .map((identifier) => `${identifier.kind}:${identifier.value}`);
    expect(hardOf(10)).toEqual(hardOf(9));
    expect(valuesOf(extractIdentifiers(fixtureData(10)), 'email')).toEqual(['alex@moreno.example']);
  });

  it('links the message-bridge `to` URL (/in/<ACoAA…>, fixture #14) to the visited person (#6)', () => {
    const data = fixtureData(14) as { to: string };
    const fromMessage = identifiersFromLinkedInUrl(data.to, 'to');
    expect(sharedAliases(fromMessage, extractIdentifiers(fixtureData(6)))).toEqual([
      `sales_nav_id:${ALEX_NAV_ID.toLowerCase()}`,
    ]);
  });
});

describe('identity overlap between observations', () => {
  it('Mike Hare: a Sales Nav visit and a later /in/-only scan share the username', () => {
    const visit = extractIdentifiers({
      id: 'pid.mike-hare',
      Profile: `${LI}/in/mike-hare/`,
      SalesProfile: `${LI}/sales/lead/ACwAAABCDEF,NAME_SEARCH,x1_Y`,
    });
    const laterScan = extractIdentifiers({ Profile: `${LI}/in/Mike-Hare` });

    expect(rows(visit)).toEqual([
      ['sales_nav_id', 'acwaaabcdef', 'ACwAAABCDEF', 'SalesProfile'],
      ['username', 'mike-hare', 'mike-hare', 'data.id'],
      ['profile_url', `${LI}/in/mike-hare`, `${LI}/in/mike-hare`, 'Profile'],
      ['sales_url', `${LI}/sales/lead/acwaaabcdef`, `${LI}/sales/lead/ACwAAABCDEF`, 'SalesProfile'],
      ['duxsoup_id', 'pid.mike-hare', 'pid.mike-hare', 'data.id'],
    ]);
    expect(rows(laterScan)).toEqual([
      ['username', 'mike-hare', 'Mike-Hare', 'Profile'],
      ['profile_url', `${LI}/in/mike-hare`, `${LI}/in/Mike-Hare`, 'Profile'],
    ]);
    expect(sharedAliases(visit, laterScan)).toEqual(['username:mike-hare', `profile_url:${LI}/in/mike-hare`]);
  });

  it('an /in/<ACwAA…> Profile and a vanity Profile with the same Sales Nav id share the id', () => {
    const outOfNetwork = extractIdentifiers({ Profile: `${LI}/in/${OUT_OF_NETWORK_NAV_ID}` });
    const vanity = extractIdentifiers({
      Profile: `${LI}/in/linkedin-member-7a1`,
      SalesProfile: `${LI}/sales/lead/${OUT_OF_NETWORK_NAV_ID},NAME_SEARCH,aB1_`,
    });
    const lowercasedLegacyAlias = extractIdentifiers({
      SalesProfile: `www.linkedin.com/sales/lead/${OUT_OF_NETWORK_NAV_ID.toLowerCase()},name_search,ab1_`,
    });

    expect(valuesOf(outOfNetwork, 'username')).toEqual([]);
    expect(sharedAliases(outOfNetwork, vanity)).toEqual([
      `sales_nav_id:${OUT_OF_NETWORK_NAV_ID.toLowerCase()}`,
    ]);
    expect(sharedAliases(vanity, lowercasedLegacyAlias)).toEqual([
      `sales_nav_id:${OUT_OF_NETWORK_NAV_ID.toLowerCase()}`,
      `sales_url:${LI}/sales/lead/${OUT_OF_NETWORK_NAV_ID.toLowerCase()}`,
    ]);
  });

  it('keeps the first-seen display and field when one id appears in several fields and cases', () => {
    const identifiers = extractIdentifiers({
      SalesProfile: `${LI}/sales/people/${ALEX_NAV_ID},name,DH_y`,
      RecruiterProfile: `${LI}/talent/profile/${ALEX_NAV_ID.toLowerCase()}`,
    });
    const navIds = identifiers.filter((identifier) => identifier.kind === 'sales_nav_id');
    expect(navIds).toEqual([
      { kind: 'sales_nav_id', value: ALEX_NAV_ID.toLowerCase(), display: ALEX_NAV_ID, field: 'SalesProfile' },
    ]);
  });

  it('reads the scan alias `Profile URL` and a Sales Nav URL sitting in `Profile`', () => {
    const identifiers = extractIdentifiers({
      Profile: `${LI}/sales/lead/${HANNAH_NAV_ID},NAME_SEARCH,r7Lw`,
      'Profile URL': `${LI}/in/hannah-brooks-4e5f6a7b`,
      PublicProfile: '',
    });
    expect(rows(identifiers).map(([kind, , , field]) => [kind, field])).toEqual([
      ['sales_nav_id', 'Profile'],
      ['username', 'Profile URL'],
      ['profile_url', 'Profile URL'],
      ['sales_url', 'Profile'],
    ]);
  });

  it('sorts several values of one kind by value', () => {
    const identifiers = extractIdentifiers({
      Profile: `${LI}/in/zed-user`,
      PublicProfile: `${LI}/in/abe-user`,
    });
    expect(valuesOf(identifiers, 'username')).toEqual(['abe-user', 'zed-user']);
  });
});

describe('data.id', () => {
  const cases: Array<[string, unknown, Row[]]> = [
    [
      '10-digit id.',
      'id.8315271696',
      [
        ['member_id', '8315271696', '8315271696', 'data.id'],
        ['duxsoup_id', 'id.8315271696', 'id.8315271696', 'data.id'],
      ],
    ],
    [
      '7-digit id. (the Alton Harewood case)',
      'id.1927818',
      [
        ['member_id', '1927818', '1927818', 'data.id'],
        ['duxsoup_id', 'id.1927818', 'id.1927818', 'data.id'],
      ],
    ],
    ['6 digits: Dux-Soup id only', 'id.192781', [['duxsoup_id', 'id.192781', 'id.192781', 'data.id']]],
    ['all zeros: Dux-Soup id only', 'id.0000000', [['duxsoup_id', 'id.0000000', 'id.0000000', 'data.id']]],
    [
      'pid. slug with 8 digits is a username, not a member id',
      'pid.jane-smith-99887766',
      [
        ['username', 'jane-smith-99887766', 'jane-smith-99887766', 'data.id'],
        ['duxsoup_id', 'pid.jane-smith-99887766', 'pid.jane-smith-99887766', 'data.id'],
      ],
    ],
    [
      'mixed-case pid. keeps the display, lower-cases the value',
      ' pid.Mike-Hare ',
      [
        ['username', 'mike-hare', 'Mike-Hare', 'data.id'],
        ['duxsoup_id', 'pid.mike-hare', 'pid.Mike-Hare', 'data.id'],
      ],
    ],
    ['pid. with a junk slug', 'pid.x', [['duxsoup_id', 'pid.x', 'pid.x', 'data.id']]],
    [
      'bare number',
      12345678,
      [
        ['member_id', '12345678', '12345678', 'data.id'],
        ['duxsoup_id', '12345678', '12345678', 'data.id'],
      ],
    ],
    ['"null"', 'null', []],
    ['"undefined"', 'undefined', []],
    ['blank', '   ', []],
    ['object', { id: 'id.12345678' }, []],
    ['10 000 characters', 'id.' + '1'.repeat(10_000), []],
  ];

  it.each(cases)('%s', (_label, id, expected) => {
    expect(rows(extractIdentifiers({ id }))).toEqual(expected);
  });
});

describe('LinkedIn URL normalisation', () => {
  const sameProfileVariants: string[] = [
    'https://www.linkedin.com/in/mike-hare',
    'http://www.linkedin.com/in/mike-hare/',
    'linkedin.com/in/mike-hare',
    'www.linkedin.com/in/Mike-Hare/',
    '//www.linkedin.com/in/mike-hare',
    'https://uk.linkedin.com/in/mike-hare',
    'HTTPS://WWW.LINKEDIN.COM/IN/MIKE-HARE',
    '  https://www.linkedin.com/in/mike-hare/en/ \n',
    'https://www.linkedin.com/in/mike-hare?lipi=urn%3Ali%3Apage%3Afeed_index_index%3B91e0da06',
    'https://www.linkedin.com/in/mike-hare/?miniProfileUrn=urn%3Ali%3Afs_miniProfile%3AACoAAB12',
    'https://www.linkedin.com/in/mike-hare#experience',
    'https://www.linkedin.com//in//mike-hare//',
    'https://www.linkedin.com/in/mike-hare/details/experience/',
  ];

  it.each(sameProfileVariants)('%j -> /in/mike-hare', (url) => {
    expect(identifiersFromLinkedInUrl(url, 'linkedin_url').map(({ kind, value }) => [kind, value])).toEqual([
      ['username', 'mike-hare'],
      ['profile_url', `${LI}/in/mike-hare`],
    ]);
  });

  it.each([
    ['percent-encoded with locale suffix', 'https://www.linkedin.com/in/zo%C3%AB-%C5%82ukasiewicz/en/'],
    ['raw Unicode, upper case', 'https://www.linkedin.com/in/Zoë-Łukasiewicz'],
    ['decomposed (NFD) diaeresis', 'https://www.linkedin.com/in/zoe\u0308-\u0142ukasiewicz'],
  ])('decodes a Unicode slug: %s', (_label, url) => {
    expect(parseUsername(url)).toBe('zoë-łukasiewicz');
    expect(valuesOf(identifiersFromLinkedInUrl(url, 'x'), 'profile_url')).toEqual([
      `${LI}/in/zoë-łukasiewicz`,
    ]);
  });

  it('keeps an emoji slug', () => {
    expect(parseUsername('https://www.linkedin.com/in/%E2%9A%A1rod-kirkpatrick')).toBe('⚡rod-kirkpatrick');
  });

  it('normalises a country-subdomain /pub/ URL and drops its trailing segments', () => {
    expect(
      rows(identifiersFromLinkedInUrl('uk.linkedin.com/pub/john-doe/12/345/678', 'hs_linkedin')),
    ).toEqual([
      ['username', 'john-doe', 'john-doe', 'hs_linkedin'],
      ['profile_url', `${LI}/pub/john-doe`, `${LI}/pub/john-doe`, 'hs_linkedin'],
    ]);
    expect(
      extractIdentifiers({ PublicProfile: 'uk.linkedin.com/pub/john-doe/12/345/678' }).map(
        ({ kind }) => kind,
      ),
    ).toEqual(['username', 'public_url']);
  });

  it('normalises recruiter URLs from /talent/ and /recruiter/ paths alike', () => {
    const fromTalent = identifiersFromLinkedInUrl(`${LI}/talent/profile/${DANA_NAV_ID}`, 'x');
    const fromRecruiter = identifiersFromLinkedInUrl(`${LI}/recruiter/profile/${DANA_NAV_ID},name,abc`, 'x');
    expect(rows(fromRecruiter)).toEqual(rows(fromTalent));
    expect(valuesOf(fromTalent, 'recruiter_url')).toEqual([
      `${LI}/talent/profile/${DANA_NAV_ID.toLowerCase()}`,
    ]);
  });

  it('normalises /sales/people/ to the /sales/lead/ form', () => {
    const identifiers = identifiersFromLinkedInUrl(
      `${LI}/sales/people/${ALEX_NAV_ID},name,DH_y?_ntb=abc`,
      'x',
    );
    expect(valuesOf(identifiers, 'sales_url')).toEqual([`${LI}/sales/lead/${ALEX_NAV_ID.toLowerCase()}`]);
  });

  it('keeps a recruiter URL whose id is not a Sales Nav id, without inventing a Sales Nav id', () => {
    expect(rows(identifiersFromLinkedInUrl(`${LI}/talent/profile/AEMAABCdef123456789`, 'x'))).toEqual([
      [
        'recruiter_url',
        `${LI}/talent/profile/aemaabcdef123456789`,
        `${LI}/talent/profile/AEMAABCdef123456789`,
        'x',
      ],
    ]);
  });

  it.each([
    ['"null"', 'null'],
    ['"undefined"', 'undefined'],
    ['empty', ''],
    ['blank', '  \t '],
    ['javascript:', 'javascript:alert(1)'],
    ['javascript: with LinkedIn path', 'javascript://www.linkedin.com/in/mike-hare'],
    ['mailto:', 'mailto:mike@linkedin.com'],
    ['ftp:', 'ftp://www.linkedin.com/in/mike-hare'],
    ['look-alike host', 'https://www.linkedin.com.evil.example/in/mike-hare'],
    ['suffix host', 'https://evillinkedin.com/in/mike-hare'],
    ['credentials', 'https://user:pw@www.linkedin.com/in/mike-hare'],
    ['LinkedIn URL only in the query', 'https://evil.example/?u=https://www.linkedin.com/in/mike-hare'],
    ['other host', 'https://www.google.com/in/mike-hare'],
    ['short link', 'https://lnkd.in/abc123'],
    ['company page', 'https://www.linkedin.com/company/84316519/'],
    ['messaging thread', 'https://www.linkedin.com/messaging/thread/2-OGJkNmY4OWYt/'],
    ['bare slug', 'mike-hare'],
    ['no slug', 'https://www.linkedin.com/in/'],
    ['one-letter truncated slug', 'https://www.linkedin.com/in/j'],
    ['"undefined" slug', 'https://www.linkedin.com/in/undefined'],
    ['malformed percent escape', 'https://www.linkedin.com/in/%E2%9Amike'],
    ['short Sales Nav-looking slug', 'https://www.linkedin.com/in/ACoAAlex'],
    ['short sales id', 'https://www.linkedin.com/sales/lead/ACwAA,NAME_SEARCH,x'],
    ['10 000-character slug', `${LI}/in/${'a'.repeat(10_000)}`],
    ['10 000-character query', `${LI}/in/mike-hare?q=${'a'.repeat(10_000)}`],
    ['10 000 characters of junk', 'x'.repeat(10_000)],
  ])('yields nothing for garbage: %s', (_label, url) => {
    expect(identifiersFromLinkedInUrl(url, 'x')).toEqual([]);
  });

  it.each([
    ['number', 8315271696],
    ['null', null],
    ['undefined', undefined],
    ['boolean', true],
    ['array of URLs', [`${LI}/in/mike-hare`]],
    ['object', { href: `${LI}/in/mike-hare` }],
    ['String object', new String(`${LI}/in/mike-hare`)],
    ['URL object', new URL(`${LI}/in/mike-hare`)],
  ])('yields nothing for a non-string: %s', (_label, url) => {
    expect(identifiersFromLinkedInUrl(url, 'x')).toEqual([]);
    expect(parseUsername(url)).toBeNull();
    expect(parseSalesNavId(url)).toBeNull();
  });
});

describe('parseSalesNavId', () => {
  it.each([
    ['/sales/lead/ with NAME_SEARCH', `${LI}/sales/lead/${DANA_NAV_ID},NAME_SEARCH,HPxm`, DANA_NAV_ID],
    ['/sales/people/ with name', `${LI}/sales/people/${ALEX_NAV_ID},name,DH_y`, ALEX_NAV_ID],
    ['OUT_OF_NETWORK suffix', `${LI}/sales/lead/${DANA_NAV_ID},OUT_OF_NETWORK,Zx9q`, DANA_NAV_ID],
    ['/talent/profile/', `${LI}/talent/profile/${DANA_NAV_ID}`, DANA_NAV_ID],
    ['/recruiter/profile/ with suffix', `${LI}/recruiter/profile/${DANA_NAV_ID},name,abc`, DANA_NAV_ID],
    ['/in/<ACoAA…>', `${LI}/in/${ALEX_NAV_ID}`, ALEX_NAV_ID],
    ['query string', `${LI}/sales/lead/${DANA_NAV_ID}?_ntb=x`, DANA_NAV_ID],
    [
      'lower-cased legacy URL keeps the case found',
      `linkedin.com/sales/lead/${DANA_NAV_ID.toLowerCase()}`,
      DANA_NAV_ID.toLowerCase(),
    ],
    ['bare id with suffix', `${DANA_NAV_ID},NAME_SEARCH,HPxm`, DANA_NAV_ID],
    ['bare id with query', ` ${DANA_NAV_ID}?x=1 `, DANA_NAV_ID],
    ['short id in a Sales Nav path', `${LI}/sales/lead/ACwAAABCDEF,NAME_SEARCH,x1_Y`, 'ACwAAABCDEF'],
  ])('%s', (_label, url, expected) => {
    expect(parseSalesNavId(url)).toBe(expected);
  });

  it.each([
    ['vanity URL', `${LI}/in/mike-hare`],
    ['short Sales Nav-looking slug', `${LI}/in/ACoAAlex`],
    ['short bare id', 'ACwAABob'],
    ['other host', `https://evil.example/sales/lead/${DANA_NAV_ID}`],
    ['non-Sales Nav recruiter id', `${LI}/talent/profile/AEMAABCdef123456789`],
    ['bare username', 'mike-hare'],
    ['empty', ''],
  ])('null for %s', (_label, url) => {
    expect(parseSalesNavId(url)).toBeNull();
  });
});

describe('parseUsername', () => {
  it.each([
    ['/in/ vanity', `${LI}/in/Mike-Hare/`, 'mike-hare'],
    ['/pub/ slug', `${LI}/pub/maria-delgado/1a/2b3/4c5`, 'maria-delgado'],
    ['legacy pid.', 'pid.Mike-Hare', 'mike-hare'],
    ['Profile with locale', `${LI}/in/flávia-silva/pt`, 'flávia-silva'],
  ])('%s', (_label, url, expected) => {
    expect(parseUsername(url)).toBe(expected);
  });

  it.each([
    ['/in/<ACwAA…> is a Sales Nav id', `${LI}/in/${DANA_NAV_ID}`],
    ['Sales Nav-looking slug', `${LI}/in/acoaalex`],
    ['pid. carrying a Sales Nav id', `pid.${DANA_NAV_ID}`],
    ['sales URL', `${LI}/sales/lead/${DANA_NAV_ID},NAME_SEARCH,HPxm`],
    ['bare slug', 'mike-hare'],
    ['member id', 'id.12345678'],
  ])('null for %s', (_label, url) => {
    expect(parseUsername(url)).toBeNull();
  });
});

describe('parseMemberId', () => {
  it.each([
    ['id.8315271696', '8315271696'],
    ['8315271696', '8315271696'],
    ['id.9393171', '9393171'],
    ['ID.9393171', '9393171'],
    ['  id.9393171 ', '9393171'],
    ['id.00012345678', '12345678'],
    [8315271696, '8315271696'],
  ])('%j -> %j', (value, expected) => {
    expect(parseMemberId(value)).toBe(expected);
  });

  it.each([
    'id.939317',
    '939317',
    'id.0000000',
    '0000000',
    'id.0123456',
    'pid.jane-smith-99887766',
    'id.12345678x',
    'xid.12345678',
    'id. 12345678',
    '1234567890123456',
    '١٢٣٤٥٦٧٨',
    '1'.repeat(10_000),
    '',
    1.5,
    -12345678,
    Number.NaN,
    2 ** 60,
    null,
    undefined,
    ['12345678'],
    { id: '12345678' },
  ])('null for %j', (value) => {
    expect(parseMemberId(value)).toBeNull();
  });
});

describe('normaliseEmail', () => {
  it.each([
    ['Dana@Whitfield.Example', 'dana@whitfield.example'],
    ['  alex.moreno+ds@Acme.co.uk ', 'alex.moreno+ds@acme.co.uk'],
    ['mailto:Jo@Acme.io', 'jo@acme.io'],
    ["o'brien@acme.ie", "o'brien@acme.ie"],
    ['zoë@müller.de', 'zoë@müller.de'],
    ['info@xn--mller-kva.de', 'info@xn--mller-kva.de'],
  ])('%j -> %j', (value, expected) => {
    expect(normaliseEmail(value)).toBe(expected);
  });

  it.each([
    '',
    '   ',
    'n/a',
    'N/A',
    'none',
    '-',
    'null',
    'undefined',
    'test@test.com',
    'TEST@TEST.COM',
    'noreply@acme.com',
    'no-reply@acme.com',
    'NoReply-Alerts@acme.com',
    'donotreply@acme.com',
    'do-not-reply@acme.com',
    'jane@example.com',
    'jane@mail.example.org',
    'jane@example.net',
    'jane',
    'jane@',
    '@acme.com',
    'jane@acme',
    'jane@acme.c',
    'jane@@acme.com',
    'jane doe@acme.com',
    'jane..doe@acme.com',
    '.jane@acme.com',
    'jane.@acme.com',
    'jane@acme..com',
    'jane@-acme.com',
    'jane@acme.com; joe@acme.com',
    'Jane <jane@acme.com>',
    `${'x'.repeat(65)}@acme.com`,
    `${'x'.repeat(10_000)}@acme.com`,
    'x'.repeat(10_000),
    42,
    null,
    undefined,
    ['jane@acme.com'],
    { email: 'jane@acme.com' },
  ])('null for %j', (value) => {
    expect(normaliseEmail(value)).toBeNull();
  });

  it('is taken from `Email` only, lower-cased in value and original in display', () => {
    expect(rows(extractIdentifiers({ Email: ' Jane.Doe@Acme.com ', Phone: 'jane@acme.com' }))).toEqual([
      ['email', 'jane.doe@acme.com', 'Jane.Doe@Acme.com', 'Email'],
    ]);
  });
});

describe('robustness of extractIdentifiers', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['string', `${LI}/in/mike-hare`],
    ['number', 12345678],
    ['array', [{ Profile: `${LI}/in/mike-hare` }]],
  ])('returns [] for data that is not an object: %s', (_label, data) => {
    expect(extractIdentifiers(data)).toEqual([]);
  });

  it('ignores numbers, arrays, null, objects and booleans in URL and e-mail fields', () => {
    const identifiers = extractIdentifiers({
      id: 'id.12345678',
      Profile: 42,
      PublicProfile: [`${LI}/in/mike-hare`],
      'Profile URL': null,
      SalesProfile: { href: `${LI}/sales/lead/${DANA_NAV_ID}` },
      RecruiterProfile: true,
      Email: ['jane@acme.com'],
    });
    expect(identifiers.map(({ kind }) => kind)).toEqual(['member_id', 'duxsoup_id']);
  });

  it('survives 10 000-character strings in every field quickly', () => {
    const huge = 'a'.repeat(10_000);
    const started = Date.now();
    const identifiers = extractIdentifiers({
      id: huge,
      Profile: `${LI}/in/${huge}`,
      PublicProfile: huge,
      'Profile URL': `${LI}/in/mike-hare?x=${huge}`,
      SalesProfile: `${LI}/sales/lead/ACwAA${huge}`,
      RecruiterProfile: `${'%'.repeat(5_000)}${huge}`,
      Email: `${huge}@acme.com`,
    });
    expect(identifiers).toEqual([]);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('does not read a `__proto__` key parsed from JSON', () => {
    const data: unknown = JSON.parse(
      `{"__proto__": {"Profile": "${LI}/in/evil-twin", "id": "id.99999999"}, "id": "id.12345678"}`,
    );
    expect(valuesOf(extractIdentifiers(data), 'member_id')).toEqual(['12345678']);
    expect(valuesOf(extractIdentifiers(data), 'username')).toEqual([]);
  });

  it('does not read inherited fields (object-literal __proto__, Object.create)', () => {
    const inherited = { Profile: `${LI}/in/evil-twin` };
    expect(extractIdentifiers({ __proto__: inherited, id: 'id.12345678' })).toHaveLength(2);
    expect(extractIdentifiers(Object.create(inherited))).toEqual([]);
  });

  it('never invokes getters and survives throwing Proxies', () => {
    const withGetter = { id: 'id.12345678' };
    Object.defineProperty(withGetter, 'Profile', {
      enumerable: true,
      get: () => {
        throw new Error('getter invoked');
      },
    });
    const hostile = new Proxy(
      {},
      {
        getOwnPropertyDescriptor: () => {
          throw new Error('trap');
        },
      },
    );
    expect(extractIdentifiers(withGetter).map(({ kind }) => kind)).toEqual(['member_id', 'duxsoup_id']);
    expect(extractIdentifiers(hostile)).toEqual([]);
  });
});
