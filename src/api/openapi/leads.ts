import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { LEAD_FIELDS, LEAD_STATUSES } from '../../sources/leads/contract';
import { patchBody } from '../leads.router';
import type { LeadError } from '../lead.router';
import {
  Count,
  DateRangeQuery,
  LimitedPagination,
  NullableText,
  pageQuery,
  pathParam,
  Success,
  Timestamp,
  Uuid,
} from './common';
import { json, jsonBody, registerOperation } from './define';
import { ERRORS, leadErrorResponses } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const LeadStatus = z.enum(LEAD_STATUSES);

const contractField = z
  .union([z.string(), z.number(), z.boolean(), z.null()])
  .optional()
  .openapi({ description: 'Kept as text (numbers and booleans spelled out, empty strings as missing)' });

/** leadCRM's POST body: any JSON object; these fields are read, every other key is kept as sent. */
const LeadRequest = z
  .looseObject(Object.fromEntries(LEAD_FIELDS.map((field) => [field, contractField])))
  .openapi('LeadRequest');

const LeadFields = Object.fromEntries(LEAD_FIELDS.map((field) => [field, NullableText])) as Record<
  (typeof LEAD_FIELDS)[number],
  typeof NullableText
>;

const LEAD_SUMMARY = {
  id: Uuid,
  status: LeadStatus,
  assignedTo: NullableText,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  personId: Uuid.nullable(),
  ...LeadFields,
};
const LeadSummary = z.strictObject(LEAD_SUMMARY).openapi('LeadSummary');

const LeadDetail = z
  .strictObject({
    ...LEAD_SUMMARY,
    observationId: z.number().int(),
    idempotencyKey: NullableText,
    xRequestId: NullableText,
    payload: z.record(z.string(), z.unknown()).openapi({ description: 'The JSON object as sent' }),
    rawRequest: z.strictObject({
      id: z.number().int(),
      receivedAt: Timestamp,
      state: z.string(),
      reason: NullableText,
      requestId: z.string(),
      xRequestId: NullableText,
      idempotencyKey: NullableText,
      contentType: NullableText,
      userAgent: NullableText,
      forwardedFor: NullableText,
      remoteAddr: NullableText,
      bodyBytes: Count,
      body: NullableText.openapi({ description: 'The body as text when it is valid UTF-8, else null' }),
      bodyBase64: z.string().optional(),
    }),
    repeats: z.array(
      z.strictObject({
        id: z.number().int(),
        receivedAt: Timestamp,
        state: z.string(),
        requestId: z.string(),
      }),
    ),
  })
  .openapi('LeadDetail');

const LeadChange = z.strictObject({
  field: z.enum(['status', 'assignedTo']),
  from: NullableText,
  to: NullableText,
});

const LeadAnswer = z.strictObject({ ok: z.literal(true), lead_id: Uuid, deduplicated: z.boolean() });
const LEAD_ERRORS: LeadError[] = [
  'invalid_payload',
  'unauthorized',
  'auth_not_configured',
  'auth_rate_limited',
  'rate_limited',
  'payload_too_large',
  'unsupported_encoding',
  'undecodable_body',
  'unavailable',
  'internal_error',
];

const leadId = z.object({ id: pathParam('id', 'The lead id', '44fe4a3e-1a3f-457d-b53f-f5f278938d9b') });
const CRM_ERRORS = [...ERRORS.database, ...ERRORS.readAccess] as const;

