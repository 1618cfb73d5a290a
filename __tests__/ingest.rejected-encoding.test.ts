import zlib from 'node:zlib';
import type { Express } from 'express';
import request from 'supertest';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

/**
 * Webhook bodies sent with a Content-Encoding are kept like every other rejected input when they cannot be read:
 * the bytes exactly as they arrived, the reason, a stable error code.
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

function post(body: Buffer, encoding: string, to: Express = app) {
  return (
    request(to)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .set('content-encoding', encoding)
      // The bytes exactly as given: superagent would otherwise serialise a Buffer as JSON for a JSON content type.
      .serialize((bytes: unknown) => bytes as string)
      .send(body)
  );
}

interface RejectedRow {
  endpoint: string;
  request_id: string;
  content_type: string | null;
  body: Buffer | null;
  body_bytes: number;
  error_code: string;
  reason: string;
}

async function rejected(id: unknown): Promise<RejectedRow> {
  const { rows } = await db.pool.query<RejectedRow>(
    'SELECT endpoint, request_id, content_type, body, body_bytes, error_code, reason FROM rejected_inputs WHERE id = $1',
    [id],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function observationCount(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM observations');
  return rows[0]!.n;
}

describe('bodies that do not decompress', () => {
  it.each(['gzip', 'deflate', 'br'])(
    'Content-Encoding %s over bytes that are not: 400 UNDECODABLE_BODY, the bytes kept as received',
    async (encoding) => {
      const observations = await observationCount();
      const body = Buffer.concat([
        Buffer.from([0x1f, 0x8b, 0x08, 0xff]),
        Buffer.from(JSON.stringify(distinctVisit())),
      ]);
      const res = await post(body, encoding);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ success: false, error: 'UNDECODABLE_BODY' });
      expect(res.body.message).toContain(encoding);
      const row = await rejected(res.body.details.rejectedInputId);
      expect(row).toMatchObject({
        endpoint: 'webhook',
        request_id: res.headers['x-request-id'],
        content_type: 'application/json',
        body_bytes: body.length,
        error_code: 'UNDECODABLE_BODY',
      });
      expect(row.body!.equals(body)).toBe(true);
      expect(row.reason).toContain(`Content-Encoding ${encoding}`);
      expect(await observationCount()).toBe(observations);
    },
  );

  it('a gzip body cut short keeps its exact (truncated) bytes', async () => {
    const whole = zlib.gzipSync(Buffer.from(JSON.stringify(distinctVisit())));
    const truncated = whole.subarray(0, Math.floor(whole.length / 2));
    const res = await post(truncated, 'gzip');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('UNDECODABLE_BODY');
    const row = await rejected(res.body.details.rejectedInputId);
    expect(row.body!.equals(truncated)).toBe(true);
    expect(row.reason).toMatch(/unexpected end of file/);
  });

  it('an encoding nobody decodes: 415 UNSUPPORTED_ENCODING, kept with its bytes', async () => {
    const body = Buffer.from(JSON.stringify(distinctVisit()));
    const res = await post(body, 'compress');
    expect(res.status).toBe(415);
    expect(res.body.error).toBe('UNSUPPORTED_ENCODING');
    const row = await rejected(res.body.details.rejectedInputId);
    expect(row.error_code).toBe('UNSUPPORTED_ENCODING');
    expect(row.body!.equals(body)).toBe(true);
  });

  it('a body that decompresses beyond WEBHOOK_BODY_LIMIT: 413 PAYLOAD_TOO_LARGE, the compressed bytes kept', async () => {
    const small = buildTestApp(db, { WEBHOOK_BODY_LIMIT: '10kb' }).app;
    const payload = distinctVisit();
    (payload.data as Record<string, unknown>).Summary = ' '.repeat(200_000);
    const bomb = zlib.gzipSync(Buffer.from(JSON.stringify(payload)));
    expect(bomb.length).toBeLessThan(10 * 1024);
    const res = await post(bomb, 'gzip', small);
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('PAYLOAD_TOO_LARGE');
    const row = await rejected(res.body.details.rejectedInputId);
    expect(row).toMatchObject({ error_code: 'PAYLOAD_TOO_LARGE', body_bytes: bomb.length });
    expect(row.body!.equals(bomb)).toBe(true);
  });
});

describe('bodies that do decompress (the control)', () => {
  it.each(['gzip', 'deflate', 'br', 'GZIP'])(
    'Content-Encoding %s: stored and answered 200',
    async (encoding) => {
      const payload = distinctVisit();
      const res = await post(
        COMPRESS[encoding.toLowerCase()]!(Buffer.from(JSON.stringify(payload))),
        encoding,
      );
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, duplicate: false, type: 'visit' });
      const { rows } = await db.pool.query('SELECT payload FROM observations WHERE id = $1', [
        res.body.observation_id,
      ]);
      expect(rows[0].payload).toEqual(payload);
    },
  );

  it('decompressed but not JSON: 400 INVALID_JSON, the decompressed bytes kept', async () => {
    const text = Buffer.from('type=visit&event=create');
    const res = await post(zlib.gzipSync(text), 'gzip');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('INVALID_JSON');
    const row = await rejected(res.body.details.rejectedInputId);
    expect(row.body!.equals(text)).toBe(true);
  });
});
