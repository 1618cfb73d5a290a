import express, { Router } from 'express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { bodyLimitBytes } from '../config';
import { recordRejectedInput } from '../ingest/observations';
import { receiveWebhook } from '../ingest/webhook';
import { ObservationWriter } from '../ingest/observation-writer';
import type { Pool } from '../db';
import type { AppContext } from '../context';
import { failedAuthLimit, perClientLimit } from './rate-limits';
import { presentsSecret, requireSecret } from './auth';
import { sendError } from './errors';
import { requireDatabase } from './database-guard';
import { requestIdOf } from './request-context';
import { contentEncodingSetAside, setAsideContentEncoding } from './content-encoding';

/** `POST /api/webhook`: the Dux-Soup receiver. Auth, then limits, then the body is read and stored first. */
export function webhookRouter(context: AppContext): Router {
  const { config, logger, database } = context;
  const router = Router();
  const limitBytes = bodyLimitBytes(config.WEBHOOK_BODY_LIMIT);

  const writers = new WeakMap<Pool, ObservationWriter>();
  const writerFor = (pool: Pool) => {
    let writer = writers.get(pool);
    if (!writer) writers.set(pool, (writer = new ObservationWriter(pool)));
    return writer;
  };

  const handle: RequestHandler = async (req, res) => {
    const pool = database.pool!;
    const writer = writerFor(pool);
    const outcome = await receiveWebhook(
      {
        pool,
        maxBodyBytes: limitBytes,
        append: (observation) => writer.append(observation),
        processor: context.processor,
        onProcessorError: (observationId, error) =>
          logger.error('phase 2 failed; observation left pending', {
            requestId: requestIdOf(res),
            observationId,
            error: error instanceof Error ? error.message : String(error),
          }),
      },
      {
        body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
        contentEncoding: contentEncodingSetAside(res),
        contentType: req.get('content-type') ?? null,
        requestId: requestIdOf(res),
      },
    );
    if (outcome.accepted) {
      res.status(200).json(outcome.body);
      return;
    }
    sendError(res, outcome.code, outcome.reason, {
      ...(outcome.problems ? { fields: outcome.problems } : {}),
      rejectedInputId: outcome.rejectedInputId,
    });
  };

  /** Oversized bodies are not read, but their arrival is recorded like any other rejected input. */
  const recordOversized: ErrorRequestHandler = async (error: unknown, req, res, next) => {
    if ((error as { type?: unknown }).type !== 'entity.too.large' || !database.pool) return next(error);
    await recordRejectedInput(database.pool, {
      endpoint: 'webhook',
      requestId: requestIdOf(res),
      contentType: req.get('content-type') ?? null,
      body: null,
      bodyBytes: Number(req.get('content-length') ?? 0) || limitBytes + 1,
      errorCode: 'PAYLOAD_TOO_LARGE',
      reason: `body exceeds WEBHOOK_BODY_LIMIT (${config.WEBHOOK_BODY_LIMIT})`,
    }).catch(() => undefined);
    sendError(res, 'PAYLOAD_TOO_LARGE');
  };

  router.post(
    '/webhook',
    failedAuthLimit(config.WEBHOOK_AUTH_FAILURE_LIMIT, (req) =>
      presentsSecret(req, config.WEBHOOK_SECRET, 'x-webhook-secret'),
    ),
    requireSecret({
      secret: config.WEBHOOK_SECRET,
      production: config.NODE_ENV === 'production',
      header: 'x-webhook-secret',
    }),
    perClientLimit(config.WEBHOOK_RATE_LIMIT),
    requireDatabase(database),
    setAsideContentEncoding,
    express.raw({ type: () => true, limit: limitBytes }),
    handle,
    recordOversized,
  );
  return router;
}
