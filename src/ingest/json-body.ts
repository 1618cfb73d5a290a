import { promisify } from 'node:util';
import zlib from 'node:zlib';

/** Deeper than any real payload (Dux-Soup's are 4 levels); PostgreSQL's jsonb would otherwise hit its stack limit. */
export const MAX_JSON_DEPTH = 64;

export type JsonBody =
  | { ok: true; value: unknown; repaired: boolean }
  | { ok: false; code: 'INVALID_JSON' | 'INVALID_PAYLOAD'; reason: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Parses a request body as JSON. Text PostgreSQL cannot store in jsonb (NUL characters, lone surrogates,
 * invalid UTF-8) is replaced with U+FFFD and flagged as repaired so the caller keeps the exact bytes too.
 */
export function parseJsonBody(body: Buffer): JsonBody {
  let text: string;
  let repaired = false;
  try {
    text = utf8.decode(body);
  } catch {
    text = lenientUtf8.decode(body);
    repaired = true;
  }
  if (text.trim() === '') return { ok: false, code: 'INVALID_JSON', reason: 'empty body' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: 'INVALID_JSON', reason: (error as Error).message.slice(0, 200) };
  }
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    return { ok: false, code: 'INVALID_PAYLOAD', reason: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  }
  // Raw text cannot carry NUL or a lone surrogate; only their \u escapes can, so most bodies skip the walk.
  if (!MAYBE_UNSTORABLE_ESCAPE.test(text)) return { ok: true, value, repaired };
  const storable = toStorable(value);
  return { ok: true, value: storable.value, repaired: repaired || storable.changed };
}

export type DecodedBody =
  | { ok: true; body: Buffer }
  | { ok: false; code: 'UNSUPPORTED_ENCODING' | 'UNDECODABLE_BODY' | 'PAYLOAD_TOO_LARGE'; reason: string };

/** The documented encodings: gzip, deflate and br (zstd is left out: only recent Node versions have it). */
const DECOMPRESSORS = new Map<
  string,
  (body: Buffer, options: { maxOutputLength: number }) => Promise<Buffer>
>([
  ['gzip', promisify(zlib.gunzip)],
  ['deflate', promisify(zlib.inflate)],
  ['br', promisify(zlib.brotliDecompress)],
]);

/**
 * Decompresses a body read as received under its Content-Encoding. The decoded body may hold at most `maxBytes`
 * (the configured body limit), whatever its compressed size.
 */
export async function decodeBody(
  body: Buffer,
  contentEncoding: string,
  maxBytes: number,
): Promise<DecodedBody> {
  const encoding = contentEncoding.trim().toLowerCase();
  if (encoding === 'identity' || body.length === 0) return { ok: true, body };
  const decompress = DECOMPRESSORS.get(encoding);
  if (!decompress) {
    return { ok: false, code: 'UNSUPPORTED_ENCODING', reason: `unsupported Content-Encoding "${encoding}"` };
  }
  try {
    return { ok: true, body: await decompress(body, { maxOutputLength: maxBytes }) };
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      return {
        ok: false,
        code: 'PAYLOAD_TOO_LARGE',
        reason: `decompressed body exceeds ${maxBytes} bytes`,
      };
    }
    return {
      ok: false,
      code: 'UNDECODABLE_BODY',
      reason: `Content-Encoding ${encoding}: ${(error as Error).message.slice(0, 200)}`,
    };
  }
}

const MAYBE_UNSTORABLE_ESCAPE = /\\u(0000|[dD][89a-fA-F])/;

/** Bracket depth of valid JSON text, ignoring brackets inside strings. */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c)
        i += 1; // backslash: skip the escaped character
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) inString = true;
    else if (code === 0x7b || code === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (code === 0x7d || code === 0x5d) depth -= 1;
  }
  return deepest;
}

function storableString(text: string): string {
  return text.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

function toStorable(value: unknown): { value: unknown; changed: boolean } {
  if (typeof value === 'string') {
    const clean = storableString(value);
    return { value: clean, changed: clean !== value };
  }
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item) => {
      const result = toStorable(item);
      changed ||= result.changed;
      return result.value;
    });
    return { value: changed ? items : value, changed };
  }
  if (value !== null && typeof value === 'object') {
    let changed = false;
    const entries = Object.entries(value).map(([key, item]) => {
      const cleanKey = storableString(key);
      const result = toStorable(item);
      changed ||= result.changed || cleanKey !== key;
      return [cleanKey, result.value] as const;
    });
    if (!changed) return { value, changed };
    // defineProperty keeps keys such as "__proto__" as plain data, exactly as JSON.parse produced them.
    const copy: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
    }
    return { value: copy, changed };
  }
  return { value, changed: false };
}
