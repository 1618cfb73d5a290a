import type { Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { changePointOf, keepsChanges } from '../src/intelligence/changes';
import type { ChangeView } from '../src/intelligence/changes-store';
import { latestChangeOf, latestChangeSql } from '../src/intelligence/changes-store';
import { contributionOf } from '../src/snapshots/contributions';
import { reprocess, resetDerivedState } from '../src/ingest/rebuild';
import { createLogger } from '../src/logger';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

const API_KEY = 'changes-test-key-0123456789';
const DAY = 86_400_000;
const NOW = Date.now();
const daysAgo = (days: number) => NOW - days * DAY;

/** A test world: the real app (webhook stores the observation) and Phase 2's full path run on each one. */
interface World {
  db: TestDatabase;
  app: Express;
  /** Stores the observation (pending) and returns its id. */
  store(payload: object): Promise<number>;
  /** Phase 2's full path, as the sweeper and replays run it. */
  process(observationId: number): Promise<{ observation_id: number; person_id: string }>;
  ingest(payload: object): Promise<{ observation_id: number; person_id: string }>;
}

async function createWorld(): Promise<World> {
  const db = await createTestDatabase();
  const env = { NODE_ENV: 'test', LOG_LEVEL: 'silent', API_KEYS: API_KEY, READ_RATE_LIMIT: '0' };
  const { app } = buildTestApp(db, env);
  const config = loadConfig(env);
  const processor = phase2FromConfig(db.pool, config, createLogger(config));
  const world: World = {
    db,
    app,
    async store(payload) {
      const stored = await request(app)
        .post('/api/webhook')
        .set('content-type', 'application/json')
        .send(payload);
      expect(stored.status).toBe(200);
      return stored.body.observation_id as number;
    },
    async process(observationId) {
      const result = await processor.process(observationId);
      expect(result).toMatchObject({ processed: true, status: 'processed' });
      return { observation_id: observationId, person_id: result.person_id! };
    },
    async ingest(payload) {
      return world.process(await world.store(payload));
    },
  };
  return world;
}

let sequence = 0;
interface Who {
  slug: string;
  member: string;
  first: string;
  last: string;
}
function newPerson(first: string, last: string): Who {
  sequence += 1;
  return {
    slug: `${first}-${last}-${sequence}x7`.toLowerCase(),
    member: String(41_000_000 + sequence),
    first,
    last,
  };
}

const COMPANIES: Record<string, string> = { Acme: '1035001', Globex: '1035002', Initrode: '1035003' };

/** A Dux-Soup visit (or scan) of `who` at `at`, showing `title` at `company`. */
function profileEvent(
  who: Who,
  at: number,
  title: string | null,
  company: string | null,
  kind: 'visit' | 'scan' = 'visit',
  identity: 'both' | 'member' | 'slug' = 'both',
): object {
  const data: Record<string, unknown> = {
    [kind === 'visit' ? 'VisitTime' : 'ScanTime']: at,
    'First Name': who.first,
    'Last Name': who.last,
    Location: 'Austin, Texas, United States',
  };
  if (identity !== 'slug') data.id = `id.${who.member}`;
  if (identity !== 'member') data.Profile = `https://www.linkedin.com/in/${who.slug}/`;
  if (title !== null) data.Title = title;
  if (company !== null) {
    data.Company = company;
    const linkedinId = COMPANIES[company];
    if (linkedinId) data.CompanyProfile = `https://www.linkedin.com/company/${linkedinId}/`;
  }
  return {
    userid: 'changes-tests',
    time: new Date(at + 700).toISOString(),
    type: kind,
    event: 'create',
    data,
  };
}

function get(app: Express, path: string) {
  return request(app).get(path).set('x-api-key', API_KEY);
}

let world: World;
beforeAll(async () => {
  world = await createWorld();
});
afterAll(() => world.db.drop());

describe('change detection through the webhook', () => {
  it('detects each change type from Dux-Soup visits and scans, with before/after, tiers and observations', async () => {
    const who = newPerson('Morgan', 'Lee');
    const seen = [];
    seen.push(await world.ingest(profileEvent(who, daysAgo(400), 'Sales Manager', 'Acme')));
    seen.push(await world.ingest(profileEvent(who, daysAgo(300), 'Director of Sales', 'Acme', 'scan')));
    seen.push(await world.ingest(profileEvent(who, daysAgo(200), 'VP of Sales', 'Acme')));
    seen.push(await world.ingest(profileEvent(who, daysAgo(120), 'VP of Marketing', 'Acme', 'scan')));
    seen.push(await world.ingest(profileEvent(who, daysAgo(30), 'VP of Marketing', 'Globex')));
    seen.push(await world.ingest(profileEvent(who, daysAgo(10), 'vp of marketing', 'Globex', 'scan')));
    const personId = seen[0]!.person_id;
    expect(new Set(seen.map((s) => s.person_id))).toEqual(new Set([personId]));

    const res = await get(world.app, `/api/changes/person/${personId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      success: true,
      personId,
      recentJobChange: true,
      lastJobChangeAt: new Date(daysAgo(30)).toISOString(),
      lastJobChangeType: 'company_change',
    });
    const data = res.body.data as ChangeView[];
    expect(data.map((c) => [c.type, c.observationId, c.previousObservationId])).toEqual([
      ['company_change', seen[4]!.observation_id, seen[3]!.observation_id],
      ['lateral_move', seen[3]!.observation_id, seen[2]!.observation_id],
      ['promotion', seen[2]!.observation_id, seen[1]!.observation_id],
      ['title_change', seen[1]!.observation_id, seen[0]!.observation_id],
    ]);
    expect(data[0]).toMatchObject({
      personId,
      fullName: 'Morgan Lee',
      changedAt: new Date(daysAgo(30)).toISOString(),
      previousObservedAt: new Date(daysAgo(120)).toISOString(),
      before: {
        title: 'VP of Marketing',
        company: 'Acme',
        seniorityLevel: 5,
        seniorityTier: 'VP',
        department: 'marketing',
      },
      after: {
        title: 'VP of Marketing',
        company: 'Globex',
        seniorityLevel: 5,
        seniorityTier: 'VP',
        department: 'marketing',
      },
    });
    expect(data[0]!.before.companyId).toMatch(/^[0-9a-f-]{36}$/);
    expect(data[0]!.after.companyId).not.toBe(data[0]!.before.companyId);
    expect(data[2]).toMatchObject({
      before: { title: 'Director of Sales', seniorityTier: 'Manager' },
      after: { title: 'VP of Sales', seniorityTier: 'VP' },
    });
    expect(data[3]).toMatchObject({
      before: { title: 'Sales Manager', seniorityLevel: 3 },
      after: { title: 'Director of Sales', seniorityLevel: 3 },
    });
  });

  it('a late-arriving older observation creates no change back, and one of the current job none at all', async () => {
    const who = newPerson('Riley', 'Chen');
    const first = await world.ingest(profileEvent(who, daysAgo(200), 'Account Executive', 'Acme'));
    const second = await world.ingest(profileEvent(who, daysAgo(50), 'Account Executive', 'Globex'));
    const contentOf = async () =>
      (
        await world.db.pool.query(
          `SELECT type, observation_id, changed_at, before_title, before_company, after_title, after_company
             FROM person_changes WHERE person_id = $1 ORDER BY changed_at`,
          [first.person_id],
        )
      ).rows;
    const before = await contentOf();
    expect(before.map((row) => [row.type, Number(row.observation_id)])).toEqual([
      ['company_change', second.observation_id],
    ]);

    // Arrives last, happened in between: the person was still at Acme. History gets a point, not a change.
    const late = await world.ingest(profileEvent(who, daysAgo(120), 'Account Executive', 'Acme', 'scan'));
    // Arrives last, happened long ago, same old job.
    await world.ingest(profileEvent(who, daysAgo(900), 'Account Executive', 'Acme', 'scan'));
    expect(await contentOf()).toEqual(before);
    const { rows } = await world.db.pool.query(
      'SELECT previous_observation_id FROM person_changes WHERE person_id = $1',
      [first.person_id],
    );
    expect(rows.map((row) => Number(row.previous_observation_id))).toEqual([late.observation_id]);
  });

  it('a person with no change gets no person_changes row and is not a recent job changer', async () => {
    const who = newPerson('Quinn', 'Baker');
    const seen = await world.ingest(profileEvent(who, daysAgo(20), 'Sales Manager', 'Initrode'));
    await world.ingest(profileEvent(who, daysAgo(5), 'Sales  manager', 'Initrode', 'scan'));
    const { rows } = await world.db.pool.query(
      'SELECT count(*)::int AS n FROM person_changes WHERE person_id = $1',
      [seen.person_id],
    );
    expect(rows[0].n).toBe(0);
    const res = await get(world.app, `/api/changes/person/${seen.person_id}`);
    expect(res.body).toMatchObject({ recentJobChange: false, lastJobChangeAt: null, data: [] });
  });

  it('a title change alone is not a job change; an older company change is not recent', async () => {
    const who = newPerson('Avery', 'Stone');
    const seen = await world.ingest(profileEvent(who, daysAgo(400), 'Engineer', 'Acme'));
    await world.ingest(profileEvent(who, daysAgo(300), 'Engineer', 'Globex'));
    await world.ingest(profileEvent(who, daysAgo(15), 'Developer', 'Globex'));
    const res = await get(world.app, `/api/changes/person/${seen.person_id}`);
    expect(res.body).toMatchObject({
      recentJobChange: false,
      lastJobChangeAt: new Date(daysAgo(300)).toISOString(),
      lastJobChangeType: 'company_change',
    });
    expect((res.body.data as { type: string }[]).map((c) => c.type)).toEqual([
      'title_change',
      'company_change',
    ]);
  });
});

describe('merges', () => {
  it('moves the changes of a merged person to the survivor, re-derived over both histories', async () => {
    const who = newPerson('Sam', 'Ortiz');
    const bySlug = await world.ingest(
      profileEvent(who, daysAgo(500), 'Sales Manager', 'Acme', 'scan', 'slug'),
    );
    const director = await world.ingest(
      profileEvent(who, daysAgo(400), 'Director of Sales', 'Acme', 'scan', 'slug'),
    );
    const byMember = await world.ingest(
      profileEvent(who, daysAgo(300), 'VP of Sales', 'Acme', 'visit', 'member'),
    );
    const moved = await world.ingest(
      profileEvent(who, daysAgo(60), 'VP of Sales', 'Globex', 'visit', 'member'),
    );
    expect(byMember.person_id).not.toBe(bySlug.person_id);
    const changesOf = async (personId: string) =>
      (
        await world.db.pool.query(
          'SELECT type, observation_id FROM person_changes WHERE person_id = $1 ORDER BY changed_at',
          [personId],
        )
      ).rows.map((row) => [row.type, Number(row.observation_id)]);
    expect(await changesOf(bySlug.person_id)).toHaveLength(1);
    expect(await changesOf(byMember.person_id)).toEqual([['company_change', moved.observation_id]]);

    const linking = await world.ingest(
      profileEvent(who, daysAgo(30), 'VP of Sales', 'Globex', 'visit', 'both'),
    );
    const survivor = linking.person_id;
    const tombstone = survivor === bySlug.person_id ? byMember.person_id : bySlug.person_id;
    expect(await changesOf(tombstone)).toEqual([]);
    expect(await changesOf(survivor)).toEqual([
      ['title_change', director.observation_id],
      ['promotion', byMember.observation_id],
      ['company_change', moved.observation_id],
    ]);

    const res = await get(world.app, `/api/changes/person/${tombstone}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ personId: survivor, redirectedFrom: tombstone, recentJobChange: true });
    expect(res.body.data).toHaveLength(3);
    const listed = await get(world.app, '/api/changes?days=3650&limit=500');
    const ofThisPerson = (listed.body.data as { personId: string }[]).filter(
      (c) => c.personId === survivor || c.personId === tombstone,
    );
    expect(ofThisPerson.map((c) => c.personId)).toEqual([survivor, survivor, survivor]);
  });

  it('a company merge that makes two employers one removes the company change it had produced', async () => {
    const who = newPerson('Jesse', 'Park');
    const seen = await world.ingest(profileEvent(who, daysAgo(100), 'Buyer', 'Umbrella'));
    const withProfile = {
      ...profileEvent(who, daysAgo(50), 'Buyer', 'Umbrella Biotech'),
    } as { data: Record<string, unknown> };
    withProfile.data.CompanyProfile = 'https://www.linkedin.com/company/1035099/';
    await world.ingest(withProfile);
    const count = async () =>
      (
        await world.db.pool.query('SELECT count(*)::int AS n FROM person_changes WHERE person_id = $1', [
          seen.person_id,
        ])
      ).rows[0].n;
    expect(await count()).toBe(1);

    // Someone else's visit shows that "Umbrella" is LinkedIn company 1035099: the two companies merge.
    const other = profileEvent(newPerson('Kim', 'Ito'), daysAgo(10), 'Buyer', 'Umbrella') as {
      data: Record<string, unknown>;
    };
    other.data.CompanyProfile = 'https://www.linkedin.com/company/1035099/';
    await world.ingest(other);
    const { rows } = await world.db.pool.query(
      'SELECT count(DISTINCT company_id)::int AS n FROM observations WHERE person_id = $1',
      [seen.person_id],
    );
    expect(rows[0].n).toBe(1);
    expect(await count()).toBe(0);
  });
});

