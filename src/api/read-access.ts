import { createHash } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Config } from '../config';
import { offeredApiKey, requireApiKey } from './auth';
import { perClientLimit } from './rate-limits';

/** API key, then the per-key read rate limit: the guard in front of every endpoint that returns personal data. */
export function readAccess(config: Config): RequestHandler[] {
  return [
    requireApiKey({ keys: config.API_KEYS, production: config.NODE_ENV === 'production' }),
    perClientLimit(config.READ_RATE_LIMIT, 'RATE_LIMITED', (req) => {
      const key = offeredApiKey(req);
      return key ? `key:${createHash('sha256').update(key).digest('hex')}` : undefined;
    }),
  ];
}
