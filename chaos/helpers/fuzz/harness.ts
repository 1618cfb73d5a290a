import { once } from 'node:events';
import type { Server } from 'node:http';
import fc from 'fast-check';
import type request from 'supertest';
import type { TestDatabase } from '../../../__tests__/helpers/database';
import { createTestDatabase } from '../../../__tests__/helpers/database';
import { buildTestApp } from '../../../__tests__/helpers/app';
import { ERROR_CATALOGUE } from '../../../src/api/errors';

/** The in-process app (Phase 2 inline) on a database of its own, listening on loopback for supertest. */
export interface FuzzTarget {
  db: TestDatabase;
  server: Server;
  close(): Promise<void>;
}

/** Wide enough that a case and its re-send fall in the same automatic-dedup window (checked all the same). */
export const LEAD_WINDOW_MINUTES = 10_080;

export async function startFuzzTarget(env: Record<string, string> = {}): Promise<FuzzTarget> {
  const db = await createTestDatabase();
  const { app } = buildTestApp(
    db,
    {
      READ_RATE_LIMIT: '0',
      LEAD_RATE_LIMIT: '0',
      LEAD_AUTH_FAILURE_LIMIT: '0',
      LEAD_DEDUP_WINDOW_MINUTES: String(LEAD_WINDOW_MINUTES),
      ...env,
    },
    { phase2: true },
  );
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    db,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.drop();
    },
  };
}

/** A fuzz property: `check(target, runs)` runs it against a target and answers how many cases passed. */
export interface FuzzProperty {
  name: string;
  check(target: FuzzTarget, numRuns: number): Promise<number>;
}

/** A property built per target (its model of the database belongs to that target's database). */
export function fuzzProperty<T>(
  name: string,
  build: (target: FuzzTarget) => fc.IAsyncProperty<[T]>,
): FuzzProperty {
  return { name, check: (target, numRuns) => checkProperty(name, build(target), numRuns) };
}

/** One value per target, made on first use (an oracle's model, a seeded data set). */
export function perTarget<T>(make: (target: FuzzTarget) => T): (target: FuzzTarget) => T {
  const made = new WeakMap<FuzzTarget, T>();
  return (target) => {
    if (!made.has(target)) made.set(target, make(target));
    return made.get(target)!;
  };
}

export function fuzzSeed(): number {
  const fromEnv = Number(process.env.FUZZ_SEED);
  return Number.isInteger(fromEnv) && fromEnv !== 0 ? fromEnv : 424_242;
}

/** Runs a property with a fixed seed; on failure the error carries the seed and the shrunk counterexample. */
export async function checkProperty<T>(
  name: string,
  property: fc.IAsyncProperty<[T]>,
  numRuns: number,
): Promise<number> {
  const seed = fuzzSeed();
  const details = await fc.check(property, { numRuns, seed });
  if (details.failed) {
    throw new Error(
      `fuzz property "${name}" failed (FUZZ_SEED=${seed}, path ${details.counterexamplePath ?? '?'}) after ${details.numRuns} runs\n` +
        `counterexample: ${fc.stringify(details.counterexample)}\n` +
        `${details.errorInstance instanceof Error ? (details.errorInstance.stack ?? details.errorInstance.message) : String(details.errorInstance)}`,
    );
  }
  return details.numRuns;
}

export function fail(message: string, context: unknown): never {
  throw new Error(`${message}: ${fc.stringify(context)}`);
}

/** A 4xx with the service's error shape: a catalogue code whose status is the answer's status. */
export function assertCatalogueError(status: number, body: unknown): string {
  const code = (body as { error?: unknown } | null)?.error;
  if (status < 400 || status >= 500) fail('expected a 4xx', { status, body });
  if (typeof code !== 'string' || !(code in ERROR_CATALOGUE))
    fail('error code not in the catalogue', { status, body });
  const entry = ERROR_CATALOGUE[code as keyof typeof ERROR_CATALOGUE];
  if (entry.status !== status) fail(`${code} is ${entry.status} in the catalogue`, { status, body });
  if ((body as { success?: unknown }).success !== false) fail('error body without success: false', body);
  return code;
}

export function assertNoServerError(status: number, body: unknown): void {
  if (status >= 500) fail(`answered ${status}`, body);
}

/** Sends `body` byte for byte (superagent would JSON-encode a Buffer labelled application/json). */
export function sendBytes(req: request.Test, body: Buffer): request.Test {
  return req.serialize((bytes: Buffer) => bytes as unknown as string).send(body);
}

/** What PostgreSQL keeps of a string: NUL and lone surrogates become U+FFFD (the service's documented repair). */
export function storable(text: string): string {
  return text.toWellFormed().replaceAll('\u0000', '\uFFFD');
}

/** Copies `value` with its own key (even `__proto__`) as plain data. */
export function put(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/**
 * Cases per property in the chaos job: 9 properties × 1 112 = 10 008 cases by default (at least 10 000 is the
 * bar); FUZZ_RUNS overrides.
 */
export const CHAOS_FUZZ_RUNS_DEFAULT = 1112;

export function fuzzRuns(fallback = CHAOS_FUZZ_RUNS_DEFAULT): number {
  const fromEnv = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : fallback;
}
