/**
 * Push: LinkedIn-derived fields of people linked to HubSpot contacts, written back to those contacts.
 *
 * - Only values whose provenance is LinkedIn data (a visit, scan or import, never HubSpot or a lead) are sent,
 *   and only where they differ from what the contact holds (case and surrounding spaces aside).
 * - A dry run (the default) reports the changes; `execute` sends them with batch update, 100 contacts per call,
 *   and handles a 207 per contact: the ones HubSpot refused are reported, the others recorded.
 * - Every value sent is recorded in `hubspot_push_log`. A value we pushed and have not read back yet is not sent
 *   again; once read back, the contact's observation carries it as `pushed` and the HubSpot contribution ignores
 *   it, so our own write never comes back as news about the person (no sync loop).
 * - A merged contact is never a target: HubSpot no longer has it. Its survivor is, in its own right (the survivor's
 *   observation names the merged ids, so both resolve to the same person).
 */
import type { Pool } from '../../db/pool';
import { identifiersFromLinkedInUrl } from '../../identity/identifiers';
import { HubspotApiError } from './client';
import type { BatchUpdateInput } from './client';
import { sameValue } from './contribution';
import { SENIORITY_PROPERTY } from './objects';
import { BATCH_UPDATE_MAX } from './settings';
import type { SyncContext } from './sync';

/** Snapshot field -> contact property. */
const PUSHED_FIELDS: readonly { field: string; property: string }[] = [
  { field: 'currentTitle', property: 'jobtitle' },
  { field: 'currentCompany', property: 'company' },
  { field: 'city', property: 'city' },
  { field: 'state', property: 'state' },
  { field: 'country', property: 'country' },
  { field: 'seniorityTier', property: SENIORITY_PROPERTY },
];
export const LINKEDIN_URL_PROPERTY = 'hs_linkedin_url';

/** Sources whose values are not LinkedIn data. */
const NOT_LINKEDIN = new Set(['hubspot', 'lead']);
const CANDIDATE_PAGE = 500;
/** How many changes and failures the run's result lists (the counts cover all of them). */
const LISTED_MAX = 500;

export interface PushChange {
  property: string;
  from: string | null;
  to: string;
}

export interface PushEntry {
  contactId: string;
  personId: string;
  changes: PushChange[];
}

export interface PushFailure {
  contactId: string;
  message: string;
}

export interface PushResult {
  mode: 'dry-run' | 'execute';
  entries: PushEntry[];
  failures: PushFailure[];
  /** More entries or failures than LISTED_MAX: the counts have the totals. */
  truncated: boolean;
}

interface Candidate {
  contactId: string;
  personId: string;
  snapshot: Record<string, unknown> & { _meta?: Record<string, { source?: string }> };
  properties: Record<string, string | null> | null;
  syncedAt: Date;
  linkedinUrl: string | null;
  pushed: Record<string, { value: string; pushedAt: string }> | null;
}

/** Active, unmerged contacts linked to a live person, in contact id order, with what we last pushed to each. */
const CANDIDATES = `
  SELECT c.hubspot_id::text AS "contactId", p.id AS "personId", p.snapshot, c.raw -> 'properties' AS properties,
         c.synced_at AS "syncedAt",
         (SELECT u.display FROM person_aliases u JOIN observations o ON o.id = u.first_observation_id
           WHERE u.person_id = p.id AND u.kind IN ('profile_url', 'public_url') AND o.source NOT IN ('hubspot', 'lead')
           ORDER BY u.kind = 'profile_url' DESC, u.first_observation_id LIMIT 1) AS "linkedinUrl",
         (SELECT jsonb_object_agg(latest.property, jsonb_build_object('value', latest.value, 'pushedAt', latest.pushed_at))
            FROM (SELECT DISTINCT ON (l.property) l.property, l.value, l.pushed_at
                    FROM hubspot_push_log l WHERE l.contact_id = c.hubspot_id
                   ORDER BY l.property, l.id DESC) AS latest) AS pushed
    FROM hubspot_contacts c
    JOIN person_aliases a ON a.kind = 'hubspot_contact_id' AND a.value = c.hubspot_id::text
    JOIN persons p ON p.id = a.person_id AND p.merged_into IS NULL
   WHERE NOT c.archived AND c.hubspot_id > $1::bigint
     AND NOT EXISTS (SELECT 1 FROM hubspot_contact_merges m WHERE m.merged_id = c.hubspot_id)
   ORDER BY c.hubspot_id
   LIMIT $2`;

