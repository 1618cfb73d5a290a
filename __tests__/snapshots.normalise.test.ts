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
} from '../src/snapshots/normalise';

const hasLoneSurrogate = (text: string): boolean =>
  /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);

describe('cleanString (single-line)', () => {
  it.each<[string, unknown, string | undefined]>([
    [
      'trims and collapses whitespace',
      '  Chief   Information\tSecurity\nOfficer  ',
      'Chief Information Security Officer',
    ],
    ['non-breaking and other Unicode spaces', 'Dana\u00a0\u2003Whitfield', 'Dana Whitfield'],
    ['empty string', '', undefined],
    ['whitespace only', ' \t\n ', undefined],
    ['null', null, undefined],
    ['undefined', undefined, undefined],
    ['finite number', 5512309, '5512309'],
    ['NaN', Number.NaN, undefined],
    ['Infinity', Number.POSITIVE_INFINITY, undefined],
    ['boolean', true, undefined],
    ['object', { value: 'x' }, undefined],
    ['array', ['x'], undefined],
    ['NUL and control characters become spaces', 'a\u0000b\u0007c', 'a b c'],
    ['zero-width space and BOM are removed', '\uFEFFAc\u200Bme', 'Acme'],
    ['emoji kept', '🦆-default-followup-1', '🦆-default-followup-1'],
    ['emoji ZWJ sequence kept', 'Dev 👨‍💻', 'Dev 👨‍💻'],
    ['non-ASCII kept', '  Zoë Łukasiewicz-Müller ', 'Zoë Łukasiewicz-Müller'],
    ['lone surrogate replaced', 'a\uD800b', 'a\uFFFDb'],
  ])('%s', (_name, input, expected) => {
    expect(cleanString(input)).toBe(expected);
  });

  it('caps single-line values at 1 000 characters', () => {
    expect(cleanString('x'.repeat(10_000))).toHaveLength(1_000);
  });

  it('never splits a surrogate pair when truncating', () => {
    const result = cleanString('😀'.repeat(10_000)) ?? '';
    expect(result.length).toBeLessThanOrEqual(1_000);
    expect(hasLoneSurrogate(result)).toBe(false);
    expect(cleanString('a' + '😀'.repeat(600), { maxLength: 4 })).toBe('a😀');
  });

  it('honours an explicit maxLength', () => {
    expect(cleanString('abcdef', { maxLength: 3 })).toBe('abc');
  });
});

/** Anything cleanText must never leave: odd whitespace, doubled or line-edge spaces, 3+ newlines, controls. */
// eslint-disable-next-line no-control-regex -- control characters are among the things to detect
const UNTIDY = /[^\S\n ]| {2}| \n|\n |\n{3}|[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u200B]/;

describe('cleanText (multi-line)', () => {
  it.each<[string, unknown, string | undefined]>([
    ['keeps single newlines', 'Line one\nLine two', 'Line one\nLine two'],
    ['normalises CRLF and CR', 'a\r\nb\rc', 'a\nb\nc'],
    ['collapses 3+ newlines to a paragraph break', 'a\n\n\n\n\nb', 'a\n\nb'],
    [
      'collapses horizontal whitespace and trims line ends',
      '•\tBuilds  teams  \n  - Advises',
      '• Builds teams\n- Advises',
    ],
    ['keeps curly quotes and dashes', 'The team’s record – 10 yrs', 'The team’s record – 10 yrs'],
    ['blank', '\n\n  \n', undefined],
    ['non-string', 12, '12'],
    ['drops NUL but keeps the line break', 'a\u0000\nb', 'a\nb'],
  ])('%s', (_name, input, expected) => {
    expect(cleanText(input)).toBe(expected);
  });

  it('keeps 10 000 characters and caps beyond', () => {
    expect(cleanText('y'.repeat(10_000))).toHaveLength(10_000);
    expect(cleanText('y'.repeat(25_000))).toHaveLength(10_000);
  });

  it('always gives tidy text, and gives tidy text back unchanged', () => {
    // Mostly letters, spaces and line breaks, so that many samples are tidy already and take the fast path.
    const plain = ['a', 'b', 'é', '😀', ' ', ' ', '\n', '\n'];
    const odd = ['\r', '\t', '\u000B', '\u00A0', '\u2028', '\u200B', '\uFEFF', '\u0000', '\u0085', '\uD800'];
    let state = 7;
    const random = (below: number) => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor(state / 65_536) % below; // the low bits of this generator repeat quickly
    };
    const character = () => (random(8) > 0 ? plain[random(plain.length)] : odd[random(odd.length)]);
    let unchanged = 0;
    for (let sample = 0; sample < 5_000; sample += 1) {
      const input = Array.from({ length: 1 + random(12) }, character).join('');
      const tidy = cleanText(input);
      if (tidy === undefined) continue;
      expect({ input, tidy }).toEqual({ input, tidy: tidy.trim() });
      expect({ input, tidy, untidy: UNTIDY.test(tidy) }).toEqual({ input, tidy, untidy: false });
      expect(hasLoneSurrogate(tidy)).toBe(false);
      expect(cleanText(tidy)).toBe(tidy);
      if (tidy === input) unchanged += 1;
    }
    expect(unchanged).toBeGreaterThan(500);
  });
});

