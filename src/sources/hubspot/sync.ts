/**
 * Pulling contacts, companies and deals. Every page is saved with the checkpoint that follows it, in one
 * transaction, so a run that fails keeps what it saved and the next run continues from there.
 *
 * - No checkpoint: the list endpoint pages through everything (search cannot page past 10 000 results). The
 *   newest modified date HubSpot has when the listing begins is noted first: once the listing is done, the search
 *   phase starts there, so a record changed while we were listing is not missed.
 * - Checkpoint: search on the modified-date property, ascending, from the checkpoint minus the lookback. When a
 *   window reaches the search cap, a new window starts at the last modified date seen. If a whole window shares
 *   one modified date (a bulk import), that date is read in hs_object_id order instead ("tie" phase).
 * - Archived: `?archived=true` lists every archived record (search never returns them); each is marked archived.
 */
import type { Pool } from '../../db/pool';
import type { ObservationProcessor } from '../../ingest/processor';
import type { Logger } from '../../logger';
import type { HubspotClient, SearchFilter, SearchPage } from './client';
import type { HubspotObjectType, HubspotRecord, ObjectDefinition, ObjectRow } from './objects';
import { modifiedAt, OBJECTS, objectIdOf, rowOf } from './objects';
import { linkContacts } from './people';
import type { SyncSettings } from './settings';
import { LIST_PAGE_MAX, SEARCH_PAGE_MAX } from './settings';
import type { Checkpoint } from './store';
import { readCheckpoint, writeCheckpoint, writePage } from './store';

export type Counts = Record<string, number>;

export interface PageProgress {
  job: string;
  page: number;
  records: number;
  /** Records read by this run so far. */
  total: number;
  /** Where the run stands, e.g. "listing", "modified >= 2024-01-01T00:00:00.000Z". */
  position: string;
}

/** Everything one run of a job works with. */
export interface SyncContext {
  pool: Pool;
  client: HubspotClient;
  processor: ObservationProcessor;
  settings: SyncSettings;
  logger: Logger;
  signal: AbortSignal;
  runId: number;
  counts: Counts;
  progress(event: PageProgress): void;
}

/** The incremental sync of one object type (job `contacts`, `companies` or `deals`). */
export async function syncUpdated(context: SyncContext, type: HubspotObjectType): Promise<void> {
  const definition = OBJECTS[type];
  const pager = new PageWriter(context, definition, type);
  let checkpoint = (await readCheckpoint(context.pool, type)) ?? (await beginListing(context, definition));
  if (checkpoint.phase === 'list') checkpoint = await listEverything(context, definition, checkpoint, pager);
  await searchChanges(context, definition, checkpoint, pager);
}

/** The archived sync of one object type (job `contacts:deleted`, ...). */
export async function syncArchived(context: SyncContext, type: HubspotObjectType): Promise<void> {
  const definition = OBJECTS[type];
  const job = `${type}:deleted`;
  const pager = new PageWriter(context, definition, job);
  const checkpoint = await readCheckpoint(context.pool, job);
  const list = (after: string | null) => async () => {
    context.signal.throwIfAborted();
    const page = await context.client.listObjects(
      type,
      { limit: listLimit(context), after, properties: definition.properties, archived: true },
      context.signal,
    );
    return { page, after };
  };
  await pipelined(
    list(checkpoint?.listAfter ?? null),
    ({ page }) => (page.paging?.next ? list(page.paging.next.after) : null),
    async ({ page, after }) => {
      const archived = page.results.map((record) => ({ ...record, archived: true }));
      context.counts.archived = (context.counts.archived ?? 0) + archived.length;
      await pager.write(
        archived,
        { job, phase: 'list', lastModified: null, lastId: null, listAfter: page.paging?.next?.after ?? null },
        after === null ? 'archived, first page' : 'archived',
      );
    },
  );
}

async function beginListing(context: SyncContext, definition: ObjectDefinition): Promise<Checkpoint> {
  const newest = await context.client.searchObjects(
    definition.type,
    {
      filterGroups: [],
      sorts: [{ propertyName: definition.modifiedProperty, direction: 'DESCENDING' }],
      properties: [definition.modifiedProperty],
      limit: 1,
    },
    context.signal,
  );
  const first = newest.results[0];
  const checkpoint: Checkpoint = {
    job: definition.type,
    phase: 'list',
    lastModified: first ? modifiedAt(definition, first) : null,
    lastId: null,
    listAfter: null,
  };
  await writeCheckpoint(context.pool, checkpoint);
  return checkpoint;
}

