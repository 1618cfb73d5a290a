import express, { Router } from 'express';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Config } from '../config';
import { bodyLimitBytes } from '../config';
import type { AppContext } from '../context';
import { isDatabaseUnavailable } from '../db/pool';
import type { RawLeadRequest, RejectionReason } from '../sources/leads';
import { receiveLead, storeRejectedRequest } from '../sources/leads';
import { presentsSecret } from './auth';
import { contentEncodingSetAside, setAsideContentEncoding } from './content-encoding';
import type { ErrorCode } from './errors';
import { ERROR_CATALOGUE, RETRY_AFTER_SECONDS } from './errors';
import { requestIdOf } from './request-context';

/**
 * leadCRM's error body is `{ok: false, error: "<snake_case>"}`, not the service's `{success: false, ...}`: the
 * PHP senders read it, so the contract wins. Each error still takes its HTTP status from the catalogue.
 */
// Exported for the OpenAPI document.
export const LEAD_ERRORS = {
  invalid_payload: 'INVALID_PAYLOAD',
  unauthorized: 'UNAUTHORIZED',
  auth_not_configured: 'AUTH_NOT_CONFIGURED',
  auth_rate_limited: 'AUTH_RATE_LIMITED',
  rate_limited: 'RATE_LIMITED',
  payload_too_large: 'PAYLOAD_TOO_LARGE',
  unsupported_encoding: 'UNSUPPORTED_ENCODING',
  undecodable_body: 'UNDECODABLE_BODY',
  unavailable: 'DATABASE_UNAVAILABLE',
  internal_error: 'INTERNAL_ERROR',
} as const satisfies Record<string, ErrorCode>;

export type LeadError = keyof typeof LEAD_ERRORS;

export function sendLeadError(res: Response, error: LeadError): void {
  const { status } = ERROR_CATALOGUE[LEAD_ERRORS[error]];
  if (status === 503) res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
  res.status(status).json({ ok: false, error });
}

const SECRET_HEADER = 'x-lead-secret';

/** The webhook's rule with leadCRM's answers: open without a secret in development only; constant-time compare. */
function requireLeadSecret(config: Config): RequestHandler {
  return (req, res, next) => {
    if (!config.LEAD_SECRET) {
      if (config.NODE_ENV === 'production') return sendLeadError(res, 'auth_not_configured');
      return next();
    }
    if (!presentsSecret(req, config.LEAD_SECRET, SECRET_HEADER)) return sendLeadError(res, 'unauthorized');
    next();
  };
}

const passThrough: RequestHandler = (_req, _res, next) => next();

function failedAuthLimit(config: Config): RequestHandler {
  if (config.LEAD_AUTH_FAILURE_LIMIT <= 0) return passThrough;
  return rateLimit({
    windowMs: 15 * 60_000,
    limit: config.LEAD_AUTH_FAILURE_LIMIT,
    skip: (req) => presentsSecret(req, config.LEAD_SECRET, SECRET_HEADER),
    standardHeaders: false,
    legacyHeaders: false,
    handler: (_req, res) => sendLeadError(res, 'auth_rate_limited'),
  });
}

function perClientLimit(config: Config): RequestHandler {
  if (config.LEAD_RATE_LIMIT <= 0) return passThrough;
  return rateLimit({
    windowMs: 60_000,
    limit: config.LEAD_RATE_LIMIT,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, res) => sendLeadError(res, 'rate_limited'),
  });
}

/** What is kept of a request besides its body: the headers that matter for tracing and idempotency. */
function rawRequestOf(req: Request, res: Response, body: Buffer | null, bodyBytes: number): RawLeadRequest {
  return {
    requestId: requestIdOf(res),
    xRequestId: req.get('x-request-id') ?? null,
    idempotencyKey: req.get('idempotency-key') ?? null,
    contentType: req.get('content-type') ?? null,
    userAgent: req.get('user-agent') ?? null,
    forwardedFor: req.get('x-forwarded-for') ?? null,
    remoteAddr: req.socket.remoteAddress ?? null,
    body,
    bodyBytes,
  };
}