describe('foldForKey', () => {
  it.each<[string, string]>([
    ['São Paulo', 'sao paulo'],
    ['MÜNCHEN', 'munchen'],
    ['Łódź', 'lodz'],
    ['Straße', 'strasse'],
    ['  Zoë   Müller ', 'zoe muller'],
    ['  Acme\tCORP   Ltd. ', 'acme corp ltd.'],
    ['서울', '서울'],
    ['ガーデン', 'ガーデン'],
    ['北京', '北京'],
  ])('%s → %s', (input, expected) => {
    expect(foldForKey(input)).toBe(expected);
  });
});

describe('parseDegree', () => {
  it.each<[unknown, number | undefined]>([
    ['1', 1],
    ['1st', 1],
    ['2', 2],
    ['2nd', 2],
    ['3', 3],
    ['3rd', 3],
    ['3rd+', 3],
    [' 2ND ', 2],
    ['1st degree', 1],
    [1, 1],
    [3, 3],
    [4, undefined],
    ['4th', undefined],
    ['0', undefined],
    ['', undefined],
    ['Out of network', undefined],
    [null, undefined],
    [{}, undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseDegree(input)).toBe(expected);
  });
});

describe('parseConnections', () => {
  it.each<[unknown, ReturnType<typeof parseConnections>]>([
    ['500+', { count: 500, capped: true }],
    ['500 +', { count: 500, capped: true }],
    ['22395', { count: 22395, capped: false }],
    ['2', { count: 2, capped: false }],
    ['22,395', { count: 22395, capped: false }],
    ['0', { count: 0, capped: false }],
    [479, { count: 479, capped: false }],
    [-1, undefined],
    [1.5, undefined],
    ['', undefined],
    ['many', undefined],
    ['12abc', undefined],
    [null, undefined],
    [['500'], undefined],
  ])('%j → %j', (input, expected) => {
    expect(parseConnections(input)).toEqual(expected);
  });
});

describe('normalisePhone', () => {
  it.each<[unknown, string | undefined, string | undefined]>([
    ['310-555-0158', undefined, '+13105550158'],
    ['(415) 555-2671', undefined, '+14155552671'],
    ['+1 310 555 0158 ext. 12', undefined, '+13105550158'],
    ['+44 20 7946 0958', undefined, '+442079460958'],
    ['020 7946 0958', 'GB', '+442079460958'],
    ['020 7946 0958', 'gb', '+442079460958'],
    ['0044 20 7946 0958', undefined, '+442079460958'],
    ['310-555-0158', 'XX', '+13105550158'],
    [3105550158, undefined, '+13105550158'],
    ['12', undefined, undefined],
    ['n/a', undefined, undefined],
    ['', undefined, undefined],
    [{}, undefined, undefined],
    ['1'.repeat(10_000), undefined, undefined],
  ])('%j (default %s) → %s', (input, country, expected) => {
    expect(normalisePhone(input, country)).toBe(expected);
  });
});

describe('normaliseEmail', () => {
  it.each<[unknown, string | undefined]>([
    ['dana@whitfield.example', 'dana@whitfield.example'],
    ['  Alex@Moreno.EXAMPLE ', 'alex@moreno.example'],
    ['mailto:a@b.co', 'a@b.co'],
    ['<a@b.co>', 'a@b.co'],
    ['first@x.com, second@y.com', 'first@x.com'],
    ['MAILTO:Zoë@Müller.example', 'zoë@müller.example'],
    ['n/a', undefined],
    ['none', undefined],
    ['test@example.com', undefined],
    ['noreply@acme.example', undefined],
    ['n/a, dana@whitfield.example', 'dana@whitfield.example'],
    ['no-at-sign.example.com', undefined],
    ['a@b', undefined],
    ['a@@b.com', undefined],
    ['a..b@c.com', undefined],
    ['', undefined],
    [42, undefined],
  ])('%j → %j', (input, expected) => {
    expect(normaliseEmail(input)).toBe(expected);
  });
});

describe('normaliseTwitter', () => {
  it.each<[unknown, string | undefined]>([
    ['danawhitx', 'danawhitx'],
    ['@DanaWhitX', 'danawhitx'],
    ['https://twitter.com/DanaWhitX', 'danawhitx'],
    ['http://www.twitter.com/danawhitx/', 'danawhitx'],
    ['twitter.com/danawhitx?lang=en', 'danawhitx'],
    ['https://x.com/dana_w', 'dana_w'],
    ['x.com/@dana_w', 'dana_w'],
    ['https://mobile.twitter.com/dana_w/status/1', 'dana_w'],
    ['https://twitter.com/intent/follow?screen_name=x', undefined],
    ['https://twitter.com/', undefined],
    ['https://example.com/dana', undefined],
    ['this-is-not-a-handle', undefined],
    ['waytoolonghandle_123', undefined],
    ['', undefined],
    [null, undefined],
  ])('%j → %j', (input, expected) => {
    expect(normaliseTwitter(input)).toBe(expected);
  });
});

