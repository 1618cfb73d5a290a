import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import winston from 'winston';
import type { Config } from '../config';
import { durationMs, loadConfig } from '../config';
import type { Pool } from '../db/pool';
import type { Logger } from '../logger';
import type { FoldSettings } from '../snapshots/store';
import { openCliDatabase } from './database';
import type { Progress } from './progress';
import { progressFor } from './progress';

/** Everything a command's action receives. */
export interface CliContext {
  pool: Pool;
  config: Config;
  logger: Logger;
  progress: Progress;
  /** Aborted by Ctrl-C: long commands stop after the current unit of work and still print their summary. */
  signal: AbortSignal;
  json: boolean;
}

export interface CommandResult {
  /** Printed as one JSON object with --json, else rendered as text (unless `text` is given). */
  summary: Record<string, unknown>;
  text?: string[];
  exitCode?: number;
}

export interface GlobalOptions {
  json?: boolean;
  verbose?: boolean;
}

/** A failure the user can act on: printed as one line, no stack. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const EXIT_FAILURE = 1;

/**
 * Wraps a command's work for commander: reads the configuration, opens the database, runs, prints the summary
 * (stdout) and sets the exit code. Errors become one line on stderr (and `{"success": false, ...}` with --json).
 */
export function databaseAction<Options>(
  name: string,
  work: (context: CliContext, options: Options, args: string[]) => Promise<CommandResult>,
  settings: {
    poolSize?: (options: Options) => number;
    /** See CliDatabaseOptions.asyncCommit. */
    asyncCommit?: boolean;
    /** Exit code when the command cannot run at all (default 1). */
    failureExitCode?: number;
  } = {},
): (...raw: unknown[]) => Promise<void> {
  return async (...raw: unknown[]) => {
    const command = raw[raw.length - 1] as Command;
    const options = command.opts<Options & Record<string, unknown>>();
    const globals = command.optsWithGlobals<GlobalOptions>();
    const args = raw.slice(0, -2).map((value) => String(value));
    const json = globals.json === true;
    const controller = new AbortController();
    const stopOnInterrupt = interruptHandler(controller);
    let close = (): Promise<void> => Promise.resolve();
    try {
      const config = loadConfig();
      const logger = cliLogger(globals.verbose === true);
      const database = await openCliDatabase(config, logger, {
        poolSize: settings.poolSize?.(options),
        asyncCommit: settings.asyncCommit,
      });
      close = () => database.close();
      const progress = progressFor({ json });
      let result: CommandResult;
      try {
        result = await work(
          { pool: database.pool, config, logger, progress, signal: controller.signal, json },
          options,
          args,
        );
      } finally {
        progress.stop();
      }
      printResult(name, result, json);
      process.exitCode = result.exitCode ?? 0;
    } catch (error) {
      printError(error, json);
      process.exitCode =
        error instanceof CliError ? error.exitCode : (settings.failureExitCode ?? EXIT_FAILURE);
    } finally {
      stopOnInterrupt();
      await close();
    }
  };
}

function interruptHandler(controller: AbortController): () => void {
  const onInterrupt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    process.stderr.write('\nstopping after the current step (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onInterrupt);
  return () => process.off('SIGINT', onInterrupt);
}

/** Log lines go to stderr (stdout carries only the result); warnings and errors unless --verbose. */
export function cliLogger(verbose: boolean): Logger {
  return winston.createLogger({
    level: verbose ? 'info' : 'warn',
    format: winston.format.combine(
      winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
      winston.format.printf(({ timestamp, level, message, ...meta }) => {
        const details = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : '';
        return `${String(timestamp)} ${level} ${String(message)}${details}`;
      }),
    ),
    transports: [
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'],
      }),
    ],
  });
}

export function foldSettingsFrom(config: Config): FoldSettings {
  return {
    policy: { visitWindowMs: durationMs(config.VISIT_PRECEDENCE_WINDOW) },
    defaultPhoneCountry: config.DEFAULT_PHONE_COUNTRY,
  };
}

function printResult(name: string, result: CommandResult, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ command: name, ...result.summary })}\n`);
    return;
  }
  const lines = result.text ?? renderSummary(result.summary);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function printError(error: unknown, json: boolean): void {
  const message = oneLine(error instanceof Error ? error.message : String(error));
  if (json) process.stdout.write(`${JSON.stringify({ success: false, error: message })}\n`);
  process.stderr.write(`error: ${message}\n`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

const MAX_LISTED = 20;

/** A summary as indented `key: value` lines; long lists are cut (--json has them all). */
export function renderSummary(summary: Record<string, unknown>, indent = ''): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(summary)) {
    if (value === undefined) continue;
    const label = key.replace(/_/g, ' ');
    if (Array.isArray(value)) {
      if (value.every((item) => item === null || typeof item !== 'object')) {
        lines.push(`${indent}${label}: ${value.length === 0 ? '(none)' : value.join(', ')}`);
        continue;
      }
      lines.push(`${indent}${label}: ${value.length}`);
      for (const item of value.slice(0, MAX_LISTED)) lines.push(`${indent}  - ${compact(item)}`);
      if (value.length > MAX_LISTED)
        lines.push(`${indent}  … ${value.length - MAX_LISTED} more (see --json)`);
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      lines.push(`${indent}${label}:`);
      lines.push(...renderSummary(value as Record<string, unknown>, `${indent}  `));
    } else {
      lines.push(`${indent}${label}: ${scalar(value)}`);
    }
  }
  return lines;
}

function scalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
}

function compact(item: unknown): string {
  if (item === null || typeof item !== 'object') return String(item);
  return Object.entries(item as Record<string, unknown>)
    .map(
      ([key, value]) =>
        `${key}=${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`,
    )
    .join(' ');
}

/** Parses a positive integer option (`--limit 500`); commander reports a bad value with the option's name. */
export function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed <= 0)
    throw new InvalidArgumentError('expected a positive integer');
  return parsed;
}
