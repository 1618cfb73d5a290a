import type { Express } from 'express';
import { backfillSeniority } from '../src/cli/commands/backfill';
import { describeHealth, HEALTH_EXIT_CODES, healthCheck } from '../src/cli/commands/health-check';
import { dedupeAliases, renormalisedAlias } from '../src/cli/commands/dedupe-aliases';
import { linkOrphans } from '../src/cli/commands/link-orphans';
import { relink } from '../src/cli/commands/relink';
import { replayDeadLetters } from '../src/cli/commands/replay-dead-letters';
import { silentProgress } from '../src/cli/progress';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { DEFAULT_DEAD_LETTER_POLICY } from '../src/jobs/dead-letter-policy';
import { createLogger } from '../src/logger';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { OPS_TABLES, profileEvent, sendWebhook, tableContents, uniqueSuffix } from './fixtures/cli-support';

jest.setTimeout(120_000);

const settings = testFoldSettings();
const contribution = { defaultPhoneCountry: 'US' };
let db: TestDatabase;
let app: Express;
/** Stores observations and leaves them pending (Phase 2 not wired): for states Phase 2 would not produce today. */
let storeOnly: Express;
let phase2: ReturnType<typeof phase2FromConfig>;

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, {}, { phase2: true }).app;
  storeOnly = buildTestApp(db, {}).app;
  phase2 = phase2FromConfig(db.pool, loadConfig({}), createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
});
afterAll(() => db.drop());

let memberSeed = 8_500_000_000;
const memberId = () => String(++memberSeed);

async function observation(id: number) {
  const { rows } = await db.pool.query('SELECT * FROM observations WHERE id = $1', [id]);
  return rows[0];
}

async function personOf(alias: { kind: string; value: string }): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ person_id: string }>(
    'SELECT person_id FROM person_aliases WHERE kind = $1 AND value = $2',
    [alias.kind, alias.value],
  );
  return rows[0]?.person_id;
}

/** An observation Phase 2 failed on: `dead`, with a due dead letter. */
async function deadObservation(data: Record<string, unknown>): Promise<number> {
  const stored = await sendWebhook(storeOnly, profileEvent('visit', data));
  await db.pool.query(`UPDATE observations SET status = 'dead', status_reason = 'simulated' WHERE id = $1`, [
    stored.observation_id,
  ]);
  await db.pool.query(`INSERT INTO dead_letters (observation_id, error) VALUES ($1, 'simulated failure')`, [
    stored.observation_id,
  ]);
  return stored.observation_id;
}

describe('link-orphans', () => {
  it('re-resolves skipped observations that now yield an identifier and dead ones; the dry run changes nothing', async () => {
    const s = uniqueSuffix();
    // Skipped by an older extractor although it carries a profile URL.
    const missed = await sendWebhook(
      storeOnly,
      profileEvent('visit', { Profile: `https://www.linkedin.com/in/orphan-${s}` }),
    );
    await db.pool.query(
      `UPDATE observations SET status = 'skipped', status_reason = 'no usable identifier', processed_at = now()
        WHERE id = $1`,
      [missed.observation_id],
    );
    const dead = await deadObservation({ id: `id.${memberId()}`, 'First Name': 'Dee' });
    const hopeless = await sendWebhook(app, profileEvent('scan', { 'First Name': 'Nobody' }));
    expect(hopeless.status).toBe('skipped');
    const hopelessBefore = await observation(hopeless.observation_id);

    const before = await tableContents(db.pool);
    const dry = await linkOrphans(db.pool, phase2, { execute: false, contribution }, silentProgress);
    expect(await tableContents(db.pool)).toEqual(before);
    expect(dry).toMatchObject({
      dry_run: true,
      examined: { skipped: 2, dead: 1 },
      resolvable_skipped: 1,
      still_without_identity: 1,
      linked: 0,
    });

    const done = await linkOrphans(db.pool, phase2, { execute: true, contribution }, silentProgress);
    expect(done).toMatchObject({ linked: 2, still_dead: 0, skipped_again: 0 });
    expect(await observation(missed.observation_id)).toMatchObject({ status: 'processed' });
    expect((await observation(missed.observation_id)).person_id).toBe(
      await personOf({ kind: 'username', value: `orphan-${s}` }),
    );
    expect(await observation(dead)).toMatchObject({ status: 'processed' });
    const letter = await db.pool.query('SELECT status FROM dead_letters WHERE observation_id = $1', [dead]);
    expect(letter.rows[0].status).toBe('resolved');
    expect(await observation(hopeless.observation_id)).toEqual(hopelessBefore);
  });
});

