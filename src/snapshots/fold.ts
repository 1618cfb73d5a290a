/**
 * Order-independent folding of observations into a snapshot. Every field (or group of fields that must come
 * from one observation, such as a title and its company) takes the value of the observation with the greatest
 * precedence key among those that carry a non-empty value. A maximum does not depend on the order the
 * observations are folded in, so live processing, replays and rebuilds all produce the same snapshot.
 */

export interface Origin {
  observationId: number;
  /** visit | scan | csv | lead | hubspot ... */
  source: string;
  /** When the observation was made (VisitTime / ScanTime, else receive time). */
  observedAt: Date;
}

/**
 * Where a snapshot field's value came from. The value itself is the field's: stored once, in the field (snapshots
 * written before 2026-11-30 also repeat it here, as `value`, which nothing reads), and added back for the API by
 * `withProvenanceValues`.
 */
export interface FieldProvenance {
  observedAt: string;
  source: string;
  observationId: number;
}

export type Snapshot = Record<string, unknown> & { _meta?: Record<string, FieldProvenance> };

export interface PrecedencePolicy {
  /** Visits are fresher than they look: a scan must be this much newer to beat a visit. */
  visitWindowMs: number;
}

/** Sources that only fill what LinkedIn data leaves empty (they rank below visits, scans and CSV imports). */
const FILL_ONLY_SOURCES = new Set(['lead', 'hubspot']);

type PrecedenceKey = readonly [rank: number, effectiveAt: number, observationId: number];

export function precedenceKey(
  origin: Pick<Origin, 'observationId' | 'source' | 'observedAt'>,
  policy: PrecedencePolicy,
): PrecedenceKey {
  const rank = FILL_ONLY_SOURCES.has(origin.source) ? 0 : 1;
  const bonus = origin.source === 'visit' ? policy.visitWindowMs : 0;
  return [rank, origin.observedAt.getTime() + bonus, origin.observationId];
}

/**
 * Whether an observation with precedence `key` beats the one that set `holder`: precedenceKey's order, computed
 * without allocating (a fold compares a dozen field groups per observation, and a rebuild folds millions).
 */
function beatsHolder(key: PrecedenceKey, holder: FieldProvenance, policy: PrecedencePolicy): boolean {
  const rank = FILL_ONLY_SOURCES.has(holder.source) ? 0 : 1;
  if (key[0] !== rank) return key[0] > rank;
  const effectiveAt = Date.parse(holder.observedAt) + (holder.source === 'visit' ? policy.visitWindowMs : 0);
  if (key[1] !== effectiveAt) return key[1] > effectiveAt;
  return key[2] > holder.observationId;
}

export function isEmpty(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

/**
 * Folds one observation's contribution into a snapshot, returning a new snapshot (or, with `inPlace`, the same one
 * changed: for a caller that owns it and folds many observations into it). `groups` lists fields that must travel
 * together; any field not in a group is its own group.
 */
export function foldContribution(
  snapshot: Snapshot,
  contribution: Record<string, unknown>,
  origin: Origin,
  groups: readonly (readonly string[])[],
  policy: PrecedencePolicy,
  inPlace = false,
): Snapshot {
  const next: Snapshot = inPlace ? snapshot : { ...snapshot, _meta: { ...(snapshot._meta ?? {}) } };
  next._meta ??= {};
  const meta = next._meta;
  const key = precedenceKey(origin, policy);
  const observedAt = origin.observedAt.toISOString();
  const provenance = (): FieldProvenance => ({
    observedAt,
    source: origin.source,
    observationId: origin.observationId,
  });

  const foldGroup = (group: readonly string[]) => {
    let offered = false;
    let holder: FieldProvenance | undefined;
    for (const field of group) {
      offered ||= !isEmpty(contribution[field]);
      holder ??= meta[field];
    }
    if (!offered || (holder !== undefined && !beatsHolder(key, holder, policy))) return;
    for (const field of group) {
      // Only what is there: deleting a missing key still costs V8 its fast object layout.
      if (Object.hasOwn(next, field)) delete next[field];
      if (Object.hasOwn(meta, field)) delete meta[field];
    }
    for (const field of group) {
      const value = contribution[field];
      if (isEmpty(value)) continue;
      next[field] = value;
      meta[field] = provenance();
    }
  };
  for (const group of groups) foldGroup(group);
  const grouped = groupedFieldsOf(groups);
  const single = [''];
  for (const field of Object.keys(contribution)) {
    if (grouped.has(field)) continue;
    single[0] = field;
    foldGroup(single);
  }
  return next;
}

/** The fields of each group list (a handful of constant lists), as sets. */
const groupedFields = new WeakMap<readonly (readonly string[])[], Set<string>>();

function groupedFieldsOf(groups: readonly (readonly string[])[]): Set<string> {
  let grouped = groupedFields.get(groups);
  if (!grouped) {
    grouped = new Set(groups.flat());
    groupedFields.set(groups, grouped);
  }
  return grouped;
}

/** Field-wise maximum of two snapshots (used when entities merge); equal to folding the union of their observations. */
export function foldSnapshots(
  a: Snapshot,
  b: Snapshot,
  groups: readonly (readonly string[])[],
  policy: PrecedencePolicy,
): Snapshot {
  let result = a;
  const bMeta = b._meta ?? {};
  const byOrigin = new Map<number, { origin: Origin; fields: Record<string, unknown> }>();
  for (const [field, provenance] of Object.entries(bMeta)) {
    const entry = byOrigin.get(provenance.observationId) ?? {
      origin: {
        observationId: provenance.observationId,
        source: provenance.source,
        observedAt: new Date(provenance.observedAt),
      },
      fields: {},
    };
    entry.fields[field] = b[field];
    byOrigin.set(provenance.observationId, entry);
  }
  for (const { origin, fields } of byOrigin.values())
    result = foldContribution(result, fields, origin, groups, policy);
  return result;
}

/** Snapshot with keys in a stable order (jsonb sorts keys anyway; this keeps API output stable too). */
export function sortedSnapshot(snapshot: Snapshot): Snapshot {
  const sorted: Snapshot = {};
  for (const key of Object.keys(snapshot).sort()) {
    if (key === '_meta') continue;
    sorted[key] = snapshot[key];
  }
  const meta = snapshot._meta ?? {};
  sorted._meta = Object.fromEntries(
    Object.keys(meta)
      .sort()
      .map((key) => [key, meta[key]!]),
  );
  return sorted;
}

/** The snapshot as the API shows it: each `_meta.<field>` with the field's `value` beside where it came from. */
export function withProvenanceValues(snapshot: Snapshot): Snapshot {
  if (!snapshot._meta) return snapshot;
  const meta: Record<string, FieldProvenance & { value: unknown }> = {};
  for (const [field, { observedAt, source, observationId }] of Object.entries(snapshot._meta))
    meta[field] = { value: snapshot[field], observedAt, source, observationId };
  return { ...snapshot, _meta: meta };
}
