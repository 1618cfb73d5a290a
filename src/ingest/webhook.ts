import type { Pool } from '../db/pool';
import type { FieldProblem } from './envelope';
import { isProfileKind, readEnvelope } from './envelope';
import { eventKey } from './event-key';
import { decodeBody, parseJsonBody } from './json-body';
import type { NewObservation, StoredObservation } from './observations';
import { recordRejectedInput } from './observations';
import type { ObservationProcessor } from './processor';

export interface WebhookRequest {
  /** The bytes as received: still compressed when `contentEncoding` says so. */
  body: Buffer;
  contentEncoding: string | null;
  contentType: string | null;
  requestId: string;
}

export type RejectionCode =
  'INVALID_JSON' | 'INVALID_PAYLOAD' | 'UNDECODABLE_BODY' | 'UNSUPPORTED_ENCODING' | 'PAYLOAD_TOO_LARGE';

export type WebhookOutcome =
  | { accepted: true; body: Record<string, unknown> }
  | {
      accepted: false;
      code: RejectionCode;
      reason: string;
      problems?: FieldProblem[];
      rejectedInputId: number;
    };

export interface WebhookDeps {
  pool: Pool;
  /** The most a decompressed body may hold (WEBHOOK_BODY_LIMIT). */
  maxBodyBytes: number;
  append: (observation: NewObservation) => Promise<StoredObservation>;
  processor: ObservationProcessor;
  onProcessorError: (observationId: number, error: unknown) => void;
}

/**
 * Phase 1: everything that reaches this point is stored before it can be rejected. Valid envelopes become
 * observations (profile events `pending`, other event types `ignored`); anything else lands in rejected_inputs
 * with its bytes: as received when they cannot be decompressed, else decompressed. Database errors propagate so
 * the caller can answer 503.
 */
export async function receiveWebhook(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookOutcome> {
  const reject = async (code: RejectionCode, reason: string, body: Buffer, problems?: FieldProblem[]) => {
    const rejectedInputId = await recordRejectedInput(deps.pool, {
      endpoint: 'webhook',
      requestId: request.requestId,
      contentType: request.contentType,
      body,
      bodyBytes: body.length,
      errorCode: code,
      reason: problems ? `${reason}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}` : reason,
    });
    return { accepted: false as const, code, reason, problems, rejectedInputId };
  };

  const decoded = request.contentEncoding
    ? await decodeBody(request.body, request.contentEncoding, deps.maxBodyBytes)
    : { ok: true as const, body: request.body };
  if (!decoded.ok) return reject(decoded.code, decoded.reason, request.body);
  const bytes = decoded.body;
  const parsed = parseJsonBody(bytes);
  if (!parsed.ok) return reject(parsed.code, parsed.reason, bytes);
  const read = readEnvelope(parsed.value);
  if (!read.ok) return reject('INVALID_PAYLOAD', 'the webhook envelope is not valid', bytes, read.problems);

  const { envelope } = read;
  const profileEvent = isProfileKind(envelope.type);
  const key = eventKey(envelope);
  const stored = await deps.append({
    source: 'duxsoup',
    kind: envelope.type,
    event: envelope.event,
    duxUserId: envelope.userId,
    eventTime: envelope.eventTime,
    eventKey: key,
    requestId: request.requestId,
    payload: parsed.value,
    rawBody: parsed.repaired ? bytes : null,
    status: profileEvent ? 'pending' : 'ignored',
  });

  const body: Record<string, unknown> = {
    success: true,
    duplicate: stored.duplicate,
    observation_id: stored.id,
    event_key: key,
    type: envelope.type,
    event: envelope.event,
  };
  if (!profileEvent) return { accepted: true, body: { ...body, processed: false } };
  if (stored.duplicate) return { accepted: true, body };

  try {
    return {
      accepted: true,
      body: {
        ...body,
        ...(await deps.processor.process(stored.id, {
          source: 'duxsoup',
          kind: envelope.type,
          payload: parsed.value,
        })),
      },
    };
  } catch (error) {
    deps.onProcessorError(stored.id, error);
    return { accepted: true, body: { ...body, processed: false } };
  }
}
