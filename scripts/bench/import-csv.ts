import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'csv-stringify/sync';
import { importCsv } from '../../src/cli/commands/import-csv';
import { silentProgress } from '../../src/cli/progress';
import { loadConfig } from '../../src/config';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { phase2FromConfig } from '../../src/ingest/phase2';
import { createLogger } from '../../src/logger';
import { benchDatabase, machine } from './lib';

/**
 * `import-csv` throughput: generates a Dux-Soup export of N rows (default 20 000; ~15 % are revisits of an earlier
 * person, a few rows are unusable, descriptions hold commas, quotes and newlines), imports it into a fresh database
 * (store + Phase 2, as `npm run ops -- import-csv` does), then imports it again (every row a repeat).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx scripts/bench/import-csv.ts 20000
 *
 * Arguments: N, then the Phase 2 concurrency (default 8, the CLI's). Sessions commit asynchronously, as the CLI's
 * import does. Prints one JSON report.
 */
const ROWS = Number(process.argv[2] ?? process.env.BENCH_ROWS ?? 20_000);
const CONCURRENCY = Number(process.argv[3] ?? process.env.BENCH_CONCURRENCY ?? 8);

const POSITIONS = 3;
const SKILLS = 5;
const HEADER = [
  'id',
  'VisitTime',
  'First Name',
  'Middle Name',
  'Last Name',
  'Profile',
  'SalesProfile',
  'Degree',
  'Connections',
  'Summary',
  'Title',
  'Company',
  'CompanyProfile',
  'CompanyWebsite',
  'Email',
  'Location',
  'Industry',
  'My Tags',
  ...Array.from({ length: POSITIONS }, (_, n) =>
    ['Company', 'Title', 'Description', 'From', 'To', 'Location'].map((key) => `Position-${n}-${key}`),
  ).flat(),
  'School-0-Name',
  'School-0-Degree',
  'School-0-Field',
  'School-0-From',
  'School-0-To',
  ...Array.from({ length: SKILLS }, (_, n) => `Skill-${n}`),
];
const FIRST = ['Ana', 'José', 'Zoë', 'Liam', 'Priya', 'Chen', 'Olu', 'Marta', 'Søren', 'Aiko'];
const LAST = [
  'Silva',
  'Núñez',
  'Ødegaard',
  'Smith',
  'Natarajan',
  'Wang',
  'Adeyemi',
  'Kowalska',
  'Berg',
  'Tanaka',
];
const TITLES = [
  'Head of Sales, EMEA',
  'Software Engineer',
  'VP Marketing',
  'CFO',
  'Account Executive',
  'Founder & CEO',
];
const PLACES = [
  'São Paulo, São Paulo, Brazil',
  'Berlin, Germany',
  'Austin, Texas, United States',
  'Greater Boston',
];

function row(n: number): string[] {
  const person = n % 7 === 6 ? Math.floor(n / 2) : n; // every 7th row revisits an earlier person
  const member = 7_000_000_000 + person;
  const company = person % 500;
  const cells: Record<string, string> = {
    id: `id.${member}`,
    VisitTime: String(Date.UTC(2024, 0, 1) + n * 61_000),
    'First Name': FIRST[person % FIRST.length]!,
    'Last Name': `${LAST[(person >> 3) % LAST.length]!}${person}`,
    Profile: `https://www.linkedin.com/in/bench-${person}`,
    SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAABench${person}Zz,NAME_SEARCH,ab1c`,
    Degree: String(1 + (person % 3)),
    Connections: String(100 + (person % 400)),
    Summary: person % 3 === 0 ? `Builds teams, "ships" things.\nSecond line for ${person}` : '',
    Title: TITLES[person % TITLES.length]!,
    Company: `Company ${company} Ltd.`,
    CompanyProfile: `https://www.linkedin.com/company/${9_000_000 + company}/`,
    CompanyWebsite: `https://company${company}.com/?utm_source=company_page`,
    Email: person % 5 === 0 ? `person${person}@company${company}.com` : '',
    Location: PLACES[person % PLACES.length]!,
    Industry: 'Software Development',
    'My Tags': 'bench, 🦆-campaign',
    'School-0-Name': 'Universidade de São Paulo',
    'School-0-Degree': 'MBA',
    'School-0-Field': 'Business',
    'School-0-From': '2010',
    'School-0-To': '2012',
  };
  for (let p = 0; p < POSITIONS; p += 1) {
    cells[`Position-${p}-Company`] = p === 0 ? cells.Company! : `Previous ${p} Corp, Inc.`;
    cells[`Position-${p}-Title`] = p === 0 ? cells.Title! : 'Analyst';
    cells[`Position-${p}-Description`] = `Did things, well.\nMore things (${p}).`;
    cells[`Position-${p}-From`] = `${1 + p} - ${2020 - 3 * p}`;
    cells[`Position-${p}-To`] = p === 0 ? '' : `${2 + p} - ${2023 - 3 * p}`;
  }
  for (let s = 0; s < SKILLS; s += 1) cells[`Skill-${s}`] = `Skill ${(person + s) % 40}`;
  if (n % 997 === 0) cells.VisitTime = 'not a time'; // an unusable row now and then
  return HEADER.map((column) => cells[column] ?? '');
}

function writeExport(file: string): number {
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, `\uFEFF${stringify([HEADER], { record_delimiter: 'windows' })}`);
  for (let start = 0; start < ROWS; start += 1000) {
    const chunk = Array.from({ length: Math.min(1000, ROWS - start) }, (_, i) => row(start + i));
    fs.writeSync(out, stringify(chunk, { record_delimiter: 'windows' }));
  }
  fs.closeSync(out);
  return fs.statSync(file).size;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-import-csv-'));
  const file = path.join(dir, 'export.csv');
  const bytes = writeExport(file);
  const database = await benchDatabase();
  const url = new URL(database.url);
  url.searchParams.set('options', '-c synchronous_commit=off');
  const pool = createPool({
    connectionString: url.toString(),
    max: CONCURRENCY + 4,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 600_000,
  });
  try {
    await migrate(pool);
    const config = loadConfig({});
    const phase2 = phase2FromConfig(
      pool,
      config,
      createLogger({ NODE_ENV: 'production', LOG_LEVEL: 'silent' }),
    );
    const first = await importCsv(
      pool,
      phase2,
      { file, dryRun: false, concurrency: CONCURRENCY },
      silentProgress,
    );
    const again = await importCsv(
      pool,
      phase2,
      { file, dryRun: false, concurrency: CONCURRENCY },
      silentProgress,
    );
    const persons = await pool.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM persons WHERE merged_into IS NULL',
    );
    const brief = (summary: typeof first) => ({
      rows: summary.rows,
      imported: summary.imported,
      duplicates: summary.duplicates,
      rejected: summary.rejected,
      phase2: summary.phase2,
      seconds: summary.seconds,
      rows_per_second: summary.rows_per_second,
    });
    console.log(
      JSON.stringify(
        {
          benchmark: 'import-csv',
          machine: machine(),
          database: database.mode,
          file: { rows: ROWS, megabytes: Math.round(bytes / 2 ** 20) },
          concurrency: CONCURRENCY,
          first_import: brief(first),
          re_import: brief(again),
          live_persons: persons.rows[0]!.n,
          phase2_paths: phase2.paths,
        },
        null,
        2,
      ),
    );
  } finally {
    await pool.end();
    await database.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
