/**
 * Merged contacts. When contact B is merged into contact A, HubSpot stops returning B (it is not archived, it is
 * gone; a GET of B answers A) and A's hs_merged_object_ids / hs_calculated_merged_vids name B. The page write
 * (store.ts) records every (merged id -> survivor) pair a synced contact names in `hubspot_contact_merges`; reads,
 * the association sync and the push leave merged contacts out, and the survivor's observation carries the merged
 * ids as `hubspot_contact_id` identifiers, so every contact of the merge resolves to one person (contribution.ts).
 */
import type { ObjectRow } from './objects';
import { mergedContactIds } from './objects';

/** One pair as the page write stores it. */
export interface MergeClaim {
  mergedId: string;
  survivorId: string;
  /** From hs_calculated_merged_vids, when it names the id. */
  mergedAt: string | null;
  /** The survivor's modified date: a newer claim on the same merged id wins. */
  seenAt: string | null;
}

/**
 * The pairs a page's contacts name, one per merged id (the newest survivor version's claim). A survivor the page
 * also names as merged (C absorbed B, which had absorbed A) is followed to the end, so A and B both point at C.
 */
export function mergeClaimsOf(rows: readonly ObjectRow[]): MergeClaim[] {
  const claims = new Map<string, MergeClaim>();
  for (const row of rows) {
    for (const [mergedId, epochMs] of mergedContactIds(row.raw.properties, row.hubspot_id)) {
      const held = claims.get(mergedId);
      if (held && (held.seenAt ?? '') >= (row.updated_at ?? '')) continue;
      claims.set(mergedId, {
        mergedId,
        survivorId: row.hubspot_id,
        mergedAt: epochMs === null ? null : new Date(epochMs).toISOString(),
        seenAt: row.updated_at,
      });
    }
  }
  for (const claim of claims.values()) {
    const visited = new Set([claim.mergedId, claim.survivorId]);
    for (let next = claims.get(claim.survivorId); next && !visited.has(next.survivorId);) {
      visited.add(next.survivorId);
      claim.survivorId = next.survivorId;
      next = claims.get(next.survivorId);
    }
  }
  return [...claims.values()].filter((claim) => claim.survivorId !== claim.mergedId);
}
