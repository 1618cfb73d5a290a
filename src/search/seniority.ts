/**
 * Seniority and department read models over live people. Every figure is a GROUP BY over the generated columns
 * persons.seniority_level / persons.department (migration 005) with current_company_id or location_id, answered
 * by index-only scans of persons_seniority_groups_idx: no snapshot is read except for the few rows a page shows.
 */
import type { Pool } from '../db/pool';
import type { Department, SeniorityTier, SeniorityTierName } from '../intelligence/seniority';
import { DEPARTMENTS, SENIORITY_TIERS } from '../intelligence/seniority';

/** VP and above: the people "leaders per company" lists. */
export const LEADER_MIN_LEVEL = 5;

const TIER_OF_LEVEL = new Map<number, SeniorityTier>(SENIORITY_TIERS.map((tier) => [tier.level, tier]));

/** The tier name of a stored level; null for people without a usable title. */
export function tierName(level: number | null): SeniorityTierName | null {
  return level === null ? null : (TIER_OF_LEVEL.get(level)?.name ?? null);
}

/** "5", "VP", "vp", "Managing Director", "managing-director", "in_training"; null for anything else. */
export function parseTier(value: string): SeniorityTier | null {
  const text = value.trim();
  if (/^[1-8]$/.test(text)) return TIER_OF_LEVEL.get(Number(text)) ?? null;
  const name = text.toLowerCase().replace(/[\s_-]+/g, ' ');
  return SENIORITY_TIERS.find((tier) => tier.name.toLowerCase() === name) ?? null;
}

export interface Share {
  count: number;
  /** Of all live people, 0-100 with two decimals. */
  percentage: number;
}

export interface TierShare extends Share {
  level: number;
  tier: SeniorityTierName;
}

export interface DepartmentShare extends Share {
  department: Department;
}

export interface SeniorityDistribution {
  total: number;
  /** All eight tiers, highest first. */
  tiers: TierShare[];
  /** People without a usable current title. */
  unclassified: Share;
  /** All twelve departments, in the classifier's order. */
  departments: DepartmentShare[];
  /** People whose title names no department (including those without a title). */
  noDepartment: Share;
}

interface Counted {
  level: number | null;
  n: number;
}

interface GroupRow extends Counted {
  department: string | null;
}

const LEVEL_DEPARTMENT_GROUPS = `SELECT seniority_level AS level, department, count(*)::int AS n
                                   FROM persons WHERE merged_into IS NULL
                                  GROUP BY 1, 2`;

/** The row's department if it is one of the twelve (anything else counts as none). */
function departmentOf(row: GroupRow): Department | null {
  return (DEPARTMENTS as readonly (string | null)[]).includes(row.department)
    ? (row.department as Department)
    : null;
}

function share(count: number, total: number): Share {
  return { count, percentage: total === 0 ? 0 : Math.round((10_000 * count) / total) / 100 };
}

function sumWhere<T extends { n: number }>(rows: readonly T[], keep: (row: T) => boolean): number {
  return rows.reduce((sum, row) => (keep(row) ? sum + row.n : sum), 0);
}

export async function seniorityDistribution(pool: Pool): Promise<SeniorityDistribution> {
  const { rows } = await pool.query<GroupRow>(LEVEL_DEPARTMENT_GROUPS);
  const total = sumWhere(rows, () => true);
  return {
    total,
    tiers: SENIORITY_TIERS.map((tier) => ({
      level: tier.level,
      tier: tier.name,
      ...share(
        sumWhere(rows, (row) => row.level === tier.level),
        total,
      ),
    })),
    unclassified: share(
      sumWhere(rows, (row) => tierName(row.level) === null),
      total,
    ),
    departments: DEPARTMENTS.map((department) => ({
      department,
      ...share(
        sumWhere(rows, (row) => row.department === department),
        total,
      ),
    })),
    noDepartment: share(
      sumWhere(rows, (row) => departmentOf(row) === null),
      total,
    ),
  };
}

export interface PersonSummary {
  id: string;
  fullName: string | null;
  currentTitle: string | null;
  currentCompany: string | null;
  companyId: string | null;
  location: string | null;
  seniorityLevel: number | null;
  seniorityTier: string | null;
  department: string | null;
  lastObservedAt: string | null;
}

interface PersonRow {
  id: string;
  full_name: string | null;
  current_title: string | null;
  current_company: string | null;
  current_company_id: string | null;
  location: string | null;
  seniority_level: number | null;
  department: string | null;
  last_observed_at: Date | null;
}

