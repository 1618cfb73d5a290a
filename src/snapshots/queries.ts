import type { Pool } from '../db/pool';
import type { Identifier } from '../identity/identifiers';
import {
  extractIdentifiers,
  identifiersFromLinkedInUrl,
  IDENTIFIER_PRIORITY,
  normaliseEmail,
  parseMemberId,
  parseSalesNavId,
} from '../identity/identifiers';
import { jobChangeStatusSql } from '../intelligence/changes-store';
import { deriveMetrics } from './derived';
import { withProvenanceValues } from './fold';
import type { Role } from './fields';
import { normaliseCompanyName } from './company-ref';
import { parseLocation } from './location';
import type { PersonHubspotContact } from '../sources/hubspot/reads';
import { hubspotContactsOfPerson } from '../sources/hubspot/reads';

const JOB_CHANGE = jobChangeStatusSql('p.id');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface PersonView {
  id: string;
  aliases: { type: string; value: string }[];
  snapshot: Record<string, unknown>;
  meta: { observationsCount: number; firstObservedAt: string | null; lastObservedAt: string | null };
  derived: Record<string, unknown>;
  mergedFrom?: string[];
  redirectedFrom?: string;
  leads?: Record<string, unknown>[];
  hubspot?: { contacts: PersonHubspotContact[] };
}

/** Every alias key a free-form value could be: URLs, ids, emails, usernames, or the value as stored. */
export function aliasCandidates(raw: string): { kind: string | null; value: string }[] {
  const text = raw.trim();
  if (text === '' || text.length > 2048) return [];
  const found: Identifier[] = [
    ...identifiersFromLinkedInUrl(text, 'lookup'),
    ...extractIdentifiers({ id: text }),
  ];
  const memberId = parseMemberId(text);
  if (memberId) found.push({ kind: 'member_id', value: memberId, display: memberId, field: 'lookup' });
  const salesId = parseSalesNavId(`https://www.linkedin.com/sales/lead/${text}`);
  if (salesId && /^AC[wo]AA/i.test(text)) {
    found.push({ kind: 'sales_nav_id', value: salesId.toLowerCase(), display: salesId, field: 'lookup' });
  }
  const email = normaliseEmail(text);
  if (email) found.push({ kind: 'email', value: email, display: email, field: 'lookup' });
  const candidates: { kind: string | null; value: string }[] = found
    .sort((a, b) => IDENTIFIER_PRIORITY.indexOf(a.kind) - IDENTIFIER_PRIORITY.indexOf(b.kind))
    .map(({ kind, value }) => ({ kind, value }));
  candidates.push({ kind: null, value: text.toLowerCase() });
  return candidates;
}

const COMPANY_ALIAS_KINDS = ['linkedin_id', 'slug', 'name_domain', 'name'];

async function resolveAliasTo(
  pool: Pool,
  table: 'person_aliases' | 'company_aliases',
  column: 'person_id' | 'company_id',
  candidates: { kind: string | null; value: string }[],
): Promise<string | null> {
  // A value of unknown kind is tried as every kind, so every look-up is a primary-key probe.
  const allKinds = table === 'person_aliases' ? IDENTIFIER_PRIORITY : COMPANY_ALIAS_KINDS;
  const probes = candidates.flatMap((candidate) =>
    candidate.kind === null ? allKinds.map((kind) => ({ kind, value: candidate.value })) : [candidate],
  );
  if (probes.length === 0) return null;
  const { rows } = await pool.query<{ id: string }>(
    `SELECT a.${column} AS id
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS c(kind, value, rank)
       JOIN ${table} a ON a.kind = c.kind AND a.value = c.value
      ORDER BY c.rank LIMIT 1`,
    [probes.map((c) => c.kind), probes.map((c) => c.value)],
  );
  return rows[0]?.id ?? null;
}

/** The live entity an id leads to, following merge tombstones. */
async function followTombstones(
  pool: Pool,
  table: 'persons' | 'companies',
  id: string,
): Promise<string | null> {
  const { rows } = await pool.query<{ id: string }>(
    `WITH RECURSIVE chain(id, merged_into, depth) AS (
       SELECT id, merged_into, 0 FROM ${table} WHERE id = $1
       UNION ALL
       SELECT e.id, e.merged_into, chain.depth + 1 FROM ${table} e JOIN chain ON e.id = chain.merged_into
        WHERE chain.depth < 32)
     SELECT id FROM chain WHERE merged_into IS NULL LIMIT 1`,
    [id],
  );
  return rows[0]?.id ?? null;
}