describe('relink', () => {
  it('links a person known only by URLs to the stable-id person its own observation names', async () => {
    const s = uniqueSuffix();
    const salesId = `ACwAAARelink${s}Zz`;
    const p = await sendWebhook(
      app,
      profileEvent('visit', { Profile: `https://www.linkedin.com/in/pat-${s}` }),
    );
    const later = await sendWebhook(
      app,
      profileEvent('visit', {
        Profile: `https://www.linkedin.com/in/pat-${s}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/${salesId},NAME_SEARCH,ab1c`,
        'First Name': 'Pat',
        Company: `Relink Works ${s}`,
      }),
    );
    expect(later.person_id).toBe(p.person_id);
    // As an older extractor left it: the Sales Navigator id in SalesProfile was not recognised.
    await db.pool.query(
      `DELETE FROM person_aliases WHERE person_id = $1 AND kind IN ('sales_nav_id', 'sales_url')`,
      [p.person_id],
    );
    const q = await sendWebhook(
      app,
      profileEvent('visit', {
        SalesProfile: `https://www.linkedin.com/sales/people/${salesId},name,wxyz`,
        'Last Name': 'Quinn',
      }),
    );
    expect(q.person_id).not.toBe(p.person_id);
    await sendWebhook(app, profileEvent('visit', { Profile: `https://www.linkedin.com/in/ralph-${s}` }));
    await drainRefreshQueue(db.pool, settings);

    const before = await tableContents(db.pool);
    const dry = await relink(db.pool, phase2, { execute: false, contribution, settings }, silentProgress);
    expect(await tableContents(db.pool)).toEqual(before);
    expect(dry).toMatchObject({
      observations_to_relink: 1,
      naming_another_person: 1,
      naming_a_stable_id_person: 1,
      persons_affected: 1,
      relinked: 0,
    });

    const done = await relink(db.pool, phase2, { execute: true, contribution, settings }, silentProgress);
    expect(done).toMatchObject({ observations_to_relink: 1, relinked: 1, merged: 1, failed: 0 });
    const merged = await db.pool.query(
      'SELECT id, merged_into, observations_count FROM persons WHERE id = ANY($1)',
      [[p.person_id, q.person_id]],
    );
    const byId = Object.fromEntries(merged.rows.map((row) => [row.id, row]));
    expect(byId[q.person_id].merged_into).toBe(p.person_id);
    expect(byId[p.person_id]).toMatchObject({ merged_into: null, observations_count: 3 });
    expect(await personOf({ kind: 'sales_nav_id', value: salesId.toLowerCase() })).toBe(p.person_id);

    // The re-run observation is counted once by its company.
    await drainRefreshQueue(db.pool, settings);
    const company = await db.pool.query(
      `SELECT c.observations_count, (SELECT count(*)::int FROM observations o WHERE o.company_id = c.id) AS linked
         FROM companies c WHERE c.name = $1`,
      [`Relink Works ${s}`],
    );
    expect(company.rows[0]).toEqual({ observations_count: 1, linked: 1 });

    const again = await relink(db.pool, phase2, { execute: false, contribution, settings }, silentProgress);
    expect(again.observations_to_relink).toBe(0);
  });
});

