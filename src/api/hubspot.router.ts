import type { Request } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { HubspotObjectType, ListFilters } from '../sources/hubspot';
import {
  FILTERS,
  getRecord,
  listRecords,
  OBJECT_TYPES,
  statusesOf,
  survivorOfContact,
} from '../sources/hubspot';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';

const PAGE = { defaultLimit: 50, maxLimit: 500 };
const TIMESTAMP = z.iso.datetime({ offset: true, local: true });
const DATE_ONLY = z.iso.date();
const SINGULAR: Readonly<Record<HubspotObjectType, string>> = {
  contacts: 'contact',
  companies: 'company',
  deals: 'deal',
};
const COMMON_PARAMETERS = ['limit', 'skip', 'status', 'updatedFrom', 'updatedTo'];

/**
 * The HubSpot mirror (API key): `GET /api/hubspot/{contacts,companies,deals}` (filters on the main columns,
 * `status=active|archived` (contacts: `|merged`; merged contacts are listed only then), `updatedFrom` /
 * `updatedTo` on HubSpot's modified date, `limit` / `skip`), and `GET /api/hubspot/{type}/:hubspotId` with
 * association summaries. A merged contact's own id answers its row (status MERGED, `mergedInto`); a merged id we
 * never held a row for answers 404 with `details.mergedInto`.
 */
export function hubspotRouter(context: AppContext): Router {
  const router = Router();
  router.use('/hubspot', requireDatabase(context.database), ...readAccess(context.config));
  const pool = () => context.database.pool!;

  for (const type of OBJECT_TYPES) {
    router.get(`/hubspot/${type}`, async (req, res) => {
      const filters = filtersOf(req, type);
      const page = pageOf(req);
      const result = await listRecords(pool(), type, filters, page);
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

    router.get(`/hubspot/${type}/:hubspotId`, async (req, res) => {
      const record = await getRecord(pool(), type, req.params.hubspotId);
      if (!record) {
        const mergedInto = type === 'contacts' ? await survivorOfContact(pool(), req.params.hubspotId) : null;
        if (mergedInto !== null) {
          throw new ApiError('NOT_FOUND', `HubSpot merged this contact into ${mergedInto}`, { mergedInto });
        }
        throw new ApiError('NOT_FOUND', `No such HubSpot ${SINGULAR[type]}`);
      }
      res.json({ success: true, data: record });
    });
  }
  return router;
}

function single(req: Request, name: string): string | undefined {
  const value = req.query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ApiError('INVALID_REQUEST', `${name} must be given once`);
  return value === '' ? undefined : value;
}

function filtersOf(req: Request, type: HubspotObjectType): ListFilters {
  const allowed = new Set([...COMMON_PARAMETERS, ...Object.keys(FILTERS[type])]);
  const unknown = Object.keys(req.query).filter((name) => !allowed.has(name));
  if (unknown.length > 0) {
    throw new ApiError('INVALID_REQUEST', `unknown parameter ${unknown.join(', ')}`, {
      allowed: [...allowed],
    });
  }
  const filters: ListFilters = { exact: {} };
  const status = single(req, 'status');
  if (status !== undefined) {
    const statuses = statusesOf(type);
    const wanted = statuses.find((known) => known === status.toUpperCase());
    if (!wanted) {
      throw new ApiError(
        'INVALID_REQUEST',
        `status must be ${statuses.map((known) => known.toLowerCase()).join(' or ')}`,
      );
    }
    filters.status = wanted;
  }
  const from = single(req, 'updatedFrom');
  const to = single(req, 'updatedTo');
  if (from !== undefined) filters.updatedFrom = dateOf(from, 'updatedFrom', false);
  if (to !== undefined) filters.updatedBefore = dateOf(to, 'updatedTo', true);
  if (filters.updatedFrom && filters.updatedBefore && filters.updatedFrom >= filters.updatedBefore) {
    throw new ApiError('INVALID_DATE_RANGE');
  }
  for (const name of Object.keys(FILTERS[type])) {
    const value = single(req, name);
    if (value !== undefined) filters.exact[name] = value.trim().slice(0, 500);
  }
  return filters;
}

/** An ISO timestamp, or a date (a `to` date includes its whole day). */
function dateOf(value: string, name: string, upper: boolean): Date {
  if (DATE_ONLY.safeParse(value).success) {
    const day = new Date(`${value}T00:00:00.000Z`);
    return upper ? new Date(day.getTime() + 86_400_000) : day;
  }
  if (TIMESTAMP.safeParse(value).success) {
    const date = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
    if (!Number.isNaN(date.getTime())) return upper ? new Date(date.getTime() + 1) : date;
  }
  throw new ApiError('INVALID_DATE_RANGE', `${name} must be an ISO 8601 date or timestamp`);
}

function pageOf(req: Request): { limit: number; skip: number } {
  const limitText = single(req, 'limit');
  const skipText = single(req, 'skip');
  const limit = limitText === undefined ? PAGE.defaultLimit : Number(limitText);
  const skip = skipText === undefined ? 0 : Number(skipText);
  if (!Number.isInteger(limit) || limit < 1 || !/^\d+$/.test(limitText ?? '1'))
    throw new ApiError('INVALID_LIMIT');
  if (limit > PAGE.maxLimit) throw new ApiError('LIMIT_EXCEEDED', `limit is at most ${PAGE.maxLimit}`);
  if (!Number.isSafeInteger(skip) || skip < 0 || !/^\d+$/.test(skipText ?? '0'))
    throw new ApiError('INVALID_SKIP');
  return { limit, skip };
}
