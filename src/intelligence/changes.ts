/**
 * Job changes: a pure function of a person's observations.
 *
 * Each observation that carries a usable title or company is a point. Points are walked in time order
 * (observation time, then observation id) and a change is emitted whenever a point differs from the state
 * before it. The state carries a field forward when a point lacks it: a title-only point keeps the company,
 * a company-only point keeps the title, and a field missing on either side never counts as a difference.
 * Titles compare without case, accents, punctuation or extra whitespace; companies compare by company id
 * when both sides have one, else by normalised name. Because changes are recomputed from the whole sorted
 * sequence, arrival order does not matter: a late older observation slots into history, and a rebuild
 * reproduces the same changes.
 *
 * One change per point, of one type:
 * - company_change: the company differs (tiers before and after are recorded, whatever they are);
 * - promotion: same company, title differs, seniority tier higher;
 * - lateral_move: same company, title differs, same tier, and both departments known and different;
 * - title_change: same company, title differs, anything else (same tier in the same or an unknown department,
 *   or a lower tier: tier drops are recorded with both tiers, not called demotions).
 *
 * Fill-only sources (leads, HubSpot: rank 0 in the fold's precedence) are not points: CRM job titles lag
 * LinkedIn and would make people flip between the two.
 */
import { normaliseCompanyName } from '../snapshots/company-ref';
import { precedenceKey } from '../snapshots/fold';

export const CHANGE_TYPES = ['company_change', 'promotion', 'title_change', 'lateral_move'] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];

/** Changes that count as a new job for `recentJobChange` (a title_change is often a rewording of the same job). */
export const JOB_CHANGE_TYPES: readonly ChangeType[] = ['company_change', 'promotion', 'lateral_move'];
export const RECENT_JOB_CHANGE_DAYS = 90;

/** A person's job as one observation (or the carried-forward state) shows it. */
export interface JobState {
  title: string | null;
  company: string | null;
  companyId: string | null;
  seniorityLevel: number | null;
  seniorityTier: string | null;
  department: string | null;
}

export interface ChangePoint extends JobState {
  observationId: number;
  observedAt: Date;
}

export interface PersonChange {
  type: ChangeType;
  observationId: number;
  changedAt: Date;
  previousObservationId: number;
  previousObservedAt: Date;
  before: JobState;
  after: JobState;
}

/** The observation row fields a point needs (what the person fold loads anyway). */
export interface PointSource {
  id: number;
  observed_at: Date;
  company_id: string | null;
}

const RANK_ONLY = { visitWindowMs: 0 };

/**
 * The point an observation contributes, from the same person fields the fold uses (`contribution.person`),
 * or null when it says nothing usable about title or company.
 */
export function changePointOf(
  row: PointSource,
  contribution: { source: string; person: Record<string, unknown> },
): ChangePoint | null {
  const origin = { observationId: row.id, source: contribution.source, observedAt: row.observed_at };
  if (precedenceKey(origin, RANK_ONLY)[0] === 0) return null;
  const person = contribution.person;
  const level = numberOrNull(person.seniorityLevel);
  // The classifier gives no level to placeholders ("N/A", "--"): they carry no title.
  const title = level === null ? null : textOrNull(person.currentTitle);
  const company = textOrNull(person.currentCompany);
  if (title === null && company === null) return null;
  return {
    observationId: row.id,
    observedAt: row.observed_at,
    title,
    company,
    companyId: company === null ? null : row.company_id,
    seniorityLevel: title === null ? null : level,
    seniorityTier: title === null ? null : textOrNull(person.seniorityTier),
    department: title === null ? null : textOrNull(person.department),
  };
}

/** Every change in a person's history, oldest first. Independent of the order of `points`. */
export function deriveChanges(points: readonly (ChangePoint | null)[]): PersonChange[] {
  const sorted = points
    .filter((point): point is ChangePoint => point !== null)
    .sort((a, b) => a.observedAt.getTime() - b.observedAt.getTime() || a.observationId - b.observationId);
  const changes: PersonChange[] = [];
  let previous: ChangePoint | undefined;
  let state: JobState | undefined;
  for (const point of sorted) {
    if (!previous || !state) {
      previous = point;
      state = jobOf(point);
      continue;
    }
    const next = advance(state, point);
    const type = changeBetween(state, point, next);
    if (type) {
      changes.push({
        type,
        observationId: point.observationId,
        changedAt: point.observedAt,
        previousObservationId: previous.observationId,
        previousObservedAt: previous.observedAt,
        before: state,
        after: next,
      });
    }
    previous = point;
    state = next;
  }
  return changes;
}

/** The newest stored change of a person, as the incremental check needs it. */
export interface LatestChange {
  observationId: number;
  changedAt: Date;
  after: JobState;
}

