import type { Express } from 'express';
import request from 'supertest';
import { replayManualDecisionsInTransaction } from '../src/cli/identity/decisions';
import { inTransaction } from '../src/cli/identity/locks';
import { rollbackMerge } from '../src/cli/identity/rollback';
import { rollbackMergeById } from '../src/cli/commands/rollback-merge';
import { loadConfig } from '../src/config';
import type { PoolClient } from '../src/db/pool';
import type { Phase2Processor } from '../src/ingest/phase2';
import { rebuildFromLog } from '../src/rebuild';
import { drainRefreshQueue } from '../src/snapshots/refresh';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

/**
 * An operator's unmerge (rollback-merge --execute) must hold against live resolution: a later observation carrying
 * identifiers of both split persons keeps them apart, like merge protection does for two Sales Navigator ids.
 */

jest.setTimeout(120_000);

const settings = testFoldSettings();
let db: TestDatabase;
let app: Express;
let phase1Only: Express;
let processor: Phase2Processor;

beforeAll(async () => {
  db = await createTestDatabase();
  const built = buildTestApp(db, {}, { phase2: true });
  app = built.app;
  processor = built.context.processor as Phase2Processor;
  phase1Only = buildTestApp(db).app;
});
afterAll(() => db.drop());

interface Answer {
  observation_id: number;
  person_id: string;
  status: string;
  processed: boolean;
  people_upsert?: string;
}

let sequence = 0;
const unique = () => `${Date.now().toString(36)}${++sequence}`;

function profileEvent(type: 'visit' | 'scan', data: Record<string, unknown>): Record<string, unknown> {
  const at = Date.UTC(2025, 4, 1) + ++sequence * 60_000;
  return {
    userid: 'unmerge-tests',
    time: new Date(at + 500).toISOString(),
    type,
    event: 'create',
    data: { [type === 'visit' ? 'VisitTime' : 'ScanTime']: at, ...data },
  };
}

async function send(body: unknown, to: Express = app): Promise<Answer> {
  const res = await request(to)
    .post('/api/webhook')
    .set('content-type', 'application/json')
    .send(JSON.stringify(body));
  expect(res.status).toBe(200);
  return res.body as Answer;
}

/** Person A (a Sales Navigator id only) and person B (a vanity URL only), and events naming both. */
async function twoPersons(tag: string) {
  const salesId = `ACwAAAUnm${tag}${unique()}Qq`;
  const vanity = `${tag}-${unique()}`;
  const a = await send(
    profileEvent('visit', {
      SalesProfile: `https://www.linkedin.com/sales/lead/${salesId},NAME_SEARCH,ab1c`,
      'First Name': 'Ana',
      Title: 'Chief Financial Officer',
    }),
  );
  const b = await send(
    profileEvent('scan', {
      Profile: `https://www.linkedin.com/in/${vanity}`,
      'First Name': 'Ben',
      Title: 'Intern',
    }),
  );
  expect(b.person_id).not.toBe(a.person_id);
  /** A's Sales Navigator id plus B's vanity URL. */
  const naming = (data: Record<string, unknown> = {}) =>
    profileEvent('visit', {
      SalesProfile: `https://www.linkedin.com/sales/people/${salesId},name,zz9z`,
      Profile: `https://www.linkedin.com/in/${vanity}/`,
      ...data,
    });
  return { a: a.person_id, b: b.person_id, salesId, vanity, naming };
}

/** The merge an observation made of B into A. */
async function mergeOf(survivor: string, merged: string): Promise<number> {
  const { rows } = await db.pool.query<{ id: number }>(
    `SELECT id FROM merges WHERE survivor_id = $1 AND $2 = ANY(merged_ids) AND rolled_back_at IS NULL`,
    [survivor, merged],
  );
  expect(rows).toHaveLength(1);
  return Number(rows[0]!.id);
}

async function mergedInto(id: string): Promise<string | null> {
  const { rows } = await db.pool.query('SELECT merged_into FROM persons WHERE id = $1', [id]);
  return rows[0].merged_into;
}

async function conflictsOf(observationId: number) {
  const { rows } = await db.pool.query(
    `SELECT kind, entity_ids, detail FROM identity_conflicts
      WHERE entity = 'person' AND observation_id = $1 ORDER BY kind`,
    [observationId],
  );
  return rows as { kind: string; entity_ids: string[]; detail: Record<string, unknown> }[];
}

async function observation(id: number) {
  const { rows } = await db.pool.query('SELECT status, person_id FROM observations WHERE id = $1', [id]);
  return rows[0] as { status: string; person_id: string | null };
}

