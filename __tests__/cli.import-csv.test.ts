import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importCsv } from '../src/cli/commands/import-csv';
import type { ImportCsvSummary } from '../src/cli/commands/import-csv';
import { csvLayout, csvTime, rowPayload } from '../src/cli/csv/dux-soup-row';
import { silentProgress } from '../src/cli/progress';
import { loadConfig } from '../src/config';
import { phase2FromConfig } from '../src/ingest/phase2';
import { createLogger } from '../src/logger';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { tableContents } from './fixtures/cli-support';

jest.setTimeout(120_000);

const FIXTURE = path.join(__dirname, 'fixtures', 'duxsoup-export.csv');
let db: TestDatabase;
let phase2: ReturnType<typeof phase2FromConfig>;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase();
  phase2 = phase2FromConfig(db.pool, loadConfig({}), createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-import-'));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

const run = (file: string, dryRun: boolean) => importCsv(db.pool, phase2, { file, dryRun }, silentProgress);

/** The fixture's unusable rows: the line each starts on and why (the first data row spans lines 2 to 4). */
const REJECTIONS = [
  { line: 8, code: 'NO_IDENTITY' },
  { line: 9, code: 'INVALID_EVENT_TIME' },
  { line: 10, code: 'CSV_FIELD_COUNT' },
  { line: 13, code: 'CSV_MALFORMED' },
];

function outcome(summary: ImportCsvSummary) {
  return {
    rows: summary.rows,
    blank: summary.blank,
    imported: summary.imported,
    duplicates: summary.duplicates,
    rejected: summary.rejected,
    rejections: summary.rejections.map(({ line, code }) => ({ line, code })),
  };
}

async function csvPerson(profileSlug: string) {
  const { rows } = await db.pool.query(
    `SELECT p.* FROM persons p JOIN person_aliases a ON a.person_id = p.id
      WHERE a.kind = 'username' AND a.value = $1`,
    [profileSlug],
  );
  return rows[0];
}

describe('import-csv', () => {
  it('dry run: validates and counts (CRLF + BOM or LF alike) and stores nothing', async () => {
    const before = await tableContents(db.pool);
    const dry = await run(FIXTURE, true);
    expect(await tableContents(db.pool)).toEqual(before);
    const expected = { rows: 9, blank: 1, imported: 4, duplicates: 1, rejected: 4, rejections: REJECTIONS };
    expect(outcome(dry)).toEqual(expected);
    expect(dry.phase2).toEqual({ processed: 0, skipped: 0, dead: 0, busy: 0, pending: 0 });

    const unix = path.join(dir, 'unix.csv');
    fs.writeFileSync(
      unix,
      fs
        .readFileSync(FIXTURE, 'utf8')
        .replace(/^\uFEFF/, '')
        .replace(/\r\n/g, '\n'),
    );
    expect(outcome(await run(unix, true))).toEqual(expected);
  });

  it('imports each row as a webhook-shaped csv observation, resolves it, and lists unusable rows by line', async () => {
    const summary = await run(FIXTURE, false);
    expect(outcome(summary)).toEqual({
      rows: 9,
      blank: 1,
      imported: 4,
      duplicates: 1,
      rejected: 4,
      rejections: REJECTIONS,
    });
    expect(summary.phase2).toEqual({ processed: 4, skipped: 0, dead: 0, busy: 0, pending: 0 });
    expect(summary.rejections.map((rejection) => rejection.reason)).toEqual([
      expect.stringContaining('no usable identifier'),
      expect.stringContaining('VisitTime "yesterday"'),
      'the row has 37 fields, the header 36',
      expect.stringContaining('Quote Not Closed'),
    ]);

    const stored = await db.pool.query(
      `SELECT kind, source, event, dux_user_id, event_time, status, payload FROM observations ORDER BY id`,
    );
    expect(stored.rows.map((row) => [row.kind, row.source, row.dux_user_id, row.status])).toEqual([
      ['visit', 'csv', 'csv-import', 'processed'],
      ['visit', 'csv', 'csv-import', 'processed'],
      ['scan', 'csv', 'csv-import', 'processed'],
      ['visit', 'csv', 'csv-import', 'processed'],
    ]);
    const jose = stored.rows[0].payload;
    expect(jose).toMatchObject({ userid: 'csv-import', type: 'visit', event: 'create' });
    expect(jose.data).toMatchObject({
      id: 'id.7001001001',
      VisitTime: 1751509479098,
      'First Name': 'José',
      Summary: 'Líder de vendas, "enterprise".\nSegunda linha',
      'Custom Column': 'kept',
      extended: {
        positions: [
          {
            Company: 'Acme Brasil Ltda.',
            Title: 'Head of Sales, LATAM',
            Description: 'Leads sales',
            From: '3 - 2021',
            To: '',
            Location: 'São Paulo',
          },
          {
            Company: 'Globex, Inc.',
            Title: 'Sales Manager',
            Description: 'Built the team,\nfrom 3 to 30',
            From: '2015',
            To: '2021',
            Location: '',
          },
        ],
        schools: [
          { Name: 'Universidade de São Paulo', Degree: 'MBA', Field: 'Business', From: '2010', To: '2012' },
        ],
        skills: ['AWS Console, AWS CLI', 'Negotiation'],
      },
    });
    expect(Object.keys(jose.data).filter((key) => /^(Position|School|Skill)-/.test(key))).toEqual([]);
    expect(stored.rows[1].event_time.toISOString()).toBe('2025-03-04T05:06:07.000Z');
    expect(stored.rows[2].event_time.toISOString()).toBe('2025-02-01T10:00:00.000Z');

    const person = await csvPerson('jose-nunez-csv');
    expect(person.snapshot).toMatchObject({
      fullName: 'José Núñez',
      currentTitle: 'Head of Sales, LATAM',
      currentCompany: 'Acme Brasil Ltda.',
      city: 'São Paulo',
      countryCode: 'BR',
      email: 'jose.nunez@acmebrasil.com.br',
      summary: 'Líder de vendas, "enterprise".\nSegunda linha',
      tags: ['vip', '🦆-campaign'],
      skills: ['AWS Console, AWS CLI', 'Negotiation'],
      education: [
        {
          school: 'Universidade de São Paulo',
          degree: 'MBA',
          field: 'Business',
          startYear: 2010,
          endYear: 2012,
        },
      ],
    });
    expect(person.snapshot.roles).toHaveLength(2);
    expect(person.snapshot.roles[1]).toMatchObject({
      companyName: 'Globex, Inc.',
      description: 'Built the team,\nfrom 3 to 30',
    });
    expect(person.snapshot._meta.fullName.source).toBe('csv');
    expect((await csvPerson('zoe-odegaard-csv')).snapshot).toMatchObject({
      fullName: 'Zoë Ødegaard',
      country: 'Norway',
    });
    expect((await csvPerson('li-lei-csv')).snapshot).toMatchObject({
      fullName: '李 雷',
      currentCompany: '腾讯',
    });
    expect((await csvPerson('ana-lima-csv')).snapshot).toMatchObject({ fullName: 'Ana Lima' });

    const rejected = await db.pool.query(
      `SELECT error_code, reason, body FROM rejected_inputs WHERE endpoint = 'csv' ORDER BY id`,
    );
    expect(rejected.rows.map((row) => row.error_code)).toEqual(REJECTIONS.map((rejection) => rejection.code));
    expect(rejected.rows[0].reason).toMatch(/^duxsoup-export\.csv line 8: /);
    expect(rejected.rows[1].body.toString('utf8')).toContain('yesterday');
  });

  it('importing the same file again adds nothing anywhere', async () => {
    const before = await tableContents(db.pool);
    const again = await run(FIXTURE, false);
    expect(outcome(again)).toEqual({
      rows: 9,
      blank: 1,
      imported: 0,
      duplicates: 5,
      rejected: 4,
      rejections: REJECTIONS,
    });
    expect(await tableContents(db.pool)).toEqual(before);
  });

  it('a re-import finishes the rows an interrupted import stored but did not resolve', async () => {
    const file = path.join(dir, 'interrupted.csv');
    fs.writeFileSync(
      file,
      'id,VisitTime,First Name,Profile\n' +
        'id.7002002001,1751509490000,Kai,https://www.linkedin.com/in/kai-csv\n' +
        'id.7002002002,1751509491000,Lea,https://www.linkedin.com/in/lea-csv\n',
    );
    const crashed = { process: () => Promise.reject(new Error('Connection terminated unexpectedly')) };
    const first = await importCsv(db.pool, crashed, { file, dryRun: false }, silentProgress);
    expect(first).toMatchObject({ imported: 2, phase2: { processed: 0, pending: 2 } });
    expect(await csvPerson('kai-csv')).toBeUndefined();

    const second = await run(file, false);
    expect(second).toMatchObject({ imported: 0, duplicates: 2, phase2: { processed: 2, pending: 0 } });
    expect((await csvPerson('kai-csv')).snapshot.firstName).toBe('Kai');
    const third = await run(file, false);
    expect(third).toMatchObject({ imported: 0, duplicates: 2, phase2: { processed: 0, pending: 0 } });
  });

  it('Ctrl-C (an aborted signal) stops after the current batch and still reports', async () => {
    const file = path.join(dir, 'interrupt.csv');
    fs.writeFileSync(
      file,
      'id,VisitTime,Profile\n' +
        'id.7003003001,1751509492000,https://www.linkedin.com/in/first-csv\n' +
        'id.7003003002,1751509493000,https://www.linkedin.com/in/second-csv\n',
    );
    const controller = new AbortController();
    controller.abort();
    const stopped = await importCsv(
      db.pool,
      phase2,
      { file, dryRun: false, batchSize: 1, signal: controller.signal },
      silentProgress,
    );
    expect(stopped).toMatchObject({ interrupted: true, rows: 1, imported: 1 });
    expect(await csvPerson('second-csv')).toBeUndefined();
  });

  it('a missing file is a clear error', async () => {
    await expect(run(path.join(dir, 'missing.csv'), false)).rejects.toThrow(/cannot read .*missing\.csv/);
  });
});

describe('CSV rows', () => {
  const layout = csvLayout([
    'ID',
    'visittime',
    'Profile',
    'salesNavId',
    'Position 2 Title',
    'position-0-company',
    'Skill-1',
  ]);

  it('matches known columns case-insensitively and nests positions and skills in order', () => {
    const row = rowPayload(layout, [
      'id.1234567',
      '1751509479',
      'https://www.linkedin.com/in/x',
      'ACwAAAB1234567890',
      'CTO',
      'Acme',
      'Go',
    ]);
    expect(row).toEqual({
      ok: true,
      type: 'visit',
      payload: {
        userid: 'csv-import',
        type: 'visit',
        event: 'create',
        data: {
          id: 'id.1234567',
          VisitTime: 1751509479000,
          Profile: 'https://www.linkedin.com/in/x',
          SalesProfile: 'https://www.linkedin.com/sales/lead/ACwAAAB1234567890',
          extended: { positions: [{ Company: 'Acme' }, { Title: 'CTO' }], skills: ['Go'] },
        },
      },
    });
  });

  it('reads times as epoch seconds or milliseconds, ISO-8601, or zone-less UTC, and nothing else', () => {
    expect(csvTime('1751509479098')).toBe(1751509479098);
    expect(csvTime('1751509479')).toBe(1751509479000);
    expect(csvTime('2025-07-03T02:24:39.098+02:00')).toBe(Date.UTC(2025, 6, 3, 0, 24, 39, 98));
    expect(csvTime('2025-07-03 02:24:39')).toBe(Date.UTC(2025, 6, 3, 2, 24, 39));
    expect(csvTime('2025-07-03')).toBe(Date.UTC(2025, 6, 3));
    expect(csvTime('07/03/2025 2:24 AM')).toBeNull();
  });
});
