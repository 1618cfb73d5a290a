import { loadConfig } from '../src/config';
import type { AlertFigures } from '../src/health';
import { alertThresholds, evaluateRules, loadAlertFigures, overallStatus } from '../src/health';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const defaults = alertThresholds(loadConfig({}));

/** Figures with nothing wrong; each test changes one thing. */
function healthy(overrides: Partial<AlertFigures> = {}): AlertFigures {
  return {
    deadLetters: { pending: 0, failing: 0 },
    personUpsert: { windowHours: 24, succeeded: 100, attempted: 100 },
    secondsSinceLastWebhook: 60,
    lastWebhookAt: '2026-01-01T00:00:00.000Z',
    ...overrides,
  };
}

function judged(figures: AlertFigures, thresholds = defaults): string[] {
  return evaluateRules(figures, thresholds).map((alert) => `${alert.condition}:${alert.severity}`);
}

describe('alert rules at their thresholds (defaults)', () => {
  it('nothing wrong: no alert, status ok', () => {
    expect(evaluateRules(healthy(), defaults)).toEqual([]);
    expect(overallStatus([])).toBe('ok');
  });

  it('dead-letter backlog: warning above 100 pending', () => {
    expect(judged(healthy({ deadLetters: { pending: 100, failing: 0 } }))).toEqual([]);
    expect(judged(healthy({ deadLetters: { pending: 101, failing: 0 } }))).toEqual([
      'dead_letter_backlog:warning',
    ]);
  });

  it('dead letters failing replay: critical above 10', () => {
    expect(judged(healthy({ deadLetters: { pending: 0, failing: 10 } }))).toEqual([]);
    expect(judged(healthy({ deadLetters: { pending: 0, failing: 11 } }))).toEqual([
      'dead_letters_failing:critical',
    ]);
  });

  it('person-upsert success: warning below 95%, critical below 90%, judged on the exact ratio', () => {
    const rate = (succeeded: number, attempted: number) =>
      judged(healthy({ personUpsert: { windowHours: 24, succeeded, attempted } }));
    expect(rate(95, 100)).toEqual([]);
    expect(rate(1899, 2000)).toEqual(['person_upsert_success_rate:warning']); // 94.95% (shown 95.0)
    expect(rate(94, 100)).toEqual(['person_upsert_success_rate:warning']);
    expect(rate(90, 100)).toEqual(['person_upsert_success_rate:warning']);
    expect(rate(899, 1000)).toEqual(['person_upsert_success_rate:critical']);
    expect(rate(0, 100)).toEqual(['person_upsert_success_rate:critical']);
  });

  it('person-upsert success: not judged below ALERT_SUCCESS_RATE_MIN_SAMPLE', () => {
    expect(judged(healthy({ personUpsert: { windowHours: 24, succeeded: 0, attempted: 19 } }))).toEqual([]);
    expect(judged(healthy({ personUpsert: { windowHours: 24, succeeded: 0, attempted: 0 } }))).toEqual([]);
    expect(judged(healthy({ personUpsert: { windowHours: 24, succeeded: 0, attempted: 20 } }))).toEqual([
      'person_upsert_success_rate:critical',
    ]);
  });

  it('webhook freshness: warning from 6 hours, critical from 24 hours, warning when none ever came', () => {
    const silence = (hours: number) => judged(healthy({ secondsSinceLastWebhook: hours * 3600 }));
    expect(silence(5.99)).toEqual([]);
    expect(silence(6)).toEqual(['webhook_freshness:warning']);
    expect(silence(23.99)).toEqual(['webhook_freshness:warning']);
    expect(silence(24)).toEqual(['webhook_freshness:critical']);
    expect(judged(healthy({ secondsSinceLastWebhook: null, lastWebhookAt: null }))).toEqual([
      'webhook_freshness:warning',
    ]);
  });

  it('several at once; the status is the worst severity', () => {
    const alerts = evaluateRules(
      healthy({ deadLetters: { pending: 500, failing: 50 }, secondsSinceLastWebhook: 7 * 3600 }),
      defaults,
    );
    expect(alerts.map((alert) => alert.condition)).toEqual([
      'dead_letter_backlog',
      'dead_letters_failing',
      'webhook_freshness',
    ]);
    expect(overallStatus(alerts)).toBe('critical');
    expect(overallStatus(alerts.filter((alert) => alert.severity === 'warning'))).toBe('warning');
  });

  it('messages carry the live figures (values too), conditions stay stable', () => {
    const [first] = evaluateRules(healthy({ deadLetters: { pending: 123, failing: 0 } }), defaults);
    const [second] = evaluateRules(healthy({ deadLetters: { pending: 456, failing: 0 } }), defaults);
    expect(first!.condition).toBe(second!.condition);
    expect(first!.message).not.toBe(second!.message);
    expect(second!.values).toEqual({ pending: 456, threshold: 100 });
  });
});

