import type { ErrorRequestHandler, Express, RequestHandler, Response } from 'express';
import { isDatabaseUnavailable } from '../db/pool';
import type { Logger } from '../logger';
import type { RouteMatcher } from '../metrics/routes';
import { mountedRoutes, routeMatcher } from '../metrics/routes';
import { requestIdOf } from './request-context';

/** The one catalogue of error codes: clients may rely on `error` never changing for a given condition. */
export const ERROR_CATALOGUE = {
  UNAUTHORIZED: { status: 401, message: 'Missing or invalid credentials' },
  AUTH_NOT_CONFIGURED: { status: 403, message: 'This endpoint is disabled until its secret is configured' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  ROUTE_NOT_FOUND: { status: 404, message: 'No such route' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This path does not answer this method; see the Allow header' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  INVALID_PAYLOAD: { status: 400, message: 'The request body failed validation' },
  INVALID_REQUEST: { status: 400, message: 'The request is not valid' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is larger than the configured limit' },
  UNSUPPORTED_ENCODING: { status: 415, message: 'The request body encoding is not supported' },
  UNDECODABLE_BODY: {
    status: 400,
    message: 'The request body does not decompress with its Content-Encoding',
  },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry later' },
  AUTH_RATE_LIMITED: { status: 429, message: 'Too many failed authentication attempts; retry later' },
  DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unavailable; retry later' },
  INTERNAL_ERROR: { status: 500, message: 'Internal error' },
  // --- query ---
  INVALID_FILTER: { status: 400, message: 'The filter is not valid' },
  INVALID_FILTER_FIELD: { status: 400, message: 'The filter names a field that cannot be queried' },
  INVALID_OPERATOR: { status: 400, message: 'The filter uses an unknown operator' },
  FORBIDDEN_OPERATOR: { status: 400, message: 'The filter uses an operator that is never allowed' },
  INVALID_REGEX: { status: 400, message: 'The regular expression cannot be compiled' },
  INVALID_SORT: { status: 400, message: 'The sort is not valid' },
  INVALID_PROJECTION: { status: 400, message: 'The fields projection is not valid' },
  INVALID_LIMIT: { status: 400, message: 'limit must be a positive integer' },
  LIMIT_EXCEEDED: { status: 400, message: 'limit is larger than the maximum' },
  INVALID_SKIP: { status: 400, message: 'skip must be a non-negative integer' },
  INVALID_CURSOR: { status: 400, message: 'The cursor is not valid for this query' },
  // --- search, seniority ---
  INVALID_QUERY: { status: 400, message: 'q must be one search text of 2 to 200 characters' },
  INVALID_TIER: { status: 400, message: 'tier must be a level from 1 to 8 or a tier name such as VP' },
  // --- exports ---
  NOT_READY: { status: 400, message: 'The export is not ready yet; poll its status' },
  EXPORT_NOT_FOUND: { status: 404, message: 'No such export, or it has expired' },
  EXPORT_FAILED: { status: 409, message: 'The export failed; its status says why' },
  EXPORT_QUEUE_FULL: { status: 429, message: 'Too many exports queued or running for this API key' },
  // --- changes, timeline ---
  INVALID_CHANGE_TYPE: {
    status: 400,
    message: 'type must be one of company_change, promotion, title_change, lateral_move',
  },
  INVALID_DAYS: { status: 400, message: 'days must be an integer from 1 to 3650' },
  INVALID_DATE_RANGE: { status: 400, message: 'from and to must be ISO 8601 dates, with from not after to' },
  // --- scheduler, dead letters, admin ---
  NO_IDENTITY: {
    status: 422,
    message: 'The observation has no usable identifier (member id, Sales Navigator id, profile URL or email)',
  },
  NOT_REPLAYABLE: { status: 422, message: 'This observation is not a profile event and cannot be replayed' },
  REPLAY_IN_PROGRESS: { status: 409, message: 'The observation is being processed right now; retry shortly' },
  // --- leads ---
  INVALID_STATUS: {
    status: 400,
    message: 'status must be one of new, contacted, qualified, won, lost, spam',
  },
  // --- hubspot ---
  HUBSPOT_NOT_CONFIGURED: { status: 409, message: 'HubSpot sync is not configured: set HUBSPOT_TOKEN' },
  HUBSPOT_RUN_IN_PROGRESS: { status: 409, message: 'A run of this HubSpot job is already in progress' },
  SHUTTING_DOWN: { status: 503, message: 'The service is shutting down; retry on another instance or later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: unknown,
  ) {
    super(message ?? ERROR_CATALOGUE[code].message);
  }
}

export const RETRY_AFTER_SECONDS = 5;

export function sendError(res: Response, code: ErrorCode, message?: string, details?: unknown): void {
  const { status } = ERROR_CATALOGUE[code];
  if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(status).json({
    success: false,
    error: code,
    message: message ?? ERROR_CATALOGUE[code].message,
    requestId: requestIdOf(res),
    ...(details === undefined ? {} : { details }),
  });
}

/**
 * The app's last handler, for requests no route took. A path some route serves, asked with a method none of them
 * answers, is `405 METHOD_NOT_ALLOWED` with `Allow` (read from the routes mounted on `app`, so it never drifts from
 * them); anything else is `404 ROUTE_NOT_FOUND`. Guards a router mounts with `use` have run by then, so such a path
 * answers 401 first; a guard on one route runs only for its method, and the 405 tells nothing but the methods.
 */
export function unmatchedRequest(app: Express): RequestHandler {
  let matcher: RouteMatcher | null = null;
  return (req, res) => {
    // Built on the first request: by then every router is mounted.
    matcher ??= routeMatcher(mountedRoutes(app));
    const allowed = matcher.allowedMethods(req.originalUrl.split('?')[0] ?? '/');
    // A route that took the method and passed the request on (an unknown export format, ...) found nothing.
    if (allowed.length === 0 || allowed.includes(req.method)) return sendError(res, 'ROUTE_NOT_FOUND');
    res.setHeader('Allow', allowed.join(', '));
    sendError(
      res,
      'METHOD_NOT_ALLOWED',
      `${req.method} is not allowed here; this path answers ${allowed.join(', ')}`,
    );
  };
}

const BODY_PARSER_ERRORS: Record<string, ErrorCode> = {
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'entity.parse.failed': 'INVALID_JSON',
  'encoding.unsupported': 'UNSUPPORTED_ENCODING',
  'charset.unsupported': 'UNSUPPORTED_ENCODING',
  'request.aborted': 'INVALID_REQUEST',
  'request.size.invalid': 'INVALID_REQUEST',
  'stream.encoding.set': 'INVALID_REQUEST',
};

/** Every error becomes JSON from the catalogue; unknown ones are a 500 carrying only the request id. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof ApiError) return sendError(res, error.code, error.message, error.details);
    const parserType = (error as { type?: unknown }).type;
    if (typeof parserType === 'string' && BODY_PARSER_ERRORS[parserType]) {
      return sendError(res, BODY_PARSER_ERRORS[parserType]);
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn('database unavailable', {
        requestId: requestIdOf(res),
        error: (error as Error).message,
      });
      return sendError(res, 'DATABASE_UNAVAILABLE');
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return sendError(res, 'INVALID_REQUEST', (error as Error).message);
    }
    logger.error('unhandled error', {
      requestId: requestIdOf(res),
      method: req.method,
      path: req.path,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    sendError(res, 'INTERNAL_ERROR');
  };
}
