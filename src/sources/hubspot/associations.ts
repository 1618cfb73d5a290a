/**
 * Contact ↔ company and contact ↔ deal links. Association changes do not move a record's modified date, so each
 * run reads the links of every active contact, HUBSPOT_BATCH_SIZE contacts per v4 batch read, and replaces each
 * contact's set: links gone from HubSpot are deleted here. A contact with more links than one page follows its
 * own `paging.next.after`; a 207 "no associations" error means the contact has none. The last contact done is
 * checkpointed with each batch, so a failed pass resumes where it stopped.
 */
import type { HubspotObjectType } from './objects';
import type { AssociationRow } from './store';
import {
  activeContactIds,
  dropLinksOfInactiveContacts,
  readCheckpoint,
  writeAssociationBatch,
} from './store';
import type { SyncContext } from './sync';

export const ASSOCIATIONS_JOB = 'associations:contacts';
const TARGETS: readonly HubspotObjectType[] = ['companies', 'deals'];
const NO_ASSOCIATIONS = 'crm.associations.NO_ASSOCIATIONS_FOUND';
/** HubSpot's documented maximum of inputs per v4 batch read. */
export const ASSOCIATION_BATCH_MAX = 1000;

interface TargetLinks {
  /** Contacts whose full list of links to this type was read (possibly empty). */
  resolved: Set<string>;
  rows: AssociationRow[];
  /** Contacts HubSpot reported an error for (other than "no associations"): their links are left as they were. */
  failed: Map<string, string>;
}

export async function syncContactAssociations(context: SyncContext): Promise<void> {
  const batchSize = Math.min(context.settings.batchSize, ASSOCIATION_BATCH_MAX);
  const checkpoint = await readCheckpoint(context.pool, ASSOCIATIONS_JOB);
  let afterId = checkpoint?.lastId ?? null;
  let batch = 0;
  for (;;) {
    context.signal.throwIfAborted();
    const ids = await activeContactIds(context.pool, afterId, batchSize);
    if (ids.length === 0) break;
    const sets = [];
    for (const toType of TARGETS) {
      const links = await readLinks(context, toType, ids);
      for (const [id, message] of links.failed) {
        context.counts.errors = (context.counts.errors ?? 0) + 1;
        context.logger.warn('hubspot association read failed for a contact', {
          contactId: id,
          toType,
          message,
        });
      }
      sets.push({ toType, fromIds: [...links.resolved], rows: uniqueRows(links.rows) });
    }
    afterId = ids[ids.length - 1]!;
    context.counts.contacts = (context.counts.contacts ?? 0) + ids.length;
    context.counts.pages = (context.counts.pages ?? 0) + 1;
    await writeAssociationBatch(context.pool, {
      sets,
      checkpoint: {
        job: ASSOCIATIONS_JOB,
        phase: 'search',
        lastModified: null,
        lastId: afterId,
        listAfter: null,
      },
      runId: context.runId,
      counts: context.counts,
    });
    batch += 1;
    context.progress({
      job: ASSOCIATIONS_JOB,
      page: batch,
      records: ids.length,
      total: context.counts.contacts,
      position: `contacts up to ${afterId}`,
    });
  }
  context.counts.removed = (context.counts.removed ?? 0) + (await dropLinksOfInactiveContacts(context.pool));
  await writeAssociationBatch(context.pool, {
    sets: [],
    checkpoint: { job: ASSOCIATIONS_JOB, phase: 'search', lastModified: null, lastId: null, listAfter: null },
    runId: context.runId,
    counts: context.counts,
  });
}

/** Every link from `ids` to `toType`, following each contact's own paging. */
async function readLinks(
  context: SyncContext,
  toType: HubspotObjectType,
  ids: string[],
): Promise<TargetLinks> {
  const links: TargetLinks = { resolved: new Set(), rows: [], failed: new Map() };
  let inputs: { id: string; after?: string }[] = ids.map((id) => ({ id }));
  while (inputs.length > 0) {
    context.signal.throwIfAborted();
    const response = await context.client.readAssociations('contacts', toType, inputs, context.signal);
    context.counts.calls = (context.counts.calls ?? 0) + 1;
    const more: { id: string; after: string }[] = [];
    for (const result of response.results) {
      const fromId = String(result.from.id);
      links.resolved.add(fromId);
      for (const target of result.to ?? []) {
        for (const type of target.associationTypes ?? []) {
          links.rows.push({
            fromId,
            toId: String(target.toObjectId),
            typeId: type.typeId,
            category: type.category,
            label: type.label ?? null,
          });
        }
      }
      const after = result.paging?.next?.after;
      if (after) more.push({ id: fromId, after });
    }
    for (const error of response.errors) {
      const fromIds = error.context?.fromObjectId ?? error.context?.ids ?? [];
      for (const id of fromIds) {
        if (error.subCategory === NO_ASSOCIATIONS) links.resolved.add(String(id));
        else links.failed.set(String(id), error.message ?? error.category ?? 'error');
      }
    }
    inputs = more;
  }
  for (const id of links.failed.keys()) links.resolved.delete(id);
  return links;
}

function uniqueRows(rows: AssociationRow[]): AssociationRow[] {
  const unique = new Map<string, AssociationRow>();
  for (const row of rows) {
    unique.set([row.fromId, row.toId, row.typeId, row.category, row.label ?? ''].join('\u0000'), row);
  }
  return [...unique.values()];
}
