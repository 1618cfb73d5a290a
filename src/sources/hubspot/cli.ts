#!/usr/bin/env node
/**
 * The HubSpot ETL runner: `node dist/sources/hubspot/cli.js <command> [--execute] [--json] [--verbose]`
 * (npm run etl, etl:contacts, ...). Prints one progress line per page on stderr and a summary on stdout; exit
 * code 0 when every run succeeded, 2 when one ended `partial` (some records failed), 1 when one failed or was
 * interrupted (Ctrl-C: it stops after the current page, and the next run resumes there), the job was already
 * running, or the command is unknown.
 */
import fs from 'node:fs';
import { loadConfig } from '../../config';
import { cliLogger } from '../../cli/runtime';
import { openCliDatabase } from '../../cli/database';
import { phase2FromConfig } from '../../ingest/phase2';
import { deferredProcessor } from '../../ingest/processor';
import { createLogger } from '../../logger';
import type { PushResult } from './push';
import type { RunnerDeps, SequenceEntry } from './runner';
import { isJobName, RunInProgressError, runSequence, runToEnd, SYNC_JOBS } from './runner';
import { hubspotClientFromConfig, HubspotNotConfiguredError, syncSettingsFromConfig } from './settings';
import type { PageProgress } from './sync';

const USAGE = `usage: cli.js <command> [--execute] [--json] [--verbose]

commands:
  all                     every sync job, in order: ${SYNC_JOBS.join(', ')}
  contacts | companies | deals
                          incremental sync (the first run lists everything)
  contacts:deleted | companies:deleted | deals:deleted
                          archived records, marked archived
  associations:contacts   contact <-> company / deal links (links removed in HubSpot are removed here)
  push [--execute]        LinkedIn data of linked people written back to their contacts (dry run by default)`;

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  signal?: AbortSignal;
}

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_PARTIAL = 2;

/** Runs one command; resolves to the process exit code. */
export async function runCli(args: string[], io: CliIo): Promise<number> {
  const flags = new Set(args.filter((arg) => arg.startsWith('--')));
  const positional = args.filter((arg) => !arg.startsWith('--'));
  const command = positional[0];
  const unknownFlags = [...flags].filter(
    (flag) => !['--execute', '--json', '--verbose', '--help'].includes(flag),
  );
  if (flags.has('--help')) {
    io.stdout(`${USAGE}\n`);
    return EXIT_OK;
  }
  if (
    !command ||
    positional.length > 1 ||
    unknownFlags.length > 0 ||
    (command !== 'all' && !isJobName(command))
  ) {
    io.stderr(
      `${command && !isJobName(command) && command !== 'all' ? `unknown command: ${command}\n` : ''}${USAGE}\n`,
    );
    return EXIT_FAILED;
  }
  if (flags.has('--execute') && command !== 'push') {
    io.stderr('--execute applies to push only\n');
    return EXIT_FAILED;
  }
  const json = flags.has('--json');
  let close = (): Promise<void> => Promise.resolve();
  try {
    const config = loadConfig(io.env);
    const logger = config.LOG_LEVEL === 'silent' ? createLogger(config) : cliLogger(flags.has('--verbose'));
    const client = hubspotClientFromConfig(config, logger);
    // The run's lock, one page write and up to 8 Phase 2 calls at once.
    const database = await openCliDatabase(config, logger, { poolSize: 12 });
    close = () => database.close();
    const deps: RunnerDeps = {
      pool: database.pool,
      client,
      processor:
        config.PHASE2_MODE === 'deferred'
          ? deferredProcessor
          : phase2FromConfig(database.pool, config, logger),
      settings: syncSettingsFromConfig(config),
      logger,
      onProgress: (event) => io.stderr(`${progressLine(event)}\n`),
    };
    const options = { trigger: 'cli' as const, execute: flags.has('--execute'), signal: io.signal };
    const entries: SequenceEntry[] =
      command === 'all'
        ? await runSequence(deps, SYNC_JOBS, options)
        : [await runToEnd(deps, command, options)];
    io.stdout(json ? `${JSON.stringify({ runs: entries })}\n` : entries.map(summaryText).join(''));
    return exitCode(entries);
  } catch (error) {
    const message =
      error instanceof RunInProgressError || error instanceof HubspotNotConfiguredError
        ? error.message
        : `error: ${(error as Error).message}`;
    io.stderr(`${message}\n`);
    if (json) io.stdout(`${JSON.stringify({ success: false, error: message })}\n`);
    return EXIT_FAILED;
  } finally {
    await close();
  }
}

function exitCode(entries: SequenceEntry[]): number {
  const outcomes = entries.map((entry) => ('outcome' in entry ? entry.outcome : 'skipped'));
  if (outcomes.includes('failed') || outcomes.includes('interrupted')) return EXIT_FAILED;
  if (outcomes.includes('partial')) return EXIT_PARTIAL;
  return EXIT_OK;
}

export function progressLine(event: PageProgress): string {
  return `[${event.job}] page ${event.page}: ${event.records} records (${event.total} in this run) ${event.position}`;
}

function summaryText(entry: SequenceEntry): string {
  if (!('outcome' in entry)) return `${entry.job}: skipped, ${entry.skipped}\n`;
  const counts = Object.entries(entry.counts)
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
  const lines = [
    `${entry.job}: ${entry.outcome} (run ${entry.id}) ${counts}${entry.error ? ` error: ${entry.error}` : ''}`,
  ];
  if (entry.job === 'push' && entry.result) lines.push(...pushLines(entry.result as PushResult));
  return `${lines.join('\n')}\n`;
}

function pushLines(result: PushResult): string[] {
  const lines = result.entries.flatMap((entry) =>
    entry.changes.map(
      (change) =>
        `  contact ${entry.contactId} (person ${entry.personId}) ${change.property}: ${JSON.stringify(change.from)} -> ${JSON.stringify(change.to)}`,
    ),
  );
  for (const failure of result.failures)
    lines.push(`  FAILED contact ${failure.contactId}: ${failure.message}`);
  if (result.truncated) lines.push('  (list truncated; the counts cover everything)');
  if (result.mode === 'dry-run') lines.push('  dry run: nothing was sent (add --execute to send)');
  return lines;
}

if (require.main === module) {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  const controller = new AbortController();
  process.on('SIGINT', () => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current page (Ctrl-C again to quit at once)\n');
    controller.abort(new Error('interrupted'));
  });
  runCli(process.argv.slice(2), {
    env: process.env,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    signal: controller.signal,
  })
    .then((code) => {
      process.exitCode = code;
    })
    .catch((error: unknown) => {
      process.stderr.write(`error: ${(error as Error).message}\n`);
      process.exitCode = EXIT_FAILED;
    });
}
