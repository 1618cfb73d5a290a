import request from 'supertest';
import { loadConfig } from '../src/config';
import type { Pool } from '../src/db';
import { phase2FromConfig } from '../src/ingest/phase2';
import { reprocess, resetDerivedState } from '../src/ingest/rebuild';
import { createLogger } from '../src/logger';
import { rebuildFromLog } from '../src/rebuild';
import { buildTestApp, testFoldSettings } from './helpers/app';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { loadFixtures } from './helpers/fixtures';

jest.setTimeout(120_000);

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db.drop());

/** Deterministic PRNG so a failure can be replayed with the printed seed. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/**
 * A realistic log: every shared fixture, and people seen in different id forms over time (visits, scans
 * inside and outside the precedence window, updates), pairs that only a later event links (merges), companies
 * known by numeric id, by slug and by name, and locations spelled several ways.
 */
function dataset(): unknown[] {
  const events: unknown[] = loadFixtures().map((item) => item.payload);
  const day = 86_400_000;
  for (let n = 0; n < 40; n += 1) {
    const t0 = Date.UTC(2025, 0, 1) + n * 3 * day;
    const member = String(9_100_000_000 + n);
    const sales = `ACwAAAReplay${n}Zz${n * 7}`;
    const slug = `replay-person-${n}`;
    const company =
      n % 4 === 0
        ? { CompanyProfile: `https://www.linkedin.com/company/company-${n % 5}/` }
        : { CompanyProfile: `https://www.linkedin.com/company/${5_000 + (n % 5)}/` };
    const location = [
      'São Paulo, São Paulo, Brazil',
      'Sao Paulo, Sao Paulo, Brazil',
      'Berlin, Germany',
      'Greater Boston',
      'Austin, Texas, United States',
    ][n % 5];
    const base = { userid: 'replay', event: 'create' };
    events.push({
      ...base,
      type: 'visit',
      time: new Date(t0 + 900).toISOString(),
      data: {
        id: `id.${member}`,
        VisitTime: t0,
        Profile: `https://www.linkedin.com/in/${slug}`,
        'First Name': `First${n}`,
        'Last Name': `Last${n}`,
        Title: `Engineer ${n}`,
        Company: `Company ${n % 5}`,
        ...company,
        Location: location,
        'My Tags': [`tag-${n}`],
        extended: {
          positions: [{ Company: `Company ${n % 5}`, Title: `Engineer ${n}`, From: '3 - 2021', To: '' }],
          skills: ['TypeScript', 'SQL'],
        },
      },
    });
    events.push({
      ...base,
      type: 'scan',
      time: new Date(t0 + 5 * day).toISOString(),
      data: {
        ScanTime: t0 + 5 * day,
        Profile: `https://www.linkedin.com/in/${slug}/`,
        SalesProfile: `https://www.linkedin.com/sales/lead/${sales},NAME_SEARCH,rp${n % 10}x`,
        Title: `Senior Engineer ${n}`,
        Company: `Company ${n % 5}`,
        Location: location,
      },
    });
    if (n % 3 === 0) {
      events.push({
        ...base,
        type: 'scan',
        time: new Date(t0 + 45 * day).toISOString(),
        data: {
          ScanTime: t0 + 45 * day,
          SalesProfile: `https://www.linkedin.com/sales/lead/${sales},NAME_SEARCH,zz${n % 10}x`,
          Title: `Staff Engineer ${n}`,
          Company: `Other Co ${n % 2}`,
          Email: `person${n}@replay.example`,
        },
      });
    }
    if (n % 4 === 1) {
      // Seen first only by an email, linked later by a visit carrying the member id and that email: a merge.
      events.push({
        ...base,
        type: 'scan',
        time: new Date(t0 - 20 * day).toISOString(),
        data: {
          ScanTime: t0 - 20 * day,
          Email: `recruited${n}@replay.example`,
          Summary: `Summary ${n}`,
        },
      });
      events.push({
        ...base,
        type: 'visit',
        time: new Date(t0 + 60 * day).toISOString(),
        data: {
          id: `id.${member}`,
          VisitTime: t0 + 60 * day,
          Email: `recruited${n}@replay.example`,
        },
      });
    }
    if (n % 7 === 3) {
      // A company known first only by its numeric id, then only by its slug, until one event carries both.
      const numeric = String(6_000 + n);
      const slugUrl = `https://www.linkedin.com/company/startup-${n}/`;
      const at = (offset: number) => ({ ScanTime: t0 + offset * day });
      events.push({
        ...base,
        type: 'scan',
        time: new Date(t0 + day).toISOString(),
        data: { ...at(1), Profile: `https://www.linkedin.com/in/${slug}-a`, CompanyID: numeric },
      });
      events.push({
        ...base,
        type: 'scan',
        time: new Date(t0 + 2 * day).toISOString(),
        data: { ...at(2), Profile: `https://www.linkedin.com/in/${slug}-b`, CompanyProfile: slugUrl },
      });
      events.push({
        ...base,
        type: 'scan',
        time: new Date(t0 + 3 * day).toISOString(),
        data: {
          ...at(3),
          Profile: `https://www.linkedin.com/in/${slug}-c`,
          CompanyID: numeric,
          CompanyProfile: slugUrl,
          Company: `Startup ${n}`,
        },
      });
    }
    if (n % 5 === 2) {
      events.push({
        ...base,
        type: 'visit',
        event: 'update',
        time: new Date(t0 + 1500).toISOString(),
        data: {
          id: `id.${member}`,
          VisitTime: t0,
          Profile: `https://www.linkedin.com/in/${slug}`,
          Email: `updated${n}@replay.example`,
          Phone: '(415) 555-01' + String(10 + n),
        },
      });
    }
  }
  return events;
}

