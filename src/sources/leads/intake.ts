import type { Pool } from '../../db/pool';
import type { DecodedBody } from '../../ingest/json-body';
import { decodeBody } from '../../ingest/json-body';
import type { ObservationProcessor } from '../../ingest/processor';
import type { RejectionReason } from './contract';
import { idempotencyKeyOf, parseLeadBody } from './contract';
import type { RawLeadRequest } from './store';
import { markRejected, noteFailure, normaliseLead, storeRawRequest, storeRejectedRequest } from './store';

export interface LeadIntakeDeps {
  pool: Pool;
  processor: ObservationProcessor;
  /** LEAD_DEDUP_WINDOW_MINUTES. */
  windowMinutes: number;
  /** Phase 2 failed: the lead stands, its observation stays pending for the sweeper. */
  onProcessorError: (observationId: number, error: unknown) => void;
}

export interface LeadReceiveDeps extends LeadIntakeDeps {
  /** The most a decompressed body may hold (LEAD_BODY_LIMIT). */
  maxBodyBytes: number;
}

/** A request as the router read it: the body bytes exactly as received, still compressed when encoded. */
export interface ReceivedLeadRequest extends RawLeadRequest {
  body: Buffer;
  contentEncoding: string | null;
}

export type LeadOutcome =
  | { kind: 'created'; leadId: string }
  | { kind: 'duplicate'; leadId: string; conflict: boolean }
  | { kind: 'rejected'; reason: RejectionReason; requestRowId: number };

/** A stored request, as the intake holds it or the re-drive reads it back. */
export interface StoredRequest {
  id: number;
  receivedAt: Date;
  requestId: string;
  xRequestId: string | null;
  idempotencyKeyHeader: string | null;
  contentType: string | null;
  body: Buffer;
}

const DECODING_REJECTIONS: Readonly<Record<Extract<DecodedBody, { ok: false }>['code'], RejectionReason>> = {
  UNDECODABLE_BODY: 'undecodable_body',
  UNSUPPORTED_ENCODING: 'unsupported_encoding',
  PAYLOAD_TOO_LARGE: 'too_large',
};

/**
 * `POST /api/lead`: the body is decompressed under its Content-Encoding (as the webhook does); then the raw request
 * is committed; then the body is parsed and the lead, its observation and the request's state are written together;
 * then Phase 2 resolves the person. A body that cannot be decompressed is stored rejected with its bytes as
 * received; one that can is stored decompressed, so the re-drive reads it like any other. Database errors propagate
 * (the caller answers 503); any other failure leaves the request `received` for the re-drive and propagates.
 */
export async function receiveLead(
  deps: LeadReceiveDeps,
  received: ReceivedLeadRequest,
): Promise<LeadOutcome> {
  const { contentEncoding, ...raw } = received;
  const decoded = contentEncoding
    ? await decodeBody(raw.body, contentEncoding, deps.maxBodyBytes)
    : { ok: true as const, body: raw.body };
  if (!decoded.ok) {
    const reason = DECODING_REJECTIONS[decoded.code];
    const requestRowId = await storeRejectedRequest(
      deps.pool,
      { ...raw, bodyBytes: raw.body.length },
      reason,
      decoded.reason,
    );
    return { kind: 'rejected', reason, requestRowId };
  }
  const body = decoded.body;
  const stored = await storeRawRequest(deps.pool, { ...raw, body, bodyBytes: body.length });
  return processStoredRequest(deps, {
    id: stored.id,
    receivedAt: stored.receivedAt,
    requestId: raw.requestId,
    xRequestId: raw.xRequestId,
    idempotencyKeyHeader: raw.idempotencyKey,
    contentType: raw.contentType,
    body,
  });
}

export async function processStoredRequest(
  deps: LeadIntakeDeps,
  request: StoredRequest,
): Promise<LeadOutcome> {
  const parsed = parseLeadBody(request.body, request.contentType);
  if (!parsed.ok) {
    // The verdict is certain and the bytes are stored: a failure to record it only delays it until the re-drive.
    await markRejected(deps.pool, request.id, parsed.reason, parsed.detail).catch(() => undefined);
    return { kind: 'rejected', reason: parsed.reason, requestRowId: request.id };
  }
  let normalised;
  try {
    normalised = await normaliseLead(deps.pool, {
      requestRowId: request.id,
      receivedAt: request.receivedAt,
      requestId: request.requestId,
      xRequestId: request.xRequestId,
      idempotencyKey: idempotencyKeyOf(request.idempotencyKeyHeader),
      body: parsed.body,
      windowMinutes: deps.windowMinutes,
    });
  } catch (error) {
    await noteFailure(deps.pool, request.id, error).catch(() => undefined);
    throw error;
  }
  if (normalised.outcome !== 'created') {
    return { kind: 'duplicate', leadId: normalised.leadId, conflict: normalised.outcome === 'conflict' };
  }
  try {
    await deps.processor.process(
      normalised.observationId,
      normalised.observationPayload
        ? { source: 'lead', kind: 'lead', payload: normalised.observationPayload }
        : undefined,
    );
  } catch (error) {
    deps.onProcessorError(normalised.observationId, error);
  }
  return { kind: 'created', leadId: normalised.leadId };
}
