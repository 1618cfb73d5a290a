import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import type { RebuildSummary } from '../../src/rebuild';
import {
  benchDatabase,
  buildOnce,
  machine,
  opsNodeArguments,
  ROOT,
  childAndPostgresCpu,
  saveReport,
  visitBodyTemplates,
} from './lib';

const OBSERVATIONS = Number(process.env.BENCH_OBSERVATIONS ?? 100_000);
const PER_PERSON = Number(process.env.BENCH_OBSERVATIONS_PER_PERSON ?? 4);

/** What `rebuild --execute --json` prints: the rebuild's summary and what followed it. */
type RebuildOutput = RebuildSummary & { live_persons: number };

/**
 * `rebuild` throughput: seeds OBSERVATIONS real-shaped visit and scan observations (the shared fixtures with
 * distinct identities, PER_PERSON observations per person) straight into the log with SQL, marked processed as a
 * log being rebuilt is (so the reset pays for rewriting every row, as it would for real), then runs the command
 * users run, `npm run ops -- rebuild --execute` (the built CLI), and prints observations/s and its peak RSS.
 */
async function main(): Promise<void> {
  const db = await benchDatabase();
  try {
    // Closed before the rebuild: the command refuses to run beside open service connections.
    const pool = createPool({
      connectionString: db.url,
      max: 1,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 600_000,
    });
    await migrate(pool).finally(() => pool.end());
    const seeded = Date.now();
    await seed(db.url);
    const seedSeconds = (Date.now() - seeded) / 1000;
    buildOnce();
    const { output, peakRssMb, wallSeconds, cpuSeconds } = await runRebuildCommand(db.url);
    const feedOnly = await runFeedOnly(db.url);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const counts = await client
      .query<{ persons: number; companies: number; locations: number }>(
        `SELECT (SELECT count(*)::int FROM persons WHERE merged_into IS NULL) AS persons,
                (SELECT count(*)::int FROM companies WHERE merged_into IS NULL) AS companies,
                (SELECT count(*)::int FROM locations) AS locations`,
      )
      .finally(() => client.end());
    const report = {
      benchmark: 'rebuild',
      machine: machine(),
      database: db.mode,
      seeded: OBSERVATIONS,
      seedSeconds,
      observations: output.observations,
      batched: output.batched,
      fullPath: output.fullPath,
      skipped: output.skipped,
      indexesRebuilt: output.indexesRebuilt,
      seconds: output.seconds,
      phaseSeconds: output.phaseSeconds,
      observationsPerSecond: output.observationsPerSecond,
      commandSeconds: wallSeconds,
      ...counts.rows[0],
      peakRssMb,
      cpuSeconds,
      cpuMicrosecondsPerObservation: {
        node: microsecondsEach(cpuSeconds.node, output.observations),
        postgres: microsecondsEach(cpuSeconds.postgres, output.observations),
      },
      cpuBoundObservationsPerSecond: Math.round(
        (os.availableParallelism() * output.observations) / (cpuSeconds.node + cpuSeconds.postgres),
      ),
      feedOnly,
    };
    console.log(JSON.stringify(report, null, 2));
    saveReport('rebuild', report);
    console.log(
      `rebuild: ${output.observationsPerSecond} observations/s over ${output.observations} (target 10000/s); ` +
        `${output.fullPath} through the full path; whole command ${wallSeconds.toFixed(1)} s; ` +
        `peak RSS ${peakRssMb} MB`,
    );
    console.log(
      `CPU per observation: node ${report.cpuMicrosecondsPerObservation.node} µs, PostgreSQL ` +
        `${report.cpuMicrosecondsPerObservation.postgres} µs: at most ${report.cpuBoundObservationsPerSecond} ` +
        `observations/s on ${os.availableParallelism()} cores however well the two overlap`,
    );
    console.log(
      `its first stage alone (read the log, compute contributions; nothing resolved or written): ` +
        `${feedOnly.observationsPerSecond} observations/s, ` +
        `${microsecondsEach(feedOnly.nodeCpuSeconds, feedOnly.observations)} µs of node CPU and ` +
        `${microsecondsEach(feedOnly.postgresCpuSeconds, feedOnly.observations)} µs of PostgreSQL CPU per observation`,
    );
  } finally {
    await db.close();
  }
}

