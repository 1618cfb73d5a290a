import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { ChangeType } from '../intelligence/changes';
import { CHANGE_TYPES } from '../intelligence/changes';
import { changesOfPerson, jobChangeStatus, recentChanges } from '../intelligence/changes-store';
import { personTimeline } from '../intelligence/changes-timeline';
import { findPersonId } from '../snapshots/queries';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';

const CHANGES_PAGE = { defaultLimit: 50, maxLimit: 500 };
const TIMELINE_PAGE = { defaultLimit: 50, maxLimit: 500 };
const DAYS = { default: 90, min: 1, max: 3650 };
const DATE_ONLY = z.iso.date();
/** A timestamp without a zone is taken as UTC. */
const TIMESTAMP = z.iso.datetime({ offset: true, local: true });
const DAY_MS = 86_400_000;

/**
 * GET /api/changes, GET /api/changes/person/:id and GET /api/people/:id/timeline. Mounted after the entities
 * router: its `/people/:id` does not match `/people/:id/timeline`.
 */
export function changesRouter(context: AppContext): Router {
  const router = Router();
  const guard = [requireDatabase(context.database), ...readAccess(context.config)];
  const pool = () => context.database.pool!;
  router.use('/changes', ...guard);

  router.get('/changes', async (req, res) => {
    const type = changeTypeParam(req);
    const days = integerParam(req, 'days', DAYS.default);
    if (days < DAYS.min || days > DAYS.max) throw new ApiError('INVALID_DAYS');
    const { limit, skip } = pageParams(req, CHANGES_PAGE);
    const page = await recentChanges(pool(), { type, days, limit, skip });
    res.json({
      success: true,
      data: page.items,
      filters: { type, days },
      pagination: pagination(page.items.length, page.totalCount, skip),
    });
  });

  router.get('/changes/person/:id', async (req, res) => {
    const found = await findPersonId(pool(), req.params.id);
    if (!found) throw new ApiError('NOT_FOUND', 'No such person');
    const [changes, status] = await Promise.all([
      changesOfPerson(pool(), found.id),
      jobChangeStatus(pool(), found.id),
    ]);
    res.json({
      success: true,
      personId: found.id,
      ...(found.redirectedFrom ? { redirectedFrom: found.redirectedFrom } : {}),
      ...status,
      data: changes,
    });
  });

  router.get('/people/:id/timeline', ...guard, async (req, res) => {
    const range = dateRangeParams(req);
    const { limit, skip } = pageParams(req, TIMELINE_PAGE);
    const found = await findPersonId(pool(), req.params.id as string);
    if (!found) throw new ApiError('NOT_FOUND', 'No such person');
    const page = await personTimeline(
      pool(),
      found.id,
      { ...range, limit, skip },
      { defaultPhoneCountry: context.config.DEFAULT_PHONE_COUNTRY },
    );
    res.json({
      success: true,
      personId: found.id,
      ...(found.redirectedFrom ? { redirectedFrom: found.redirectedFrom } : {}),
      data: page.items,
      pagination: pagination(page.items.length, page.totalCount, skip),
    });
  });
  return router;
}

function pagination(count: number, totalCount: number, skip: number) {
  const hasMore = skip + count < totalCount;
  return { count, totalCount, skip, hasMore, nextSkip: hasMore ? skip + count : null };
}

/** A single query-string value; repeated parameters are an error, never silently the first one. */
function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ApiError('INVALID_REQUEST', `${name} must be given once`);
  return value;
}

function integerParam(req: Request, name: string, fallback: number): number {
  const text = single(req, name);
  if (text === undefined || text === '') return fallback;
  if (!/^\d{1,9}$/.test(text)) {
    if (name === 'limit') throw new ApiError('INVALID_LIMIT');
    if (name === 'skip') throw new ApiError('INVALID_SKIP');
    throw new ApiError('INVALID_DAYS');
  }
  return Number(text);
}

function pageParams(req: Request, page: { defaultLimit: number; maxLimit: number }) {
  const limit = integerParam(req, 'limit', page.defaultLimit);
  if (limit < 1) throw new ApiError('INVALID_LIMIT');
  if (limit > page.maxLimit) {
    throw new ApiError('LIMIT_EXCEEDED', `limit is at most ${page.maxLimit}`, { maxLimit: page.maxLimit });
  }
  return { limit, skip: integerParam(req, 'skip', 0) };
}

function changeTypeParam(req: Request): ChangeType | null {
  const text = single(req, 'type');
  if (text === undefined || text === '') return null;
  if (!(CHANGE_TYPES as readonly string[]).includes(text)) throw new ApiError('INVALID_CHANGE_TYPE');
  return text as ChangeType;
}

/** `from` inclusive, `to` inclusive: a date-only `to` covers its whole (UTC) day, a timestamp its millisecond. */
function dateRangeParams(req: Request): { from: Date | null; before: Date | null } {
  const parse = (name: 'from' | 'to'): Date | null => {
    const text = single(req, name);
    if (text === undefined || text === '') return null;
    const dateOnly = DATE_ONLY.safeParse(text).success;
    if (!dateOnly && !TIMESTAMP.safeParse(text).success) {
      throw new ApiError('INVALID_DATE_RANGE', `${name} is not an ISO 8601 date`);
    }
    const zoned = dateOnly ? `${text}T00:00:00Z` : /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
    const time = Date.parse(zoned);
    return new Date(name === 'to' ? time + (dateOnly ? DAY_MS : 1) : time);
  };
  const from = parse('from');
  const before = parse('to');
  if (from && before && from.getTime() >= before.getTime()) {
    throw new ApiError('INVALID_DATE_RANGE', 'from is after to');
  }
  return { from, before };
}