describe('thresholds come from the configuration', () => {
  it('follows every ALERT_* setting', () => {
    const thresholds = alertThresholds(
      loadConfig({
        ALERT_DEAD_LETTER_BACKLOG_WARNING: '5',
        ALERT_DEAD_LETTER_FAILING_CRITICAL: '1',
        ALERT_SUCCESS_RATE_WARNING: '99',
        ALERT_SUCCESS_RATE_CRITICAL: '50',
        ALERT_SUCCESS_RATE_MIN_SAMPLE: '2',
        ALERT_FRESHNESS_HOURS: '1',
        ALERT_FRESHNESS_CRITICAL_FACTOR: '2',
      }),
    );
    expect(judged(healthy({ deadLetters: { pending: 6, failing: 2 } }), thresholds)).toEqual([
      'dead_letter_backlog:warning',
      'dead_letters_failing:critical',
    ]);
    const rate = (succeeded: number, attempted: number) =>
      judged(healthy({ personUpsert: { windowHours: 24, succeeded, attempted } }), thresholds);
    expect(rate(2, 2)).toEqual([]);
    expect(rate(97, 100)).toEqual(['person_upsert_success_rate:warning']);
    expect(rate(1, 3)).toEqual(['person_upsert_success_rate:critical']);
    expect(judged(healthy({ secondsSinceLastWebhook: 3600 }), thresholds)).toEqual([
      'webhook_freshness:warning',
    ]);
    expect(judged(healthy({ secondsSinceLastWebhook: 7200 }), thresholds)).toEqual([
      'webhook_freshness:critical',
    ]);
  });

  it('rejects a bad threshold at start-up', () => {
    expect(() => loadConfig({ ALERT_SUCCESS_RATE_WARNING: '101' })).toThrow(/ALERT_SUCCESS_RATE_WARNING/);
    expect(() => loadConfig({ ALERT_DEDUP_HOURS: '-1' })).toThrow(/ALERT_DEDUP_HOURS/);
    expect(() => loadConfig({ TWILIO_ACCOUNT_SID: 'SK123' })).toThrow(/TWILIO_ACCOUNT_SID/);
    expect(() => loadConfig({ ALERT_EMAIL_TO: 'ops@example.com, not-an-address' })).toThrow(/ALERT_EMAIL_TO/);
  });
});

describe('the figures the rules judge, read from the database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  async function insert(
    status: string,
    minutesAgo: number,
    count = 1,
    source = 'duxsoup',
  ): Promise<number[]> {
    const { rows } = await db.pool.query<{ id: number }>(
      `INSERT INTO observations (source, kind, event, event_key, payload, status, received_at)
       SELECT $1, 'visit', 'create', md5(random()::text || g), '{}', $2, now() - $3 * interval '1 minute'
         FROM generate_series(1, $4) g RETURNING id`,
      [source, status, minutesAgo, count],
    );
    return rows.map((row) => row.id);
  }

  it('counts dead letters, judged outcomes in the window and the newest webhook', async () => {
    const config = loadConfig({});
    expect(await loadAlertFigures(db.pool, config)).toEqual({
      deadLetters: { pending: 0, failing: 0 },
      personUpsert: { windowHours: 24, succeeded: 0, attempted: 0 },
      secondsSinceLastWebhook: null,
      lastWebhookAt: null,
    });

    await insert('processed', 60, 8);
    await insert('processed', 25 * 60, 5); // outside the window
    await insert('pending', 10); // stuck (older than HEALTH_STUCK_PENDING_MINUTES = 5)
    await insert('pending', 1); // in flight: not judged
    await insert('skipped', 30, 3); // not judged
    await insert('ignored', 30, 2); // not judged
    const dead = await insert('dead', 120, 4);
    await db.pool.query(
      `INSERT INTO dead_letters (observation_id, error, status, attempts)
       SELECT id, 'boom', status, attempts
         FROM unnest($1::bigint[], $2::text[], $3::int[]) AS letter(id, status, attempts)`,
      [dead, ['pending', 'pending', 'failed', 'resolved'], [1, 3, 10, 2]],
    );
    await insert('processed', 0, 1, 'csv'); // newer, but an import: not a webhook

    const figures = await loadAlertFigures(db.pool, config);
    // succeeded 8 (+1 csv import in the window); failed: 4 dead + 1 stuck
    expect(figures.personUpsert).toEqual({ windowHours: 24, succeeded: 9, attempted: 14 });
    // pending letters: 2; failing: the failed one and the pending one with 3 attempts
    expect(figures.deadLetters).toEqual({ pending: 2, failing: 2 });
    expect(figures.secondsSinceLastWebhook).toBeGreaterThanOrEqual(55);
    expect(figures.secondsSinceLastWebhook).toBeLessThan(120);

    const stricter = loadConfig({
      ALERT_DEAD_LETTER_FAILING_ATTEMPTS: '1',
      HEALTH_STUCK_PENDING_MINUTES: '60',
    });
    const other = await loadAlertFigures(db.pool, stricter);
    expect(other.deadLetters.failing).toBe(3);
    expect(other.personUpsert.attempted).toBe(13);
  });
});
