import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { CsvError } from 'csv-parse';
import { parse } from 'csv-parse';
import type { Pool } from '../../db/pool';
import { extractIdentifiers } from '../../identity/identifiers';
import { readEnvelope } from '../../ingest/envelope';
import { eventKey } from '../../ingest/event-key';
import { appendObservations } from '../../ingest/observation-writer';
import type { NewObservation } from '../../ingest/observations';
import { phase2FromConfig } from '../../ingest/phase2';
import type { ObservationProcessor } from '../../ingest/processor';
import type { CsvLayout } from '../csv/dux-soup-row';
import { CSV_USER_ID, csvLayout, rowPayload } from '../csv/dux-soup-row';
import type { Progress } from '../progress';
import type { CommandResult } from '../runtime';
import { CliError, databaseAction, positiveInteger } from '../runtime';

const DEFAULT_BATCH = 500;
const DEFAULT_CONCURRENCY = 8;
/** Rejections listed in the summary (all are counted, and stored in rejected_inputs). */
const LISTED_REJECTIONS = 1000;

export interface ImportCsvOptions {
  file: string;
  dryRun: boolean;
  /** Rows stored per INSERT. */
  batchSize?: number;
  /** Phase 2 runs in flight at once. */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface Rejection {
  line: number;
  code: string;
  reason: string;
}

export interface ImportCsvSummary extends Record<string, unknown> {
  file: string;
  dry_run: boolean;
  /** Data rows (not the header, not blank lines). */
  rows: number;
  blank: number;
  /** New observations (dry run: rows that would be new). */
  imported: number;
  /** Rows whose observation was stored before (an earlier import of the same rows). */
  duplicates: number;
  rejected: number;
  phase2: { processed: number; skipped: number; dead: number; busy: number; pending: number };
  rejections: Rejection[];
  seconds: number;
  rows_per_second: number;
  interrupted: boolean;
}

interface ParsedItem {
  record: string[];
  raw: string;
  info: { records: number; bytes: number };
}

interface GoodRow {
  line: number;
  observation: NewObservation;
}

/**
 * Imports a Dux-Soup CSV export, streamed (constant memory; a BOM, CRLF line ends and quoted fields with commas and
 * newlines are fine). Each row becomes the payload the webhook would have carried, stored as an observation
 * (source `csv`) under an event key derived like the webhook's (user `csv-import`, type, `id`, VisitTime/ScanTime):
 * importing the same file again stores nothing new. New observations then go through Phase 2, batched. A row that
 * cannot be used (no time, a bad time, no identifier, more fields than the header, broken quoting) is counted,
 * listed with its line number and kept in rejected_inputs (endpoint `csv`, once per row content); it never stops
 * the import.
 */
export async function importCsv(
  pool: Pool,
  processor: ObservationProcessor,
  options: ImportCsvOptions,
  progress: Progress,
): Promise<ImportCsvSummary> {
  const started = Date.now();
  const stat = await fs.promises.stat(options.file).catch(() => null);
  if (!stat?.isFile()) throw new CliError(`cannot read ${options.file}: no such file`);
  const summary: ImportCsvSummary = {
    file: options.file,
    dry_run: options.dryRun,
    rows: 0,
    blank: 0,
    imported: 0,
    duplicates: 0,
    rejected: 0,
    phase2: { processed: 0, skipped: 0, dead: 0, busy: 0, pending: 0 },
    rejections: [],
    seconds: 0,
    rows_per_second: 0,
    interrupted: false,
  };
  const fileName = path.basename(options.file);
  const batchSize = options.batchSize ?? DEFAULT_BATCH;
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;

  const reject = async (line: number, code: string, reason: string, raw: string): Promise<void> => {
    summary.rejected += 1;
    if (summary.rejections.length < LISTED_REJECTIONS) summary.rejections.push({ line, code, reason });
    if (!options.dryRun) await storeRejection(pool, fileName, line, code, reason, raw);
  };

  const parser = parse({
    bom: true,
    raw: true,
    info: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_records_with_error: true,
  });
  const skippedRecords: { records: number; raw: string; message: string }[] = [];
  parser.on('skip', (error: CsvError) => {
    const context = error as CsvError & { records?: number; raw?: string };
    skippedRecords.push({ records: context.records ?? 0, raw: context.raw ?? '', message: error.message });
  });
  const input = fs.createReadStream(options.file);
  input.on('error', (error) => parser.destroy(error));
  input.pipe(parser);
  progress.start(stat.size, `importing ${fileName}`);

  let layout: CsvLayout | null = null;
  let nextLine = 1;
  let batch: GoodRow[] = [];
  const flushSkipped = async (beforeRecord: number): Promise<void> => {
    while (skippedRecords.length > 0 && skippedRecords[0]!.records < beforeRecord) {
      const skipped = skippedRecords.shift()!;
      await reject(nextLine, 'CSV_MALFORMED', firstSentence(skipped.message), skipped.raw);
      summary.rows += 1;
      nextLine += lineBreaks(skipped.raw);
    }
  };

  for await (const item of parser as AsyncIterable<ParsedItem>) {
    await flushSkipped(item.info.records);
    const line = nextLine;
    nextLine += lineBreaks(item.raw);
    if (layout === null) {
      layout = csvLayout(item.record);
      continue;
    }
    if (item.record.every((value) => value.trim() === '')) {
      summary.blank += 1;
      continue;
    }
    summary.rows += 1;
    const row = toObservation(layout, item.record, `${fileName}:${line}`);
    if (!row.ok) await reject(line, row.code, row.reason, item.raw);
    else batch.push({ line, observation: row.observation });
    if (batch.length >= batchSize) {
      await storeAndProcess(pool, processor, batch, options, concurrency, summary);
      batch = [];
      progress.update(item.info.bytes);
      if (options.signal?.aborted) {
        summary.interrupted = true;
        parser.destroy();
        break;
      }
    }
  }
  if (!summary.interrupted) {
    await flushSkipped(Infinity);
    if (batch.length > 0) await storeAndProcess(pool, processor, batch, options, concurrency, summary);
  }
  await makeDurable(pool);
  progress.update(stat.size);
  progress.stop();
  summary.seconds = Math.round((Date.now() - started) / 10) / 100;
  summary.rows_per_second = summary.seconds > 0 ? Math.round(summary.rows / summary.seconds) : summary.rows;
  return summary;
}

type ObservationResult =
  { ok: true; observation: NewObservation } | { ok: false; code: string; reason: string };

function toObservation(layout: CsvLayout, values: string[], requestId: string): ObservationResult {
  const row = rowPayload(layout, values);
  if (!row.ok) return row;
  const read = readEnvelope(row.payload);
  if (!read.ok) {
    return {
      ok: false,
      code: 'INVALID_PAYLOAD',
      reason: read.problems
        .map((problem) => `${problem.field.replace(/^data\./, '')} ${problem.message}`)
        .join('; '),
    };
  }
  if (extractIdentifiers(row.payload.data).length === 0) {
    return {
      ok: false,
      code: 'NO_IDENTITY',
      reason: 'no usable identifier (id, Profile, SalesProfile, RecruiterProfile, PublicProfile or Email)',
    };
  }
  const { envelope } = read;
  return {
    ok: true,
    observation: {
      source: 'csv',
      kind: envelope.type,
      event: envelope.event,
      duxUserId: CSV_USER_ID,
      eventTime: envelope.eventTime,
      eventKey: eventKey(envelope),
      requestId,
      payload: row.payload,
      rawBody: null,
      status: 'pending',
    },
  };
}

async function storeAndProcess(
  pool: Pool,
  processor: ObservationProcessor,
  batch: GoodRow[],
  options: ImportCsvOptions,
  concurrency: number,
  summary: ImportCsvSummary,
): Promise<void> {
  if (options.dryRun) {
    const keys = batch.map((row) => row.observation.eventKey);
    const existing = await pool.query<{ event_key: string }>(
      'SELECT event_key FROM observation_log WHERE event_key = ANY($1::text[])',
      [keys],
    );
    const stored = new Set(existing.rows.map((row) => row.event_key));
    const seen = new Set<string>();
    for (const key of keys) {
      if (stored.has(key) || seen.has(key)) summary.duplicates += 1;
      else summary.imported += 1;
      seen.add(key);
    }
    return;
  }
  const stored = await appendObservations(
    pool,
    batch.map((row) => row.observation),
  );
  const work = stored.map((result, index) => ({ ...result, observation: batch[index]!.observation }));
  for (const item of work) summary[item.duplicate ? 'duplicates' : 'imported'] += 1;
  // A repeat is finished only if an earlier import stopped before its Phase 2 (one read finds those).
  const repeats = work.filter((item) => item.duplicate).map((item) => item.id);
  const unfinished = new Set(
    repeats.length === 0
      ? []
      : (
          await pool.query<{ id: number }>(
            `SELECT id FROM observation_state WHERE id = ANY($1::bigint[]) AND status = 'pending'`,
            [repeats],
          )
        ).rows.map((row) => row.id),
  );
  // A row repeating one stored in this very batch is that row's business.
  work.filter((item) => !item.duplicate).forEach((item) => unfinished.delete(item.id));
  const todo = work.filter((item) => !item.duplicate || unfinished.delete(item.id));
  await forEachLimited(todo, concurrency, async (item) => {
    let status: string;
    try {
      // New rows take the fast path with the payload in hand.
      const result = item.duplicate
        ? await processor.process(item.id)
        : await processor.process(item.id, {
            source: item.observation.source,
            kind: item.observation.kind,
            payload: item.observation.payload,
          });
      status = typeof result.status === 'string' ? result.status : result.processed ? 'processed' : 'pending';
    } catch {
      status = 'pending'; // the database went away mid-run: the sweeper (or the next import) finishes it
    }
    const counts = summary.phase2;
    if (status === 'processed' || status === 'skipped' || status === 'dead' || status === 'busy')
      counts[status] += 1;
    else counts.pending += 1;
  });
}

async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

async function storeRejection(
  pool: Pool,
  fileName: string,
  line: number,
  code: string,
  reason: string,
  raw: string,
): Promise<void> {
  const body = Buffer.from(raw.replace(/\r?\n?$/, ''), 'utf8');
  await pool.query(
    `INSERT INTO rejected_inputs (endpoint, request_id, content_type, body, body_bytes, error_code, reason)
     VALUES ('csv', $1, 'text/csv', $2, $3, $4, $5)
     ON CONFLICT (request_id) WHERE endpoint = 'csv' DO NOTHING`,
    [
      `csv:${createHash('sha256').update(body).digest('hex')}`,
      body,
      body.length,
      code,
      `${fileName} line ${line}: ${reason}`.slice(0, 2000),
    ],
  );
}

/**
 * One synchronous commit: it returns only once the WAL is flushed up to its own commit record, so every commit of
 * the import before it (made with synchronous_commit off by the CLI) is durable when the summary is printed.
 */
async function makeDurable(pool: Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL synchronous_commit = on');
    await client.query('SELECT pg_current_xact_id()');
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function lineBreaks(raw: string): number {
  return raw.match(/\r\n|\r|\n/g)?.length ?? 0;
}

function firstSentence(message: string): string {
  return message.split(':')[0] ?? message;
}

interface CliOptions {
  dryRun?: boolean;
  batchSize: number;
  concurrency: number;
}

export function register(program: Command): void {
  program
    .command('import-csv')
    .summary('import a Dux-Soup CSV export as csv observations, idempotently')
    .description(
      'import a Dux-Soup CSV export: each row becomes an observation (source csv) and goes through Phase 2',
    )
    .argument('<file>', 'the CSV file')
    .option('--dry-run', 'parse and validate only: count new, repeated and rejected rows, store nothing')
    .option('--batch-size <n>', 'rows stored per INSERT', positiveInteger, DEFAULT_BATCH)
    .option('--concurrency <n>', 'Phase 2 runs in flight at once', positiveInteger, DEFAULT_CONCURRENCY)
    .addHelpText(
      'after',
      `
Columns: VisitTime or ScanTime (epoch ms or s, ISO-8601, or "YYYY-MM-DD HH:MM:SS" read as UTC; VisitTime
makes a visit, ScanTime alone a scan), id (or duxsoupId), Profile, SalesProfile (or salesNavId),
RecruiterProfile, PublicProfile, First/Middle/Last Name, Title, Company, Location, ... as in the webhook;
Position-N-{Company,Title,Description,From,To,Location}, School-N-{Name,Degree,Field,From,To} and Skill-N become
extended.positions / schools / skills. Other columns are kept in the payload.

Importing the same file again adds nothing (the event key is user csv-import + type + id + time). A row that
cannot be used is listed with its line number, stored once in rejected_inputs (endpoint csv) and skipped.
Commits are asynchronous while importing (every write can be redone from the file: import it again); the
import ends with a synchronous commit, so everything is durable once the summary is printed.`,
    )
    .action(
      databaseAction<CliOptions>(
        'import-csv',
        async (context, options, args): Promise<CommandResult> => {
          const summary = await importCsv(
            context.pool,
            phase2FromConfig(context.pool, context.config, context.logger),
            {
              file: args[0]!,
              dryRun: options.dryRun === true,
              batchSize: options.batchSize,
              concurrency: options.concurrency,
              signal: context.signal,
            },
            context.progress,
          );
          return { summary };
        },
        { poolSize: (options) => options.concurrency + 4, asyncCommit: true },
      ),
    );
}
