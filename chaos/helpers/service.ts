import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '../../src/db/embedded';

export const ROOT = path.join(__dirname, '..', '..');
export const SERVER_ENTRY = path.join(ROOT, 'src', 'server.ts');

/** Keeps the last part of a child's output: enough to diagnose, bounded however long the scenario runs. */
const OUTPUT_LIMIT = 200_000;

export interface Service {
  child: ChildProcess;
  port: number;
  baseUrl: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** The entry point run through tsx: the real `src/server.ts` unless a scenario needs a wrapper. */
  entry?: string;
  port?: number;
  readyTimeoutMs?: number;
}

/** Starts the service as a child process (`node --import tsx <entry>`) on loopback and waits until it is ready. */
export async function startService(
  env: Record<string, string>,
  options: StartOptions = {},
): Promise<Service> {
  const port = options.port ?? (await freePort());
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', options.entry ?? SERVER_ENTRY], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'warn',
      WEBHOOK_RATE_LIMIT: '0',
      LEAD_RATE_LIMIT: '0',
      ...env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const append = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const service: Service = {
    child,
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
  };
  await waitUntilReady(service, options.readyTimeoutMs ?? 90_000);
  return service;
}

async function waitUntilReady(service: Service, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`service exited before it was ready:\n${service.output().slice(-5000)}`);
    if ((await probe(`${service.baseUrl}/health/ready`)) === 200) return;
    await delay(100);
  }
  service.child.kill('SIGKILL');
  throw new Error(`service not ready after ${timeoutMs} ms:\n${service.output().slice(-5000)}`);
}

/** GET without keep-alive (a pooled socket would outlive the test): the status, or 0 when nothing answers. */
export function probe(url: string, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

export function hasExited(service: Service): boolean {
  return service.child.exitCode !== null || service.child.signalCode !== null;
}

/** SIGKILL (no shutdown hooks, no flush): whatever was not committed is gone. */
export async function killService(service: Service): Promise<void> {
  if (!hasExited(service)) service.child.kill('SIGKILL');
  await service.exited;
}

/** SIGTERM and wait; answers the exit code (0 is a clean shutdown). */
export async function stopService(service: Service): Promise<number | null> {
  if (hasExited(service)) return service.child.exitCode;
  service.child.kill('SIGTERM');
  const exit = await Promise.race([service.exited, delay(30_000).then(() => null)]);
  if (!exit) {
    service.child.kill('SIGKILL');
    await service.exited;
    return null;
  }
  return exit.code;
}

/** Log lines at level `error` (the dev format is `HH:MM:SS.mmm <level> <message>`, colourised). */
export function errorLines(output: string): string[] {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
  return plain.split('\n').filter((line) => /^\S+ error /.test(line));
}

/** One line per distinct error message (the first of each), for a readable diagnosis. */
export function distinctErrors(output: string, limit = 20): string {
  const byMessage = new Map<string, string>();
  for (const line of errorLines(output)) {
    const message = line.replace(/^\S+ error /, '').replace(/ \{.*$/, '');
    if (!byMessage.has(message)) byMessage.set(message, line.slice(0, 600));
  }
  return [...byMessage.values()].slice(0, limit).join('\n');
}
