import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../../src/db/embedded';

export const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, '..', 'shared', 'fixtures', 'duxsoup-samples-public.json');

export interface BenchDatabase {
  url: string;
  mode: 'embedded' | 'external';
  close(): Promise<void>;
}

/** A fresh database: on DATABASE_URL's server when set, else on an embedded server in a temporary directory. */
export async function benchDatabase(): Promise<BenchDatabase> {
  const name = `duxsoup_bench_${Date.now()}`;
  const external = process.env.DATABASE_URL;
  let adminUrl: string;
  let stopEmbedded = (): Promise<void> => Promise.resolve();
  let dir: string | null = null;
  if (external) {
    adminUrl = external;
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-bench-'));
    fs.chmodSync(dir, 0o755);
    const server = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), database: 'postgres' });
    adminUrl = server.url;
    stopEmbedded = () => server.stop();
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    mode: external ? 'external' : 'embedded',
    close: async () => {
      if (process.env.BENCH_KEEP === '1' && external) {
        process.stderr.write(`kept database ${url.toString()} (BENCH_KEEP=1)\n`);
        return;
      }
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
      await stopEmbedded();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ServiceProcess {
  baseUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

let built = false;

/** `npm start` and `npm run ops` build first; so does the first service or command a bench runs. */
export function buildOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/**
 * The node arguments `npm run ops` runs the CLI with (its flags, then the entry point), read from package.json so
 * a bench runs the command exactly as users do, without npm between it and the process it measures.
 */
export function opsNodeArguments(): string[] {
  const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const command = /&& node (.+)$/.exec(manifest.scripts.ops ?? '')?.[1];
  if (!command)
    throw new Error(`package.json's ops script is not "… && node <args>": ${manifest.scripts.ops}`);
  return command
    .split(/\s+/)
    .map((argument) => (argument.startsWith('dist/') ? path.join(ROOT, argument) : argument));
}

/** The real service, as users run it (`npm start`: the built code), with request logging on (output discarded). */
export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  buildOnce();
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(ROOT, 'dist', 'server.js')], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (Date.now() > deadline) throw new Error('service did not become ready');
    try {
      if ((await fetch(`${baseUrl}/health/ready`)).status === 200) break;
    } catch {
      // not yet listening
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    baseUrl,
    child,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const VISIT_FIXTURES = [0, 5, 6, 9, 10, 41, 43, 47, 48, 51, 52];

/**
 * The real visit and scan payloads of the shared fixtures (1.5 to 8 KB; the biggest carries 12 positions and 49
 * skills), each with __MEMBER__ / __VISIT__ placeholders so every request is a distinct person and event.
 */
export function visitBodyTemplates(): string[] {
  const fixtures = JSON.parse(fs.readFileSync(FIXTURES, 'utf8')) as { index: number; payload: object }[];
  return VISIT_FIXTURES.map((index) => {
    const base = fixtures.find((item) => item.index === index)!.payload as {
      data: Record<string, unknown>;
    } & Record<string, unknown>;
    const timeField = base.type === 'scan' ? 'ScanTime' : 'VisitTime';
    return JSON.stringify({
      ...base,
      data: {
        ...base.data,
        id: 'id.__MEMBER__',
        [timeField]: 1751500000000,
        Profile: 'https://www.linkedin.com/in/bench-person-__MEMBER__',
        SalesProfile: 'https://www.linkedin.com/sales/lead/ACwAAA__MEMBER__Bz,NAME_SEARCH,bnch',
        RecruiterProfile: 'https://www.linkedin.com/talent/profile/ACwAAA__MEMBER__Bz',
        'First Name': 'Bench __MEMBER__',
        ...(base.data.Email ? { Email: 'bench-__MEMBER__@example.org' } : {}),
        ...(base.data.PublicProfile
          ? { PublicProfile: 'https://www.linkedin.com/in/bench-person-__MEMBER__' }
          : {}),
      },
    }).replace('1751500000000', '__VISIT__');
  });
}

/** Each call gives a distinct person and event; the run id keeps runs on one database apart. */
export function visitBodyFactory(): (seed: number) => string {
  const templates = visitBodyTemplates();
  const runId = Date.now() % 1_000_000;
  return (seed: number) =>
    templates[seed % templates.length]!.replaceAll(
      '__MEMBER__',
      String(1_000_000_000 + runId * 1000 + seed),
    ).replace('__VISIT__', String(1_751_500_000_000 + seed));
}

export function averageBodyBytes(): number {
  const templates = visitBodyTemplates();
  return Math.round(templates.reduce((sum, text) => sum + Buffer.byteLength(text), 0) / templates.length);
}

export interface LoadResult {
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
  statusCodes: Record<string, number>;
}

const WRK_SCRIPT = path.join(__dirname, 'webhook-load.lua');

export function hasWrk(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}

/**
 * wrk (C, Lua-scripted) generates distinct 8 KB bodies at a fraction of autocannon's CPU cost, which matters on
 * a 2-core machine where the load generator shares the cores with the service and PostgreSQL.
 */
export function loadWebhookWithWrk(url: string, connections: number, durationSeconds: number): LoadResult {
  const templateFile = path.join(os.tmpdir(), `duxsoup-bench-template-${process.pid}.json`);
  fs.writeFileSync(templateFile, `${visitBodyTemplates().join('\n')}\n`);
  const threads = Math.min(2, connections);
  const run = spawnSync(
    'wrk',
    [
      '-t',
      String(threads),
      '-c',
      String(connections),
      '-d',
      `${durationSeconds}s`,
      '--timeout',
      '10s',
      '-s',
      WRK_SCRIPT,
      url,
      '--',
      templateFile,
      String(Date.now()),
    ],
    { encoding: 'utf8' },
  );
  fs.rmSync(templateFile, { force: true });
  const line = run.stdout.split('\n').find((text) => text.startsWith('{'));
  if (!line) throw new Error(`wrk failed: ${run.stderr || run.stdout}`);
  const figures = JSON.parse(line) as Record<string, number>;
  const seconds = figures.durationUs! / 1e6;
  return {
    connections,
    durationSeconds,
    requests: figures.requests!,
    requestsPerSecond: Math.round(figures.requests! / seconds),
    p50Ms: Math.round(figures.p50Us! / 10) / 100,
    p99Ms: Math.round(figures.p99Us! / 10) / 100,
    errors: figures.connectErrors! + figures.readErrors! + figures.writeErrors! + figures.timeouts!,
    non2xx: figures.statusErrors!,
    statusCodes: {},
  };
}

/** Plain GET load (the framework's own ceiling on this machine: every middleware, one trivial query). */
export async function loadGet(
  url: string,
  connections: number,
  durationSeconds: number,
): Promise<LoadResult> {
  if (hasWrk()) {
    const run = spawnSync(
      'wrk',
      ['-t', '2', '-c', String(connections), '-d', `${durationSeconds}s`, '--latency', url],
      {
        encoding: 'utf8',
      },
    );
    const requestsPerSecond = Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? 0));
    const percentile = (p: string) => {
      const match = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)`).exec(run.stdout);
      if (!match) return 0;
      const factor = match[2] === 'us' ? 0.001 : match[2] === 's' ? 1000 : 1;
      return Math.round(Number(match[1]) * factor * 100) / 100;
    };
    return {
      connections,
      durationSeconds,
      requests: requestsPerSecond * durationSeconds,
      requestsPerSecond,
      p50Ms: percentile('50'),
      p99Ms: percentile('99'),
      errors: 0,
      non2xx: 0,
      statusCodes: {},
    };
  }
  const result = await autocannon({ url, connections, duration: durationSeconds });
  return {
    connections,
    durationSeconds,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / durationSeconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors,
    non2xx: result.non2xx,
    statusCodes: {},
  };
}

export async function loadWebhook(
  url: string,
  bodyFor: (seed: number) => string,
  connections: number,
  durationSeconds: number,
  seedOffset = 0,
): Promise<LoadResult> {
  let seed = seedOffset;
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: durationSeconds,
    headers: { 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: bodyFor(seed++) }),
      },
    ],
  });
  return {
    connections,
    durationSeconds,
    requests: result.requests.total,
    requestsPerSecond: Math.round(result.requests.total / durationSeconds),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCodes: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([status, stats]) => [status, stats.count ?? 0]),
    ),
  };
}

/** Runs `work` from `concurrency` workers for `durationSeconds`, timing each call. */
export async function runConcurrently(
  concurrency: number,
  durationSeconds: number,
  work: (seed: number) => Promise<void>,
  seedOffset = 0,
): Promise<{ operations: number; perSecond: number; p50Ms: number; p99Ms: number; errors: number }> {
  const latencies: number[] = [];
  let errors = 0;
  let seed = seedOffset;
  const stopAt = Date.now() + durationSeconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < stopAt) {
        const begin = process.hrtime.bigint();
        try {
          await work(seed++);
          latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
        } catch {
          errors += 1;
        }
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => Math.round((latencies[Math.floor(q * (latencies.length - 1))] ?? 0) * 100) / 100;
  return {
    operations: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    errors,
  };
}

/** Writes a benchmark's JSON report to docs/bench-<name>.json (`npm run bench` gathers them into docs/BENCHMARKS.md). */
export function saveReport(name: string, report: object): void {
  fs.mkdirSync(path.join(ROOT, 'docs'), { recursive: true });
  fs.writeFileSync(path.join(ROOT, 'docs', `bench-${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
}

export function machine(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/**
 * A process's CPU seconds from /proc/<pid>/stat (Linux): its own (user + system) and its reaped children's; null
 * once it has exited (or where there is no such process on this machine).
 */
export function processCpuSeconds(
  pid: number | 'self',
): { own: number; children: number; command: string } | null {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = (index: number) => Number(fields[index]);
  return {
    own: (ticks(11) + ticks(12)) / CLOCK_TICKS_PER_SECOND,
    children: (ticks(13) + ticks(14)) / CLOCK_TICKS_PER_SECOND,
    command,
  };
}

/** Every PostgreSQL process on this machine: the live ones' own CPU, plus what the postmaster's exited backends used. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const pid of fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const cpu = processCpuSeconds(Number(pid));
    if (cpu?.command === 'postgres') total += cpu.own + cpu.children;
  }
  return total;
}

/**
 * Runs `work`, which runs child processes to their end, and returns the CPU seconds (to 0.01 s) those children
 * (every thread of theirs) and every PostgreSQL process on this machine spent meanwhile, counted once the
 * postmaster has reaped the backends the children used. The PostgreSQL figure means something only while nothing
 * else uses the server.
 */
export async function childAndPostgresCpu<T>(
  work: () => T | Promise<T>,
): Promise<{ result: T; cpuSeconds: { node: number; postgres: number } }> {
  const nodeBefore = processCpuSeconds('self')!.children;
  const postgresBefore = postgresCpuSeconds();
  const result = await work();
  await sleep(500); // the postmaster reaps the children's backends
  const round = (seconds: number) => Math.round(seconds * 100) / 100;
  return {
    result,
    cpuSeconds: {
      node: round(processCpuSeconds('self')!.children - nodeBefore),
      postgres: round(postgresCpuSeconds() - postgresBefore),
    },
  };
}
