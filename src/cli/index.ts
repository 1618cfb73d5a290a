#!/usr/bin/env node
import fs from 'node:fs';
import { Command } from 'commander';
import * as backfill from './commands/backfill';
import * as dedupeAliases from './commands/dedupe-aliases';
import * as healthCheck from './commands/health-check';
import * as importCsv from './commands/import-csv';
import * as linkOrphans from './commands/link-orphans';
import * as mergeDuplicates from './commands/merge-duplicates';
import * as rebuild from './commands/rebuild';
import * as relink from './commands/relink';
import * as replayDeadLetters from './commands/replay-dead-letters';
import * as rollbackMerge from './commands/rollback-merge';

/** A command module registers itself (name, arguments, options, help, action) on the program. */
export interface CommandModule {
  register(program: Command): void;
}

/** Every command, in the order --help lists them. Add a command by adding its module here. */
export const COMMANDS: readonly CommandModule[] = [
  healthCheck,
  mergeDuplicates,
  rollbackMerge,
  linkOrphans,
  relink,
  rebuild,
  backfill,
  dedupeAliases,
  replayDeadLetters,
  importCsv,
];

export function buildProgram(): Command {
  const program = new Command('ops')
    .description(
      'duxsoup-etl operations: health, identity repair, replays, imports (npm run ops -- <command>)',
    )
    .option('--json', 'print the result as one JSON object on stdout (nothing else goes to stdout)')
    .option('--verbose', 'log progress details to stderr')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
The database is the service's: DATABASE_URL, else the embedded server in EMBEDDED_PG_DIR (joined and left
running when the service has it open, started and stopped again otherwise). .env in the working directory is
read first. Migrations are applied before any command.

Commands that change data are dry runs unless given --execute. Long work shows a progress bar on stderr when it
is a terminal; Ctrl-C stops after the current step and still prints the summary. Exit code 0 on success, 1 on
failure (one line on stderr); health-check has its own codes (see its --help).`,
    );
  for (const command of COMMANDS) command.register(program);
  return program;
}

async function main(): Promise<void> {
  if (fs.existsSync('.env')) process.loadEnvFile('.env');
  await buildProgram().parseAsync(process.argv);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