export async function findPersonId(
  pool: Pool,
  idOrAlias: string,
): Promise<{ id: string; redirectedFrom?: string } | null> {
  if (UUID.test(idOrAlias)) {
    const live = await followTombstones(pool, 'persons', idOrAlias.toLowerCase());
    if (live)
      return live === idOrAlias.toLowerCase()
        ? { id: live }
        : { id: live, redirectedFrom: idOrAlias.toLowerCase() };
  }
  const id = await resolveAliasTo(pool, 'person_aliases', 'person_id', aliasCandidates(idOrAlias));
  return id ? { id } : null;
}

export async function loadPerson(
  pool: Pool,
  idOrAlias: string,
  asOf = new Date(),
): Promise<PersonView | null> {
  const found = await findPersonId(pool, idOrAlias);
  if (!found) return null;
  const { rows } = await pool.query<{
    id: string;
    snapshot: Record<string, unknown>;
    observations_count: number;
    first_observed_at: Date | null;
    last_observed_at: Date | null;
    aliases: { type: string; value: string }[] | null;
    merged_from: string[] | null;
    recent_job_change: boolean;
    last_job_change_at: Date | null;
  }>(
    `SELECT p.id, p.snapshot, p.observations_count, p.first_observed_at, p.last_observed_at,
            ${JOB_CHANGE.recent} AS recent_job_change, ${JOB_CHANGE.lastAt} AS last_job_change_at,
            (SELECT jsonb_agg(jsonb_build_object('type', a.kind, 'value', a.display) ORDER BY a.kind, a.value)
               FROM person_aliases a WHERE a.person_id = p.id) AS aliases,
            (SELECT array_agg(m.id ORDER BY m.id) FROM persons m WHERE m.merged_into = p.id) AS merged_from
       FROM persons p WHERE p.id = $1`,
    [found.id],
  );
  const row = rows[0];
  if (!row) return null;
  const view: PersonView = {
    id: row.id,
    aliases: row.aliases ?? [],
    snapshot: withProvenanceValues(row.snapshot),
    meta: {
      observationsCount: row.observations_count,
      firstObservedAt: row.first_observed_at?.toISOString() ?? null,
      lastObservedAt: row.last_observed_at?.toISOString() ?? null,
    },
    derived: {
      ...deriveMetrics(row.snapshot.roles as Role[] | undefined, asOf),
      recentJobChange: row.recent_job_change,
      lastJobChangeAt: row.last_job_change_at?.toISOString() ?? null,
    },
  };
  if (row.merged_from && row.merged_from.length > 0) view.mergedFrom = row.merged_from;
  if (found.redirectedFrom) view.redirectedFrom = found.redirectedFrom;
  // The leads that resolved to this person, newest first (details: GET /api/leads/:id).
  const leads = await pool.query<Record<string, unknown>>(
    `SELECT l.id, l.status, l.created_at AS "createdAt", l.assigned_to AS "assignedTo", l.email,
            l.first_name AS "firstName", l.last_name AS "lastName", l.phone, l.country, l.offer, l.sourcetype
       FROM observations o JOIN leads l ON l.observation_id = o.id
      WHERE o.person_id = $1 AND o.source = 'lead'
      ORDER BY l.created_at DESC, l.id LIMIT 100`,
    [row.id],
  );
  if (leads.rows.length > 0) view.leads = leads.rows; // like mergedFrom: present only when there are some
  // The HubSpot contacts linked to this person (alias hubspot_contact_id), with their deals; present only when there
  // are some.
  const hubspotContacts = await hubspotContactsOfPerson(pool, row.id);
  if (hubspotContacts.length > 0) view.hubspot = { contacts: hubspotContacts };
  return view;
}

export interface CompanyView {
  id: string;
  aliases: { type: string; value: string }[];
  snapshot: Record<string, unknown>;
  meta: {
    observationsCount: number;
    peopleCount: number;
    firstObservedAt: string | null;
    lastObservedAt: string | null;
  };
  mergedFrom?: string[];
}

