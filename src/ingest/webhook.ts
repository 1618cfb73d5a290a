import type { Pool } from '../db/pool';
import type { FieldProblem } from './envelope';
import { isProfileKind, readEnvelope } from './envelope';
import { eventKey } from './event-key';
import { parseJsonBody } from './json-body';
import type { NewObservation, StoredObservation } from './observations';
import { recordRejectedInput } from './observations';
import type { ObservationProcessor } from './processor';

export interface WebhookRequest {
  body: Buffer;
  contentType: string | null;
  requestId: string;
}

export type WebhookOutcome =
  | { accepted: true; body: Record<string, unknown> }
  | {
      accepted: false;
      code: 'INVALID_JSON' | 'INVALID_PAYLOAD';
      reason: string;
      problems?: FieldProblem[];
      rejectedInputId: number;
    };

export interface WebhookDeps {
  pool: Pool;
  append: (observation: NewObservation) => Promise<StoredObservation>;
  processor: ObservationProcessor;
  onProcessorError: (observationId: number, error: unknown) => void;
}

/**
 * Phase 1: everything that reaches this point is stored before it can be rejected. Valid envelopes become
 * observations (profile events `pending`, other event types `ignored`); anything else lands in rejected_inputs
 * with its bytes. Database errors propagate so the caller can answer 503.
 */
export async function receiveWebhook(deps: WebhookDeps, request: WebhookRequest): Promise<WebhookOutcome> {
  const reject = async (
    code: 'INVALID_JSON' | 'INVALID_PAYLOAD',
    reason: string,
    problems?: FieldProblem[],
  ) => {
    const rejectedInputId = await recordRejectedInput(deps.pool, {
      endpoint: 'webhook',
      requestId: request.requestId,
      contentType: request.contentType,
      body: request.body,
      bodyBytes: request.body.length,
      errorCode: code,
      reason: problems ? `${reason}: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}` : reason,
    });
    return { accepted: false as const, code, reason, problems, rejectedInputId };
  };

  const parsed = parseJsonBody(request.body);
  if (!parsed.ok) return reject(parsed.code, parsed.reason);
  const read = readEnvelope(parsed.value);
  if (!read.ok) return reject('INVALID_PAYLOAD', 'the webhook envelope is not valid', read.problems);

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
    rawBody: parsed.repaired ? request.body : null,
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
