import type { IdentifierKind } from '../identity/identifiers';
import { IDENTIFIER_PRIORITY } from '../identity/identifiers';
import type { Queryable } from './format';
import { EXACT_COUNT_LIMIT, percent, SharedCounts } from './format';
import { unfinishedProfileObservations } from './parity';

/** How much of a set of references points at canonical entities. */
export interface LinkCoverage {
  total: number;
  linked: number;
  unlinked: number;
  percent: number | null;
}

function coverage(total: number, linked: number): LinkCoverage {
  return { total, linked, unlinked: total - linked, percent: percent(linked, total) };
}

export interface IdentityCoverageReport {
  live_persons: number;
  with_sales_nav_id: number;
  with_member_id: number;
  with_both: number;
  with_stable_id: LinkCoverage;
  without_stable_id: number;
  aliases_by_kind: { counts: Record<IdentifierKind, number>; estimated: boolean };
  recommendations: string[];
  definitions: Record<string, string>;
}

export const IDENTITY_DEFINITIONS: Record<string, string> = {
  with_sales_nav_id: 'Live persons holding a Sales Navigator id (ACw..., ACo...) alias, exact.',
  with_member_id: 'Live persons holding a LinkedIn member number alias, exact.',
  with_stable_id:
    'Live persons holding either: their identity cannot drift. percent = 100 x linked / live persons, one decimal.',
  without_stable_id:
    'Live persons known only by a profile URL, username, recruiter or Sales Navigator URL, Dux-Soup id or email. ' +
    'They merge automatically when a later event carries their stable id together with one of these.',
  aliases_by_kind:
    'Aliases per identifier kind (every alias belongs to a live person: merges move them to the survivor). Exact ' +
    'below 200 000 aliases; above (estimated: true), the kinds ANALYZE found common are reltuples x their sampled ' +
    'frequency (typically within a few percent) and the rare ones are counted exactly.',
};

interface IdentityRow {
  with_stable: number;
  with_sales_nav: number;
  with_member: number;
  with_both: number;
}

/** Identity strength of live persons (what the reference called coverage by `_id` shape). */
export async function identityCoverageReport(
  db: Queryable,
  shared = new SharedCounts(db),
): Promise<IdentityCoverageReport> {
  const [live, identity, aliases] = await Promise.all([
    shared.livePersons(),
    // One pass over person_aliases_stable_idx, in person order.
    db.query<IdentityRow>(
      `SELECT count(*) AS with_stable,
              count(*) FILTER (WHERE has_sales_nav) AS with_sales_nav,
              count(*) FILTER (WHERE has_member) AS with_member,
              count(*) FILTER (WHERE has_sales_nav AND has_member) AS with_both
         FROM (SELECT person_id, bool_or(kind = 'sales_nav_id') AS has_sales_nav,
                      bool_or(kind = 'member_id') AS has_member
                 FROM person_aliases WHERE kind IN ('sales_nav_id', 'member_id')
                GROUP BY person_id) AS stable`,
    ),
    aliasCountsByKind(db),
  ]);
  const row = identity.rows[0]!;
  const withoutStable = live - row.with_stable;
  const recommendations: string[] = [];
  if (withoutStable > 0) {
    recommendations.push(
      `${withoutStable} people have no Sales Navigator id or member number yet: run \`npm run ops -- relink\` to ` +
        're-resolve them now that more events have arrived.',
    );
  }
  return {
    live_persons: live,
    with_sales_nav_id: row.with_sales_nav,
    with_member_id: row.with_member,
    with_both: row.with_both,
    with_stable_id: coverage(live, row.with_stable),
    without_stable_id: withoutStable,
    aliases_by_kind: aliases,
    recommendations,
    definitions: IDENTITY_DEFINITIONS,
  };
}

/**
 * Aliases per kind. Up to `exactLimit` aliases: counted. Above: the kinds ANALYZE found common are estimated
 * (reltuples x their sampled frequency), and the rare ones, absent from its most-common list, are counted
 * exactly along the primary key (kind, value): cheap precisely because they are rare.
 */
