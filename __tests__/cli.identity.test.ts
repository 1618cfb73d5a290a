import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Express } from 'express';
import request from 'supertest';
import { loadConfig } from '../src/config';
import { replayManualDecisionsInTransaction } from '../src/cli/identity/decisions';
import { inTransaction } from '../src/cli/identity/locks';
import { mergePersons } from '../src/cli/identity/manual-merge';
import { RollbackRefused } from '../src/cli/identity/rollback';
import { mergeDuplicates } from '../src/cli/commands/merge-duplicates';
import { listMerges, rollbackMergeById } from '../src/cli/commands/rollback-merge';
import { relink } from '../src/cli/commands/relink';
import { silentProgress } from '../src/cli/progress';
import { phase2FromConfig } from '../src/ingest/phase2';
import { createLogger } from '../src/logger';
import { rebuildFromLog } from '../src/rebuild';
import { buildTestApp, testFoldSettings } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { profileEvent, sendWebhook, tableContents, uniqueSuffix } from './fixtures/cli-support';

jest.setTimeout(120_000);

const settings = testFoldSettings();
let db: TestDatabase;
let app: Express;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  app = buildTestApp(db, {}, { phase2: true }).app;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-identity-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

const BOSTON = 'Boston, Massachusetts, United States';
let memberSeed = 8_400_000_000;
const memberId = () => String(++memberSeed);

/** A person seen once, with the given name, company and location and the identifiers in `ids`. */
async function person(
  first: string,
  last: string,
  company: string,
  location: string,
  ids: Record<string, unknown>,
) {
  return sendWebhook(
    app,
    profileEvent('visit', {
      'First Name': first,
      'Last Name': last,
      Company: company,
      Location: location,
      ...ids,
    }),
  );
}

function reviewRows(file: string, company: string): Record<string, string>[] {
  const rows = parse<Record<string, string>>(fs.readFileSync(file), { columns: true });
  return rows.filter((row) => row.group_key!.includes(company.toLowerCase()));
}

async function personRow(id: string) {
  const { rows } = await db.pool.query('SELECT to_jsonb(p)::text AS row FROM persons p WHERE id = $1', [id]);
  return rows[0]?.row as string | undefined;
}

async function aliasRows(id: string) {
  const { rows } = await db.pool.query(
    'SELECT a::text AS row FROM person_aliases a WHERE person_id = $1 ORDER BY 1',
    [id],
  );
  return rows.map((row) => row.row as string);
}

async function observationRows(id: string) {
  const { rows } = await db.pool.query(
    'SELECT o::text AS row FROM observations o WHERE person_id = $1 ORDER BY id',
    [id],
  );
  return rows.map((row) => row.row as string);
}