export async function runPush(context: SyncContext, options: { execute: boolean }): Promise<PushResult> {
  const result: PushResult = {
    mode: options.execute ? 'execute' : 'dry-run',
    entries: [],
    failures: [],
    truncated: false,
  };
  const counts = context.counts;
  Object.assign(counts, { linked_contacts: 0, contacts_changed: 0, changes: 0, updated: 0, failed: 0 });
  let afterId = '0';
  for (;;) {
    context.signal.throwIfAborted();
    const { rows } = await context.pool.query<Candidate>(CANDIDATES, [afterId, CANDIDATE_PAGE]);
    if (rows.length === 0) break;
    afterId = rows[rows.length - 1]!.contactId;
    counts.linked_contacts! += rows.length;
    const entries = rows.map(entryOf).filter((entry) => entry.changes.length > 0);
    counts.contacts_changed! += entries.length;
    counts.changes! += entries.reduce((sum, entry) => sum + entry.changes.length, 0);
    listed(result, result.entries, entries);
    if (options.execute) {
      for (let start = 0; start < entries.length; start += BATCH_UPDATE_MAX) {
        context.signal.throwIfAborted();
        await send(context, entries.slice(start, start + BATCH_UPDATE_MAX), result);
      }
    }
    context.progress({
      job: 'push',
      page: Math.ceil(counts.linked_contacts! / CANDIDATE_PAGE),
      records: rows.length,
      total: counts.linked_contacts!,
      position: `${counts.changes} changes on ${counts.contacts_changed} contacts${
        options.execute ? `, ${counts.updated} updated, ${counts.failed} failed` : ' (dry run)'
      }`,
    });
  }
  return result;
}

function entryOf(candidate: Candidate): PushEntry {
  const properties = candidate.properties ?? {};
  const changes: PushChange[] = [];
  for (const [property, to] of desiredValues(candidate)) {
    const current = typeof properties[property] === 'string' ? properties[property] : null;
    if (current !== null && equalValues(property, current, to)) continue;
    const pushed = candidate.pushed?.[property];
    // Sent already and not read back since: HubSpot has it, our copy is just older.
    if (pushed && pushed.value === to && new Date(pushed.pushedAt) > candidate.syncedAt) continue;
    changes.push({ property, from: current === null || current.trim() === '' ? null : current, to });
  }
  return { contactId: candidate.contactId, personId: candidate.personId, changes };
}

function desiredValues(candidate: Candidate): Map<string, string> {
  const desired = new Map<string, string>();
  const meta = candidate.snapshot._meta ?? {};
  for (const { field, property } of PUSHED_FIELDS) {
    const value = candidate.snapshot[field];
    const source = meta[field]?.source;
    if (typeof value !== 'string' || value.trim() === '' || !source || NOT_LINKEDIN.has(source)) continue;
    desired.set(property, value.trim());
  }
  if (candidate.linkedinUrl) desired.set(LINKEDIN_URL_PROPERTY, candidate.linkedinUrl);
  return desired;
}

function equalValues(property: string, current: string, wanted: string): boolean {
  if (property === LINKEDIN_URL_PROPERTY) {
    const profile = (url: string) =>
      identifiersFromLinkedInUrl(url, property).find((id) => id.kind === 'profile_url');
    const a = profile(current);
    const b = profile(wanted);
    if (a && b) return a.value === b.value;
  }
  return sameValue(current, wanted);
}

async function send(context: SyncContext, entries: PushEntry[], result: PushResult): Promise<void> {
  if (entries.length === 0) return;
  const counts = context.counts;
  const inputs: BatchUpdateInput[] = entries.map((entry) => ({
    id: entry.contactId,
    properties: Object.fromEntries(entry.changes.map((change) => [change.property, change.to])),
  }));
  let updated = new Set<string>();
  const refused = new Map<string, string>();
  try {
    const response = await context.client.batchUpdate('contacts', inputs, context.signal);
    updated = new Set(response.results.map((record) => String(record.id)));
    for (const error of response.errors) {
      for (const id of error.context?.ids ?? [])
        refused.set(String(id), error.message ?? error.category ?? 'error');
    }
  } catch (error) {
    // A call refused as a whole for its content fails these contacts only; anything else ends the run.
    if (!(error instanceof HubspotApiError) || !isInputError(error.status)) throw error;
    for (const entry of entries) refused.set(entry.contactId, error.message);
  }
  const failures: PushFailure[] = [];
  const done: PushEntry[] = [];
  for (const entry of entries) {
    if (updated.has(entry.contactId) && !refused.has(entry.contactId)) done.push(entry);
    else {
      failures.push({
        contactId: entry.contactId,
        message: refused.get(entry.contactId) ?? 'HubSpot did not report this contact as updated',
      });
    }
  }
  await recordPushed(context.pool, context.runId, done);
  counts.updated! += done.length;
  counts.failed! += failures.length;
  listed(result, result.failures, failures);
}

function isInputError(status: number | null): boolean {
  return status === 400 || status === 404 || status === 409 || status === 422;
}

async function recordPushed(pool: Pool, runId: number, entries: PushEntry[]): Promise<void> {
  const rows = entries.flatMap((entry) =>
    entry.changes.map((change) => ({ ...change, contactId: entry.contactId, personId: entry.personId })),
  );
  if (rows.length === 0) return;
  await pool.query(
    `INSERT INTO hubspot_push_log (contact_id, property, value, previous_value, person_id, run_id)
     SELECT contact_id, property, value, previous_value, person_id, $6
       FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::uuid[])
         AS pushed(contact_id, property, value, previous_value, person_id)`,
    [
      rows.map((row) => row.contactId),
      rows.map((row) => row.property),
      rows.map((row) => row.to),
      rows.map((row) => row.from),
      rows.map((row) => row.personId),
      runId,
    ],
  );
}

function listed<T>(result: PushResult, list: T[], items: T[]): void {
  const room = LISTED_MAX - list.length;
  list.push(...items.slice(0, Math.max(0, room)));
  if (items.length > room) result.truncated = true;
}
