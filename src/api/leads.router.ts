import { createHash } from 'node:crypto';
import type { Request } from 'express';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { Actor, LeadFilters, LeadStatus } from '../sources/leads';
import { getLead, LEAD_STATUSES, leadHistory, listLeads, updateLead } from '../sources/leads';
import { offeredApiKey } from './auth';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';
import { requestIdOf } from './request-context';

const PAGE = { defaultLimit: 50, maxLimit: 500 };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATE_ONLY = z.iso.date();
/** A timestamp without a zone is taken as UTC. */
const TIMESTAMP = z.iso.datetime({ offset: true, local: true });
const DAY_MS = 86_400_000;

const TEXT_FILTERS = ['assignedTo', 'sourcetype', 'offer', 'marker', 'domain', 'country', 'email'] as const;
const KNOWN_PARAMETERS = new Set<string>([...TEXT_FILTERS, 'status', 'from', 'to', 'limit', 'skip']);

const assignee = z.union([z.string().trim().min(1).max(200), z.number().int().transform(String), z.null()]);
// Exported for the OpenAPI document.
export const patchBody = z.strictObject({ status: z.unknown().optional(), assignedTo: assignee.optional() });

/** An actor name from X-Actor: printable, at most 200 characters. */
const ACTOR = /^[^\p{Cc}]{1,200}$/u;

/**
 * CRM operations on leads (API key): `GET /api/leads` (filters, pagination), `GET /api/leads/:id` (with the raw
 * request and the person), `PATCH /api/leads/:id` (status, assignee; audited), `GET /api/leads/:id/history`.
 */
export function leadsRouter(context: AppContext): Router {
  const router = Router();
  router.use('/leads', requireDatabase(context.database), ...readAccess(context.config));
  const pool = () => context.database.pool!;

  router.get('/leads', async (req, res) => {
    const unknown = Object.keys(req.query).filter((name) => !KNOWN_PARAMETERS.has(name));
    if (unknown.length > 0) {
      throw new ApiError('INVALID_REQUEST', `unknown parameter ${unknown.join(', ')}`, {
        allowed: [...KNOWN_PARAMETERS],
      });
    }
    const filters = filtersOf(req);
    const page = pageOf(req);
    const result = await listLeads(pool(), filters, page);
    const hasMore = page.skip + result.items.length < result.totalCount;
    res.json({
      success: true,
      data: result.items,
      pagination: {
        count: result.items.length,
        totalCount: result.totalCount,
        skip: page.skip,
        limit: page.limit,
        hasMore,
        nextSkip: hasMore ? page.skip + result.items.length : null,
      },
    });
  });

  router.get('/leads/:id', async (req, res) => {
    const lead = UUID.test(req.params.id) ? await getLead(pool(), req.params.id.toLowerCase()) : null;
    if (!lead) throw new ApiError('NOT_FOUND', 'No such lead');
    res.json({ success: true, lead });
  });

  router.patch('/leads/:id', express.json({ limit: '16kb' }), async (req, res) => {
    const parsed = patchBody.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiError(
        'INVALID_REQUEST',
        'expected {"status"?: string, "assignedTo"?: string | null}',
        parsed.error.issues,
      );
    }
    const { status, assignedTo } = parsed.data;
    if (status !== undefined && (typeof status !== 'string' || !isStatus(status))) {
      throw new ApiError('INVALID_STATUS');
    }
    if (status === undefined && assignedTo === undefined) {
      throw new ApiError('INVALID_REQUEST', 'give status, assignedTo or both');
    }
    const id = req.params.id;
    const updated = UUID.test(id)
      ? await updateLead(pool(), id.toLowerCase(), { status, assignedTo }, actorOf(req, requestIdOf(res)))
      : null;
    if (!updated) throw new ApiError('NOT_FOUND', 'No such lead');
    res.json({ success: true, changes: updated.changes, lead: await getLead(pool(), id.toLowerCase()) });
  });

  router.get('/leads/:id/history', async (req, res) => {
    const history = UUID.test(req.params.id) ? await leadHistory(pool(), req.params.id.toLowerCase()) : null;
    if (!history) throw new ApiError('NOT_FOUND', 'No such lead');
    res.json({ success: true, leadId: req.params.id.toLowerCase(), data: history });
  });
  return router;
}

function isStatus(value: string): value is LeadStatus {
  return (LEAD_STATUSES as readonly string[]).includes(value);
}

/** X-Actor names the person behind a shared key; the key's digest prefix is recorded either way. */
function actorOf(req: Request, requestId: string): Actor {
  const key = offeredApiKey(req);
  const apiKey = key ? `key:${createHash('sha256').update(key).digest('hex').slice(0, 12)}` : null;
  const named = req.get('x-actor')?.trim();
  const actor = named && ACTOR.test(named) ? named : (apiKey ?? 'anonymous');
  return { actor, apiKey, requestId };
}

/** A single query-string value; repeated parameters are an error, never silently the first one. */
function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ApiError('INVALID_REQUEST', `${name} must be given once`);
  return value === '' ? undefined : value;
}

function filtersOf(req: Request): LeadFilters {
  const filters: LeadFilters = {};
  for (const name of TEXT_FILTERS) {
    const value = single(req, name);
    if (value === undefined) continue;
    if (value.length > 500) throw new ApiError('INVALID_REQUEST', `${name} is too long`);
    filters[name] = value;
  }
  const status = single(req, 'status');
  if (status !== undefined) {
    const statuses = status.split(',').map((item) => item.trim());
    if (!statuses.every(isStatus)) throw new ApiError('INVALID_STATUS');
    filters.status = statuses;
  }
  const from = dateParam(req, 'from');
  const before = dateParam(req, 'to');
  if (from && before && from.getTime() >= before.getTime()) {
    throw new ApiError('INVALID_DATE_RANGE', 'from is after to');
  }
  if (from) filters.from = from;
  if (before) filters.before = before;
  return filters;
}

/** `from` inclusive; `to` inclusive too: a date-only `to` covers its whole (UTC) day, a timestamp its millisecond. */
function dateParam(req: Request, name: 'from' | 'to'): Date | null {
  const text = single(req, name);
  if (text === undefined) return null;
  const dateOnly = DATE_ONLY.safeParse(text).success;
  if (!dateOnly && !TIMESTAMP.safeParse(text).success) {
    throw new ApiError('INVALID_DATE_RANGE', `${name} is not an ISO 8601 date`);
  }
  const zoned = dateOnly ? `${text}T00:00:00Z` : /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const time = Date.parse(zoned);
  return new Date(name === 'to' ? time + (dateOnly ? DAY_MS : 1) : time);
}

function integerParam(req: Request, name: 'limit' | 'skip', fallback: number): number {
  const text = single(req, name);
  if (text === undefined) return fallback;
  if (!/^\d{1,9}$/.test(text)) throw new ApiError(name === 'limit' ? 'INVALID_LIMIT' : 'INVALID_SKIP');
  return Number(text);
}

function pageOf(req: Request): { limit: number; skip: number } {
  const limit = integerParam(req, 'limit', PAGE.defaultLimit);
  if (limit < 1) throw new ApiError('INVALID_LIMIT');
  if (limit > PAGE.maxLimit) {
    throw new ApiError('LIMIT_EXCEEDED', `limit is at most ${PAGE.maxLimit}`, { maxLimit: PAGE.maxLimit });
  }
  return { limit, skip: integerParam(req, 'skip', 0) };
}