describe('merge-duplicates', () => {
  it('groups exactly the persons sharing normalised name, company and location, never across hard identifiers', async () => {
    const s = uniqueSuffix();
    const company = `Quillfeather ${s}`;
    const a = await person('Jane', 'Doe', `${company} Inc.`, BOSTON, {
      Profile: `https://www.linkedin.com/in/jane-a-${s}`,
    });
    const b = await person('JANE', 'DOE', company, BOSTON, {
      id: `id.${memberId()}`,
      Profile: `https://www.linkedin.com/in/jane-b-${s}`,
    });
    const c = await person('Jane', 'Doe', company, BOSTON, {
      id: `id.${memberId()}`,
      Profile: `https://www.linkedin.com/in/jane-c-${s}`,
    });
    const d = await person('Jané', 'Doe', company.toUpperCase(), BOSTON, {
      SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAADupD${s}Xx,NAME_SEARCH,ab1c`,
    });
    const e = await person('Jane', 'Doe', company, 'Chicago, Illinois, United States', {
      Profile: `https://www.linkedin.com/in/jane-e-${s}`,
    });
    const f = await person('John', 'Doe', company, BOSTON, {
      Profile: `https://www.linkedin.com/in/john-f-${s}`,
    });
    const g = await person('Sam', 'Lee', company, BOSTON, {
      SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAASamG${s}Xx,NAME_SEARCH,ab1c`,
    });
    const h = await person('Sam', 'Lee', company, BOSTON, {
      SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAASamH${s}Xx,NAME_SEARCH,ab1c`,
    });

    const output = path.join(dir, 'review.csv');
    const before = await tableContents(db.pool);
    const dry = await mergeDuplicates(db.pool, { execute: false, output, settings }, silentProgress);
    expect(await tableContents(db.pool)).toEqual(before);
    expect(dry).toMatchObject({
      dry_run: true,
      groups: 1,
      persons_in_groups: 3,
      kept_apart: 3,
      merged_groups: 0,
    });
    const rows = reviewRows(output, company);
    expect(rows.map((row) => [row.role, row.person_id, row.outcome])).toEqual([
      ['survivor', a.person_id, 'would merge'],
      ['merge', b.person_id, 'would merge'],
      ['merge', d.person_id, 'would merge'],
    ]);
    expect(rows[0]).toMatchObject({ full_name: 'Jane Doe', location: BOSTON, observations_count: '1' });
    for (const other of [c, e, f, g, h])
      expect(rows.map((row) => row.person_id)).not.toContain(other.person_id);

    const done = await mergeDuplicates(db.pool, { execute: true, output, settings }, silentProgress);
    expect(done).toMatchObject({
      dry_run: false,
      groups: 1,
      merged_groups: 1,
      merged_persons: 2,
      skipped: [],
    });
    expect(reviewRows(output, company).map((row) => row.outcome)).toEqual([
      expect.stringMatching(/^merged \(merge \d+\)$/),
      expect.stringMatching(/^merged/),
      expect.stringMatching(/^merged/),
    ]);
    const persons = await db.pool.query<{ id: string; merged_into: string | null }>(
      'SELECT id, merged_into FROM persons WHERE id = ANY($1::uuid[])',
      [[a, b, c, d, e, f, g, h].map((answer) => answer.person_id)],
    );
    const mergedInto = Object.fromEntries(persons.rows.map((row) => [row.id, row.merged_into]));
    expect(mergedInto).toEqual({
      [a.person_id]: null,
      [b.person_id]: a.person_id,
      [c.person_id]: null,
      [d.person_id]: a.person_id,
      [e.person_id]: null,
      [f.person_id]: null,
      [g.person_id]: null,
      [h.person_id]: null,
    });
    const survivor = await request(app).get(`/api/people/${b.person_id}`);
    expect(survivor.body.person).toMatchObject({ id: a.person_id, redirectedFrom: b.person_id });
    expect(survivor.body.person.meta.observationsCount).toBe(3);

    const merge = await db.pool.query(
      "SELECT * FROM merges WHERE survivor_id = $1 AND reason = 'duplicate_detection'",
      [a.person_id],
    );
    expect(merge.rows).toHaveLength(1);
    expect([...merge.rows[0].merged_ids].sort()).toEqual([b.person_id, d.person_id].sort());
    const decision = await db.pool.query('SELECT * FROM manual_identity_decisions WHERE merge_id = $1', [
      merge.rows[0].id,
    ]);
    expect(decision.rows).toHaveLength(1);
    expect(decision.rows[0]).toMatchObject({
      kind: 'merge',
      survivor_id: a.person_id,
      reason: 'duplicate_detection',
    });
    expect(Object.keys(decision.rows[0].aliases).sort()).toEqual([a, b, d].map((x) => x.person_id).sort());

    const again = await mergeDuplicates(db.pool, { execute: true, output, settings }, silentProgress);
    expect(again.groups).toBe(0);
  });
});

