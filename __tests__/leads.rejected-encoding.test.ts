import { randomUUID } from 'node:crypto';
import zlib from 'node:zlib';
import type { Express } from 'express';
import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

/**
 * Lead bodies sent with a Content-Encoding go through the webhook's decoding: one that cannot be decompressed is
 * kept in lead_requests with its bytes exactly as they arrived, its reason, and a stable leadCRM-style error.
 */

let db: TestDatabase;
let app: Express;

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db).app;
});
afterAll(() => db.drop());

const COMPRESS: Record<string, (body: Buffer) => Buffer> = {
  gzip: (body) => zlib.gzipSync(body),
  deflate: (body) => zlib.deflateSync(body),
  br: (body) => zlib.brotliCompressSync(body),
};

function lead(): Record<string, string> {
  return { email: `enc-${randomUUID()}@mail.lv`, firstName: 'Jo', offer: 'Encoded' };
}

function post(body: Buffer, encoding: string, requestId: string, to: Express = app) {
  return (
    request(to)
      .post('/api/lead')
      .set('content-type', 'application/json')
      .set('content-encoding', encoding)
      .set('x-request-id', requestId)
      // The bytes exactly as given: superagent would otherwise serialise a Buffer as JSON for a JSON content type.
      .serialize((bytes: unknown) => bytes as string)
      .send(body)
  );
}

interface RequestRow {
  body: Buffer | null;
  body_bytes: number;
  content_type: string | null;
  state: string;
  reason: string | null;
  detail: string | null;
  lead_id: string | null;
}

async function requestRow(requestId: string): Promise<RequestRow> {
  const { rows } = await db.pool.query<RequestRow>(
    `SELECT body, body_bytes, content_type, state, reason, detail, lead_id
       FROM lead_requests WHERE request_id = $1`,
    [requestId],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function leadCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM leads');
  return rows[0]!.n;
}

describe('lead bodies that do not decompress', () => {
  it.each(['gzip', 'deflate', 'br'])(
    'Content-Encoding %s over bytes that are not: 400 undecodable_body, the bytes kept as received',
    async (encoding) => {
      const leads = await leadCount();
      const requestId = `req-${randomUUID()}`;
      // A gzip header announcing a reserved flag byte, then plain JSON: no decompressor accepts it.
      const body = Buffer.concat([
        Buffer.from([0x1f, 0x8b, 0x08, 0xff]),
        Buffer.from(JSON.stringify(lead())),
      ]);
      const res = await post(body, encoding, requestId);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ ok: false, error: 'undecodable_body' });
      const row = await requestRow(requestId);
      expect(row).toMatchObject({
        state: 'rejected',
        reason: 'undecodable_body',
        content_type: 'application/json',
        body_bytes: body.length,
        lead_id: null,
      });
      expect(row.body!.equals(body)).toBe(true);
      expect(row.detail).toContain(`Content-Encoding ${encoding}`);
      expect(await leadCount()).toBe(leads);
    },
  );

  it('a gzip lead cut short keeps its exact (truncated) bytes', async () => {
    const requestId = `req-${randomUUID()}`;
    const whole = zlib.gzipSync(Buffer.from(JSON.stringify(lead())));
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    const res = await post(truncated, 'gzip', requestId);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error: 'undecodable_body' });
    const row = await requestRow(requestId);
    expect(row.body!.equals(truncated)).toBe(true);
    expect(row.body_bytes).toBe(truncated.length);
    expect(row.detail).toMatch(/unexpected end of file/);
  });

  it('an encoding nobody decodes: 415 unsupported_encoding, kept with its bytes', async () => {
    const requestId = `req-${randomUUID()}`;
    const body = Buffer.from(JSON.stringify(lead()));
    const res = await post(body, 'compress', requestId);
    expect(res.status).toBe(415);
    expect(res.body).toEqual({ ok: false, error: 'unsupported_encoding' });
    const row = await requestRow(requestId);
    expect(row).toMatchObject({ state: 'rejected', reason: 'unsupported_encoding', lead_id: null });
    expect(row.body!.equals(body)).toBe(true);
  });

  it('a body that decompresses beyond LEAD_BODY_LIMIT: 413 payload_too_large, the compressed bytes kept', async () => {
    const small = buildTestApp(db, { LEAD_BODY_LIMIT: '10kb' }).app;
    const requestId = `req-${randomUUID()}`;
    const bomb = zlib.gzipSync(Buffer.from(JSON.stringify({ ...lead(), description: ' '.repeat(200_000) })));
    expect(bomb.length).toBeLessThan(10 * 1024);
    const res = await post(bomb, 'gzip', requestId, small);
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ ok: false, error: 'payload_too_large' });
    const row = await requestRow(requestId);
    expect(row).toMatchObject({ state: 'rejected', reason: 'too_large', body_bytes: bomb.length });
    expect(row.body!.equals(bomb)).toBe(true);
  });
});

describe('lead bodies that do decompress (the control)', () => {
  it.each(['gzip', 'deflate', 'br', 'GZIP'])(
    'Content-Encoding %s: a lead, its request stored decompressed',
    async (encoding) => {
      const requestId = `req-${randomUUID()}`;
      const sent = lead();
      const plain = Buffer.from(JSON.stringify(sent));
      const res = await post(COMPRESS[encoding.toLowerCase()]!(plain), encoding, requestId);
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ ok: true, deduplicated: false });
      const row = await requestRow(requestId);
      expect(row).toMatchObject({ state: 'accepted', lead_id: res.body.lead_id, body_bytes: plain.length });
      expect(row.body!.equals(plain)).toBe(true);
      const { rows } = await db.pool.query('SELECT email, payload FROM leads WHERE id = $1', [
        res.body.lead_id,
      ]);
      expect(rows[0]).toEqual({ email: sent.email, payload: sent });
    },
  );

  it('decompressed but not JSON: 400 invalid_payload, the decompressed bytes kept', async () => {
    const requestId = `req-${randomUUID()}`;
    const text = Buffer.from('email=a%40b.lv&offer=x');
    const res = await post(zlib.gzipSync(text), 'gzip', requestId);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ ok: false, error: 'invalid_payload' });
    const row = await requestRow(requestId);
    expect(row).toMatchObject({ state: 'rejected', reason: 'malformed_json' });
    expect(row.body!.equals(text)).toBe(true);
  });
});