export async function aliasCountsByKind(
  db: Queryable,
  exactLimit = EXACT_COUNT_LIMIT,
): Promise<{ counts: Record<IdentifierKind, number>; estimated: boolean }> {
  const counts = Object.fromEntries(IDENTIFIER_PRIORITY.map((kind) => [kind, 0])) as Record<
    IdentifierKind,
    number
  >;
  const stats = await db.query<{ reltuples: number; kinds: string[] | null; freqs: number[] | null }>(
    `SELECT c.reltuples::float8 AS reltuples, s.most_common_vals::text::text[] AS kinds,
            s.most_common_freqs::float8[] AS freqs
       FROM pg_class c
       LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'person_aliases'
                           AND s.attname = 'kind'
      WHERE c.oid = to_regclass('person_aliases')`,
  );
  const { reltuples = -1, kinds = null, freqs = null } = stats.rows[0] ?? {};
  const estimated = reltuples > exactLimit && kinds !== null && freqs !== null;
  const common = new Set<string>();
  if (estimated) {
    kinds.forEach((kind, index) => {
      if (!(kind in counts)) return;
      counts[kind as IdentifierKind] = Math.round(reltuples * (freqs[index] ?? 0));
      common.add(kind);
    });
  }
  const counted = IDENTIFIER_PRIORITY.filter((kind) => !common.has(kind));
  const exact = await db.query<{ kind: string; count: number }>(
    'SELECT kind, count(*) AS count FROM person_aliases WHERE kind = ANY($1) GROUP BY kind',
    [counted],
  );
  for (const row of exact.rows) counts[row.kind as IdentifierKind] = row.count;
  return { counts, estimated };
}

export interface CanonicalCoverageReport {
  observations_to_persons: LinkCoverage & { skipped: number; pending: number; dead: number };
  persons_to_companies: LinkCoverage;
  persons_to_locations: LinkCoverage;
  definitions: Record<string, string>;
}

export const CANONICAL_DEFINITIONS: Record<string, string> = {
  observations_to_persons:
    'Visits and scans (all time): linked = resolved to a canonical person; unlinked = skipped (no identifier) + ' +
    'pending + dead. percent = 100 x linked / total, one decimal.',
  persons_to_companies:
    'Live persons whose current role names a company: linked = those whose company resolved to a canonical ' +
    'company (current_company_id).',
  persons_to_locations:
    'Live persons: linked = those whose location resolved to a canonical location (location_id). A location ' +
    'that cannot be parsed is not recorded, so unlinked means "no usable location".',
};

interface LinkRow {
  naming_company: number;
  company_linked: number;
  location_linked: number;
}

/** How much of what refers to a person, company or location resolves to the canonical entity. */
export async function canonicalCoverageReport(
  db: Queryable,
  shared = new SharedCounts(db),
): Promise<CanonicalCoverageReport> {
  const [profile, unfinished, live, links] = await Promise.all([
    shared.profileObservations(),
    unfinishedProfileObservations(db),
    shared.livePersons(),
    personLinks(db, shared),
  ]);
  const total = profile.visits + profile.scans;
  const unlinked = unfinished.skipped + unfinished.pending + unfinished.dead;
  return {
    observations_to_persons: { ...coverage(total, total - unlinked), ...unfinished },
    persons_to_companies: coverage(links.naming_company, links.company_linked),
    persons_to_locations: coverage(live, links.location_linked),
    definitions: CANONICAL_DEFINITIONS,
  };
}

/** Live persons naming a company, linked to a company and linked to a location: from the minority indexes. */
async function personLinks(db: Queryable, shared: SharedCounts): Promise<LinkRow> {
  const [live, { rows }] = await Promise.all([
    shared.livePersons(),
    db.query<{ no_company: number; company_unlinked: number; location_unlinked: number }>(
      `SELECT (SELECT count(*) FROM persons WHERE merged_into IS NULL AND current_company IS NULL) AS no_company,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND current_company_id IS NULL)
                AS company_unlinked,
              (SELECT count(*) FROM persons WHERE merged_into IS NULL AND location_id IS NULL) AS location_unlinked`,
    ),
  ]);
  const row = rows[0]!;
  return {
    naming_company: live - row.no_company,
    company_linked: live - row.company_unlinked,
    location_linked: live - row.location_unlinked,
  };
}