describe('rollback-merge', () => {
  it('undoes a merge-duplicates merge byte for byte and never proposes the pair again', async () => {
    const s = uniqueSuffix();
    const company = `Brightwater ${s}`;
    await person('Ola', 'Berg', company, BOSTON, { Profile: `https://www.linkedin.com/in/ola-1-${s}` });
    await person('Ola', 'Berg', company, BOSTON, { id: `id.${memberId()}`, Email: `ola.${s}@berg.example` });
    const before = await tableContents(db.pool, ['persons', 'person_aliases', 'observations']);

    const output = path.join(dir, 'rollback.csv');
    const merged = await mergeDuplicates(db.pool, { execute: true, output, settings }, silentProgress);
    expect(merged.merged_groups).toBe(1);
    const { rows } = await db.pool.query<{ id: number }>('SELECT max(id) AS id FROM merges');
    const mergeId = rows[0]!.id;

    const summary = await rollbackMergeById(db.pool, { mergeId, execute: true, settings });
    expect(summary).toMatchObject({
      rolled_back: true,
      can_roll_back: true,
      survivor_restored_exactly: true,
    });
    expect(await tableContents(db.pool, ['persons', 'person_aliases', 'observations'])).toEqual(before);

    const decisions = await db.pool.query(
      'SELECT id, kind, reverses_id FROM manual_identity_decisions WHERE merge_id = $1 ORDER BY id',
      [mergeId],
    );
    expect(decisions.rows.map((row) => row.kind)).toEqual(['merge', 'unmerge']);
    expect(decisions.rows[1].reverses_id).toBe(decisions.rows[0].id);

    const dry = await mergeDuplicates(db.pool, { execute: false, output, settings }, silentProgress);
    expect(reviewRows(output, company)).toEqual([]);
    expect(dry.kept_apart).toBeGreaterThanOrEqual(2);
  });

  it('undoes a merge an observation caused: merged person restored exactly, the observation stays with the survivor', async () => {
    const slug = `merge-${uniqueSuffix()}`;
    const member = memberId();
    const a = await sendWebhook(
      app,
      profileEvent('scan', { Profile: `https://www.linkedin.com/in/${slug}`, Summary: 'From the scan' }),
    );
    const b = await sendWebhook(
      app,
      profileEvent('visit', { id: `id.${member}`, 'First Name': 'Bea', Twitter: 'bea_tweets' }),
    );
    const beforeB = {
      row: await personRow(b.person_id),
      aliases: await aliasRows(b.person_id),
      observations: await observationRows(b.person_id),
    };
    const beforeA = {
      aliases: await aliasRows(a.person_id),
      observations: await observationRows(a.person_id),
    };

    const linking = await sendWebhook(
      app,
      profileEvent('visit', { id: `id.${member}`, Profile: `https://www.linkedin.com/in/${slug}/` }),
    );
    expect(linking).toMatchObject({ person_id: a.person_id, people_upsert: 'merged' });
    const { rows } = await db.pool.query<{ id: number }>(
      'SELECT id FROM merges WHERE survivor_id = $1 AND $2 = ANY(merged_ids)',
      [a.person_id, b.person_id],
    );
    const mergeId = rows[0]!.id;

    const unchanged = await tableContents(db.pool);
    const dry = await rollbackMergeById(db.pool, { mergeId, execute: false, settings });
    expect(dry).toMatchObject({
      dry_run: true,
      can_roll_back: true,
      problems: [],
      survivor_restored_exactly: false,
    });
    expect(dry.observations_restored).toBe(1);
    expect(await tableContents(db.pool)).toEqual(unchanged);

    const done = await rollbackMergeById(db.pool, { mergeId, execute: true, settings });
    expect(done).toMatchObject({ rolled_back: true, restored_person_ids: [b.person_id] });
    expect(await personRow(b.person_id)).toBe(beforeB.row);
    expect(await aliasRows(b.person_id)).toEqual(beforeB.aliases);
    expect(await observationRows(b.person_id)).toEqual(beforeB.observations);
    expect(await aliasRows(a.person_id)).toEqual(beforeA.aliases);
    const observationsOfA = await observationRows(a.person_id);
    expect(observationsOfA.slice(0, -1)).toEqual(beforeA.observations);
    expect(observationsOfA).toHaveLength(beforeA.observations.length + 1);

    const survivor = (await request(app).get(`/api/people/${a.person_id}`)).body.person;
    expect(survivor.snapshot.summary).toBe('From the scan');
    expect(survivor.snapshot.twitter).toBeUndefined();
    expect(survivor.snapshot.firstName).toBeUndefined();
    expect(survivor.meta.observationsCount).toBe(2);
    const restored = (await request(app).get(`/api/people/${b.person_id}`)).body.person;
    expect(restored).toMatchObject({
      id: b.person_id,
      snapshot: { firstName: 'Bea', twitter: 'bea_tweets' },
    });
    expect(restored.redirectedFrom).toBeUndefined();

    const merge = await db.pool.query('SELECT rolled_back_at FROM merges WHERE id = $1', [mergeId]);
    expect(merge.rows[0].rolled_back_at).toBeInstanceOf(Date);
    const decision = await db.pool.query(
      'SELECT kind, reverses_id, person_ids FROM manual_identity_decisions WHERE merge_id = $1',
      [mergeId],
    );
    expect(decision.rows).toEqual([{ kind: 'unmerge', reverses_id: null, person_ids: [b.person_id] }]);
    await expect(rollbackMergeById(db.pool, { mergeId, execute: true, settings })).rejects.toThrow(
      /already rolled back/,
    );

    // The linking observation, now the survivor's, names the restored person's member number: relink would join
    // them again, but an operator split them.
    const processor = phase2FromConfig(
      db.pool,
      loadConfig({}),
      createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    );
    const relinked = await relink(
      db.pool,
      processor,
      { execute: true, contribution: { defaultPhoneCountry: 'US' }, settings },
      silentProgress,
    );
    expect(relinked).toMatchObject({ kept_apart: 1, relinked: 0 });
    expect(await personRow(b.person_id)).toBe(beforeB.row);
  });

  it('rolls a chain back newest first, re-pointing tombstones exactly, and refuses the older merge before', async () => {
    const s = uniqueSuffix();
    const seeded = [];
    for (const name of ['xavier', 'yusuf', 'zora']) {
      seeded.push(
        await sendWebhook(
          app,
          profileEvent('visit', { Profile: `https://www.linkedin.com/in/${name}-${s}` }),
        ),
      );
    }
    const [x, y, z] = seeded.map((answer) => answer.person_id) as [string, string, string];
    const tables = ['persons', 'person_aliases', 'observations'];
    const original = await tableContents(db.pool, tables);

    const first = await inTransaction(db.pool, (client) => mergePersons(client, [z, y], 'test', settings));
    expect(first).toMatchObject({ merged: true, survivorId: y, mergedIds: [z] });
    const afterFirst = await tableContents(db.pool, tables);
    const second = await inTransaction(db.pool, (client) => mergePersons(client, [y, x], 'test', settings));
    expect(second).toMatchObject({ merged: true, survivorId: x, mergedIds: [y] });
    const tombstone = await db.pool.query('SELECT merged_into FROM persons WHERE id = $1', [z]);
    expect(tombstone.rows[0].merged_into).toBe(x); // mergeEntities keeps chains one hop long
    if (!first.merged || !second.merged) throw new Error('unreachable');

    await expect(
      rollbackMergeById(db.pool, { mergeId: first.mergeId, execute: true, settings }),
    ).rejects.toThrow(RollbackRefused);
    const listed = await listMerges(db.pool);
    expect(listed.find((merge) => merge.id === second.mergeId)).toMatchObject({
      can_roll_back: true,
      problems: [],
    });
    const blocked = listed.find((merge) => merge.id === first.mergeId);
    expect(blocked?.can_roll_back).toBe(false);
    expect(blocked?.problems.join(' ')).toContain(`later merge(s) ${second.mergeId}`);

    const newest = await rollbackMergeById(db.pool, { mergeId: second.mergeId, execute: true, settings });
    expect(newest.tombstones_repointed).toBe(1);
    expect(await tableContents(db.pool, tables)).toEqual(afterFirst);
    await rollbackMergeById(db.pool, { mergeId: first.mergeId, execute: true, settings });
    expect(await tableContents(db.pool, tables)).toEqual(original);
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

describe('manual decisions after a rebuild', () => {
  it('a rebuild from the observation log followed by replayManualDecisions reproduces every manual merge and unmerge', async () => {
    const s = uniqueSuffix();
    const output = path.join(dir, 'replay.csv');
    // Kept merged: a merge-duplicates merge.
    await person('Mia', 'Kept', `Keep ${s}`, BOSTON, { Profile: `https://www.linkedin.com/in/mia-1-${s}` });
    await person('Mia', 'Kept', `Keep ${s}`, BOSTON, { Profile: `https://www.linkedin.com/in/mia-2-${s}` });
    // Merged, then rolled back: the pair cancels out.
    await person('Noa', 'Undone', `Undo ${s}`, BOSTON, { Profile: `https://www.linkedin.com/in/noa-1-${s}` });
    await person('Noa', 'Undone', `Undo ${s}`, BOSTON, { Profile: `https://www.linkedin.com/in/noa-2-${s}` });
    const merged = await mergeDuplicates(db.pool, { execute: true, output, settings }, silentProgress);
    expect(merged.merged_groups).toBe(2);
    const undone = await db.pool.query<{ merge_id: number }>(
      `SELECT d.merge_id FROM manual_identity_decisions d JOIN persons p ON p.id = d.survivor_id
        WHERE d.kind = 'merge' AND p.current_company = $1`,
      [`Undo ${s}`],
    );
    await rollbackMergeById(db.pool, { mergeId: undone.rows[0]!.merge_id, execute: true, settings });
    // Merged by the evidence, split by an operator.
    const slug = `evidence-${s}`;
    const member = memberId();
    await sendWebhook(
      app,
      profileEvent('scan', { Profile: `https://www.linkedin.com/in/${slug}`, Title: 'CTO' }),
    );
    const b = await sendWebhook(app, profileEvent('visit', { id: `id.${member}`, 'First Name': 'Eve' }));
    await sendWebhook(
      app,
      profileEvent('visit', { id: `id.${member}`, Profile: `https://www.linkedin.com/in/${slug}` }),
    );
    const evidence = await db.pool.query<{ id: number }>('SELECT id FROM merges WHERE $1 = ANY(merged_ids)', [
      b.person_id,
    ]);
    await rollbackMergeById(db.pool, { mergeId: evidence.rows[0]!.id, execute: true, settings });

    const live = await identityState();
    const config = loadConfig({});
    const processor = phase2FromConfig(
      db.pool,
      config,
      createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    );
    await rebuildFromLog(db.pool, { namespace: config.CANONICAL_ID_NAMESPACE, settings, processor });
    expect(await identityState()).not.toEqual(live);

    const replayed = await replayManualDecisionsInTransaction(db.pool, settings);
    expect(replayed.problems).toEqual([]);
    // merge-duplicates merges of this file (first test and Mia) apply again; the rolled-back manual merges (second
    // test and Noa) cancel; the evidence merges split by an operator (third test and Eve) are not made again (the
    // resolver honours unmerge decisions while the log is replayed), so their unmerges are already in effect; so are
    // the chain test's, whose merges were not operator decisions recorded as merges.
    expect(replayed).toMatchObject({ merged: 2, unmerged: 0, cancelled: 4, in_effect: 4 });
    expect(await identityState()).toEqual(live);

    const again = await replayManualDecisionsInTransaction(db.pool, settings);
    expect(again).toMatchObject({ merged: 0, unmerged: 0, in_effect: 6, problems: [] });
    expect(await identityState()).toEqual(live);
  });
});