describe('backfill seniority', () => {
  it('refolds persons whose snapshot lacks seniority into exactly the snapshot live processing gives', async () => {
    const s = uniqueSuffix();
    const vp = await sendWebhook(
      app,
      profileEvent('visit', { Profile: `https://www.linkedin.com/in/vp-${s}`, Title: 'VP of Engineering' }),
    );
    await sendWebhook(
      app,
      profileEvent('visit', { Profile: `https://www.linkedin.com/in/dash-${s}`, Title: '--' }),
    );
    const original = await db.pool.query('SELECT snapshot FROM persons WHERE id = $1', [vp.person_id]);
    expect(original.rows[0].snapshot).toMatchObject({ seniorityTier: 'VP', department: 'engineering' });
    await db.pool.query(
      `UPDATE persons
          SET snapshot = snapshot - 'seniorityTier' - 'seniorityLevel' - 'department'
                         #- '{_meta,seniorityTier}' #- '{_meta,seniorityLevel}' #- '{_meta,department}'
        WHERE id = $1`,
      [vp.person_id],
    );

    const before = await tableContents(db.pool);
    const dry = await backfillSeniority(db.pool, { execute: false, settings }, silentProgress);
    expect(await tableContents(db.pool)).toEqual(before);
    expect(dry).toMatchObject({ lacking: 2, to_refold: 1, refolded: 0 });

    const done = await backfillSeniority(db.pool, { execute: true, settings, batchSize: 1 }, silentProgress);
    expect(done).toMatchObject({ lacking: 2, to_refold: 1, refolded: 1, filled: 1 });
    const after = await db.pool.query('SELECT snapshot FROM persons WHERE id = $1', [vp.person_id]);
    expect(after.rows[0].snapshot).toEqual(original.rows[0].snapshot);
  });
});

describe('dedupe-aliases', () => {
  it('renames, drops, merges or reports aliases stored under an older normalisation', async () => {
    const s = uniqueSuffix();
    const dana = await sendWebhook(
      app,
      profileEvent('visit', {
        Profile: `https://www.linkedin.com/in/dana-${s}`,
        Email: `dana@whitfield${s}.io`,
      }),
    );
    const erin = await sendWebhook(
      app,
      profileEvent('visit', { Profile: `https://www.linkedin.com/in/erin-${s}` }),
    );
    const erinTwin = await sendWebhook(
      app,
      profileEvent('visit', { id: `id.${memberId()}`, 'First Name': 'Erin' }),
    );
    const fay = await sendWebhook(
      app,
      profileEvent('visit', { id: `id.${memberId()}`, Profile: `https://www.linkedin.com/in/fay-${s}` }),
    );
    const fayOther = await sendWebhook(app, profileEvent('visit', { id: `id.${memberId()}` }));
    const profileUrl = `https://www.linkedin.com/in/dana-${s}`;
    const oldAliases: [string, string, string][] = [
      // the URL as an older normaliser kept it (trailing slash): nobody holds the normalised form
      ['profile_url', `${profileUrl}/`, dana.person_id],
      // the e-mail as first typed: Dana holds the normalised form already
      ['email', `DANA@WHITFIELD${s}.IO`, dana.person_id],
      // Erin's username in capitals on a person known by member number only: the same human
      ['username', `ERIN-${s}`, erinTwin.person_id],
      // Fay's username on a person with another member number: never merged
      ['username', `FAY-${s}`, fayOther.person_id],
      // no longer an identifier at all (blocked address)
      ['email', `noreply@whitfield${s}.io`, dana.person_id],
    ];
    await db.pool.query(
      `UPDATE person_aliases SET value = $2, display = $2 WHERE kind = 'profile_url' AND value = $1`,
      [profileUrl, `${profileUrl}/`],
    );
    for (const [kind, value, person] of oldAliases.slice(1)) {
      await db.pool.query(
        `INSERT INTO person_aliases (kind, value, person_id, display, first_observation_id) VALUES ($1, $2, $3, $2, 1)`,
        [kind, value, person],
      );
    }
    expect(
      renormalisedAlias({ kind: 'profile_url', value: `${profileUrl}/`, display: `${profileUrl}/` }),
    ).toBe(profileUrl);

    const before = await tableContents(db.pool);
    const dry = await dedupeAliases(db.pool, { execute: false, settings }, silentProgress);
    expect(await tableContents(db.pool)).toEqual(before);
    const expected = { stale: 5, renamed: 1, duplicates_removed: 1, merges: 1, conflicts: 1, invalid: 1 };
    expect(dry).toMatchObject({ dry_run: true, ...expected });
    expect(dry.examples.find((example) => example.action === 'merge')).toMatchObject({
      person_id: erinTwin.person_id,
      other_person_id: erin.person_id,
    });

    const done = await dedupeAliases(db.pool, { execute: true, settings }, silentProgress);
    expect(done).toMatchObject({ dry_run: false, ...expected });
    expect(await personOf({ kind: 'profile_url', value: profileUrl })).toBe(dana.person_id);
    expect(await personOf({ kind: 'profile_url', value: `${profileUrl}/` })).toBeUndefined();
    expect(await personOf({ kind: 'email', value: `DANA@WHITFIELD${s}.IO` })).toBeUndefined();
    expect(await personOf({ kind: 'email', value: `dana@whitfield${s}.io` })).toBe(dana.person_id);
    const twins = await db.pool.query('SELECT merged_into FROM persons WHERE id = $1', [erinTwin.person_id]);
    expect(twins.rows[0].merged_into).toBe(erin.person_id);
    expect(await personOf({ kind: 'username', value: `ERIN-${s}` })).toBeUndefined();
    expect(await personOf({ kind: 'username', value: `FAY-${s}` })).toBe(fayOther.person_id);
    expect(await personOf({ kind: 'username', value: `fay-${s}` })).toBe(fay.person_id);
    expect(await personOf({ kind: 'email', value: `noreply@whitfield${s}.io` })).toBe(dana.person_id);

    const again = await dedupeAliases(db.pool, { execute: false, settings }, silentProgress);
    expect(again).toMatchObject({ stale: 2, conflicts: 1, invalid: 1 });
  });
});