/** Runs the built ops CLI's rebuild, sampling its peak RSS (VmHWM) until it exits; the CPU it and the server used. */
async function runRebuildCommand(url: string): Promise<{
  output: RebuildOutput;
  peakRssMb: number;
  wallSeconds: number;
  cpuSeconds: { node: number; postgres: number };
}> {
  const { result, cpuSeconds } = await childAndPostgresCpu(async () => {
    const started = Date.now();
    const child = spawn(process.execPath, [...opsNodeArguments(), 'rebuild', '--execute', '--json'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let peakKb = 0;
    const sample = () => {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
      peakKb = Math.max(peakKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
    };
    const sampler = setInterval(() => {
      try {
        sample();
      } catch {
        // exited between two samples
      }
    }, 200);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearInterval(sampler);
    if (code !== 0) throw new Error(`rebuild exited with ${code}: ${stdout}`);
    return { stdout, peakKb, wallSeconds: (Date.now() - started) / 1000 };
  });
  const output = JSON.parse(result.stdout.trim().split('\n').pop()!) as RebuildOutput;
  return { output, peakRssMb: Math.round(result.peakKb / 1024), wallSeconds: result.wallSeconds, cpuSeconds };
}

/**
 * scripts/bench/rebuild-feed.ts with the ops command's node flags: the rebuild's ObservationFeed alone over the same
 * log, which bounds what the rebuild can reach while resolving and folding share node's one thread with it. Its node
 * CPU is the feed's own (the script measures it after its imports); PostgreSQL's is the server's meanwhile.
 */
async function runFeedOnly(url: string): Promise<FeedOnly> {
  const flags = opsNodeArguments().filter((argument) => argument.startsWith('--'));
  const { result, cpuSeconds } = await childAndPostgresCpu(() =>
    spawnSync(
      process.execPath,
      [...flags, '--import', 'tsx', path.join(ROOT, 'scripts', 'bench', 'rebuild-feed.ts')],
      { cwd: ROOT, env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'silent' }, encoding: 'utf8' },
    ),
  );
  if (result.status !== 0) throw new Error(`rebuild-feed exited with ${result.status}: ${result.stderr}`);
  const feed = JSON.parse(result.stdout.trim().split('\n').pop()!) as Omit<FeedOnly, 'postgresCpuSeconds'>;
  return { ...feed, postgresCpuSeconds: cpuSeconds.postgres };
}

const microsecondsEach = (seconds: number, count: number) => Math.round((seconds / count) * 1e6);

interface FeedOnly {
  observations: number;
  seconds: number;
  observationsPerSecond: number;
  nodeCpuSeconds: number;
  postgresCpuSeconds: number;
}

/** Distinct persons from the fixture templates, PER_PERSON observations each, a minute apart. */
async function seed(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const templates = visitBodyTemplates();
    await client.query('CREATE TEMP TABLE bench_templates (n int, body text)');
    await client.query('INSERT INTO bench_templates SELECT * FROM unnest($1::int[], $2::text[])', [
      templates.map((_, index) => index),
      templates,
    ]);
    const chunk = 100_000;
    for (let from = 1; from <= OBSERVATIONS; from += chunk) {
      const to = Math.min(OBSERVATIONS, from + chunk - 1);
      await client.query(
        `WITH logged AS (
           INSERT INTO observation_log (source, kind, event, dux_user_id, event_time, event_key, payload)
           SELECT 'duxsoup', p.payload->>'type', 'create', 'bench',
                  to_timestamp((1751500000000 + g::bigint * 60000) / 1000.0), 'bench-' || g, p.payload
             FROM generate_series($1::int, $2::int) AS g
             JOIN bench_templates t ON t.n = (g / $3) % $4
            CROSS JOIN LATERAL (SELECT replace(replace(t.body, '__MEMBER__', (1000000000 + g / $3)::text),
                                               '__VISIT__', (1751500000000 + g::bigint * 60000)::text)::jsonb
                                         AS payload) AS p
           RETURNING id, kind)
         INSERT INTO observation_state (id, kind, status) SELECT id, kind, 'processed' FROM logged`,
        [from, to, PER_PERSON, templates.length],
      );
      process.stderr.write(`  seeded ${to}\n`);
    }
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