export async function loadCompany(pool: Pool, idOrAlias: string): Promise<CompanyView | null> {
  let id: string | null = null;
  if (UUID.test(idOrAlias)) id = await followTombstones(pool, 'companies', idOrAlias.toLowerCase());
  if (!id) {
    const text = idOrAlias.trim().toLowerCase();
    const numeric = /\/company\/(\d+)/.exec(text)?.[1] ?? (/^\d+$/.test(text) ? text : null);
    const slug = /\/company\/([^/?#]+)/.exec(text)?.[1];
    const decodedSlug = slug && !numeric ? safeDecode(slug) : undefined;
    const name = normaliseCompanyName(idOrAlias);
    const candidates = [
      ...(numeric ? [{ kind: 'linkedin_id', value: numeric }] : []),
      ...(decodedSlug ? [{ kind: 'slug', value: decodedSlug }] : []),
      ...(name ? [{ kind: 'name', value: name }] : []),
      { kind: null, value: text },
    ];
    id = await resolveAliasTo(pool, 'company_aliases', 'company_id', candidates);
  }
  if (!id) return null;
  const { rows } = await pool.query<{
    id: string;
    snapshot: Record<string, unknown>;
    observations_count: number;
    first_observed_at: Date | null;
    last_observed_at: Date | null;
    aliases: { type: string; value: string }[] | null;
    people: number;
    merged_from: string[] | null;
  }>(
    `SELECT c.id, c.snapshot, c.observations_count, c.first_observed_at, c.last_observed_at,
            (SELECT jsonb_agg(jsonb_build_object('type', a.kind, 'value', a.display) ORDER BY a.kind, a.value)
               FROM company_aliases a WHERE a.company_id = c.id) AS aliases,
            (SELECT count(*)::int FROM persons p WHERE p.current_company_id = c.id AND p.merged_into IS NULL) AS people,
            (SELECT array_agg(m.id ORDER BY m.id) FROM companies m WHERE m.merged_into = c.id) AS merged_from
       FROM companies c WHERE c.id = $1`,
    [id],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    aliases: row.aliases ?? [],
    snapshot: withProvenanceValues(row.snapshot),
    meta: {
      observationsCount: row.observations_count,
      peopleCount: row.people,
      firstObservedAt: row.first_observed_at?.toISOString() ?? null,
      lastObservedAt: row.last_observed_at?.toISOString() ?? null,
    },
    ...(row.merged_from && row.merged_from.length > 0 ? { mergedFrom: row.merged_from } : {}),
  };
}

export interface LocationView {
  id: string;
  key: string;
  aliases: string[];
  snapshot: Record<string, unknown>;
  meta: {
    observationsCount: number;
    peopleCount: number;
    firstObservedAt: string | null;
    lastObservedAt: string | null;
  };
}

export async function loadLocation(pool: Pool, idOrAlias: string): Promise<LocationView | null> {
  const text = idOrAlias.trim();
  const parsedKey = parseLocation(text)?.key ?? null;
  const { rows } = await pool.query<{
    id: string;
    key: string;
    snapshot: Record<string, unknown>;
    observations_count: number;
    first_observed_at: Date | null;
    last_observed_at: Date | null;
    aliases: string[] | null;
    people: number;
  }>(
    `SELECT l.id, l.key, l.snapshot, l.observations_count, l.first_observed_at, l.last_observed_at,
            (SELECT array_agg(a.value ORDER BY a.value) FROM location_aliases a WHERE a.location_id = l.id) AS aliases,
            (SELECT count(*)::int FROM persons p WHERE p.location_id = l.id AND p.merged_into IS NULL) AS people
       FROM locations l
      WHERE ($1::uuid IS NOT NULL AND l.id = $1::uuid)
         OR l.id = (SELECT location_id FROM location_aliases WHERE value = lower($2))
         OR l.key = $3
      LIMIT 1`,
    [UUID.test(text) ? text : null, text, parsedKey],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    id: row.id,
    key: row.key,
    aliases: row.aliases ?? [],
    snapshot: withProvenanceValues(row.snapshot),
    meta: {
      observationsCount: row.observations_count,
      peopleCount: row.people,
      firstObservedAt: row.first_observed_at?.toISOString() ?? null,
      lastObservedAt: row.last_observed_at?.toISOString() ?? null,
    },
  };
}

function safeDecode(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}