const PERSON_COLUMNS = `p.id, p.full_name, p.current_title, p.current_company, p.current_company_id,
       p.snapshot ->> 'location' AS location, p.seniority_level, p.department, p.last_observed_at`;

function toSummary(row: PersonRow): PersonSummary {
  return {
    id: row.id,
    fullName: row.full_name,
    currentTitle: row.current_title,
    currentCompany: row.current_company,
    companyId: row.current_company_id,
    location: row.location,
    seniorityLevel: row.seniority_level,
    seniorityTier: tierName(row.seniority_level),
    department: row.department,
    lastObservedAt: row.last_observed_at?.toISOString() ?? null,
  };
}

export interface TierPage {
  people: PersonSummary[];
  hasMore: boolean;
}

/** One tier's people, most recently observed first (persons_seniority_recent_idx). */
export async function peopleInTier(
  pool: Pool,
  tier: SeniorityTier,
  page: { limit: number; skip: number },
): Promise<TierPage> {
  const { rows } = await pool.query<PersonRow>(
    `SELECT ${PERSON_COLUMNS}
       FROM persons p
      WHERE p.merged_into IS NULL AND p.seniority_level = $1
      ORDER BY p.last_observed_at DESC, p.id
      LIMIT $2 OFFSET $3`,
    [tier.level, page.limit + 1, page.skip],
  );
  return { people: rows.slice(0, page.limit).map(toSummary), hasMore: rows.length > page.limit };
}

export interface TierCount {
  level: number;
  tier: SeniorityTierName;
  count: number;
}

export interface TierBreakdown {
  total: number;
  /** All eight tiers, highest first. */
  tiers: TierCount[];
  unclassified: number;
}

export interface SeniorityAnalysis {
  total: number;
  byCompany: (TierBreakdown & { companyId: string; company: string | null })[];
  byDepartment: (TierBreakdown & { department: Department | null })[];
  byLocation: (TierBreakdown & { country: string })[];
  leadersPerCompany: {
    companyId: string;
    company: string | null;
    leaderCount: number;
    leaders: PersonSummary[];
  }[];
}

export interface AnalysisOptions {
  /** How many companies (by headcount, and by leaders) and countries to report. */
  top: number;
  /** How many leaders to name per company (most senior, then most recently seen). */
  leadersPerCompany: number;
}

function breakdown(rows: readonly Counted[]): TierBreakdown {
  const tiers = SENIORITY_TIERS.map((tier) => ({
    level: tier.level,
    tier: tier.name,
    count: sumWhere(rows, (row) => row.level === tier.level),
  }));
  const total = sumWhere(rows, () => true);
  return { total, tiers, unclassified: total - tiers.reduce((sum, tier) => sum + tier.count, 0) };
}

/** Groups rows by key, keeping the order in which keys first appear. */
function groupInOrder<T, K>(rows: readonly T[], keyOf: (row: T) => K): [K, T[]][] {
  const groups = new Map<K, T[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.entries()];
}

/** A company's display name: its snapshot's, else (before the refresher has named it) one of its people's. */
const COMPANY_NAME = `coalesce(c.name, (SELECT p.current_company FROM persons p
                                        WHERE p.current_company_id = t.company_id AND p.merged_into IS NULL
                                          AND p.current_company IS NOT NULL
                                        LIMIT 1))`;

/**
 * One pass over (company, level) serves both company rankings: the largest companies (with every level row of
 * each, for the breakdown) and the companies with the most leaders. $1 top, $2 the lowest leader level.
 */
const COMPANY_RANKINGS = `
WITH per_company AS MATERIALIZED (
  SELECT current_company_id AS company_id, seniority_level AS level, count(*)::int AS n
    FROM persons
   WHERE merged_into IS NULL AND current_company_id IS NOT NULL
   GROUP BY 1, 2
), totals AS MATERIALIZED (
  SELECT company_id, sum(n)::int AS total, (coalesce(sum(n) FILTER (WHERE level >= $2), 0))::int AS leaders
    FROM per_company
   GROUP BY 1
), largest AS (
  SELECT company_id FROM totals ORDER BY total DESC, company_id LIMIT $1
), most_leaders AS (
  SELECT company_id FROM totals WHERE leaders > 0 ORDER BY leaders DESC, company_id LIMIT $1
), t AS (
  SELECT totals.*, company_id IN (SELECT company_id FROM largest) AS largest,
         company_id IN (SELECT company_id FROM most_leaders) AS most_leaders
    FROM totals
   WHERE company_id IN (SELECT company_id FROM largest UNION SELECT company_id FROM most_leaders)
)
SELECT t.company_id, ${COMPANY_NAME} AS company, t.total, t.leaders, t.largest, t.most_leaders, pc.level, pc.n
  FROM t
  JOIN per_company pc USING (company_id)
  LEFT JOIN companies c ON c.id = t.company_id`;