async function fullPathRuns(work: () => Promise<unknown>): Promise<{ fast: number; full: number }> {
  const before = { ...processor.paths };
  await work();
  return { fast: processor.paths.fast - before.fast, full: processor.paths.full - before.full };
}

/** Merges A and B through an observation naming both, then rolls the merge back the way the ops CLI does. */
async function mergeAndUnmerge(tag: string) {
  const pair = await twoPersons(tag);
  const merging = await send(pair.naming());
  expect(merging).toMatchObject({ person_id: pair.a, people_upsert: 'merged' });
  const mergeId = await mergeOf(pair.a, pair.b);
  const rolledBack = await rollbackMergeById(db.pool, { mergeId, execute: true, settings });
  expect(rolledBack).toMatchObject({ rolled_back: true, restored_person_ids: [pair.b] });
  expect(await mergedInto(pair.b)).toBeNull();
  return { ...pair, mergeId, decisionId: Number(rolledBack.decision_id) };
}

describe('live resolution after an operator unmerge', () => {
  it('a webhook naming both split persons merges nothing: one operator_unmerge conflict, attached to the older person', async () => {
    const { a, b, vanity, naming, decisionId } = await mergeAndUnmerge('split');

    let again: Answer | undefined;
    const paths = await fullPathRuns(async () => {
      again = await send(naming({ Title: 'Chief Financial Officer, EMEA' }));
    });
    // Two persons named: the fast path hands over to the full path, where the decision is read.
    expect(paths).toEqual({ fast: 0, full: 1 });
    expect(again).toMatchObject({
      processed: true,
      status: 'processed',
      person_id: a,
      people_upsert: 'updated',
    });
    const observationId = again!.observation_id;

    expect(await mergedInto(a)).toBeNull();
    expect(await mergedInto(b)).toBeNull();
    const merges = await db.pool.query(
      `SELECT count(*)::int AS n FROM merges WHERE $1 = ANY(merged_ids) AND rolled_back_at IS NULL`,
      [b],
    );
    expect(merges.rows[0].n).toBe(0);

    expect(await conflictsOf(observationId)).toEqual([
      {
        kind: 'operator_unmerge',
        entity_ids: [a, b],
        detail: { joined: a, keptApart: [{ id: b, decisions: [decisionId] }] },
      },
    ]);
    expect(await observation(observationId)).toEqual({ status: 'processed', person_id: a });

    // B keeps its vanity URL and its own snapshot; A took the new observation.
    const owner = await db.pool.query(
      `SELECT person_id FROM person_aliases WHERE kind = 'username' AND value = $1`,
      [vanity],
    );
    expect(owner.rows[0].person_id).toBe(b);
    const personB = (await request(app).get(`/api/people/${b}`)).body.person;
    expect(personB).toMatchObject({ id: b, snapshot: { firstName: 'Ben', currentTitle: 'Intern' } });
    expect(personB.redirectedFrom).toBeUndefined();
    const personA = (await request(app).get(`/api/people/${a}`)).body.person;
    expect(personA.snapshot.currentTitle).toBe('Chief Financial Officer, EMEA');
  });

  it('control: the same webhook merges them again when the rollback left no unmerge decision', async () => {
    const pair = await twoPersons('control');
    await send(pair.naming());
    const mergeId = await mergeOf(pair.a, pair.b);
    // The rollback the CLI runs, without the decision it records.
    await inTransaction(db.pool, (client) => rollbackMerge(client, mergeId, settings));
    expect(await mergedInto(pair.b)).toBeNull();

    const again = await send(pair.naming());
    expect(again).toMatchObject({ person_id: pair.a, people_upsert: 'merged' });
    expect(await mergedInto(pair.b)).toBe(pair.a);
    expect(await conflictsOf(again.observation_id)).toEqual([]);
  });

  it('a split person merged since into a third person stays apart from the other', async () => {
    const member = String(7_700_000_000 + sequence);
    const c = await send(profileEvent('visit', { id: `id.${member}`, 'First Name': 'Cy' }));
    const { a, b, salesId, vanity, decisionId } = await mergeAndUnmerge('chain');

    // B and C are not separated: an observation naming both merges B into C, the older.
    const joining = await send(
      profileEvent('scan', { id: `id.${member}`, Profile: `https://www.linkedin.com/in/${vanity}` }),
    );
    expect(joining).toMatchObject({ person_id: c.person_id, people_upsert: 'merged' });
    expect(await mergedInto(b)).toBe(c.person_id);

    // C now stands for B, whom the operator split from A.
    const naming = await send(
      profileEvent('visit', {
        id: `id.${member}`,
        SalesProfile: `https://www.linkedin.com/sales/lead/${salesId},NAME_SEARCH,cd2e`,
      }),
    );
    expect(naming).toMatchObject({ person_id: c.person_id, people_upsert: 'updated' });
    expect(await mergedInto(a)).toBeNull();
    expect(await conflictsOf(naming.observation_id)).toEqual([
      {
        kind: 'operator_unmerge',
        entity_ids: [c.person_id, a],
        detail: { joined: c.person_id, keptApart: [{ id: a, decisions: [decisionId] }] },
      },
    ]);
  });

  it('the fast path cannot bypass it: phase2_apply_person answers stale when the identifiers name two persons', async () => {
    const { a, b, salesId, vanity, naming } = await mergeAndUnmerge('fast');
    const stored = await send(naming(), phase1Only);
    expect(await observation(stored.observation_id)).toEqual({ status: 'pending', person_id: null });

    // What a fast path that read only A (before B's aliases came back) would ask for.
    const version = await db.pool.query<{ xmin: string }>(
      'SELECT xmin::text AS xmin FROM persons WHERE id = $1',
      [a],
    );
    const applyAsA = async (client: PoolClient, kinds: string[], values: string[]) => {
      const applied = await client.query<{ outcome: string }>(
        `SELECT outcome FROM phase2_apply_person($1, $2, $3, $3, $4, $5::xid, $4, '{}'::jsonb, NULL, NULL, NULL, NULL,
                                                 NULL, now(), NULL, NULL, NULL, NULL, 'visit', NULL, NULL)`,
        [stored.observation_id, kinds, values, a, version.rows[0]!.xmin],
      );
      return applied.rows[0]!.outcome;
    };
    const client = await db.pool.connect();
    try {
      await client.query('BEGIN');
      // Control, rolled back: naming A alone, the same call applies.
      expect(await applyAsA(client, ['sales_nav_id'], [salesId.toLowerCase()])).toBe('updated');
      await client.query('ROLLBACK');
      expect(await applyAsA(client, ['sales_nav_id', 'username'], [salesId.toLowerCase(), vanity])).toBe(
        'stale',
      );
    } finally {
      client.release();
    }
    expect(await observation(stored.observation_id)).toEqual({ status: 'pending', person_id: null });

    // The full path (here as the sweeper runs it, without the payload in hand) keeps them apart.
    const result = await processor.process(stored.observation_id);
    expect(result).toMatchObject({ processed: true, person_id: a, people_upsert: 'updated' });
    expect(await mergedInto(b)).toBeNull();
    expect((await conflictsOf(stored.observation_id)).map((conflict) => conflict.kind)).toEqual([
      'operator_unmerge',
    ]);
  });
});

