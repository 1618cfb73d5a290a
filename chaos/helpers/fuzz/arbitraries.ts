import fc from 'fast-check';

/** Keys that have meaning to JavaScript objects: they must stay plain data all the way to the database. */
export const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
];

/** Strings an attacker or a careless integration would try on a SQL-backed service. */
export const SQLISH = [
  "'; DROP TABLE observations; --",
  "' OR '1'='1",
  '" OR ""="',
  '1; SELECT pg_sleep(10)',
  "'); DELETE FROM persons WHERE ('1'='1",
  '$1',
  '$$',
  '\\',
  "\\'",
  '%',
  '_',
  '%%_%',
  "E'\\x00'",
  'NULL',
  'null',
  '::text',
  '/* comment */',
  '-- comment',
  "'||(SELECT version())||'",
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff x',
  '\u202e\u2066',
  '${process.exit(1)}',
  '{{constructor.constructor("return process")()}}',
];

export const sqlishString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...SQLISH),
  fc
    .tuple(fc.constantFrom(...SQLISH), fc.string({ maxLength: 8 }), fc.constantFrom(...SQLISH))
    .map(([a, b, c]) => `${a}${b}${c}`),
);

/** Any string: printable, full Unicode, and ill-formed UTF-16 (lone surrogates), plus the SQL-ish ones. */
export const anyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: sqlishString },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t\n', ...PROTOTYPE_KEYS) },
);

export const objectKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
);

/**
 * JSON as TEXT, built directly so that keys such as `__proto__` and duplicate keys reach the service exactly as
 * written (an object built in JavaScript could not carry them through JSON.stringify).
 */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant('null'),
    fc.boolean().map(String),
    fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })).map((n) => JSON.stringify(n)),
    fc.constantFrom('1e400', '-0', '1E-400', '123456789012345678901234567890'),
    anyString.map((s) => JSON.stringify(s)),
    fc.array(tie('value'), { maxLength: 5 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(fc.tuple(objectKey, tie('value')), { maxLength: 6 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

/** A JSON value for one field: strings of every kind mostly, and the other JSON types. */
export const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: anyString },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.array(anyString, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.dictionary(objectKey, anyString, { maxKeys: 3 }) },
);

/** Byte sequences that are not UTF-8: stray continuation bytes, overlong forms, surrogates, too-large code points. */
const INVALID_UTF8: number[][] = [
  [0x80],
  [0xbf],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xfe],
  [0xff],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
];

/** Bytes to splice into a JSON string value: invalid UTF-8 mixed with valid text and raw control bytes. */
export const rawStringBytes: fc.Arbitrary<Buffer> = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...INVALID_UTF8) },
      {
        weight: 2,
        arbitrary: fc.string({ maxLength: 4 }).map((s) => [...Buffer.from(s.replace(/["\\]/g, ''))]),
      },
      { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }).map((b) => [b]) },
      { weight: 1, arbitrary: fc.integer({ min: 0x00, max: 0x1f }).map((b) => [b]) },
    ),
    { minLength: 1, maxLength: 12 },
  )
  .map((parts) => Buffer.from(parts.flat()));

/** Structures at and past the limits: deep nesting, huge arrays, wide objects. */
export type Extreme =
  | { kind: 'deep'; depth: number; bracket: 'array' | 'object' }
  | { kind: 'longArray'; length: number }
  | { kind: 'wideObject'; keys: number };

export const extreme: fc.Arbitrary<Extreme> = fc.oneof(
  fc.record({
    kind: fc.constant('deep' as const),
    depth: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 1, max: 80 }) },
      { weight: 1, arbitrary: fc.integer({ min: 80, max: 200_000 }) },
    ),
    bracket: fc.constantFrom('array' as const, 'object' as const),
  }),
  fc.record({
    kind: fc.constant('longArray' as const),
    length: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 2_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 150_000 }) },
    ),
  }),
  fc.record({ kind: fc.constant('wideObject' as const), keys: fc.integer({ min: 0, max: 20_000 }) }),
);

/** The JSON text of an extreme structure (deep nesting is written directly: no recursion on either side). */
export function extremeText(shape: Extreme): string {
  switch (shape.kind) {
    case 'deep':
      return shape.bracket === 'array'
        ? `${'['.repeat(shape.depth)}1${']'.repeat(shape.depth)}`
        : `${'{"a":'.repeat(shape.depth)}1${'}'.repeat(shape.depth)}`;
    case 'longArray':
      return JSON.stringify(Array.from({ length: shape.length }, (_, i) => `tag-${i}`));
    case 'wideObject':
      return `{${Array.from({ length: shape.keys }, (_, i) => `"k${i}":${i}`).join(',')}}`;
  }
}

/** Content types a sender might put on the request, correct or not. */
export const contentType: fc.Arbitrary<string | undefined> = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=xyz',
  'application/octet-stream',
  undefined,
);

/** Content encodings, supported or not; the bodies are never really compressed, so decoding must fail cleanly. */
export const contentEncoding: fc.Arbitrary<string | undefined> = fc.constantFrom(
  undefined,
  undefined,
  undefined,
  'identity',
  'gzip',
  'deflate',
  'br',
  'x-custom',
);
