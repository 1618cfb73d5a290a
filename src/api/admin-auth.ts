import type { RequestHandler } from 'express';
import type { Config } from '../config';
import { requireSecret } from './auth';
import { perClientLimit } from './rate-limits';

export const ADMIN_SECRET_HEADER = 'x-admin-secret';

/** ADMIN_SECRET, or WEBHOOK_SECRET when no admin secret of its own is set. */
export function adminSecretOf(config: Pick<Config, 'ADMIN_SECRET' | 'WEBHOOK_SECRET'>): string | undefined {
  return config.ADMIN_SECRET ?? config.WEBHOOK_SECRET;
}

/**
 * The guard in front of every admin endpoint: ADMIN_RATE_LIMIT requests per minute per client IP (counted
 * before authentication, so it also slows down guessing), then the admin secret as `X-Admin-Secret`,
 * `Authorization: Bearer` or `?secret=`, compared in constant time. With no secret configured the endpoints
 * are open in development and answer 403 AUTH_NOT_CONFIGURED in production. Each call has its own rate
 * limit counter, so each router using it is limited separately.
 */
export function adminAccess(config: Config): RequestHandler[] {
  return [
    perClientLimit(config.ADMIN_RATE_LIMIT),
    requireSecret({
      secret: adminSecretOf(config),
      production: config.NODE_ENV === 'production',
      header: ADMIN_SECRET_HEADER,
    }),
  ];
}
