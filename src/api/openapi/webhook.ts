import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { envelopeSchema, profileDataSchema } from '../../ingest/envelope';
import { registerOperation } from './define';
import { Uuid } from './common';
import { RCCOMMAND_EXAMPLE, SCAN_EXAMPLE, VISIT_EXAMPLE } from './examples';
import { SECURITY } from './security';
import { z } from './zod';

export const UpsertOutcome = z.enum(['created', 'updated', 'merged', 'none']);

/** What Phase 2 reports for one observation (inline on the webhook, and on a replay). */
const PHASE2_OUTCOME = {
  status: z.enum(['processed', 'skipped', 'dead', 'pending', 'ignored', 'busy']).optional(),
  person_id: Uuid.optional(),
  company_id: Uuid.nullable().optional(),
  location_id: Uuid.nullable().optional(),
  people_upsert: UpsertOutcome.optional(),
  company_upsert: UpsertOutcome.optional(),
  location_upsert: UpsertOutcome.optional(),
  reason: z.string().optional(),
};

export const Phase2Result = z
  .strictObject({ processed: z.boolean(), ...PHASE2_OUTCOME })
  .openapi('Phase2Result');

export const WebhookEnvelope = envelopeSchema
  .extend({
    // .meta, not .openapi: the schema may be built before zod is extended (import order).
    data: profileDataSchema.meta({
      description:
        'For `visit` and `scan` events, the profile fields below (each optional, unknown fields kept); for every ' +
        'other event type, any JSON object.',
    }),
  })
  .openapi('WebhookEnvelope', {
    description:
      'A Dux-Soup webhook body. Stored as received before anything else; `visit` and `scan` become profile ' +
      'observations, every other type is stored and answered `processed: false`.',
  });

export const WebhookAccepted = z
  .strictObject({
    ...PHASE2_OUTCOME,
    processed: z.boolean().optional(),
    success: z.literal(true),
    duplicate: z
      .boolean()
      .openapi({ description: 'true: this event was stored before; observation_id is the original' }),
    observation_id: z.number().int(),
    event_key: z.string().openapi({ description: 'The idempotency key derived from the envelope' }),
    type: z.string(),
    event: z.string(),
  })
  .openapi('WebhookAccepted', {
    description:
      'Sent only after the observation is committed. A new profile event carries Phase 2’s outcome (person, ' +
      'company, location); other event types and failed Phase 2 runs say `processed: false`; a duplicate carries ' +
      'neither.',
  });

export function registerWebhook(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'post',
    path: '/api/webhook',
    operationId: 'receiveWebhook',
    tag: 'Webhook',
    summary: 'Receive a Dux-Soup webhook',
    description:
      'Every authenticated body is stored before it can be rejected (invalid ones in `rejected_inputs`, answered ' +
      '400 with `details.rejectedInputId`). Idempotent: a repeat answers 200 with `duplicate: true`. Rate limits: ' +
      'WEBHOOK_RATE_LIMIT per minute per client IP, WEBHOOK_AUTH_FAILURE_LIMIT failed authentications per 15 minutes.',
    security: SECURITY.webhook,
    request: {
      body: {
        description: 'The webhook body as Dux-Soup sends it (any content type; parsed as JSON)',
        required: true,
        content: {
          'application/json': {
            schema: WebhookEnvelope,
            examples: {
              visit: { summary: 'visit.create (a profile visit)', value: VISIT_EXAMPLE },
              scan: { summary: 'scan.create (a search-result scan)', value: SCAN_EXAMPLE },
              rccommand: { summary: 'rccommand.received (stored, not a profile)', value: RCCOMMAND_EXAMPLE },
            },
          },
        },
      },
    },
    responses: {
      200: {
        description: 'Stored (or already stored)',
        content: {
          'application/json': {
            schema: WebhookAccepted,
            examples: {
              visit: {
                summary: 'A new visit, resolved inline',
                value: {
                  success: true,
                  duplicate: false,
                  observation_id: 2,
                  event_key: '760e614e1fac1dea2936954dcb6c74edbc7d5299387dfc38ccac0740256a2e21',
                  type: 'visit',
                  event: 'create',
                  processed: true,
                  status: 'processed',
                  person_id: 'a6728db3-0db3-55e4-a968-792b7511b806',
                  company_id: '6c4cd364-0223-51dc-9578-3f0524cbf134',
                  location_id: 'f2b40b89-e55e-5b86-827c-4c81c05305e1',
                  people_upsert: 'created',
                  company_upsert: 'created',
                  location_upsert: 'created',
                },
              },
              duplicate: {
                summary: 'The same event again',
                value: {
                  success: true,
                  duplicate: true,
                  observation_id: 2,
                  event_key: '760e614e1fac1dea2936954dcb6c74edbc7d5299387dfc38ccac0740256a2e21',
                  type: 'visit',
                  event: 'create',
                },
              },
              other: {
                summary: 'Another event type: stored only',
                value: {
                  success: true,
                  duplicate: false,
                  observation_id: 4,
                  event_key: '358ae8480e03031288343629d8687bbc58d7abdea6551f01a941ee7f39b11fb5',
                  type: 'rccommand',
                  event: 'received',
                  processed: false,
                },
              },
            },
          },
        },
      },
    },
    errors: [
      'INVALID_JSON',
      'INVALID_PAYLOAD',
      'INVALID_REQUEST',
      'UNAUTHORIZED',
      'AUTH_NOT_CONFIGURED',
      'PAYLOAD_TOO_LARGE',
      'UNSUPPORTED_ENCODING',
      'UNDECODABLE_BODY',
      'RATE_LIMITED',
      'AUTH_RATE_LIMITED',
      'DATABASE_UNAVAILABLE',
    ],
  });
}
