import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { buildProgram } from '../src/cli';
import { configSchema, loadConfig } from '../src/config';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';

/**
 * The documentation must match the code: README's configuration tables name every variable of src/config.ts (and
 * nothing else) with its real default, and every npm script, ops CLI command and HTTP endpoint the documents
 * mention exists.
 */

const ROOT = path.join(__dirname, '..');
const DOCUMENTS = [
  'README.md',
  'SECURITY.md',
  'docs/ARCHITECTURE.md',
  'docs/FIELD_REFERENCE.md',
  'docs/IDENTITY_MATCHING.md',
  'docs/RUNBOOK.md',
  'docs/WEBHOOK_PAYLOADS.md',
];

function read(file: string): string {
  return fs.readFileSync(path.join(ROOT, file), 'utf8');
}

/** The cells of a Markdown table row; `\|` inside a cell is a literal pipe. */
function cells(row: string): string[] {
  return row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

interface ConfigRow {
  names: string[];
  defaultCell: string;
}

/** Rows of every table headed `| variable | default | meaning |` in README's "## Configuration" section. */
function configurationRows(markdown: string): ConfigRow[] {
  const section = markdown.split(/^## /m).find((part) => part.startsWith('Configuration\n'));
  if (section === undefined) throw new Error('README.md has no "## Configuration" section');
  const rows: ConfigRow[] = [];
  let inTable = false;
  for (const line of section.split('\n')) {
    if (!line.trim().startsWith('|')) {
      inTable = false;
      continue;
    }
    const row = cells(line);
    if (row[0] === 'variable' && row[1] === 'default') {
      inTable = true;
      continue;
    }
    if (!inTable || /^-+$/.test(row[0] ?? '')) continue;
    const names = [...(row[0] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!);
    rows.push({ names, defaultCell: row[1] ?? '' });
  }
  return rows;
}

/** How a default reads in the table: a literal in backticks, or null when there is none (unset, empty list). */
function documentedDefault(value: unknown): string | null {
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.length === 0 ? null : value.join(',');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  throw new Error(`a default of an unexpected type: ${JSON.stringify(value)}`);
}

describe('README configuration tables', () => {
  const rows = configurationRows(read('README.md'));
  const documented = rows.flatMap((row) => row.names);
  const variables = Object.keys(configSchema.shape);
  const defaults = loadConfig({}) as Record<string, unknown>;

  it('has one row per variable, each naming exactly one variable', () => {
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((row) => row.names.length !== 1)).toEqual([]);
    expect(documented.filter((name, index) => documented.indexOf(name) !== index)).toEqual([]);
  });

  it('documents every variable of src/config.ts', () => {
    expect(variables.filter((name) => !documented.includes(name))).toEqual([]);
  });

  it('names no variable that src/config.ts does not read', () => {
    expect(documented.filter((name) => !variables.includes(name))).toEqual([]);
  });

  it('shows each real default: a literal in backticks, or a description when there is none', () => {
    const wrong = rows.flatMap(({ names: [name], defaultCell }) => {
      if (name === undefined || !variables.includes(name)) return [];
      const expected = documentedDefault(defaults[name]);
      const literal = /^`([^`]*)`$/.exec(defaultCell)?.[1] ?? null;
      return literal === expected ? [] : [{ name, documented: defaultCell, actual: expected }];
    });
    expect(wrong).toEqual([]);
  });
});

describe('commands the documents mention', () => {
  const scripts = Object.keys(
    (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts,
  );
  const opsCommands = buildProgram().commands.map((command) => command.name());

  it.each(DOCUMENTS)('%s: every `npm run <script>` exists in package.json', (file) => {
    const mentioned = [...read(file).matchAll(/npm run (?:-s )?([\w:.-]+)/g)].map((match) => match[1]!);
    expect(mentioned.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it.each(DOCUMENTS)('%s: every `npm run ops -- <command>` is a command of the ops CLI', (file) => {
    const mentioned = [...read(file).matchAll(/npm run ops -- (?:--\w+ )*([a-z][a-z-]*)/g)].map(
      (match) => match[1]!,
    );
    expect(mentioned.filter((command) => !opsCommands.includes(command))).toEqual([]);
  });
});

/** `{a,b}` alternatives expanded; `:param` and `<param>` placeholders filled with a sample value. */
function concretePaths(template: string): string[] {
  const brace = /\{([^{}]+)\}/.exec(template);
  if (brace) {
    return brace[1]!.split(',').flatMap((option) => concretePaths(template.replace(brace[0], option.trim())));
  }
  return [template.replace(/:[A-Za-z]+|<[^>]+>/g, '1')];
}

function mentionedEndpoints(markdown: string): { method: string; path: string }[] {
  const found = [...markdown.matchAll(/`(GET|POST|PATCH|PUT|DELETE) (\/[^`\s?]*)[^`]*`/g)];
  return found.flatMap((match) =>
    concretePaths(match[2]!).map((route) => ({ method: match[1]!, path: route })),
  );
}

describe('endpoints the documents mention', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  /** The final handler answers ROUTE_NOT_FOUND (no such path) or METHOD_NOT_ALLOWED only when no route took it. */
  async function routeExists(method: string, route: string): Promise<boolean> {
    const { app } = buildTestApp(db, { READ_RATE_LIMIT: '0', ADMIN_RATE_LIMIT: '0', LEAD_RATE_LIMIT: '0' });
    const call = request(app)[method.toLowerCase() as 'get' | 'post' | 'patch' | 'put' | 'delete'](route);
    const response = await call;
    const error = (response.body as { error?: unknown }).error;
    return error !== 'ROUTE_NOT_FOUND' && error !== 'METHOD_NOT_ALLOWED';
  }

  it('tells a missing route from an existing one', async () => {
    expect(await routeExists('GET', '/api/no-such-route')).toBe(false);
    expect(await routeExists('DELETE', '/api/people/1')).toBe(false);
    expect(await routeExists('GET', '/api/people/1')).toBe(true);
  });

  it.each(DOCUMENTS)('%s: every `METHOD /path` is served', async (file) => {
    const endpoints = mentionedEndpoints(read(file));
    const missing: string[] = [];
    for (const { method, path: route } of endpoints) {
      if (!(await routeExists(method, route))) missing.push(`${method} ${route}`);
    }
    expect(missing).toEqual([]);
  });
});