async function listEverything(
  context: SyncContext,
  definition: ObjectDefinition,
  checkpoint: Checkpoint,
  pager: PageWriter,
): Promise<Checkpoint> {
  const list = (after: string | null) => async () => {
    context.signal.throwIfAborted();
    return context.client.listObjects(
      definition.type,
      { limit: listLimit(context), after, properties: definition.properties },
      context.signal,
    );
  };
  let following: Checkpoint = checkpoint;
  await pipelined(
    list(checkpoint.listAfter),
    (page) => (page.paging?.next ? list(page.paging.next.after) : null),
    async (page) => {
      const next = page.paging?.next?.after ?? null;
      following =
        next === null
          ? { ...checkpoint, phase: 'search', listAfter: null }
          : { ...checkpoint, phase: 'list', listAfter: next };
      await pager.write(page.results, following, 'listing');
    },
  );
  return following;
}

async function searchChanges(
  context: SyncContext,
  definition: ObjectDefinition,
  checkpoint: Checkpoint,
  pager: PageWriter,
): Promise<void> {
  const watermark = { at: checkpoint.lastModified?.getTime() ?? null };
  let since: number | null;
  let strict = false;
  if (checkpoint.phase === 'tie' && checkpoint.lastModified) {
    since = checkpoint.lastModified.getTime();
    await readTie(context, definition, since, checkpoint.lastId, pager);
    strict = true;
  } else {
    since = watermark.at === null ? null : watermark.at - context.settings.lookbackMinutes * 60_000;
  }
  for (;;) {
    const lastSeen = await searchWindow(context, definition, { since, strict }, watermark, pager);
    if (lastSeen === null) return;
    if (!strict && lastSeen === since) {
      await readTie(context, definition, lastSeen, null, pager);
      strict = true;
    } else {
      since = lastSeen;
      strict = false;
    }
  }
}

/** Whether the page after `page` (at offset `after`) is still within the search cap. */
function nextOffset(context: SyncContext, page: SearchPage, after: number, limit: number): number | null {
  const next = page.paging?.next?.after;
  if (next === undefined || page.results.length === 0) return null;
  const offset = Number(next);
  return Number.isSafeInteger(offset) && offset > after && offset + limit <= context.settings.searchCap
    ? offset
    : null;
}

/**
 * Pages through `modified >= since` (or `> since`) in ascending order. Returns null when the window is done, or
 * the last modified date read when the next page would pass the search cap.
 */
async function searchWindow(
  context: SyncContext,
  definition: ObjectDefinition,
  window: { since: number | null; strict: boolean },
  watermark: { at: number | null },
  pager: PageWriter,
): Promise<number | null> {
  const limit = Math.min(context.settings.pageSize, SEARCH_PAGE_MAX);
  const filters: SearchFilter[] =
    window.since === null
      ? []
      : [
          {
            propertyName: definition.modifiedProperty,
            operator: window.strict ? 'GT' : 'GTE',
            value: String(window.since),
          },
        ];
  const position =
    window.since === null
      ? 'modified, from the start'
      : `modified ${window.strict ? '>' : '>='} ${new Date(window.since).toISOString()}`;
  const search = (after: number) => async () => {
    context.signal.throwIfAborted();
    const page = await context.client.searchObjects(
      definition.type,
      {
        filterGroups: filters.length > 0 ? [{ filters }] : [],
        sorts: [{ propertyName: definition.modifiedProperty, direction: 'ASCENDING' }],
        properties: definition.properties,
        limit,
        after: String(after),
      },
      context.signal,
    );
    return { page, after };
  };
  let lastSeen: number | null = null;
  const last = await pipelined(
    search(0),
    ({ page, after }) => {
      const offset = nextOffset(context, page, after, limit);
      return offset === null ? null : search(offset);
    },
    async ({ page }) => {
      const record = page.results[page.results.length - 1];
      lastSeen = record ? (modifiedAt(definition, record)?.getTime() ?? null) : null;
      if (lastSeen !== null && (watermark.at === null || lastSeen > watermark.at)) watermark.at = lastSeen;
      await pager.write(
        page.results,
        {
          job: definition.type,
          phase: 'search',
          lastModified: watermark.at === null ? null : new Date(watermark.at),
          lastId: null,
          listAfter: null,
        },
        position,
      );
    },
  );
  // The window ended at the cap rather than at its last page: a new one starts at the last modified date read.
  if (last.page.paging?.next === undefined || lastSeen === null) return null;
  context.counts.windows = (context.counts.windows ?? 0) + 1;
  return lastSeen;
}