describe('normaliseWebsite', () => {
  it.each<[unknown, string | undefined]>([
    ['http://www.orchardcyber.example/', 'https://www.orchardcyber.example/'],
    ['https://Acme.Example/About', 'https://acme.example/About'],
    ['acme.example', 'https://acme.example/'],
    ['www.acme.example/path', 'https://www.acme.example/path'],
    ['//acme.example', 'https://acme.example/'],
    ['acme.example:8080/x', 'https://acme.example:8080/x'],
    ['https://acme.example/?utm_source=company_page', 'https://acme.example/'],
    ['https://acme.example/p?utm_source=li&UTM_Medium=x&id=7', 'https://acme.example/p?id=7'],
    ['https://acme.example/p?id=7#team', 'https://acme.example/p?id=7#team'],
    ['mailto:dana@acme.example', undefined],
    ['javascript:alert(1)', undefined],
    ['ftp://acme.example', undefined],
    ['https://user:pass@acme.example', undefined],
    ['localhost', undefined],
    ['not a url', undefined],
    ['', undefined],
    [123, undefined],
  ])('%j → %j', (input, expected) => {
    expect(normaliseWebsite(input)).toBe(expected);
  });
});

describe('normaliseHttpUrl', () => {
  it.each<[unknown, string | undefined]>([
    [
      'https://media.licdn.com/dms/image/x?e=1&v=beta&t=abc',
      'https://media.licdn.com/dms/image/x?e=1&v=beta&t=abc',
    ],
    ['http://example.com/a.png', 'http://example.com/a.png'],
    ['media.licdn.com/x.png', undefined],
    ['data:image/png;base64,AAAA', undefined],
    ['', undefined],
    [{}, undefined],
  ])('%j → %j', (input, expected) => {
    expect(normaliseHttpUrl(input)).toBe(expected);
  });
});

describe('parseMonthYear', () => {
  it.each<[unknown, ReturnType<typeof parseMonthYear>]>([
    ['9 - 2022', { year: 2022, month: 9 }],
    ['12 - 2024', { year: 2024, month: 12 }],
    ['9-2022', { year: 2022, month: 9 }],
    ['09/2022', { year: 2022, month: 9 }],
    ['2022-09', { year: 2022, month: 9 }],
    ['2022-09-15T10:00:00.000Z', { year: 2022, month: 9 }],
    ['Sep 2022', { year: 2022, month: 9 }],
    ['Sept. 2022', { year: 2022, month: 9 }],
    ['September 2022', { year: 2022, month: 9 }],
    ['jan 2020', { year: 2020, month: 1 }],
    ['2014', { year: 2014, month: null }],
    [2014, { year: 2014, month: null }],
    ['13 - 2022', { year: 2022, month: null }],
    [
      { month: 3, year: 2021 },
      { year: 2021, month: 3 },
    ],
    [{ year: '2019' }, { year: 2019, month: null }],
    [{ month: 3 }, null],
    ['Present', 'present'],
    ['present', 'present'],
    ['Current', 'present'],
    ['', null],
    ['   ', null],
    ['1850', null],
    ['3000', null],
    ['soon', null],
    [null, null],
    [['2014'], null],
    [Number.NaN, null],
  ])('%j → %j', (input, expected) => {
    expect(parseMonthYear(input)).toEqual(expected);
  });
});

describe('reading untrusted records', () => {
  it('asRecord accepts only plain objects', () => {
    expect(asRecord({ a: 1 })).toEqual({ a: 1 });
    expect(asRecord([1])).toBeUndefined();
    expect(asRecord(null)).toBeUndefined();
    expect(asRecord('x')).toBeUndefined();
  });

  it('readOwn ignores inherited properties', () => {
    const inherited = Object.create({ Title: 'Inherited' }) as Record<string, unknown>;
    expect(readOwn(inherited, 'Title')).toBeUndefined();
    expect(readOwn(undefined, 'Title')).toBeUndefined();
    const parsed = JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>;
    expect(readOwn(parsed, '__proto__')).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('readFirstPresent skips blank values', () => {
    expect(
      readFirstPresent({ Degree: ' ', 'Connection Degree': '2nd' }, ['Degree', 'Connection Degree']),
    ).toBe('2nd');
    expect(readFirstPresent({ Degree: null }, ['Degree'])).toBeUndefined();
    expect(readFirstPresent({ Degree: 0 }, ['Degree'])).toBe(0);
  });

  it('boundedArray caps and rejects non-arrays', () => {
    expect(boundedArray([1, 2, 3], 2)).toEqual([1, 2]);
    expect(boundedArray('abc', 2)).toEqual([]);
    expect(boundedArray({ length: 2 }, 2)).toEqual([]);
  });
});
