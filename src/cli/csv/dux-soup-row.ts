/**
 * Dux-Soup CSV exports → webhook-shaped payloads. The export flattens what a webhook nests: `Position-N-*`,
 * `School-N-*` and `Skill-N` columns become `extended.positions` / `schools` / `skills` in the PascalCase shape of
 * real webhooks (src/snapshots/fields.ts reads both the same way), every other column is a `data` field. Pure.
 */

import { PROFILE_TEXT_FIELDS } from '../../ingest/envelope';

/** Webhook field names, matched case-insensitively against the header. */
const KNOWN_FIELDS = [...PROFILE_TEXT_FIELDS, 'VisitTime', 'ScanTime', 'My Tags', 'My Notes', 'Birthday'];

/** Column names of older exports and importers for the same fields. */
const FIELD_ALIASES: Record<string, string> = { duxsoupid: 'id' };
const SALES_NAV_ID_COLUMN = 'salesnavid';

const POSITION_KEYS = ['Company', 'Location', 'Title', 'Description', 'From', 'To'] as const;
const SCHOOL_KEYS = ['Name', 'Degree', 'Field', 'From', 'To'] as const;
const POSITION = /^position[-_ ]?(\d{1,3})[-_ ]?(company|location|title|description|from|to)$/i;
const SCHOOL = /^school[-_ ]?(\d{1,3})[-_ ]?(name|degree|field|from|to)$/i;
const SKILL = /^skill[-_ ]?(\d{1,3})$/i;

type Column =
  | { kind: 'field'; name: string }
  | { kind: 'salesNavId' }
  | { kind: 'position'; index: number; key: (typeof POSITION_KEYS)[number] }
  | { kind: 'school'; index: number; key: (typeof SCHOOL_KEYS)[number] }
  | { kind: 'skill'; index: number }
  | { kind: 'ignored' };

export interface CsvLayout {
  columns: Column[];
  width: number;
}

const KNOWN_BY_LOWER = new Map<string, string>(KNOWN_FIELDS.map((name) => [name.toLowerCase(), name]));

export function csvLayout(header: readonly string[]): CsvLayout {
  const columns = header.map((raw): Column => {
    const name = raw.trim();
    if (name === '') return { kind: 'ignored' };
    const lower = name.toLowerCase();
    if (lower === SALES_NAV_ID_COLUMN) return { kind: 'salesNavId' };
    const known = KNOWN_BY_LOWER.get(lower) ?? FIELD_ALIASES[lower];
    if (known) return { kind: 'field', name: known };
    const position = POSITION.exec(name);
    if (position)
      return { kind: 'position', index: Number(position[1]), key: pascal(position[2]!, POSITION_KEYS) };
    const school = SCHOOL.exec(name);
    if (school) return { kind: 'school', index: Number(school[1]), key: pascal(school[2]!, SCHOOL_KEYS) };
    const skill = SKILL.exec(name);
    if (skill) return { kind: 'skill', index: Number(skill[1]) };
    return { kind: 'field', name };
  });
  return { columns, width: header.length };
}

function pascal<K extends string>(word: string, keys: readonly K[]): K {
  return keys.find((key) => key.toLowerCase() === word.toLowerCase())!;
}

export type RowResult =
  | { ok: true; type: 'visit' | 'scan'; payload: Record<string, unknown> & { data: Record<string, unknown> } }
  | { ok: false; code: 'CSV_FIELD_COUNT' | 'NO_EVENT_TIME' | 'INVALID_EVENT_TIME'; reason: string };

export const CSV_USER_ID = 'csv-import';

