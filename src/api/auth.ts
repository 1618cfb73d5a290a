import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { sendError } from './errors';

/** Compares digests so neither the content nor the length of the secret leaks through timing. */
export function secretsEqual(offered: string, expected: string): boolean {
  const a = createHash('sha256').update(offered).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Dux-Soup can only be given a target URL, so `?secret=` is accepted besides the two headers. */
export function offeredSecret(req: Request, header: string): string | undefined {
  const fromHeader = req.get(header);
  if (fromHeader) return fromHeader;
  const authorization = req.get('authorization');
  if (authorization?.toLowerCase().startsWith('bearer ')) return authorization.slice(7).trim();
  const fromQuery = req.query.secret;
  return typeof fromQuery === 'string' ? fromQuery : undefined;
}

export interface SecretAuthOptions {
  secret: string | undefined;
  production: boolean;
  header: string;
}

/** True when no secret is configured (nothing to fail) or the request carries the configured one. */
export function presentsSecret(req: Request, secret: string | undefined, header: string): boolean {
  if (!secret) return true;
  const offered = offeredSecret(req, header);
  return offered !== undefined && secretsEqual(offered, secret);
}

/** Open without a secret in development only; production fails closed. */
export function requireSecret(options: SecretAuthOptions): RequestHandler {
  return (req, res, next) => {
    if (!options.secret) {
      if (options.production) return sendError(res, 'AUTH_NOT_CONFIGURED');
      return next();
    }
    const offered = offeredSecret(req, options.header);
    if (offered === undefined || !secretsEqual(offered, options.secret))
      return sendError(res, 'UNAUTHORIZED');
    next();
  };
}
