import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import { offeredApiKey, requireApiKey } from './auth';
import { perClientLimit } from './rate-limits';

const guards = new WeakMap<Config, RequestHandler[]>();
const passed = new WeakMap<object, Set<RequestHandler>>();

/** A request that falls through several read routers (e.g. /people/:id/timeline) is checked and counted once. */
function oncePerRequest(handler: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const done = passed.get(req) ?? new Set<RequestHandler>();
    if (done.has(handler)) return next();
    done.add(handler);
    passed.set(req, done);
    return handler(req, res, next);
  };
}

/**
 * API key, then the per-key read rate limit: the guard in front of every endpoint that returns personal data.
 * One guard per configuration, so READ_RATE_LIMIT counts a key's requests across every read router together.
 */
export function readAccess(config: Config): RequestHandler[] {
  const existing = guards.get(config);
  if (existing) return existing;
  const created = [
    requireApiKey({ keys: config.API_KEYS, production: config.NODE_ENV === 'production' }),
    perClientLimit(config.READ_RATE_LIMIT, 'RATE_LIMITED', (req) => {
      const key = offeredApiKey(req);
      return key ? `key:${createHash('sha256').update(key).digest('hex')}` : undefined;
    }),
  ].map(oncePerRequest);
  guards.set(config, created);
  return created;
}