describe('replay-dead-letters', () => {
  it('replays due dead letters through Phase 2; the dry run only counts', async () => {
    const dead = await deadObservation({ id: `id.${memberId()}`, 'First Name': 'Rae' });
    await db.pool.query(
      `UPDATE dead_letters SET next_attempt_at = now() + interval '1 hour' WHERE observation_id = $1`,
      [dead],
    );
    const options = { limit: 100, policy: DEFAULT_DEAD_LETTER_POLICY };

    const before = await tableContents(db.pool);
    const dry = await replayDeadLetters(
      db.pool,
      phase2,
      { ...options, dryRun: true, ignoreBackoff: false },
      silentProgress,
    );
    expect(await tableContents(db.pool)).toEqual(before);
    expect(dry.before).toMatchObject({ pending: 1, due: 0 });

    const notDue = await replayDeadLetters(
      db.pool,
      phase2,
      { ...options, dryRun: false, ignoreBackoff: false },
      silentProgress,
    );
    expect(notDue.replayed.claimed).toBe(0);
    const done = await replayDeadLetters(
      db.pool,
      phase2,
      { ...options, dryRun: false, ignoreBackoff: true },
      silentProgress,
    );
    expect(done.before).toMatchObject({ pending: 1, due: 1 });
    expect(done.replayed).toMatchObject({ claimed: 1, resolved: 1, failed: 0 });
    expect(await observation(dead)).toMatchObject({ status: 'processed' });
    const letter = await db.pool.query('SELECT status FROM dead_letters WHERE observation_id = $1', [dead]);
    expect(letter.rows[0].status).toBe('resolved');
  });
});

describe('health-check', () => {
  it('reports the dashboard and its status without writing anything (unless asked to notify)', async () => {
    const tables = [...OPS_TABLES, 'alerts', 'alert_notifications'];
    const before = await tableContents(db.pool, tables);
    const config = loadConfig({ NODE_ENV: 'test' });
    const logger = createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const summary = await healthCheck(db.pool, { config, logger, notify: false });
    expect(await tableContents(db.pool, tables)).toEqual(before);
    expect(summary.status).toBe('ok');
    expect(HEALTH_EXIT_CODES[summary.status]).toBe(0);
    const persons = await db.pool.query('SELECT count(*)::int AS n FROM persons WHERE merged_into IS NULL');
    expect(summary.dashboard.metrics.counts.persons).toBe(persons.rows[0].n);
    expect(describeHealth(summary)[0]).toBe('status: OK');

    // A dead observation among a handful: far below the critical success rate.
    await deadObservation({ id: `id.${memberId()}` });
    const strict = loadConfig({
      NODE_ENV: 'test',
      ALERT_SUCCESS_RATE_MIN_SAMPLE: '1',
      ALERT_SUCCESS_RATE_WARNING: '99.9',
      ALERT_SUCCESS_RATE_CRITICAL: '99.5',
    });
    const critical = await healthCheck(db.pool, { config: strict, logger, notify: false });
    expect(critical.status).toBe('critical');
    expect(HEALTH_EXIT_CODES[critical.status]).toBe(2);
    expect(critical.dashboard.alerts.map((alert) => alert.condition)).toContain('person_upsert_success_rate');
  });
});