/** Every record modified exactly at `at`, in hs_object_id order, past `afterId`; windows by id at the cap. */
async function readTie(
  context: SyncContext,
  definition: ObjectDefinition,
  at: number,
  afterId: string | null,
  pager: PageWriter,
): Promise<void> {
  const limit = Math.min(context.settings.pageSize, SEARCH_PAGE_MAX);
  context.counts.ties = (context.counts.ties ?? 0) + 1;
  const search = (windowAfterId: string | null, after: number) => async () => {
    context.signal.throwIfAborted();
    const filters: SearchFilter[] = [
      { propertyName: definition.modifiedProperty, operator: 'EQ', value: String(at) },
      ...(windowAfterId === null
        ? []
        : [{ propertyName: 'hs_object_id', operator: 'GT' as const, value: windowAfterId }]),
    ];
    const page = await context.client.searchObjects(
      definition.type,
      {
        filterGroups: [{ filters }],
        sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
        properties: definition.properties,
        limit,
        after: String(after),
      },
      context.signal,
    );
    const record = page.results[page.results.length - 1];
    return { page, after, windowAfterId, lastId: record ? objectIdOf(record) : null };
  };
  let lastId = afterId;
  await pipelined(
    search(afterId, 0),
    ({ page, after, windowAfterId, lastId: pageLastId }) => {
      if (page.paging?.next === undefined || pageLastId === null) return null;
      const offset = nextOffset(context, page, after, limit);
      // At the cap, the next window starts after the last id read.
      return offset === null ? search(pageLastId, 0) : search(windowAfterId, offset);
    },
    async ({ page, windowAfterId, lastId: pageLastId }) => {
      lastId = pageLastId ?? lastId;
      const done = page.paging?.next === undefined || pageLastId === null;
      await pager.write(
        page.results,
        {
          job: definition.type,
          phase: done ? 'search' : 'tie',
          lastModified: new Date(at),
          lastId: done ? null : lastId,
          listAfter: null,
        },
        `modified = ${new Date(at).toISOString()}, id > ${windowAfterId ?? 0}`,
      );
    },
  );
}

/**
 * Fetches page after page, the next one while the current one is written (one request in flight at most: the
 * HubSpot round trip overlaps the database work). Resolves to the last page handled.
 */
async function pipelined<P>(
  first: () => Promise<P>,
  following: (page: P) => (() => Promise<P>) | null,
  handle: (page: P) => Promise<void>,
): Promise<P> {
  let current = first();
  for (;;) {
    const page = await current;
    const fetchNext = following(page);
    const next = fetchNext ? fetchNext() : null;
    // If handling fails first, the request in flight must not become an unhandled rejection.
    next?.catch(() => undefined);
    await handle(page);
    if (!next) return page;
    current = next;
  }
}

function listLimit(context: SyncContext): number {
  return Math.min(context.settings.pageSize, LIST_PAGE_MAX);
}

/** Saves pages (rows, observations, checkpoint, counts), links contacts to people, reports progress. */
class PageWriter {
  private page = 0;

  constructor(
    private readonly context: SyncContext,
    private readonly definition: ObjectDefinition,
    private readonly job: string,
  ) {}

  async write(records: HubspotRecord[], checkpoint: Checkpoint, position: string): Promise<void> {
    const { context } = this;
    // Told to stop: the page boundary is here, even for a page already fetched (the next run reads it again).
    context.signal.throwIfAborted();
    const counts = context.counts;
    const rows: ObjectRow[] = [];
    for (const record of records) {
      const row = rowOf(this.definition, record);
      if (row) rows.push(row);
      else counts.invalid = (counts.invalid ?? 0) + 1;
    }
    counts.pages = (counts.pages ?? 0) + 1;
    counts.records = (counts.records ?? 0) + records.length;
    const written = await writePage(context.pool, {
      definition: this.definition,
      rows,
      checkpoint,
      runId: context.runId,
      counts,
    });
    if (written.observations.length > 0) {
      const linked = await linkContacts(
        context.processor,
        written.observations,
        context.settings.phase2Concurrency,
        context.logger,
      );
      counts.people_linked = (counts.people_linked ?? 0) + linked.linked;
      counts.people_skipped = (counts.people_skipped ?? 0) + linked.skipped;
      counts.people_pending = (counts.people_pending ?? 0) + linked.pending;
    }
    this.page += 1;
    context.progress({
      job: this.job,
      page: this.page,
      records: records.length,
      total: counts.records,
      position,
    });
  }
}