export interface CompanyCoverageReport {
  persons: LinkCoverage;
  companies: {
    live: number;
    merged: number;
    with_linkedin_id: LinkCoverage;
    with_domain: LinkCoverage;
    with_industry: LinkCoverage;
    without_observations: number;
  };
  definitions: Record<string, string>;
}

export const COMPANY_DEFINITIONS: Record<string, string> = {
  persons: CANONICAL_DEFINITIONS.persons_to_companies!,
  'companies.live / merged': 'Canonical companies, and those merged into another (tombstones).',
  'companies.with_linkedin_id':
    'Live companies whose snapshot has a LinkedIn company id (the strongest key).',
  'companies.with_domain': 'Live companies with a website domain.',
  'companies.with_industry': 'Live companies with an industry.',
  'companies.without_observations':
    'Live companies no observation is linked to any more (every person moved on or was merged away).',
};

interface CompanyRow {
  live: number;
  merged: number;
  with_linkedin_id: number;
  with_domain: number;
  with_industry: number;
  without_observations: number;
}

/** Canonical companies: how well people link to them, and how complete they are. */
export async function companyCoverageReport(
  db: Queryable,
  shared = new SharedCounts(db),
): Promise<CompanyCoverageReport> {
  const [links, { rows }] = await Promise.all([
    personLinks(db, shared),
    db.query<CompanyRow>(
      `SELECT count(*) FILTER (WHERE merged_into IS NULL) AS live,
            count(*) FILTER (WHERE merged_into IS NOT NULL) AS merged,
            count(*) FILTER (WHERE merged_into IS NULL AND snapshot ? 'linkedinId') AS with_linkedin_id,
            count(*) FILTER (WHERE merged_into IS NULL AND snapshot ? 'domain') AS with_domain,
            count(*) FILTER (WHERE merged_into IS NULL AND snapshot ? 'industry') AS with_industry,
            count(*) FILTER (WHERE merged_into IS NULL AND observations_count = 0) AS without_observations
       FROM companies`,
    ),
  ]);
  const row = rows[0]!;
  return {
    persons: coverage(links.naming_company, links.company_linked),
    companies: {
      live: row.live,
      merged: row.merged,
      with_linkedin_id: coverage(row.live, row.with_linkedin_id),
      with_domain: coverage(row.live, row.with_domain),
      with_industry: coverage(row.live, row.with_industry),
      without_observations: row.without_observations,
    },
    definitions: COMPANY_DEFINITIONS,
  };
}

export interface LocationCoverageReport {
  persons: LinkCoverage;
  locations: {
    total: number;
    with_city: LinkCoverage;
    with_state: LinkCoverage;
    with_country: LinkCoverage;
    without_observations: number;
  };
  definitions: Record<string, string>;
}

export const LOCATION_DEFINITIONS: Record<string, string> = {
  persons: CANONICAL_DEFINITIONS.persons_to_locations!,
  'locations.total': 'Canonical locations (one per normalised parsed place; never merged).',
  'locations.with_city / with_state / with_country':
    'Locations whose parsed form has a city / a state or region / a country code.',
  'locations.without_observations': 'Locations no observation is linked to any more.',
};

interface LocationRow {
  total: number;
  with_city: number;
  with_state: number;
  with_country: number;
  without_observations: number;
}

/** Canonical locations: how well people link to them, and how precisely they are parsed. */
export async function locationCoverageReport(
  db: Queryable,
  shared = new SharedCounts(db),
): Promise<LocationCoverageReport> {
  const [live, links, { rows }] = await Promise.all([
    shared.livePersons(),
    personLinks(db, shared),
    db.query<LocationRow>(
      `SELECT count(*) AS total,
            count(*) FILTER (WHERE snapshot ? 'city') AS with_city,
            count(*) FILTER (WHERE snapshot ? 'state') AS with_state,
            count(*) FILTER (WHERE snapshot ? 'countryCode') AS with_country,
            count(*) FILTER (WHERE observations_count = 0) AS without_observations
       FROM locations`,
    ),
  ]);
  const row = rows[0]!;
  return {
    persons: coverage(live, links.location_linked),
    locations: {
      total: row.total,
      with_city: coverage(row.total, row.with_city),
      with_state: coverage(row.total, row.with_state),
      with_country: coverage(row.total, row.with_country),
      without_observations: row.without_observations,
    },
    definitions: LOCATION_DEFINITIONS,
  };
}