/**
 * For a write path that folds one new observation into a person without loading the others: true when the
 * observation provably leaves the person's changes as they are, so no refold is needed for them. False means:
 * refold the person (which re-derives its changes).
 *
 * - No point: nothing to change.
 * - The person has changes: every point after the newest one shows its `after` state, so a point later than it
 *   that shows the same state changes nothing.
 * - No changes yet: every point shows one state, which the snapshot's title/company group holds when one
 *   LinkedIn-sourced observation supplied both; a point that matches it changes nothing, wherever it falls.
 *
 * Relies on what Phase 2 guarantees: an observation naming a company is linked to a company id unless the name
 * identifies nothing ("Self-employed", "Confidential"). (Where one name sometimes has an id and sometimes not,
 * a carried name can matter to a later id-less point that this check cannot see.)
 */
export function keepsChanges(
  point: ChangePoint | null,
  latest: LatestChange | null,
  snapshot: Record<string, unknown>,
): boolean {
  if (point === null) return true;
  if (latest) {
    const later =
      point.observedAt.getTime() > latest.changedAt.getTime() ||
      (point.observedAt.getTime() === latest.changedAt.getTime() &&
        point.observationId > latest.observationId);
    return later && matches(latest.after, point);
  }
  const state = snapshotState(snapshot);
  return state !== null && matches(state, point);
}

/**
 * The point shows `state` exactly as later comparisons see it: same title, same company name (even when the ids
 * already agree, since a later point without an id compares names) and no field or company id the state lacks
 * (points this check cannot see may have filled it).
 */
function matches(state: JobState, point: ChangePoint): boolean {
  if (point.title !== null && (state.title === null || !sameTitle(state.title, point.title))) return false;
  if (point.company !== null && (state.company === null || !sameCompanyName(state.company, point.company))) {
    return false;
  }
  if (point.companyId !== null && point.companyId !== state.companyId) return false;
  return changeBetween(state, point, advance(state, point)) === null;
}

function snapshotState(snapshot: Record<string, unknown>): JobState | null {
  const meta = (snapshot._meta ?? {}) as Record<string, { observationId?: unknown; source?: unknown }>;
  const title = textOrNull(snapshot.currentTitle);
  const company = textOrNull(snapshot.currentCompany);
  const titleOrigin = meta.currentTitle;
  if (title === null || !titleOrigin) return null;
  // A title without a company is a state too (the group came from one observation that named no company).
  if (company !== null && titleOrigin.observationId !== meta.currentCompany?.observationId) return null;
  const origin = { observationId: 0, source: String(titleOrigin.source), observedAt: new Date(0) };
  if (precedenceKey(origin, RANK_ONLY)[0] === 0) return null;
  return {
    title,
    company,
    companyId: textOrNull(snapshot.companyId),
    seniorityLevel: numberOrNull(snapshot.seniorityLevel),
    seniorityTier: textOrNull(snapshot.seniorityTier),
    department: textOrNull(snapshot.department),
  };
}

function jobOf(point: ChangePoint): JobState {
  return {
    title: point.title,
    company: point.company,
    companyId: point.companyId,
    seniorityLevel: point.seniorityLevel,
    seniorityTier: point.seniorityTier,
    department: point.department,
  };
}

/** The state after `point`: its own fields, the state's where it has none. */
function advance(state: JobState, point: ChangePoint): JobState {
  const titled = point.title === null ? state : point;
  let company = state.company;
  let companyId = state.companyId;
  if (point.company !== null) {
    company = point.company;
    // A point naming the state's company without an id is that same company.
    companyId =
      point.companyId ??
      (state.company !== null && sameCompanyName(state.company, point.company) ? state.companyId : null);
  }
  return {
    title: titled.title,
    company,
    companyId,
    seniorityLevel: titled.seniorityLevel,
    seniorityTier: titled.seniorityTier,
    department: titled.department,
  };
}

function changeBetween(before: JobState, point: ChangePoint, after: JobState): ChangeType | null {
  const companyChanged = before.company !== null && point.company !== null && !sameCompany(before, after);
  if (companyChanged) return 'company_change';
  const titleChanged = before.title !== null && point.title !== null && !sameTitle(before.title, point.title);
  if (!titleChanged) return null;
  const from = before.seniorityLevel;
  const to = after.seniorityLevel;
  if (from !== null && to !== null) {
    if (to > from) return 'promotion';
    if (to === from && before.department && after.department && before.department !== after.department) {
      return 'lateral_move';
    }
  }
  return 'title_change';
}

function sameTitle(a: string, b: string): boolean {
  return a === b || titleKey(a) === titleKey(b);
}

function sameCompany(a: JobState, b: JobState): boolean {
  if (a.companyId !== null && b.companyId !== null) return a.companyId === b.companyId;
  return a.company !== null && b.company !== null && sameCompanyName(a.company, b.company);
}

function sameCompanyName(a: string, b: string): boolean {
  return a === b || companyKey(a) === companyKey(b);
}

function companyKey(name: string): string {
  return normaliseCompanyName(name) ?? name.trim().toLowerCase();
}

export function titleKey(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}+#]+/gu, ' ')
    .trim();
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}
