import request from 'supertest';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { rebuildPersonChanges } from '../src/intelligence/changes-rebuild';
import { createLogger } from '../src/logger';
import { rebuildFromLog } from '../src/rebuild';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const DAY = 86_400_000;
const START = Date.UTC(2023, 0, 2);
const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
let db: TestDatabase;

/** Six people, each with a history: repeats, promotions, lateral moves, company changes, a late scan. */
function histories(): { step: number; payload: object }[] {
  const jobs: [string, string][][] = [
    [
      ['Sales Manager', 'Acme'],
      ['Sales Manager', 'Acme'],
      ['VP of Sales', 'Acme'],
      ['VP of Sales', 'Globex'],
    ],
    [
      ['Engineer', 'Initrode'],
      ['Engineering Manager', 'Initrode'],
      ['Product Manager', 'Initrode'],
    ],
    [
      ['Analyst', 'Globex'],
      ['Analyst', 'Globex'],
    ],
    [
      ['Marketing Manager', 'Acme'],
      ['Sales Manager', 'Acme'],
      ['Sales Manager', 'Initrode'],
      ['CEO', 'Initrode'],
    ],
    [['Recruiter', 'Acme']],
    [
      ['Director of Sales', 'Globex'],
      ['Sales Manager', 'Globex'],
      ['Director of Sales', 'Acme'],
    ],
  ];
  return jobs.flatMap((history, person) =>
    history.map(([title, company], step) => {
      const at = START + (person * 10 + step) * 7 * DAY;
      const kind = step % 2 === 0 ? 'visit' : 'scan';
      const payload = {
        userid: 'changes-rebuild-tests',
        time: new Date(at + 500).toISOString(),
        type: kind,
        event: 'create',
        data: {
          [kind === 'visit' ? 'VisitTime' : 'ScanTime']: at,
          id: `id.${77_000_000 + person}`,
          Profile: `https://www.linkedin.com/in/rebuild-person-${person}/`,
          'First Name': `Person${person}`,
          'Last Name': 'Rebuild',
          Title: title,
          Company: company,
        },
      };
      return { step, payload };
    }),
  );
}

async function content(): Promise<unknown[]> {
  const { rows } = await db.pool.query(
    `SELECT person_id, observation_id, previous_observation_id, type, changed_at, previous_observed_at,
            before_title, before_company, before_company_id, before_level, before_tier, before_department,
            after_title, after_company, after_company_id, after_level, after_tier, after_department
       FROM person_changes ORDER BY person_id, observation_id`,
  );
  return rows;
}

let live: unknown[];
beforeAll(async () => {
  db = await createTestDatabase();
  const { app } = buildTestApp(db, { NODE_ENV: 'test', LOG_LEVEL: 'silent' });
  const processor = phase2FromConfig(db.pool, config, createLogger(config));
  // Every person's second observation is sent last, though it happened second.
  const events = histories();
  const order = [...events.filter((e) => e.step !== 1), ...events.filter((e) => e.step === 1)];
  for (const { payload } of order) {
    const stored = await request(app)
      .post('/api/webhook')
      .set('content-type', 'application/json')
      .send(payload);
    expect(stored.status).toBe(200);
    await processor.process(stored.body.observation_id as number);
  }
  live = await content();
});
afterAll(() => db.drop());

describe('rebuildPersonChanges', () => {
  it('live processing found the changes the histories hold', () => {
    expect((live as { type: string }[]).map((row) => row.type).sort()).toEqual(
      [
        'promotion',
        'company_change',
        'promotion',
        'lateral_move',
        'lateral_move',
        'company_change',
        'promotion',
        'title_change',
        'company_change',
      ].sort(),
    );
  });

  it('backfills an empty table to exactly what live processing wrote, and removes rows no history supports', async () => {
    await db.pool.query('DELETE FROM person_changes');
    const { rows } = await db.pool.query<{ id: string; person_id: string }>(
      'SELECT id, person_id FROM observations ORDER BY id LIMIT 1',
    );
    // A person's first observation never shows a change.
    await db.pool.query(
      `INSERT INTO person_changes (person_id, observation_id, previous_observation_id, type, changed_at,
                                   previous_observed_at)
       VALUES ($1, $2, $2, 'promotion', now(), now())`,
      [rows[0]!.person_id, rows[0]!.id],
    );
    const progress: number[] = [];
    const summary = await rebuildPersonChanges(db.pool, {
      defaultPhoneCountry: 'US',
      batchSize: 4,
      onProgress: (persons) => progress.push(persons),
    });
    expect(summary).toEqual({ persons: 6, changes: 9 });
    expect(progress).toEqual([4, 6]);
    expect(await content()).toEqual(live);
  });

  it('after the set-based rebuild of the ops CLI, it restores the same changes', async () => {
    const processor = phase2FromConfig(db.pool, config, createLogger(config));
    await rebuildFromLog(db.pool, {
      namespace: config.CANONICAL_ID_NAMESPACE,
      settings: testFoldSettings(),
      processor,
      batchSize: 8,
    });
    await rebuildPersonChanges(db.pool, { defaultPhoneCountry: 'US' });
    expect(await content()).toEqual(live);
  });
});