interface State {
  changes: string[];
  persons: string[];
  companies: string[];
  locations: string[];
  aliases: string[];
}

async function capture(pool: Pool): Promise<State> {
  const persons = await pool.query<{ row: string }>(
    `SELECT concat_ws(' | ', id, snapshot::text, observations_count, first_observed_at, last_observed_at,
                      current_company_id, location_id, full_name) AS row
       FROM persons WHERE merged_into IS NULL ORDER BY id`,
  );
  const companies = await pool.query<{ row: string }>(
    `SELECT concat_ws(' | ', id, snapshot::text, observations_count, first_observed_at, last_observed_at, name) AS row
       FROM companies WHERE merged_into IS NULL ORDER BY id`,
  );
  const locations = await pool.query<{ row: string }>(
    `SELECT concat_ws(' | ', id, key, snapshot::text, observations_count) AS row FROM locations ORDER BY id`,
  );
  const aliases = await pool.query<{ row: string }>(
    `SELECT concat_ws(' | ', kind, value, person_id, display) AS row FROM person_aliases ORDER BY kind, value`,
  );
  const changes = await pool.query<{ row: string }>(
    `SELECT concat_ws(' | ', person_id, observation_id, previous_observation_id, type, before_title, after_title,
                      before_company_id, after_company_id) AS row
       FROM person_changes ORDER BY person_id, observation_id`,
  );
  return {
    changes: changes.rows.map((r) => r.row),
    persons: persons.rows.map((r) => r.row),
    companies: companies.rows.map((r) => r.row),
    locations: locations.rows.map((r) => r.row),
    aliases: aliases.rows.map((r) => r.row),
  };
}

describe('replay determinism', () => {
  it('rebuilding from the observation log in shuffled orders reproduces identical snapshots and ids', async () => {
    const { app } = buildTestApp(db, {}, { phase2: true });
    for (const body of dataset()) {
      const res = await request(app)
        .post('/api/webhook')
        .set('content-type', 'application/json')
        .send(JSON.stringify(body));
      expect(res.status).toBe(200);
    }
    await drainRefreshQueue(db.pool, testFoldSettings());
    const live = await capture(db.pool);
    const merges = await db.pool.query<{ entity: string; n: number }>(
      'SELECT entity, count(*)::int AS n FROM merges GROUP BY entity ORDER BY entity',
    );
    expect(merges.rows).toEqual([
      { entity: 'company', n: expect.any(Number) },
      { entity: 'person', n: expect.any(Number) },
    ]);
    expect(merges.rows.every((row) => row.n > 0)).toBe(true);
    expect(live.persons.length).toBeGreaterThan(40);
    expect(live.companies.length).toBeGreaterThan(5);
    expect(live.changes.length).toBeGreaterThan(0);

    // Live processing folded each new observation into its company and location; a full refold must agree.
    await db.pool.query(`INSERT INTO entity_refresh (entity, id)
                         SELECT 'company', id FROM companies WHERE merged_into IS NULL
                         UNION ALL SELECT 'location', id FROM locations`);
    await drainRefreshQueue(db.pool, testFoldSettings());
    expect(await capture(db.pool)).toEqual(live);

    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const processor = phase2FromConfig(db.pool, config, createLogger(config));
    const { rows } = await db.pool.query<{ id: number }>(
      "SELECT id FROM observations WHERE status <> 'ignored' ORDER BY id",
    );
    const ids = rows.map((row) => row.id);
    for (const seed of [1, 2, 3]) {
      await resetDerivedState(db.pool);
      const order = seed === 1 ? [...ids].reverse() : shuffled(ids, mulberry32(seed));
      await reprocess(processor, order);
      await drainRefreshQueue(db.pool, testFoldSettings());
      const rebuilt = await capture(db.pool);
      expect({ seed, persons: rebuilt.persons }).toEqual({ seed, persons: live.persons });
      expect({ seed, companies: rebuilt.companies }).toEqual({ seed, companies: live.companies });
      expect({ seed, locations: rebuilt.locations }).toEqual({ seed, locations: live.locations });
      expect({ seed, aliases: rebuilt.aliases }).toEqual({ seed, aliases: live.aliases });
      expect({ seed, changes: rebuilt.changes }).toEqual({ seed, changes: live.changes });
    }

    // The batched rebuild of the ops CLI lands on the same state; stopped part-way, it resumes to it too.
    const options = {
      namespace: config.CANONICAL_ID_NAMESPACE,
      settings: testFoldSettings(),
      processor,
      batchSize: 16,
    };
    const stopped = rebuildFromLog(db.pool, {
      ...options,
      onProgress: (done) => {
        if (done > ids.length / 2) throw new Error('stopped by the test');
      },
    });
    await expect(stopped).rejects.toThrow('stopped by the test');
    const resumed = await rebuildFromLog(db.pool, { ...options, resume: true });
    expect(resumed.observations).toBeLessThan(ids.length);
    expect(await capture(db.pool)).toEqual(live);

    const fresh = await rebuildFromLog(db.pool, options);
    expect(fresh.observations).toBe(ids.length);
    expect(fresh.batched).toBeGreaterThan(fresh.fullPath);
    expect(await capture(db.pool)).toEqual(live);

    // Each batch is applied while the one before is still being written, from what memory carried over: tiny
    // batches put a person's observations in many consecutive batches.
    for (const batchSize of [1, 3]) {
      await rebuildFromLog(db.pool, { ...options, batchSize });
      expect({ batchSize, state: await capture(db.pool) }).toEqual({ batchSize, state: live });
    }
  });
});