/** What a rebuild must reproduce: every person (without row timestamps), every alias and every observation link. */
async function identityState() {
  const persons = await db.pool.query(
    `SELECT id, merged_into, anchor_observation_id, snapshot, observations_count, first_observed_at, last_observed_at,
            full_name, current_title, current_company, current_company_id, location_id
       FROM persons ORDER BY id`,
  );
  const aliases = await db.pool.query(
    'SELECT kind, value, person_id, display, first_observation_id FROM person_aliases ORDER BY kind, value',
  );
  const observations = await db.pool.query('SELECT id, person_id, status FROM observations ORDER BY id');
  return { persons: persons.rows, aliases: aliases.rows, observations: observations.rows };
}

async function unmergeConflicts(): Promise<number[]> {
  const { rows } = await db.pool.query<{ observation_id: string }>(
    `SELECT observation_id FROM identity_conflicts WHERE kind = 'operator_unmerge' ORDER BY observation_id`,
  );
  return rows.map((row) => Number(row.observation_id));
}

describe('rebuild', () => {
  it('a rebuild from the log, then the replay of manual decisions, reproduces every split', async () => {
    const live = await identityState();
    const liveConflicts = await unmergeConflicts();
    expect(liveConflicts).toHaveLength(3);

    const config = loadConfig({});
    await rebuildFromLog(db.pool, { namespace: config.CANONICAL_ID_NAMESPACE, settings, processor });
    // The resolver honours the decisions while the log is replayed: the splits are already in effect.
    const replayed = await replayManualDecisionsInTransaction(db.pool, settings);
    await drainRefreshQueue(db.pool, settings);
    expect(replayed).toMatchObject({ unmerged: 0, problems: [] });
    expect(replayed.in_effect).toBe(replayed.decisions);

    expect(await identityState()).toEqual(live);
    // Every conflict live resolution recorded is recorded again, and so is one for each observation that had merged
    // the split persons before the operator's decision (the rebuild knows the decision from the start).
    const rebuiltConflicts = await unmergeConflicts();
    expect(rebuiltConflicts).toEqual(expect.arrayContaining(liveConflicts));
    expect(rebuiltConflicts.length).toBe(liveConflicts.length + 3);
  });
});
