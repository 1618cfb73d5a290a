import { Writable } from 'node:stream';
import winston from 'winston';
import type { Config } from '../src/config';
import { loadConfig } from '../src/config';
import { freePort } from '../src/db/embedded';
import type { HealthCheckReport } from '../src/health';
import { runHealthCheck } from '../src/health';
import { planMessage, SMS_MAX_LENGTH, truncateSms } from '../src/notify';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { LocalSmtpServer } from './helpers/smtp-server';
import { startSmtpServer } from './helpers/smtp-server';
import type { TwilioStandIn } from './helpers/twilio-standin';
import { startTwilioStandIn } from './helpers/twilio-standin';

const SMTP = { user: 'alerts@ops.example', pass: 'smtp-secret-Pa55' };
const TWILIO = { sid: `AC${'0123456789abcdef'.repeat(2)}`, token: 'twilio-secret-t0ken' };
const EMAIL_TO = ['ops@ops.example', 'oncall@ops.example'];
const SMS_TO = ['+15551230001', '+15551230002'];

let db: TestDatabase;
let smtp: LocalSmtpServer;
let twilio: TwilioStandIn;
let logLines: string[];

function configWith(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(smtp.port),
    SMTP_USER: SMTP.user,
    SMTP_PASS: SMTP.pass,
    ALERT_EMAIL_FROM: 'duxsoup-etl <alerts@ops.example>',
    ALERT_EMAIL_TO: EMAIL_TO.join(','),
    TWILIO_ACCOUNT_SID: TWILIO.sid,
    TWILIO_AUTH_TOKEN: TWILIO.token,
    TWILIO_FROM: '+15005550006',
    ALERT_SMS_TO: SMS_TO.join(','),
    TWILIO_API_BASE_URL: twilio.baseUrl,
    NOTIFY_TIMEOUT_MS: '3000',
    ...overrides,
  });
}

/** A logger that keeps every line it writes, so the tests can look for secrets in it. */
function capturingLogger(): winston.Logger {
  return winston.createLogger({
    level: 'debug',
    format: winston.format.json(),
    transports: [
      new winston.transports.Stream({
        stream: new Writable({
          write(chunk: Buffer, _encoding, callback) {
            logLines.push(chunk.toString('utf8'));
            callback();
          },
        }),
      }),
    ],
  });
}

function check(config = configWith()): Promise<HealthCheckReport> {
  return runHealthCheck({ pool: db.pool, config, logger: capturingLogger(), instanceId: 'test-instance' });
}

async function addObservations(
  count: number,
  status: string,
  options: { minutesAgo?: number; source?: string; kind?: string } = {},
): Promise<number[]> {
  const { rows } = await db.pool.query<{ id: number }>(
    `INSERT INTO observations (source, kind, event, event_key, payload, status, received_at)
     SELECT $1, $2, 'create', md5(random()::text || g), '{}', $3, now() - $4 * interval '1 minute'
       FROM generate_series(1, $5) g
     RETURNING id`,
    [options.source ?? 'duxsoup', options.kind ?? 'visit', status, options.minutesAgo ?? 0, count],
  );
  return rows.map((row) => row.id);
}

/** Dead letters of observations received two days ago (outside the success-rate window). */
async function addDeadLetters(count: number, status: 'pending' | 'failed', attempts = 1): Promise<void> {
  const observations = await addObservations(count, 'dead', { minutesAgo: 48 * 60 });
  await db.pool.query(
    `INSERT INTO dead_letters (observation_id, error, status, attempts) SELECT unnest($1::bigint[]), 'boom', $2, $3`,
    [observations, status, attempts],
  );
}

async function alertRow(condition: string): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.pool.query('SELECT * FROM alerts WHERE condition = $1', [condition]);
  return rows[0];
}