/** One data row as the webhook Dux-Soup would have sent for it. */
export function rowPayload(layout: CsvLayout, values: readonly string[]): RowResult {
  if (values.length > layout.width) {
    return {
      ok: false,
      code: 'CSV_FIELD_COUNT',
      reason: `the row has ${values.length} fields, the header ${layout.width}`,
    };
  }
  const data: Record<string, unknown> = {};
  const positions = new Map<number, Record<string, string>>();
  const schools = new Map<number, Record<string, string>>();
  const skills = new Map<number, string>();
  let salesNavId = '';
  layout.columns.forEach((column, index) => {
    const value = values[index] ?? '';
    switch (column.kind) {
      case 'field':
        // A repeated column fills only what an earlier one left empty.
        if (data[column.name] === undefined || data[column.name] === '') data[column.name] = value;
        break;
      case 'salesNavId':
        salesNavId = value.trim();
        break;
      case 'position':
        entry(positions, column.index)[column.key] = value;
        break;
      case 'school':
        entry(schools, column.index)[column.key] = value;
        break;
      case 'skill':
        if (value.trim() !== '') skills.set(column.index, value);
        break;
      case 'ignored':
        break;
    }
  });
  // Columns that are not webhook fields travel along only when they say something.
  for (const [key, value] of Object.entries(data)) {
    if (value === '' && !KNOWN_BY_LOWER.has(key.toLowerCase())) delete data[key];
  }
  if (salesNavId !== '' && !nonEmpty(data.SalesProfile)) {
    data.SalesProfile = `https://www.linkedin.com/sales/lead/${salesNavId}`;
  }

  const visitTime = nonEmpty(data.VisitTime);
  const scanTime = nonEmpty(data.ScanTime);
  if (!visitTime && !scanTime)
    return { ok: false, code: 'NO_EVENT_TIME', reason: 'neither VisitTime nor ScanTime is set' };
  const type = visitTime ? 'visit' : 'scan';
  const timeField = type === 'visit' ? 'VisitTime' : 'ScanTime';
  for (const field of ['VisitTime', 'ScanTime'] as const) {
    if (!nonEmpty(data[field])) {
      delete data[field];
      continue;
    }
    const millis = csvTime(String(data[field]));
    if (millis === null) {
      if (field !== timeField) continue;
      return {
        ok: false,
        code: 'INVALID_EVENT_TIME',
        reason: `${field} "${String(data[field]).slice(0, 60)}" is not epoch milliseconds or an ISO-8601 time`,
      };
    }
    data[field] = millis;
  }

  const extended: Record<string, unknown[]> = {};
  const positionList = ordered(positions).filter(hasContent);
  const schoolList = ordered(schools).filter(hasContent);
  const skillList = ordered(skills);
  if (positionList.length > 0) extended.positions = positionList;
  if (schoolList.length > 0) extended.schools = schoolList;
  if (skillList.length > 0) extended.skills = skillList;
  if (Object.keys(extended).length > 0) data.extended = extended;
  return { ok: true, type, payload: { userid: CSV_USER_ID, type, event: 'create', data } };
}

function entry(map: Map<number, Record<string, string>>, index: number): Record<string, string> {
  let found = map.get(index);
  if (!found) {
    found = {};
    map.set(index, found);
  }
  return found;
}

function ordered<T>(map: Map<number, T>): T[] {
  return [...map.entries()].sort(([a], [b]) => a - b).map(([, value]) => value);
}

function hasContent(item: Record<string, string>): boolean {
  return Object.values(item).some((value) => value.trim() !== '');
}

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' ? value.trim() !== '' : value !== undefined && value !== null;
}

const ZONELESS = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/;
const WITH_ZONE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;

/**
 * Epoch milliseconds of a CSV time: epoch seconds or milliseconds, ISO-8601 with a zone, or a zone-less
 * `YYYY-MM-DD[ HH:MM[:SS[.fff]]]` read as UTC (never the importing machine's zone). Null otherwise.
 */
export function csvTime(text: string): number | null {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) {
    const number = Number(value);
    return number < 1e11 ? Math.trunc(number * 1000) : Math.trunc(number);
  }
  const zoneless = ZONELESS.exec(value);
  if (zoneless) {
    const [, year, month, day, hour, minute, second, fraction] = zoneless;
    const millis = Date.UTC(
      Number(year),
      Number(month) - 1,
      Number(day),
      Number(hour ?? 0),
      Number(minute ?? 0),
      Number(second ?? 0),
      Math.trunc(Number(`0.${fraction ?? '0'}`) * 1000),
    );
    return Number.isFinite(millis) ? millis : null;
  }
  if (WITH_ZONE.test(value)) {
    const millis = Date.parse(value.replace(' ', 'T'));
    return Number.isFinite(millis) ? millis : null;
  }
  return null;
}
