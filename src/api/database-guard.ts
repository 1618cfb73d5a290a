import type { RequestHandler } from 'express';
import type { DatabaseState } from '../db';
import { sendError } from './errors';

/** Until the database is reachable and migrated, anything that needs it is answered 503 with Retry-After. */
export function requireDatabase(database: DatabaseState): RequestHandler {
  return (_req, res, next) => {
    if (!database.ready) return sendError(res, 'DATABASE_UNAVAILABLE');
    next();
  };
}