describe('determinism', () => {
  /** Two people's histories: a promotion, a company change, a lateral move, repeats and a late observation. */
  function histories(): object[] {
    const ana = { slug: 'ana-ruiz-det1', member: '52000001', first: 'Ana', last: 'Ruiz' };
    const ben = { slug: 'ben-okafor-det2', member: '52000002', first: 'Ben', last: 'Okafor' };
    return [
      profileEvent(ana, daysAgo(700), 'Sales Manager', 'Acme'),
      profileEvent(ana, daysAgo(500), 'Sales Manager', 'Acme', 'scan'),
      profileEvent(ana, daysAgo(400), 'VP of Sales', 'Acme'),
      profileEvent(ana, daysAgo(100), 'VP of Sales', 'Globex', 'scan'),
      profileEvent(ana, daysAgo(20), 'VP of Marketing', 'Globex'),
      profileEvent(ben, daysAgo(365), 'Engineer', 'Initrode', 'scan'),
      profileEvent(ben, daysAgo(200), 'Engineering Manager', 'Initrode'),
      profileEvent(ben, daysAgo(90), 'Engineering Manager', 'Acme'),
      profileEvent(ben, daysAgo(80), null, 'Acme', 'scan'),
      profileEvent(ben, daysAgo(40), 'Program Manager', null),
    ];
  }

  /** person_changes by content: observation ids differ between databases, times and ids of entities do not. */
  async function contentOf(db: TestDatabase): Promise<unknown[]> {
    const { rows } = await db.pool.query(
      `SELECT c.person_id, c.type, c.changed_at, c.previous_observed_at,
              c.before_title, c.before_company, c.before_company_id, c.before_level, c.before_tier, c.before_department,
              c.after_title, c.after_company, c.after_company_id, c.after_level, c.after_tier, c.after_department,
              o.payload->'data' AS shown_by, prev.payload->'data' AS previous
         FROM person_changes c
         JOIN observations o ON o.id = c.observation_id
         JOIN observations prev ON prev.id = c.previous_observation_id
        ORDER BY c.person_id, c.changed_at`,
    );
    return rows;
  }

  function shuffled<T>(items: readonly T[], seed: number): T[] {
    const copy = [...items];
    let state = seed;
    for (let i = copy.length - 1; i > 0; i -= 1) {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      const j = state % (i + 1);
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
    }
    return copy;
  }

  it('the same observations in shuffled arrival orders, and a rebuild, give identical person_changes', async () => {
    const orders = [
      histories(),
      [...histories()].reverse(),
      shuffled(histories(), 7),
      shuffled(histories(), 2024),
    ];
    const contents: unknown[][] = [];
    for (const order of orders) {
      const other = await createWorld();
      try {
        for (const payload of order) await other.ingest(payload);
        contents.push(await contentOf(other.db));
        if (contents.length === 1) {
          const env = loadConfig({ LOG_LEVEL: 'silent' });
          const processor = phase2FromConfig(other.db.pool, env, createLogger(env));
          const ids = await other.db.pool.query<{ id: string }>(
            'SELECT id FROM observations ORDER BY id DESC',
          );
          await resetDerivedState(other.db.pool);
          await reprocess(
            processor,
            ids.rows.map((row) => Number(row.id)),
          );
          expect(await contentOf(other.db)).toEqual(contents[0]);
        }
      } finally {
        await other.db.drop();
      }
    }
    expect(contents[0]).toHaveLength(6);
    expect((contents[0] as { type: string }[]).map((row) => row.type).sort()).toEqual([
      'company_change',
      'company_change',
      'lateral_move',
      'promotion',
      'promotion',
      'title_change',
    ]);
    for (const content of contents.slice(1)) expect(content).toEqual(contents[0]);
  });
});

