import { stringify } from 'csv-stringify/sync';
import type { ExportFormat } from './types';

/** Turns batches of rows (arrays of column values, in column order) into the bytes of one file. */
export interface RowEncoder {
  readonly contentType: string;
  start(): string;
  encode(rows: readonly unknown[][]): string;
  end(): string;
}

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

/** Lists in one CSV cell (skills, tags, ...) are joined with this. */
export const CSV_LIST_SEPARATOR = '; ';

export function encoderFor(format: ExportFormat, columns: readonly string[], bom: boolean): RowEncoder {
  return format === 'csv' ? csvEncoder(columns, bom) : jsonEncoder(columns);
}

/** RFC 4180 CSV through csv-stringify (quotes, delimiters and line breaks escaped), a header row first. */
function csvEncoder(columns: readonly string[], bom: boolean): RowEncoder {
  return {
    contentType: CONTENT_TYPES.csv,
    start: () => stringify([[...columns]], { bom }),
    encode: (rows) => stringify(rows.map((row) => row.map(csvCell))),
    end: () => '',
  };
}

/** One JSON array, one object per line, written element by element. */
function jsonEncoder(columns: readonly string[]): RowEncoder {
  let first = true;
  return {
    contentType: CONTENT_TYPES.json,
    start: () => '[',
    encode: (rows) => {
      let out = '';
      for (const row of rows) {
        const record: Record<string, unknown> = {};
        columns.forEach((column, index) => (record[column] = jsonValue(row[index])));
        out += (first ? '\n' : ',\n') + JSON.stringify(record);
        first = false;
      }
      return out;
    },
    end: () => (first ? ']\n' : '\n]\n'),
  };
}

/**
 * Every value as the text of one cell: empty for missing, ISO 8601 for times, lists joined with "; ", and text that
 * a spreadsheet would run as a formula defused.
 */
export function csvCell(value: unknown): string {
  if (Array.isArray(value)) return defused(value.map(scalarText).join(CSV_LIST_SEPARATOR));
  return defused(scalarText(value));
}

const FORMULA_START = /^[=+\-@\t\r]/;
/** Digits with the punctuation of numbers and phone numbers: no function call can hide in it. */
const NUMBER_LIKE = /^[+-]?[\d\s().-]+$/;

/**
 * CSV (formula) injection: Excel and LibreOffice run a cell starting with =, +, -, @, tab or carriage return as a
 * formula, so a LinkedIn headline such as `=HYPERLINK(...)` would run on the analyst's machine. Such text gets a
 * leading apostrophe, which spreadsheets show as text and hide; numbers and phone numbers (+14155550100, -12.5)
 * are left as they are.
 */
function defused(text: string): string {
  return FORMULA_START.test(text) && !NUMBER_LIKE.test(text) ? `'${text}` : text;
}

function scalarText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      if (value === null) return '';
      return value instanceof Date ? value.toISOString() : JSON.stringify(value);
    default:
      return '';
  }
}

function jsonValue(value: unknown): unknown {
  return value === undefined ? null : value;
}