async function notifications(): Promise<Record<string, unknown>[]> {
  const { rows } = await db.pool.query('SELECT * FROM alert_notifications ORDER BY id');
  return rows;
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

beforeEach(async () => {
  await db.pool.query(
    'TRUNCATE alerts, alert_notifications, dead_letters, observation_log, observation_state RESTART IDENTITY CASCADE',
  );
  await addObservations(1, 'processed'); // a webhook just arrived: freshness is fine
  smtp.received.length = 0;
  twilio.received.length = 0;
  twilio.failWith = null;
  logLines = [];
});

describe('health check without problems', () => {
  it('sends nothing and records nothing', async () => {
    const report = await check();
    expect(report.status).toBe('ok');
    expect(report.alerts).toEqual([]);
    expect(report.deliveries).toEqual([]);
    expect(smtp.received).toHaveLength(0);
    expect(twilio.received).toHaveLength(0);
    expect(await notifications()).toEqual([]);
  });
});

describe('a warning', () => {
  it('goes by email only, to every recipient, once the threshold is exceeded', async () => {
    await addDeadLetters(100, 'pending');
    expect((await check()).alerts).toEqual([]); // 100 is not above 100

    await addDeadLetters(1, 'pending');
    const report = await check();
    expect(report.status).toBe('warning');
    expect(report.alerts).toEqual([
      expect.objectContaining({
        condition: 'dead_letter_backlog',
        severity: 'warning',
        values: { pending: 101, threshold: 100 },
      }),
    ]);
    expect(report.notified).toEqual(['dead_letter_backlog']);
    expect(report.counts).toMatchObject({ alerts: 1, critical: 0, notified: 1, delivery_failures: 0 });

    expect(smtp.received).toHaveLength(1);
    const mail = smtp.received[0]!;
    expect(mail.user).toBe(SMTP.user);
    expect(mail.from).toBe('alerts@ops.example');
    expect(mail.to.sort()).toEqual([...EMAIL_TO].sort());
    expect(mail.subject).toBe('[WARNING] duxsoup-etl: dead_letter_backlog');
    expect(mail.text).toContain('WARNING dead_letter_backlog: 101 dead letters are waiting for replay');
    expect(mail.text).toContain('instance test-instance');
    expect(twilio.received).toHaveLength(0);

    expect(await notifications()).toEqual([
      expect.objectContaining({
        kind: 'alert',
        channel: 'email',
        conditions: ['dead_letter_backlog'],
        severity: 'warning',
        recipients: 2,
        delivered: true,
        error: null,
      }),
    ]);
    const row = await alertRow('dead_letter_backlog');
    expect(row).toMatchObject({ severity: 'warning', cleared_at: null, critical_notified_at: null });
    expect(row!.warning_notified_at).toEqual(row!.last_notified);
  });
});

describe('de-duplication', () => {
  it('is by condition and severity, not by message: new live counts send nothing within ALERT_DEDUP_HOURS', async () => {
    await addDeadLetters(101, 'pending');
    await check();
    expect(smtp.received).toHaveLength(1);

    await addDeadLetters(30, 'pending');
    const again = await check();
    expect(again.alerts[0]!.message).toContain('131 dead letters');
    expect(again.notified).toEqual([]);
    expect(again.suppressed).toEqual(['dead_letter_backlog']);
    expect(smtp.received).toHaveLength(1);
    expect((await alertRow('dead_letter_backlog'))!.last_values).toEqual({ pending: 131, threshold: 100 });

    // Once the window has passed since the last notice, it is sent again, with the figures of the day.
    await db.pool.query(
      `UPDATE alerts SET warning_notified_at = now() - interval '6 hours 1 minute',
                         last_notified = now() - interval '6 hours 1 minute'`,
    );
    const later = await check();
    expect(later.notified).toEqual(['dead_letter_backlog']);
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.text).toContain('131 dead letters');
  });

  it('holds across instances: two checks at once send one notice', async () => {
    await addDeadLetters(101, 'pending');
    const reports = await Promise.all([check(), check()]);
    expect(reports.map((report) => report.notified.length).sort()).toEqual([0, 1]);
    expect(smtp.received).toHaveLength(1);
  });

  it('notifies an escalation at once, but not a return to an already notified severity', async () => {
    // 18 of 20 = 90%: a warning (critical is below 90).
    await addObservations(17, 'processed');
    await addObservations(2, 'dead');
    const warning = await check();
    expect(warning.alerts).toEqual([
      expect.objectContaining({ condition: 'person_upsert_success_rate', severity: 'warning' }),
    ]);
    expect(smtp.received.map((mail) => mail.subject)).toEqual([
      '[WARNING] duxsoup-etl: person_upsert_success_rate',
    ]);
    expect(twilio.received).toHaveLength(0);

    // 17 of 20 = 85%: critical, a different (condition, severity): email and SMS now.
    const [processed] = await db.pool
      .query<{ id: number }>(
        `SELECT id FROM observations WHERE status = 'processed' ORDER BY id DESC LIMIT 1`,
      )
      .then((result) => result.rows);
    await db.pool.query(`UPDATE observations SET status = 'dead' WHERE id = $1`, [processed!.id]);
    const critical = await check();
    expect(critical.alerts[0]).toMatchObject({ severity: 'critical', values: { success_rate_percent: 85 } });
    expect(critical.notified).toEqual(['person_upsert_success_rate']);
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.subject).toBe('[CRITICAL] duxsoup-etl: person_upsert_success_rate');
    expect(twilio.received).toHaveLength(2);

    // Back to 90%: a warning was already sent in this episode less than 6 hours ago.
    await db.pool.query(`UPDATE observations SET status = 'processed' WHERE id = $1`, [processed!.id]);
    const calmer = await check();
    expect(calmer.alerts[0]!.severity).toBe('warning');
    expect(calmer.suppressed).toEqual(['person_upsert_success_rate']);
    expect(smtp.received).toHaveLength(2);
  });
});

