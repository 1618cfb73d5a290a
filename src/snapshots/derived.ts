import type { Role } from './fields';
import { foldForKey } from './normalise';

export interface DerivedMetrics {
  /** Unbroken time at the employer of the first current role, across promotions; null when undated. */
  yearsAtCurrentCompany: number | null;
  /** Time covered by at least one dated role; overlapping roles are counted once. */
  totalTenureYears: number | null;
  rolesCount: number;
  /** Mean length of the dated roles. */
  averageTenureYears: number | null;
}

/** Months between consecutive roles at one employer that still count as one unbroken stay. */
const SAME_EMPLOYER_GAP_MONTHS = 1;

interface Span {
  start: number;
  end: number;
}

/**
 * Tenure metrics from a roles timeline, in years to one decimal. Dates are month-precise and inclusive
 * (Jan–Dec 2020 is one year, as LinkedIn counts); a missing start month reads as January and a missing
 * end month as December; a current role runs to `asOf`. Roles without a start, and roles that have not
 * started by `asOf`, are left out of the tenure figures but still counted in `rolesCount`.
 */
export function deriveMetrics(roles: Role[] | undefined, asOf: Date): DerivedMetrics {
  // Typed input, but roles come from stored JSON: anything that is not an object is skipped, not thrown on.
  const list = Array.isArray(roles) ? roles.filter((role) => typeof role === 'object' && role !== null) : [];
  const now = monthIndexOf(asOf);
  const dated = Number.isFinite(now) ? list.map((role) => ({ role, span: spanOf(role, now) })) : [];
  const spans = dated.map(({ span }) => span).filter((span) => span !== null);
  return {
    yearsAtCurrentCompany: yearsAtCurrentCompany(dated),
    totalTenureYears: spans.length === 0 ? null : toYears(totalLength(mergeSpans(spans, 0))),
    rolesCount: list.length,
    averageTenureYears: spans.length === 0 ? null : toYears(totalLength(spans) / spans.length),
  };
}

/** Fractional months since year 0, so spans are plain number ranges. */
function monthIndexOf(date: Date): number {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) return Number.NaN;
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  const daysInMonth = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return year * 12 + month + (date.getUTCDate() - 1) / daysInMonth;
}

function spanOf(role: Role, now: number): Span | null {
  if (!isYear(role.startYear)) return null;
  const start = role.startYear * 12 + monthOrDefault(role.startMonth, 1) - 1;
  const end = endOf(role, now);
  if (end === null) return null;
  const clampedEnd = Math.min(end, now);
  return clampedEnd > start ? { start, end: clampedEnd } : null;
}

function endOf(role: Role, now: number): number | null {
  if (isYear(role.endYear)) return role.endYear * 12 + monthOrDefault(role.endMonth, 12);
  return role.isCurrent === true ? now : null;
}

function isYear(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value);
}

function monthOrDefault(month: number | null, fallback: number): number {
  return typeof month === 'number' && Number.isInteger(month) && month >= 1 && month <= 12 ? month : fallback;
}

function yearsAtCurrentCompany(dated: readonly { role: Role; span: Span | null }[]): number | null {
  const current = dated.find(({ role }) => role.isCurrent);
  if (current === undefined || current.span === null) return null;
  const employer = employerKey(current.role);
  const sameEmployer =
    employer === null
      ? [current.span]
      : dated
          .filter(({ role }) => employerKey(role) === employer)
          .flatMap(({ span }) => (span === null ? [] : [span]));
  const currentSpan = current.span;
  const stay = mergeSpans(sameEmployer, SAME_EMPLOYER_GAP_MONTHS).find(
    (block) => block.start <= currentSpan.start && block.end >= currentSpan.end,
  );
  return stay === undefined ? null : toYears(stay.end - stay.start);
}

function employerKey(role: Role): string | null {
  return typeof role.companyName === 'string' && role.companyName.trim() !== ''
    ? foldForKey(role.companyName)
    : null;
}

/** Union of spans; spans separated by at most `gap` months are joined. */
function mergeSpans(spans: readonly Span[], gap: number): Span[] {
  const merged: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span.start <= last.end + gap) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

function totalLength(spans: readonly Span[]): number {
  return spans.reduce((sum, span) => sum + (span.end - span.start), 0);
}

function toYears(months: number): number {
  return Math.round((months / 12) * 10) / 10;
}
