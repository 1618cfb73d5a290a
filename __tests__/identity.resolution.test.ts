import request from 'supertest';
import { v5 as uuidv5 } from 'uuid';
import { loadConfig } from '../src/config';
import { sweepPending } from '../src/ingest/sweeper';
import { phase2FromConfig } from '../src/ingest/phase2';
import { createLogger } from '../src/logger';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit, fixture } from './helpers/fixtures';

const NAMESPACE = loadConfig({}).CANONICAL_ID_NAMESPACE;
let db: TestDatabase;
let app: ReturnType<typeof buildTestApp>['app'];

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, {}, { phase2: true }).app;
});
afterAll(() => db.drop());

let sequence = 0;
/** A profile event with exactly the given data fields (plus a unique VisitTime / ScanTime). */
function event(
  type: 'visit' | 'scan',
  data: Record<string, unknown>,
  at = Date.UTC(2025, 0, 1) + ++sequence * 1000,
) {
  return {
    userid: 'resolution-tests',
    time: new Date(at + 500).toISOString(),
    type,
    event: 'create',
    data: { [type === 'visit' ? 'VisitTime' : 'ScanTime']: at, ...data },
  };
}

async function send(body: unknown): Promise<Record<string, unknown>> {
  const res = await request(app)
    .post('/api/webhook')
    .set('content-type', 'application/json')
    .send(JSON.stringify(body));
  expect(res.status).toBe(200);
  return res.body as Record<string, unknown>;
}

async function person(id: string): Promise<Record<string, unknown> & { snapshot: Record<string, unknown> }> {
  const res = await request(app).get(`/api/people/${encodeURIComponent(id)}`);
  expect(res.status).toBe(200);
  return res.body.person;
}

async function livePersonCount(aliasValue: string): Promise<number> {
  const { rows } = await db.pool.query(
    `SELECT count(DISTINCT p.id)::int AS n FROM person_aliases a JOIN persons p ON p.id = a.person_id
      WHERE a.value = lower($1) AND p.merged_into IS NULL`,
    [aliasValue],
  );
  return rows[0].n;
}

const unique = () => `${Date.now().toString(36)}${++sequence}`;