describe('recovery', () => {
  it('sends one recovery notice when a notified condition clears, and a new episode notifies again', async () => {
    await addDeadLetters(101, 'pending');
    await check();
    await db.pool.query(`UPDATE dead_letters SET status = 'resolved', resolved_at = now()`);

    const recovered = await check();
    expect(recovered.status).toBe('ok');
    expect(recovered.recovered).toEqual(['dead_letter_backlog']);
    expect(smtp.received).toHaveLength(2);
    expect(smtp.received[1]!.subject).toBe('[RECOVERED] duxsoup-etl: dead_letter_backlog');
    expect(smtp.received[1]!.text).toMatch(/dead_letter_backlog \(warning, since .+\) cleared at/);
    expect(twilio.received).toHaveLength(0); // the episode was never critical
    const row = await alertRow('dead_letter_backlog');
    expect(row!.cleared_at).not.toBeNull();
    expect(row!.recovery_notified_at).not.toBeNull();

    await check();
    expect(smtp.received).toHaveLength(2); // once only

    // The condition comes back within the de-duplication window: a new episode, so a new notice.
    await db.pool.query(`UPDATE dead_letters SET status = 'pending', resolved_at = NULL`);
    const back = await check();
    expect(back.notified).toEqual(['dead_letter_backlog']);
    expect(smtp.received).toHaveLength(3);
    expect(await alertRow('dead_letter_backlog')).toMatchObject({
      cleared_at: null,
      recovery_notified_at: null,
    });
  });

  it('sends no recovery for a condition nobody was told about', async () => {
    await addDeadLetters(101, 'pending');
    await check(configWith({ SMTP_HOST: '', TWILIO_ACCOUNT_SID: '' })); // no channel: recorded, not sent
    await db.pool.query(`UPDATE dead_letters SET status = 'resolved'`);
    const report = await check();
    expect(report.recovered).toEqual([]);
    expect(smtp.received).toHaveLength(0);
  });
});