export function registerLeads(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'post',
    path: '/api/lead',
    operationId: 'receiveLead',
    tags: ['Leads'],
    summary: 'Receive a lead (the leadCRM contract)',
    description:
      'Stored before anything else (any content type; the body must be a JSON object). `Idempotency-Key` makes ' +
      'a repeat a duplicate; without one, the same body within LEAD_DEDUP_WINDOW_MINUTES is. Errors use leadCRM’s ' +
      '`{ok: false, error}` shape, not the service’s.',
    security: SECURITY.lead,
    request: {
      headers: z.object({
        'Idempotency-Key': z.string().optional().openapi({ description: 'The sender’s key for this lead' }),
      }),
      body: jsonBody(LeadRequest, 'The lead', {
        email: 'jo@example.com',
        firstName: 'Jo',
        lastName: 'Rivera',
        phone: '+14155550100',
        country: 'US',
        offer: 'demo',
        sourcetype: 'form',
      }),
    },
    responses: {
      201: json(LeadAnswer.extend({ deduplicated: z.literal(false) }), 'A new lead'),
      409: json(LeadAnswer.extend({ deduplicated: z.literal(true) }), 'A repeat: the original lead’s id'),
      ...leadErrorResponses(LEAD_ERRORS),
    },
  });

  registerOperation(registry, {
    method: 'get',
    path: '/api/leads',
    operationId: 'listLeads',
    tag: 'Leads',
    summary: 'Leads, newest first, with filters',
    security: SECURITY.apiKey,
    request: {
      query: z.strictObject({
        status: z
          .string()
          .optional()
          .openapi({ description: `Comma-separated: ${LEAD_STATUSES.join(', ')}`, example: 'new,contacted' }),
        assignedTo: z.string().optional(),
        sourcetype: z.string().optional(),
        offer: z.string().optional(),
        marker: z.string().optional(),
        domain: z.string().optional(),
        country: z.string().optional(),
        email: z.string().optional(),
        ...DateRangeQuery,
        ...pageQuery(50, 500),
      }),
    },
    responses: {
      200: json(
        z.strictObject({ success: Success, data: z.array(LeadSummary), pagination: LimitedPagination }),
        'One page',
      ),
    },
    errors: [...CRM_ERRORS, ...ERRORS.page, 'INVALID_REQUEST', 'INVALID_STATUS', 'INVALID_DATE_RANGE'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/leads/{id}',
    operationId: 'getLead',
    tag: 'Leads',
    summary: 'A lead with its raw request and repeats',
    security: SECURITY.apiKey,
    request: { params: leadId },
    responses: { 200: json(z.strictObject({ success: Success, lead: LeadDetail }), 'The lead') },
    errors: [...CRM_ERRORS, 'NOT_FOUND'],
  });
  registerOperation(registry, {
    method: 'patch',
    path: '/api/leads/{id}',
    operationId: 'updateLead',
    tag: 'Leads',
    summary: 'Change a lead’s status or assignee (audited)',
    description: '`X-Actor` names the person behind a shared API key in the history.',
    security: SECURITY.apiKey,
    request: {
      params: leadId,
      headers: z.object({ 'X-Actor': z.string().optional() }),
      body: jsonBody(
        patchBody.extend({ status: LeadStatus.optional() }),
        'status, assignedTo or both (`assignedTo: null` unassigns)',
        { status: 'contacted', assignedTo: 'amy' },
      ),
    },
    responses: {
      200: json(
        z.strictObject({ success: Success, changes: z.array(LeadChange), lead: LeadDetail }),
        'The fields that changed, and the lead',
      ),
    },
    errors: [...CRM_ERRORS, ...ERRORS.jsonBody, 'INVALID_REQUEST', 'INVALID_STATUS', 'NOT_FOUND'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/leads/{id}/history',
    operationId: 'leadHistory',
    tag: 'Leads',
    summary: 'Every change of a lead, oldest first',
    security: SECURITY.apiKey,
    request: { params: leadId },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          leadId: Uuid,
          data: z.array(
            LeadChange.extend({
              id: z.number().int(),
              changedAt: Timestamp,
              actor: z.string(),
              apiKey: NullableText,
              requestId: NullableText,
            }),
          ),
        }),
        'The history',
      ),
    },
    errors: [...CRM_ERRORS, 'NOT_FOUND'],
  });
}