/** Countries come from the location snapshots (parsed once per location, not per person). */
const BY_COUNTRY = `
SELECT l.snapshot ->> 'country' AS country, x.level, sum(x.n)::int AS n
  FROM (SELECT location_id, seniority_level AS level, count(*)::int AS n
          FROM persons
         WHERE merged_into IS NULL AND location_id IS NOT NULL
         GROUP BY 1, 2) x
  JOIN locations l ON l.id = x.location_id
 WHERE coalesce(l.snapshot ->> 'country', '') <> ''
 GROUP BY 1, 2`;

/** The most senior, then most recently seen, leaders of each company. $1 companies, $2 lowest level, $3 per company. */
const LEADERS_OF = `
SELECT c.company_id, l.*
  FROM unnest($1::uuid[]) AS c(company_id)
  CROSS JOIN LATERAL (
    SELECT ${PERSON_COLUMNS}
      FROM persons p
     WHERE p.merged_into IS NULL AND p.current_company_id = c.company_id AND p.seniority_level >= $2
     ORDER BY p.seniority_level DESC, p.last_observed_at DESC, p.id
     LIMIT $3
  ) l
 ORDER BY c.company_id, l.seniority_level DESC, l.last_observed_at DESC, l.id`;

interface CompanyRow extends Counted {
  company_id: string;
  company: string | null;
  total: number;
  leaders: number;
  largest: boolean;
  most_leaders: boolean;
}

/** Descending by `count`, then by id: the order SQL picked the top companies in (uuids compare as text). */
function byCountThenId<T extends { id: string }>(count: (item: T) => number): (a: T, b: T) => number {
  return (a, b) => count(b) - count(a) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export async function seniorityAnalysis(pool: Pool, options: AnalysisOptions): Promise<SeniorityAnalysis> {
  const [groups, companyRows, countries] = await Promise.all([
    pool.query<GroupRow>(LEVEL_DEPARTMENT_GROUPS),
    pool.query<CompanyRow>(COMPANY_RANKINGS, [options.top, LEADER_MIN_LEVEL]),
    pool.query<Counted & { country: string }>(BY_COUNTRY),
  ]);

  const companies = groupInOrder(companyRows.rows, (row) => row.company_id).map(([id, rows]) => ({
    id,
    first: rows[0]!,
    breakdown: breakdown(rows),
  }));
  const largest = companies
    .filter((company) => company.first.largest)
    .sort(byCountThenId((company) => company.first.total));
  const mostLeaders = companies
    .filter((company) => company.first.most_leaders)
    .sort(byCountThenId((company) => company.first.leaders));

  const leaderRows = await pool.query<PersonRow & { company_id: string }>(LEADERS_OF, [
    mostLeaders.map((company) => company.id),
    LEADER_MIN_LEVEL,
    options.leadersPerCompany,
  ]);
  const leadersOf = new Map(groupInOrder(leaderRows.rows, (row) => row.company_id));

  const byDepartment = [...DEPARTMENTS, null]
    .map((department) => ({
      department,
      ...breakdown(groups.rows.filter((row) => departmentOf(row) === department)),
    }))
    .filter((entry) => entry.department !== null || entry.total > 0);

  const byLocation = groupInOrder(countries.rows, (row) => row.country)
    .map(([country, rows]) => ({ country, ...breakdown(rows) }))
    .sort((a, b) => b.total - a.total || (a.country < b.country ? -1 : a.country > b.country ? 1 : 0))
    .slice(0, options.top);

  return {
    total: sumWhere(groups.rows, () => true),
    byCompany: largest.map((company) => ({
      companyId: company.id,
      company: company.first.company,
      ...company.breakdown,
    })),
    byDepartment,
    byLocation,
    leadersPerCompany: mostLeaders.map((company) => ({
      companyId: company.id,
      company: company.first.company,
      leaderCount: company.first.leaders,
      leaders: (leadersOf.get(company.id) ?? []).map(toSummary),
    })),
  };
}