describe('a critical alert', () => {
  it('goes by SMS (through the twilio client) and by email, and so does its recovery', async () => {
    await addDeadLetters(10, 'failed', 10);
    expect((await check()).alerts).toEqual([]); // 10 is not above 10
    await addDeadLetters(1, 'pending', 3); // pending with 3 attempts also counts as failing replay

    const report = await check();
    expect(report.status).toBe('critical');
    expect(report.alerts).toEqual([
      expect.objectContaining({
        condition: 'dead_letters_failing',
        severity: 'critical',
        values: { failing: 11, threshold: 10 },
      }),
    ]);
    expect(smtp.received).toHaveLength(1);
    expect(smtp.received[0]!.subject).toBe('[CRITICAL] duxsoup-etl: dead_letters_failing');

    expect(twilio.received).toHaveLength(2);
    expect(twilio.received.map((sms) => sms.to).sort()).toEqual(SMS_TO);
    for (const sms of twilio.received) {
      expect(sms.accountSid).toBe(TWILIO.sid);
      expect(sms.credentials).toBe(`${TWILIO.sid}:${TWILIO.token}`);
      expect(sms.from).toBe('+15005550006');
      expect(sms.contentType).toMatch(/^application\/x-www-form-urlencoded/);
      expect(sms.userAgent).toMatch(/^twilio-node\//);
      expect(
        sms.body.startsWith('duxsoup-etl CRITICAL dead_letters_failing: 11 dead letters are failing'),
      ).toBe(true);
      expect(sms.body.length).toBeLessThanOrEqual(160);
    }
    const channels = (await notifications()).map((row) => [row.channel, row.severity, row.delivered]);
    expect(channels.sort()).toEqual([
      ['email', 'critical', true],
      ['sms', 'critical', true],
    ]);

    await db.pool.query(`UPDATE dead_letters SET status = 'resolved'`);
    const recovered = await check();
    expect(recovered.recovered).toEqual(['dead_letters_failing']);
    expect(smtp.received[1]!.subject).toBe('[RECOVERED] duxsoup-etl: dead_letters_failing');
    expect(twilio.received).toHaveLength(4);
    expect(twilio.received[2]!.body).toBe('duxsoup-etl RECOVERED dead_letters_failing');
  });

  it('also comes from a webhook silence of ALERT_FRESHNESS_HOURS x ALERT_FRESHNESS_CRITICAL_FACTOR', async () => {
    await db.pool.query('TRUNCATE observation_log, observation_state CASCADE');
    await addObservations(1, 'processed', { minutesAgo: 6 * 60 - 1 });
    await addObservations(1, 'processed', { minutesAgo: 1, source: 'csv' }); // an import is not a webhook
    expect((await check()).alerts).toEqual([]);

    await db.pool.query(
      `UPDATE observations SET received_at = received_at - interval '2 minutes' WHERE source = 'duxsoup'`,
    );
    const warning = await check();
    expect(warning.alerts).toEqual([
      expect.objectContaining({ condition: 'webhook_freshness', severity: 'warning' }),
    ]);
    expect(twilio.received).toHaveLength(0);

    await db.pool.query(
      `UPDATE observations SET received_at = now() - interval '24 hours' WHERE source = 'duxsoup'`,
    );
    const critical = await check();
    expect(critical.alerts).toEqual([
      expect.objectContaining({ condition: 'webhook_freshness', severity: 'critical' }),
    ]);
    expect(twilio.received).toHaveLength(2);
    expect(twilio.received[0]!.body).toMatch(
      /^duxsoup-etl CRITICAL webhook_freshness: No Dux-Soup webhook for 24 hours/,
    );
  });
});

describe('the SMS text', () => {
  it('lists every critical condition before the first message, and fits one GSM-7 segment', () => {
    const alert = (condition: string) => ({
      condition,
      severity: 'critical' as const,
      message: `${'a very long explanation '.repeat(10)}end`,
      values: {},
    });
    const message = planMessage(
      { alerts: [alert('dead_letters_failing'), alert('webhook_freshness')], suppressed: [], recoveries: [] },
      { checkedAt: new Date(), dedupHours: 6 },
    );
    const sms = truncateSms(message.short);
    expect(sms).toMatch(/^duxsoup-etl CRITICAL dead_letters_failing, webhook_freshness: a very long/);
    expect(sms).toHaveLength(SMS_MAX_LENGTH);
    expect(sms.endsWith('...')).toBe(true);
    expect(sms).toMatch(/^[\x20-\x7e]+$/); // GSM-7 safe: nothing that would force UCS-2
  });
});

describe('a failing channel', () => {
  it('SMTP down: the check still succeeds, records the failure, and retries the notice next run', async () => {
    const closedPort = await freePort();
    await addDeadLetters(101, 'pending');
    const report = await check(configWith({ SMTP_PORT: String(closedPort) }));
    expect(report.status).toBe('warning');
    expect(report.notified).toEqual([]);
    expect(report.undelivered).toEqual(['dead_letter_backlog']);
    expect(report.counts.delivery_failures).toBe(1);
    expect(report.deliveries).toEqual([
      expect.objectContaining({
        channel: 'email',
        delivered: false,
        error: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);
    expect(await notifications()).toEqual([
      expect.objectContaining({
        channel: 'email',
        delivered: false,
        error: expect.stringMatching(/ECONNREFUSED/),
      }),
    ]);
    expect((await alertRow('dead_letter_backlog'))!.warning_notified_at).toBeNull();
    expect(logLines.join('')).toContain('notification failed');

    const retried = await check();
    expect(retried.notified).toEqual(['dead_letter_backlog']);
    expect(smtp.received).toHaveLength(1);
  });

  it('a critical alert counts as notified when SMS got through although email did not', async () => {
    const closedPort = await freePort();
    await addDeadLetters(11, 'failed');
    const report = await check(configWith({ SMTP_PORT: String(closedPort) }));
    expect(report.notified).toEqual(['dead_letters_failing']);
    expect(twilio.received).toHaveLength(2);
    expect(report.deliveries.map((delivery) => [delivery.channel, delivery.delivered]).sort()).toEqual([
      ['email', false],
      ['sms', true],
    ]);
  });

  it('Twilio failing: email still goes, the SMS failure is recorded', async () => {
    twilio.failWith = 500;
    await addDeadLetters(11, 'failed');
    const report = await check();
    expect(smtp.received).toHaveLength(1);
    const sms = report.deliveries.find((delivery) => delivery.channel === 'sms')!;
    expect(sms).toMatchObject({ delivered: false, error: expect.stringMatching(/^2 of 2 SMS failed/) });
    expect(report.notified).toEqual(['dead_letters_failing']);
  });

  it('never logs or stores a secret, even when the credentials are refused', async () => {
    await addDeadLetters(11, 'failed');
    const report = await check(
      configWith({ SMTP_PASS: 'wrong-smtp-Secret-1', TWILIO_AUTH_TOKEN: 'wrong-twilio-Secret-2' }),
    );
    expect(report.deliveries.every((delivery) => !delivery.delivered)).toBe(true);
    expect(smtp.refusedLogins).toBeGreaterThan(0);
    expect(twilio.refused).toBeGreaterThan(0);
    const stored = JSON.stringify(await notifications());
    const logged = logLines.join('\n');
    for (const secret of ['wrong-smtp-Secret-1', 'wrong-twilio-Secret-2', SMTP.pass, TWILIO.token]) {
      expect(stored).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(stored).toMatch(/Invalid login|authentication|Authenticate/i);
  });

  it('with no channel configured, runs and records the alert state without sending', async () => {
    await addDeadLetters(101, 'pending');
    const report = await check(configWith({ SMTP_HOST: '', ALERT_SMS_TO: '' }));
    expect(report.status).toBe('warning');
    expect(report.deliveries).toEqual([]);
    expect(report.undelivered).toEqual(['dead_letter_backlog']);
    expect(await alertRow('dead_letter_backlog')).toMatchObject({ severity: 'warning', last_notified: null });
  });
});
