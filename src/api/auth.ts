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

/** The API key a read request offers: `X-API-Key`, or `Authorization: Bearer`. */
export function offeredApiKey(req: Request): string | undefined {
  const header = req.get('x-api-key');
  if (header) return header;
  const authorization = req.get('authorization');
  return authorization?.toLowerCase().startsWith('bearer ') ? authorization.slice(7).trim() : undefined;
}

/** Checks every configured key (no early exit), so timing says nothing about which key or how much matched. */
export function matchesAnyKey(offered: string, keys: readonly string[]): boolean {
  let matched = false;
  for (const key of keys) matched = secretsEqual(offered, key) || matched;
  return matched;
}

export interface ApiKeyOptions {
  keys: readonly string[];
  production: boolean;
}

/** Read endpoints: personal data leaves only with a valid API key (open in development when none is set). */
export function requireApiKey(options: ApiKeyOptions): RequestHandler {
  return (req, res, next) => {
    if (options.keys.length === 0) {
      if (options.production) return sendError(res, 'AUTH_NOT_CONFIGURED');
      return next();
    }
    const offered = offeredApiKey(req);
    if (offered === undefined || !matchesAnyKey(offered, options.keys)) return sendError(res, 'UNAUTHORIZED');
    next();
  };
}