/** The answer to a rejected request; any other reason means the body is not a JSON object (invalid_payload). */
const REJECTION_ERRORS: Readonly<Partial<Record<RejectionReason, LeadError>>> = {
  too_large: 'payload_too_large',
  unsupported_encoding: 'unsupported_encoding',
  undecodable_body: 'undecodable_body',
};

function rejectionError(reason: RejectionReason): LeadError {
  return REJECTION_ERRORS[reason] ?? 'invalid_payload';
}

/**
 * `POST /api/lead`, the leadCRM contract: 201 `{ok, lead_id, deduplicated: false}` for a new lead, 409
 * `{ok: true, lead_id: <original>, deduplicated: true}` for a repeat, 400 `invalid_payload` for a body that is not
 * a JSON object and 400 `undecodable_body` for one that does not decompress (both stored all the same), 503
 * `unavailable` when the database cannot commit, 500 `internal_error`.
 */
export function leadRouter(context: AppContext): Router {
  const { config, logger, database } = context;
  const router = Router();
  const limitBytes = bodyLimitBytes(config.LEAD_BODY_LIMIT);
  if (!config.LEAD_SECRET && config.NODE_ENV === 'production') {
    logger.error('LEAD_SECRET is not set: /api/lead answers 403 auth_not_configured until it is');
  }

  const requireDatabase: RequestHandler = (_req, res, next) => {
    if (!database.ready) return sendLeadError(res, 'unavailable');
    next();
  };

  const handle: RequestHandler = async (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const outcome = await receiveLead(
      {
        pool: database.pool!,
        processor: context.processor,
        windowMinutes: config.LEAD_DEDUP_WINDOW_MINUTES,
        maxBodyBytes: limitBytes,
        onProcessorError: (observationId, error) =>
          logger.error('phase 2 failed for a lead; observation left pending', {
            requestId: requestIdOf(res),
            observationId,
            error: error instanceof Error ? error.message : String(error),
          }),
      },
      { ...rawRequestOf(req, res, body, body.length), body, contentEncoding: contentEncodingSetAside(res) },
    );
    if (outcome.kind === 'created') {
      res.status(201).json({ ok: true, lead_id: outcome.leadId, deduplicated: false });
    } else if (outcome.kind === 'duplicate') {
      res.status(409).json({ ok: true, lead_id: outcome.leadId, deduplicated: true });
    } else {
      sendLeadError(res, rejectionError(outcome.reason));
    }
  };

  const onError: ErrorRequestHandler = async (error: unknown, req, res, _next) => {
    if (res.headersSent) return void res.destroy();
    // body-parser tags its errors with a type; any other 4xx from reading the body counts as unreadable too.
    const status = (error as { status?: unknown }).status;
    const clientError = typeof status === 'number' && status >= 400 && status < 500;
    const parserType = (error as { type?: unknown }).type ?? (clientError ? 'body.unreadable' : undefined);
    if (typeof parserType === 'string' && database.pool) {
      if (parserType === 'request.aborted') return void res.destroy();
      const reason: RejectionReason = parserType === 'entity.too.large' ? 'too_large' : 'unreadable_body';
      const declared = Number(req.get('content-length') ?? 0) || 0;
      await storeRejectedRequest(
        database.pool,
        rawRequestOf(
          req,
          res,
          null,
          parserType === 'entity.too.large' ? Math.max(declared, limitBytes + 1) : declared,
        ),
        reason,
        `${parserType}: ${(error as Error).message}`,
      ).catch((storeError: unknown) =>
        logger.warn('could not record an unreadable lead request', {
          requestId: requestIdOf(res),
          error: (storeError as Error).message,
        }),
      );
      return sendLeadError(res, rejectionError(reason));
    }
    if (isDatabaseUnavailable(error)) {
      logger.warn('database unavailable; lead answered 503', {
        requestId: requestIdOf(res),
        error: (error as Error).message,
      });
      return sendLeadError(res, 'unavailable');
    }
    logger.error('lead intake failed; the raw request is kept for the re-drive', {
      requestId: requestIdOf(res),
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    sendLeadError(res, 'internal_error');
  };

  router.post(
    '/lead',
    failedAuthLimit(config),
    requireLeadSecret(config),
    perClientLimit(config),
    requireDatabase,
    setAsideContentEncoding,
    express.raw({ type: () => true, limit: limitBytes }),
    handle,
    onError,
  );
  return router;
}
