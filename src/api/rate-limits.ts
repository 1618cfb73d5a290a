import type { Request, RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { ErrorCode } from './errors';
import { sendError } from './errors';

const passThrough: RequestHandler = (_req, _res, next) => next();

/** Per-client limit (by IP unless `keyOf` names the client); `perMinute` 0 disables it. */
export function perClientLimit(
  perMinute: number,
  code: ErrorCode = 'RATE_LIMITED',
  keyOf?: (req: Request) => string | undefined,
): RequestHandler {
  if (perMinute <= 0) return passThrough;
  return rateLimit({
    ...(keyOf ? { keyGenerator: (req: Request) => keyOf(req) ?? ipKeyGenerator(req.ip ?? '') } : {}),
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => sendError(res, code),
  });
}

/**
 * Counts only requests that do not present the right secret, so a client that knows it is never slowed down,
 * however many requests it has in flight.
 */
export function failedAuthLimit(
  perFifteenMinutes: number,
  presentsValidSecret: (req: Request) => boolean,
): RequestHandler {
  if (perFifteenMinutes <= 0) return passThrough;
  return rateLimit({
    windowMs: 15 * 60_000,
    limit: perFifteenMinutes,
    skip: presentsValidSecret,
    standardHeaders: false,
    legacyHeaders: false,
    handler: (_req, res) => sendError(res, 'AUTH_RATE_LIMITED'),
  });
}