describe('GET /api/changes', () => {
  let seeded: { promoted: string; moved: string };
  beforeAll(async () => {
    const fresh = newPerson('Drew', 'Nolan');
    const old = newPerson('Casey', 'Ward');
    const a = await world.ingest(profileEvent(fresh, daysAgo(60), 'Sales Manager', 'Initrode'));
    await world.ingest(profileEvent(fresh, daysAgo(2), 'VP of Sales', 'Initrode'));
    const b = await world.ingest(profileEvent(old, daysAgo(1000), 'Analyst', 'Initrode'));
    await world.ingest(profileEvent(old, daysAgo(800), 'Analyst', 'Globex'));
    seeded = { promoted: a.person_id, moved: b.person_id };
  });

  it('lists changes of the last 90 days by default, newest first, with the person and both sides', async () => {
    const res = await get(world.app, '/api/changes');
    expect(res.status).toBe(200);
    const data = res.body.data as { personId: string; changedAt: string; type: string }[];
    expect(res.body.filters).toEqual({ type: null, days: 90 });
    expect(data.length).toBeGreaterThan(0);
    expect(data[0]).toMatchObject({
      personId: seeded.promoted,
      fullName: 'Drew Nolan',
      type: 'promotion',
      before: { title: 'Sales Manager', seniorityTier: 'Manager' },
      after: { title: 'VP of Sales', seniorityTier: 'VP' },
    });
    const times = data.map((c) => Date.parse(c.changedAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));
    expect(times.every((time) => time >= daysAgo(90))).toBe(true);
    expect(data.some((c) => c.personId === seeded.moved)).toBe(false);
    expect(res.body.pagination).toMatchObject({
      count: data.length,
      totalCount: data.length,
      hasMore: false,
    });
  });

  it('filters by type and widens with days', async () => {
    const promotions = await get(world.app, '/api/changes?type=promotion&days=3650');
    expect((promotions.body.data as { type: string }[]).every((c) => c.type === 'promotion')).toBe(true);
    expect((promotions.body.data as { personId: string }[]).some((c) => c.personId === seeded.promoted)).toBe(
      true,
    );
    const old = await get(world.app, '/api/changes?type=company_change&days=3650');
    expect((old.body.data as { personId: string }[]).some((c) => c.personId === seeded.moved)).toBe(true);
    const recent = await get(world.app, '/api/changes?type=company_change&days=900');
    expect((recent.body.data as { personId: string }[]).some((c) => c.personId === seeded.moved)).toBe(true);
    const tooRecent = await get(world.app, '/api/changes?type=company_change&days=799');
    expect((tooRecent.body.data as { personId: string }[]).some((c) => c.personId === seeded.moved)).toBe(
      false,
    );
  });

  it('paginates with limit and skip: pages are disjoint, in order, and add up to the total', async () => {
    const all = await get(world.app, '/api/changes?days=3650&limit=500');
    const total = all.body.pagination.totalCount as number;
    expect(total).toBeGreaterThan(5);
    const keys: string[] = [];
    let skip = 0;
    for (;;) {
      const page = await get(world.app, `/api/changes?days=3650&limit=2&skip=${skip}`);
      expect(page.status).toBe(200);
      for (const c of page.body.data as { personId: string; observationId: number }[]) {
        keys.push(`${c.personId}:${c.observationId}`);
      }
      expect(page.body.pagination.totalCount).toBe(total);
      if (!page.body.pagination.hasMore) break;
      expect(page.body.pagination.nextSkip).toBe(skip + 2);
      skip = page.body.pagination.nextSkip as number;
    }
    expect(keys).toEqual(
      (all.body.data as { personId: string; observationId: number }[]).map(
        (c) => `${c.personId}:${c.observationId}`,
      ),
    );
    const beyond = await get(world.app, `/api/changes?days=3650&skip=${total + 10}`);
    expect(beyond.body).toMatchObject({
      data: [],
      pagination: { count: 0, totalCount: total, hasMore: false },
    });
  });

  it.each([
    ['type=demotion', 'INVALID_CHANGE_TYPE'],
    ['days=0', 'INVALID_DAYS'],
    ['days=3651', 'INVALID_DAYS'],
    ['days=ninety', 'INVALID_DAYS'],
    ['limit=501', 'LIMIT_EXCEEDED'],
    ['limit=0', 'INVALID_LIMIT'],
    ['limit=ten', 'INVALID_LIMIT'],
    ['skip=-1', 'INVALID_SKIP'],
    ['type=promotion&type=title_change', 'INVALID_REQUEST'],
  ])('?%s → 400 %s', async (query, code) => {
    const res = await get(world.app, `/api/changes?${query}`);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ success: false, error: code });
  });

  it('GET /api/changes/person/:id finds people by alias and answers 404 NOT_FOUND for nobody', async () => {
    const byUrl = await get(
      world.app,
      `/api/changes/person/${encodeURIComponent('https://www.linkedin.com/in/nobody-here-x')}`,
    );
    expect(byUrl.status).toBe(404);
    expect(byUrl.body).toMatchObject({ success: false, error: 'NOT_FOUND' });
    const unknown = await get(world.app, '/api/changes/person/0b7a7c43-58d4-4b2a-9c51-3f6f7d0e9a11');
    expect(unknown.status).toBe(404);
    const { rows } = await world.db.pool.query(
      "SELECT display FROM person_aliases WHERE person_id = $1 AND kind = 'username'",
      [seeded.promoted],
    );
    const alias = await get(
      world.app,
      `/api/changes/person/${encodeURIComponent(rows[0].display as string)}`,
    );
    expect(alias.status).toBe(200);
    expect(alias.body).toMatchObject({ personId: seeded.promoted, recentJobChange: true });
  });

  it('needs an API key', async () => {
    for (const path of ['/api/changes', `/api/changes/person/${seeded.promoted}`]) {
      expect((await request(world.app).get(path)).status).toBe(401);
      expect((await request(world.app).get(path).set('x-api-key', 'wrong')).status).toBe(401);
      expect((await request(world.app).get(path).set('authorization', `Bearer ${API_KEY}`)).status).toBe(200);
    }
  });
});

