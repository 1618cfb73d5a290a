import { Router } from 'express';
import type { Request, RequestHandler } from 'express';
import type { AppContext } from '../context';
import { searchPeople } from '../search';
import { requireDatabase } from './database-guard';
import type { ErrorCode } from './errors';
import { ApiError } from './errors';
import { readAccess } from './read-access';

export const MIN_QUERY_LENGTH = 2;
export const MAX_QUERY_LENGTH = 200;
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

interface IntegerParam {
  name: string;
  defaultValue: number;
  min: number;
  /** Above it: LIMIT_EXCEEDED. */
  max?: number;
  /** For anything that is not a whole number of at least `min`. */
  invalid: ErrorCode;
}

/** A whole number from the query string (digits only: no sign, no decimals, no repeats). */
export function integerParam(query: Request['query'], spec: IntegerParam): number {
  const raw = query[spec.name];
  if (raw === undefined) return spec.defaultValue;
  const invalid = () =>
    new ApiError(
      spec.invalid,
      `${spec.name} must be ${spec.min === 0 ? 'a non-negative' : 'a positive'} whole number`,
    );
  if (typeof raw !== 'string' || !/^\d+$/.test(raw)) throw invalid();
  const value = Number(raw);
  if (spec.max !== undefined && value > spec.max) {
    throw new ApiError('LIMIT_EXCEEDED', `${spec.name} must be at most ${spec.max}`);
  }
  if (!Number.isSafeInteger(value) || value < spec.min) throw invalid();
  return value;
}

/** `limit` (default 20, at most 100) and `skip` of a paginated GET. */
export function pageParams(query: Request['query']): { limit: number; skip: number } {
  return {
    limit: integerParam(query, {
      name: 'limit',
      defaultValue: DEFAULT_PAGE_LIMIT,
      min: 1,
      max: MAX_PAGE_LIMIT,
      invalid: 'INVALID_LIMIT',
    }),
    skip: integerParam(query, { name: 'skip', defaultValue: 0, min: 0, invalid: 'INVALID_SKIP' }),
  };
}

export function pagination(page: { skip: number }, count: number, hasMore: boolean) {
  return { count, hasMore, nextSkip: hasMore ? page.skip + count : null };
}

/** The search text, control characters (PostgreSQL text cannot hold NUL) and runs of spaces made one space. */
function searchText(raw: unknown): string {
  // eslint-disable-next-line no-control-regex
  const text = typeof raw === 'string' ? raw.replace(/[\s\u0000-\u001f\u007f]+/g, ' ').trim() : '';
  const length = [...text].length;
  if (length < MIN_QUERY_LENGTH || length > MAX_QUERY_LENGTH) {
    throw new ApiError(
      'INVALID_QUERY',
      `q must be one search text of ${MIN_QUERY_LENGTH} to ${MAX_QUERY_LENGTH} characters`,
    );
  }
  return text;
}

/** GET /api/search/people?q= (and its alias GET /api/search): relevance-ranked people. */
export function searchRouter(context: AppContext): Router {
  const router = Router();
  router.use('/search', requireDatabase(context.database), ...readAccess(context.config));

  const search: RequestHandler = async (req, res) => {
    const query = searchText(req.query.q);
    const page = pageParams(req.query);
    const result = await searchPeople(context.database.pool!, { query, ...page });
    res.json({
      success: true,
      data: result.hits,
      pagination: pagination(page, result.hits.length, result.hasMore),
      meta: { query, fuzzy: result.fuzzy, truncated: result.truncated },
    });
  };
  router.get(['/search', '/search/people'], search);
  return router;
}