describe('person ids and aliases', () => {
  it('creates a person whose id is the UUID v5 of its strongest identifier, with every alias attached', async () => {
    const answer = await send(fixture(6));
    const salesId = 'ACoAAFpjSM0WuV_8N6yF-bJ9IKffW92TKwMlaTk';
    expect(answer).toMatchObject({ processed: true, people_upsert: 'created', company_upsert: 'created' });
    expect(answer.person_id).toBe(uuidv5(`sales_nav_id:${salesId.toLowerCase()}`, NAMESPACE));
    const found = await person(String(answer.person_id));
    expect(found.aliases).toEqual(
      expect.arrayContaining([
        { type: 'sales_nav_id', value: salesId },
        { type: 'member_id', value: '8315271696' },
        { type: 'username', value: 'alex-moreno-hmlkgf4z' },
        { type: 'duxsoup_id', value: 'id.8315271696' },
      ]),
    );
    expect(found.snapshot).toMatchObject({
      firstName: 'Alex',
      lastName: 'Moreno',
      currentTitle: 'Manager, Customer Success',
      currentCompany: 'Juniper Software',
      city: 'San Mateo',
      stateCode: 'CA',
      countryCode: 'US',
      degree: 1,
      connections: 2,
    });
    const meta = found.snapshot._meta as Record<string, Record<string, unknown>>;
    expect(meta.firstName).toEqual({
      value: 'Alex',
      source: 'visit',
      observedAt: new Date(fixture(6).data.VisitTime as number).toISOString(),
      observationId: answer.observation_id,
    });
    for (const field of Object.keys(found.snapshot).filter((key) => key !== '_meta')) {
      expect(meta[field]?.value).toEqual(found.snapshot[field]);
    }
  });

  it('a visit.update joins its visit.create and fills the email it adds', async () => {
    const create = await send(fixture(9));
    const update = await send(fixture(10));
    expect(update.person_id).toBe(create.person_id);
    const found = await person(String(create.person_id));
    expect(found.snapshot.email).toBeTruthy();
    expect((found.meta as { observationsCount: number }).observationsCount).toBeGreaterThanOrEqual(2);
  });

  it('the Mike Hare case: a visit with Sales Nav id + /in/mike-hare, then a scan with only the vanity URL', async () => {
    const slug = `mike-hare-${unique()}`;
    const visit = await send(
      event('visit', {
        id: `pid.${slug}`,
        Profile: `https://www.linkedin.com/in/${slug}/`,
        SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAAMikeHare${unique()}x,NAME_SEARCH,x1_Y`,
        'First Name': 'Mike',
        'Last Name': 'Hare',
      }),
    );
    const scan = await send(
      event('scan', { Profile: `https://www.linkedin.com/in/${slug.toUpperCase()}`, Title: 'CTO' }),
    );
    expect(scan.person_id).toBe(visit.person_id);
    expect(await livePersonCount(slug)).toBe(1);
    expect((await person(String(visit.person_id))).snapshot.currentTitle).toBe('CTO');
  });

  it('a visit whose Profile is /in/<ACwAA…> and a later one with the vanity URL and the same Sales Nav id are one person', async () => {
    const salesId = `ACwAAAOutNet${unique()}Zz`;
    const first = await send(
      event('visit', {
        Profile: `https://www.linkedin.com/in/${salesId}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/${salesId},OUT_OF_NETWORK,abcd`,
        'First Name': 'LinkedIn',
        'Last Name': 'Member',
      }),
    );
    const slug = `vanity-${unique()}`;
    const second = await send(
      event('visit', {
        Profile: `https://www.linkedin.com/in/${slug}`,
        SalesProfile: `https://www.linkedin.com/sales/people/${salesId},name,wxyz`,
        'First Name': 'Priya',
        'Last Name': 'Natarajan',
      }),
    );
    expect(second.person_id).toBe(first.person_id);
    expect((await person(slug)).id).toBe(first.person_id);
  });

  it('an event with no usable identifier is stored, answered 200 and marked skipped with a reason', async () => {
    const answer = await send(event('scan', { 'First Name': 'Nobody', Title: 'Ghost' }));
    expect(answer).toMatchObject({ processed: false, status: 'skipped' });
    const { rows } = await db.pool.query(
      'SELECT status, status_reason, person_id FROM observations WHERE id = $1',
      [answer.observation_id],
    );
    expect(rows[0]).toMatchObject({ status: 'skipped', person_id: null });
    expect(rows[0].status_reason).toMatch(/identifier/);
  });
});

describe('merges', () => {
  it('merges two persons an observation proves to be one: oldest survives, tombstone redirects, no field lost, audited', async () => {
    const slug = `merge-${unique()}`;
    const member = String(7_000_000_000 + sequence);
    const a = await send(
      event('scan', { Profile: `https://www.linkedin.com/in/${slug}`, Summary: 'From the scan' }),
    );
    const b = await send(event('visit', { id: `id.${member}`, 'First Name': 'Bea', Twitter: 'bea_tweets' }));
    expect(a.person_id).not.toBe(b.person_id);

    const linking = await send(
      event('visit', { id: `id.${member}`, Profile: `https://www.linkedin.com/in/${slug}/` }),
    );
    expect(linking.person_id).toBe(a.person_id);
    expect(linking.people_upsert).toBe('merged');

    const survivor = await person(String(b.person_id));
    expect(survivor.id).toBe(a.person_id);
    expect(survivor.redirectedFrom).toBe(b.person_id);
    expect(survivor.snapshot).toMatchObject({
      summary: 'From the scan',
      firstName: 'Bea',
      twitter: 'bea_tweets',
    });
    expect((await person(String(a.person_id))).mergedFrom).toEqual([b.person_id]);

    const { rows } = await db.pool.query(
      "SELECT * FROM merges WHERE entity = 'person' AND survivor_id = $1",
      [a.person_id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ merged_ids: [b.person_id], observation_id: linking.observation_id });
    const images = rows[0].before_images as { entity: { id: string }; aliases: unknown[] }[];
    expect(images.map((image) => image.entity.id).sort()).toEqual([a.person_id, b.person_id].sort());
    expect(images.every((image) => image.aliases.length > 0)).toBe(true);
    const moved = await db.pool.query('SELECT count(*)::int AS n FROM person_aliases WHERE person_id = $1', [
      b.person_id,
    ]);
    expect(moved.rows[0].n).toBe(0);
  });

  it('never merges persons holding different Sales Nav ids: the conflict is recorded instead', async () => {
    const slug = `shared-${unique()}`;
    const first = await send(
      event('visit', {
        Profile: `https://www.linkedin.com/in/${slug}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAAFirst${unique()}Aa,NAME_SEARCH,aaaa`,
      }),
    );
    const second = await send(
      event('visit', {
        Profile: `https://www.linkedin.com/in/${slug}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAASecond${unique()}Bb,NAME_SEARCH,bbbb`,
      }),
    );
    expect(second.person_id).not.toBe(first.person_id);
    const { rows } = await db.pool.query(
      "SELECT entity_ids, kind FROM identity_conflicts WHERE entity = 'person' AND observation_id = $1",
      [second.observation_id],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].entity_ids).toEqual(expect.arrayContaining([first.person_id, second.person_id]));
    const merges = await db.pool.query('SELECT count(*)::int AS n FROM merges WHERE $1 = ANY(merged_ids)', [
      first.person_id,
    ]);
    expect(merges.rows[0].n).toBe(0);
  });

  it('never merges persons holding different member numbers', async () => {
    const slug = `twins-${unique()}`;
    const first = await send(
      event('visit', {
        id: `id.${8_100_000_000 + sequence}`,
        Profile: `https://www.linkedin.com/in/${slug}`,
      }),
    );
    const second = await send(
      event('visit', {
        id: `id.${8_200_000_000 + sequence}`,
        Profile: `https://www.linkedin.com/in/${slug}`,
      }),
    );
    expect(second.person_id).not.toBe(first.person_id);
  });
});

describe('precedence', () => {
  it('a visit beats a newer scan within the window, a scan more than 30 days newer wins, empty never overwrites', async () => {
    const member = `id.${8_300_000_000 + sequence}`;
    const t0 = Date.UTC(2025, 2, 1);
    const visit = await send(
      event('visit', { id: member, Title: 'Visit title', Company: 'Visit Co', Summary: 'kept' }, t0),
    );
    await send(
      event(
        'scan',
        { id: member, Title: 'Scan title 10 days later', Company: 'Scan Co' },
        t0 + 10 * 86_400_000,
      ),
    );
    let found = await person(String(visit.person_id));
    expect(found.snapshot.currentTitle).toBe('Visit title');

    await send(
      event(
        'scan',
        { id: member, Title: 'Scan title 40 days later', Company: 'Later Co', Summary: '' },
        t0 + 40 * 86_400_000,
      ),
    );
    found = await person(String(visit.person_id));
    expect(found.snapshot).toMatchObject({
      currentTitle: 'Scan title 40 days later',
      currentCompany: 'Later Co',
    });
    expect(found.snapshot.summary).toBe('kept');
  });

  it('a late-arriving older visit does not override newer data', async () => {
    const member = `id.${8_400_000_000 + sequence}`;
    const t0 = Date.UTC(2025, 5, 1);
    const newer = await send(event('visit', { id: member, Title: 'Current role' }, t0));
    await send(event('visit', { id: member, Title: 'Old role' }, t0 - 90 * 86_400_000));
    expect((await person(String(newer.person_id))).snapshot.currentTitle).toBe('Current role');
  });
});

describe('concurrency', () => {
  it('64 concurrent webhooks about one human in mixed id forms make exactly one person with every alias', async () => {
    const memberNumber = String(8_500_000_000 + sequence);
    const salesId = `ACwAAAConc${unique()}Qq`;
    const slug = `concurrent-${unique()}`;
    const forms: Record<string, unknown>[] = [
      { id: `id.${memberNumber}` },
      { Profile: `https://www.linkedin.com/in/${slug}` },
      { SalesProfile: `https://www.linkedin.com/sales/lead/${salesId},NAME_SEARCH,c0c0` },
      { RecruiterProfile: `https://www.linkedin.com/talent/profile/${salesId}` },
      { id: `id.${memberNumber}`, Profile: `https://www.linkedin.com/in/${slug}/` },
      {
        Profile: `https://www.linkedin.com/in/${slug}`,
        SalesProfile: `https://www.linkedin.com/sales/people/${salesId},name,d1d1`,
      },
      { id: memberNumber, RecruiterProfile: `https://www.linkedin.com/talent/profile/${salesId}` },
      { Profile: `https://www.linkedin.com/in/${salesId}`, id: `id.${memberNumber}` },
    ];
    const events = Array.from({ length: 64 }, (_, i) =>
      event(i % 3 === 0 ? 'scan' : 'visit', {
        ...forms[i % forms.length],
        'First Name': 'Concurrent',
        Title: `T${i}`,
      }),
    );
    // The linking events are sent last so every form first has a chance to create a person of its own.
    const answers = await Promise.all(events.map((body) => send(body)));
    expect(answers.every((answer) => answer.processed === true)).toBe(true);
    const { rows } = await db.pool.query(
      `SELECT DISTINCT p.id FROM person_aliases a JOIN persons p ON p.id = a.person_id
        WHERE p.merged_into IS NULL AND a.value = ANY($1)`,
      [[memberNumber, slug, salesId.toLowerCase()]],
    );
    expect(rows).toHaveLength(1);
    const found = await person(rows[0].id);
    const types = new Set((found.aliases as { type: string }[]).map((alias) => alias.type));
    for (const type of [
      'member_id',
      'username',
      'sales_nav_id',
      'recruiter_url',
      'sales_url',
      'profile_url',
    ]) {
      expect(types.has(type)).toBe(true);
    }
    expect((found.meta as { observationsCount: number }).observationsCount).toBe(64);
  });
});

describe('failures never fail the request', () => {
  it('a Phase 2 failure leaves a dead letter and a dead observation, and the webhook still answers 200', async () => {
    const trigger = `phase2_failure_${unique()}`;
    await db.pool.query(`CREATE FUNCTION ${trigger}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.snapshot->>'firstName' = 'Explodes' THEN RAISE EXCEPTION 'simulated snapshot failure'; END IF;
        RETURN NEW;
      END $$`);
    await db.pool.query(
      `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON persons FOR EACH ROW EXECUTE FUNCTION ${trigger}()`,
    );
    try {
      const answer = await send(
        event('visit', { id: `id.${8_600_000_000 + sequence}`, 'First Name': 'Explodes' }),
      );
      expect(answer).toMatchObject({ success: true, processed: false, status: 'dead' });
      const { rows } = await db.pool.query(
        'SELECT o.status, d.error, d.attempts, d.next_attempt_at > now() AS later FROM observations o JOIN dead_letters d ON d.observation_id = o.id WHERE o.id = $1',
        [answer.observation_id],
      );
      expect(rows[0]).toMatchObject({ status: 'dead', attempts: 1, later: true });
      expect(rows[0].error).toMatch(/simulated snapshot failure/);
    } finally {
      await db.pool.query(`DROP TRIGGER ${trigger} ON persons`);
    }
  });

  it('the sweeper finishes observations a crash left pending', async () => {
    const phase1Only = buildTestApp(db).app;
    const body = distinctVisit();
    const stored = await request(phase1Only).post('/api/webhook').send(body);
    expect(stored.body.processed).toBe(false);
    const config = loadConfig({ LOG_LEVEL: 'silent' });
    const processor = phase2FromConfig(db.pool, config, createLogger(config));
    const result = await sweepPending(db.pool, processor, { olderThanSeconds: 0, batchSize: 1000 });
    expect(result.processed).toBeGreaterThanOrEqual(1);
    const { rows } = await db.pool.query('SELECT status, person_id FROM observations WHERE id = $1', [
      stored.body.observation_id,
    ]);
    expect(rows[0].status).toBe('processed');
    expect(rows[0].person_id).not.toBeNull();
  });
});