describe('the invalidation trigger', () => {
  it('moving an observation to another person clears the changes of the person it left', async () => {
    const who = newPerson('Toni', 'Vega');
    const first = await world.ingest(profileEvent(who, daysAgo(90), 'Analyst', 'Acme'));
    const second = await world.ingest(profileEvent(who, daysAgo(30), 'Analyst', 'Globex'));
    const other = await world.ingest(profileEvent(newPerson('Uma', 'Reid'), daysAgo(30), 'Analyst', 'Acme'));
    const count = async (personId: string) =>
      (
        await world.db.pool.query('SELECT count(*)::int AS n FROM person_changes WHERE person_id = $1', [
          personId,
        ])
      ).rows[0].n;
    expect(await count(first.person_id)).toBe(1);
    await world.db.pool.query('UPDATE observations SET person_id = $2 WHERE id = $1', [
      second.observation_id,
      other.person_id,
    ]);
    expect(await count(first.person_id)).toBe(0);
  });
});

describe('keepsChanges on stored state (what an incremental write path would read)', () => {
  it('agrees with the full path: whenever it says "keeps", processing the observation leaves person_changes as it was', async () => {
    const who = newPerson('Lee', 'Fox');
    const first = await world.ingest(profileEvent(who, daysAgo(300), 'Sales Manager', 'Acme'));
    const personId = first.person_id;
    const stateOf = async () => {
      const person = await world.db.pool.query(
        `SELECT p.snapshot, ${latestChangeSql('p.id')} AS latest FROM persons p WHERE p.id = $1`,
        [personId],
      );
      const changes = await world.db.pool.query(
        'SELECT * FROM person_changes WHERE person_id = $1 ORDER BY 2',
        [personId],
      );
      return { snapshot: person.rows[0].snapshot, latest: person.rows[0].latest, changes: changes.rows };
    };
    const next = [
      profileEvent(who, daysAgo(250), 'Sales Manager', 'Acme', 'scan'),
      profileEvent(who, daysAgo(200), 'Director of Sales', 'Acme'),
      profileEvent(who, daysAgo(150), 'director of sales', 'Acme', 'scan'),
      profileEvent(who, daysAgo(260), 'Sales Manager', 'Acme', 'scan'),
      profileEvent(who, daysAgo(100), 'Director of Sales', 'Globex'),
      profileEvent(who, daysAgo(50), 'Director of Sales', null, 'scan'),
      profileEvent(who, daysAgo(40), 'VP of Sales', 'Globex'),
    ];
    const decisions: boolean[] = [];
    for (const payload of next) {
      const before = await stateOf();
      const observationId = await world.store(payload);
      await world.process(observationId);
      const { rows } = await world.db.pool.query(
        `SELECT id, source, kind, payload, company_id, COALESCE(event_time, received_at) AS observed_at
           FROM observations WHERE id = $1`,
        [observationId],
      );
      const row = { ...rows[0], id: observationId };
      const point = changePointOf(row, contributionOf(row, { defaultPhoneCountry: 'US' }));
      const keeps = keepsChanges(point, latestChangeOf(before.latest), before.snapshot);
      decisions.push(keeps);
      if (keeps) expect((await stateOf()).changes).toEqual(before.changes);
      else expect((await stateOf()).changes).not.toEqual([]);
    }
    // The same job seen later keeps; a new title, an older observation or a new company asks for a refold.
    expect(decisions).toEqual([true, false, true, false, false, true, false]);
  });
});
