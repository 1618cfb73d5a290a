import request from 'supertest';
import { freePort } from '../src/db/embedded';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { LocalSmtpServer } from './helpers/smtp-server';
import { startSmtpServer } from './helpers/smtp-server';
import type { TwilioStandIn } from './helpers/twilio-standin';
import { startTwilioStandIn } from './helpers/twilio-standin';

const SMTP = { user: 'alerts@ops.example', pass: 'smtp-secret-Pa55' };
const TWILIO = { sid: `AC${'fedcba9876543210'.repeat(2)}`, token: 'twilio-secret-t0ken' };
const ADMIN = 'admin-secret-for-tests';

let db: TestDatabase;
let smtp: LocalSmtpServer;
let twilio: TwilioStandIn;

function configured(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ADMIN_SECRET: ADMIN,
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_USER: SMTP.user,
    SMTP_PASS: SMTP.pass,
    ALERT_EMAIL_TO: 'ops@ops.example,oncall@ops.example',
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_FROM: '+15005550006',
    ALERT_SMS_TO: '+15551230001',
    TWILIO_API_BASE_URL: twilio.baseUrl,
    NOTIFY_TIMEOUT_MS: '3000',
    ...overrides,
  };
}

function get(env: Record<string, string>, path: string): request.Test {
  return request(buildTestApp(db, env).app).get(path).set('X-Admin-Secret', ADMIN);
}

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpServer(SMTP);
  twilio = await startTwilioStandIn(TWILIO);
});
afterAll(async () => {
  await smtp.close();
  await twilio.close();
  await db.drop();
});
beforeEach(() => {
  smtp.received.length = 0;
  twilio.received.length = 0;
});

describe('GET /api/health/test-notifications', () => {
  it('reports what is configured, with no secret and masked addresses, and sends nothing', async () => {
    const res = await get(configured(), '/api/health/test-notifications');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      success: true,
      sent: false,
      email: {
        configured: true,
        missing: [],
        severities: ['warning', 'critical'],
        host: '127.0.0.1',
        port: smtp.port,
        secure: false,
        authenticates: true,
        password_set: true,
        from: 'a***@ops.example',
        to: ['o***@ops.example', 'o***@ops.example'],
      },
      sms: {
        configured: true,
        missing: [],
        severities: ['critical'],
        account_sid: `AC…${TWILIO.sid.slice(-4)}`,
        auth_token_set: true,
        from: '+1******0006',
        to: ['+1******0001'],
        api: twilio.baseUrl,
      },
    });
    const text = JSON.stringify(res.body);
    for (const secret of [SMTP.pass, TWILIO.token, TWILIO.sid, 'ops@ops.example', '+15551230001']) {
      expect(text).not.toContain(secret);
    }
    expect(smtp.received).toHaveLength(0);
    expect(twilio.received).toHaveLength(0);
  });

  it('?send=true sends a test email and a test SMS and reports each outcome', async () => {
    const res = await get(configured(), '/api/health/test-notifications?send=true');
    expect(res.status).toBe(200);
    expect(res.body.sent).toBe(true);
    expect(res.body.email.result).toEqual({ attempted: true, delivered: true, recipients: 2, error: null });
    expect(res.body.sms.result).toEqual({ attempted: true, delivered: true, recipients: 1, error: null });

    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.subject).toBe('[TEST] duxsoup-etl notification test');
    expect(smtp.received[0]!.to.sort()).toEqual(['oncall@ops.example', 'ops@ops.example']);
    expect(twilio.received).toHaveLength(1);
    expect(twilio.received[0]).toMatchObject({ to: '+15551230001', from: '+15005550006' });
    expect(twilio.received[0]!.body).toMatch(/^duxsoup-etl test notification/);

    const { rows } = await db.pool.query(
      `SELECT channel, delivered FROM alert_notifications WHERE kind = 'test' ORDER BY channel`,
    );
    expect(rows).toEqual([
      { channel: 'email', delivered: true },
      { channel: 'sms', delivered: true },
    ]);
  });

  it('reports a failing channel without failing the request', async () => {
    const res = await get(
      configured({ SMTP_PORT: String(await freePort()) }),
      '/api/health/test-notifications?send=true',
    );
    expect(res.status).toBe(200);
    expect(res.body.email.result).toMatchObject({ attempted: true, delivered: false });
    expect(res.body.email.result.error).toMatch(/ECONNREFUSED/);
    expect(res.body.sms.result.delivered).toBe(true);
  });

  it('says what is missing when nothing is configured, and attempts nothing', async () => {
    const res = await get({ ADMIN_SECRET: ADMIN }, '/api/health/test-notifications?send=true');
    expect(res.status).toBe(200);
    expect(res.body.email).toMatchObject({
      configured: false,
      missing: ['SMTP_HOST', 'ALERT_EMAIL_TO', 'ALERT_EMAIL_FROM (or SMTP_USER)'],
      result: { attempted: false, delivered: false, recipients: 0, error: 'not configured' },
    });
    expect(res.body.sms).toMatchObject({
      configured: false,
      missing: ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM', 'ALERT_SMS_TO'],
      api: 'https://api.twilio.com',
    });
  });

  it('is for admins only, and validates its flag', async () => {
    const app = buildTestApp(db, configured()).app;
    const anonymous = await request(app).get('/api/health/test-notifications?send=true');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('UNAUTHORIZED');
    const withApiKeyOnly = await request(buildTestApp(db, { ...configured(), API_KEYS: 'k' }).app)
      .get('/api/health/test-notifications')
      .set('X-API-Key', 'k');
    expect(withApiKeyOnly.status).toBe(401);
    expect(smtp.received).toHaveLength(0);

    const production = await request(buildTestApp(db, { NODE_ENV: 'production' }).app).get(
      '/api/health/test-notifications',
    );
    expect(production.status).toBe(403);
    expect(production.body.error).toBe('AUTH_NOT_CONFIGURED');

    const bad = await get(configured(), '/api/health/test-notifications?send=yes');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('INVALID_REQUEST');
  });
});
