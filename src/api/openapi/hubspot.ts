import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { FILTERS, JOB_NAMES } from '../../sources/hubspot';
import type { HubspotObjectType } from '../../sources/hubspot';
import { pushBody } from '../etl-hubspot.router';
import {
  LimitedPagination,
  NullableText,
  NullableTimestamp,
  pageQuery,
  pathParam,
  Success,
  Timestamp,
  Uuid,
} from './common';
import { json, jsonBody, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const RecordStatus = z.enum(['ACTIVE', 'ARCHIVED']);
const ContactStatus = z.enum(['ACTIVE', 'ARCHIVED', 'MERGED']).openapi({
  description:
    'MERGED: HubSpot merged this contact into `mergedInto` (it is gone from HubSpot; not listed by default)',
});
const MergedInto = NullableText.openapi({
  description: 'The surviving contact, when MERGED',
  example: '100001',
});
const common = {
  id: z.string().openapi({ description: 'The HubSpot id', example: '100005' }),
  status: RecordStatus,
  url: NullableText,
  createdAt: NullableTimestamp,
  updatedAt: NullableTimestamp,
};
const detail = {
  archivedAt: NullableTimestamp,
  syncedAt: Timestamp,
  ownerId: NullableText,
  properties: z.record(z.string(), z.unknown()).openapi({ description: 'Every property as HubSpot sent it' }),
};
const AssociationType = z.strictObject({
  category: z.string(),
  typeId: z.number().int(),
  label: NullableText,
});
const types = z.array(AssociationType);
const LinkedContact = z.strictObject({
  id: z.string(),
  firstname: NullableText,
  lastname: NullableText,
  email: NullableText,
  types,
});

const LIST_ITEMS: Record<HubspotObjectType, z.ZodType> = {
  contacts: z.strictObject({
    ...common,
    status: ContactStatus,
    mergedInto: MergedInto,
    email: NullableText,
    firstname: NullableText,
    lastname: NullableText,
  }),
  companies: z.strictObject({ ...common, name: NullableText, websiteDomain: NullableText }),
  deals: z.strictObject({ ...common, name: NullableText, stage: NullableText }),
};

const DETAILS: Record<HubspotObjectType, z.ZodType> = {
  contacts: z
    .strictObject({
      ...common,
      ...detail,
      status: ContactStatus,
      mergedInto: MergedInto,
      mergedFrom: z
        .array(z.string())
        .openapi({ description: 'The contacts HubSpot merged into this one (their ids answer MERGED)' }),
      email: NullableText,
      firstname: NullableText,
      lastname: NullableText,
      phone: NullableText,
      jobtitle: NullableText,
      company: NullableText,
      city: NullableText,
      state: NullableText,
      country: NullableText,
      linkedinUrl: NullableText,
      lifecyclestage: NullableText,
      leadStatus: NullableText,
      personId: Uuid.nullable().openapi({ description: 'The canonical person this contact is linked to' }),
      companies: z.array(z.strictObject({ id: z.string(), name: NullableText, types })),
      deals: z.array(
        z.strictObject({
          id: z.string(),
          name: NullableText,
          stage: NullableText,
          amount: NullableText,
          closeDate: NullableTimestamp,
          status: RecordStatus.nullable(),
          types,
        }),
      ),
    })
    .openapi('HubspotContact'),
  companies: z
    .strictObject({
      ...common,
      ...detail,
      name: NullableText,
      websiteDomain: NullableText,
      phone: NullableText,
      city: NullableText,
      state: NullableText,
      country: NullableText,
      industry: NullableText,
      website: NullableText,
      employees: z.number().int().nullable(),
      linkedinUrl: NullableText,
      contacts: z.array(LinkedContact),
    })
    .openapi('HubspotCompany'),
  deals: z
    .strictObject({
      ...common,
      ...detail,
      name: NullableText,
      stage: NullableText,
      amount: NullableText.openapi({ description: 'Decimal, as text' }),
      closeDate: NullableTimestamp,
      pipeline: NullableText,
      contacts: z.array(LinkedContact),
    })
    .openapi('HubspotDeal'),
};

const SINGULAR: Record<HubspotObjectType, string> = {
  contacts: 'Contact',
  companies: 'Company',
  deals: 'Deal',
};
const OBJECT_TYPES: HubspotObjectType[] = ['contacts', 'companies', 'deals'];

const Run = z
  .strictObject({
    id: z.number().int(),
    job: z.string(),
    trigger: z.enum(['cli', 'http', 'schedule']),
    options: z.record(z.string(), z.unknown()),
    startedAt: Timestamp,
    finishedAt: NullableTimestamp,
    outcome: z.enum(['running', 'success', 'partial', 'failed', 'interrupted']).openapi({
      description: 'interrupted: stopped after its last saved page (shutdown); the next run resumes there',
    }),
    counts: z.record(z.string(), z.number()),
    error: NullableText,
    result: z.unknown().openapi({ description: 'push: the changes (dry run) or what was sent' }),
  })
  .openapi('HubspotRun');

/** Trigger path → job, as the router mounts them. */
const TRIGGERS = [
  ['companies', 'companies'],
  ['companies/archived', 'companies:deleted'],
  ['contacts', 'contacts'],
  ['contacts/archived', 'contacts:deleted'],
  ['deals', 'deals'],
  ['deals/archived', 'deals:deleted'],
  ['associations', 'associations:contacts'],
  ['push', 'push'],
] as const;

export function registerHubspot(registry: OpenAPIRegistry): void {
  for (const type of OBJECT_TYPES) {
    const filters = Object.fromEntries(
      Object.keys(FILTERS[type]).map((name) => [
        name,
        z.string().optional().openapi({ description: 'Exact match' }),
      ]),
    );
    registerOperation(registry, {
      method: 'get',
      path: `/api/hubspot/${type}`,
      operationId: `listHubspot${SINGULAR[type]}s`.replace('Companys', 'Companies'),
      tag: 'HubSpot',
      summary: `The mirrored HubSpot ${type}, most recently modified first`,
      security: SECURITY.apiKey,
      request: {
        query: z.strictObject({
          ...filters,
          status: (type === 'contacts'
            ? z.enum(['active', 'archived', 'merged'])
            : z.enum(['active', 'archived'])
          )
            .optional()
            .openapi({
              description:
                type === 'contacts' ? 'Default: every contact but merged ones' : 'Default: every record',
            }),
          updatedFrom: z
            .string()
            .optional()
            .openapi({ description: 'ISO date or timestamp (HubSpot modified date)' }),
          updatedTo: z.string().optional().openapi({ description: 'ISO date or timestamp (inclusive)' }),
          ...pageQuery(50, 500),
        }),
      },
      responses: {
        200: json(
          z.strictObject({
            success: Success,
            data: z.array(LIST_ITEMS[type]),
            pagination: LimitedPagination,
          }),
          'One page',
        ),
      },
      errors: [
        ...ERRORS.database,
        ...ERRORS.readAccess,
        ...ERRORS.page,
        'INVALID_REQUEST',
        'INVALID_DATE_RANGE',
      ],
    });
    registerOperation(registry, {
      method: 'get',
      path: `/api/hubspot/${type}/{hubspotId}`,
      operationId: `getHubspot${SINGULAR[type]}`,
      tag: 'HubSpot',
      summary: `One HubSpot ${SINGULAR[type].toLowerCase()} with its associations`,
      security: SECURITY.apiKey,
      request: { params: z.object({ hubspotId: pathParam('hubspotId', 'The HubSpot id', '100005') }) },
      responses: { 200: json(z.strictObject({ success: Success, data: DETAILS[type] }), 'The record') },
      errors: [...ERRORS.database, ...ERRORS.readAccess, 'NOT_FOUND'],
    });
  }

  for (const [path, job] of TRIGGERS) {
    const push = job === 'push';
    registerOperation(registry, {
      method: 'post',
      path: `/etl/hubspot/${path}`,
      operationId: `runHubspot_${job.replace(':', '_')}`,
      tag: 'HubSpot',
      summary: push
        ? 'Push LinkedIn data to HubSpot contacts (a dry run unless execute)'
        : `Start the HubSpot sync job ${job}`,
      description:
        'Starts a run in the background (one at a time per job); poll GET /etl/hubspot/runs/{id}. 409 ' +
        'HUBSPOT_NOT_CONFIGURED without HUBSPOT_TOKEN; 503 SHUTTING_DOWN while the service stops (its runs end ' +
        '`interrupted` at a page boundary).',
      security: SECURITY.admin,
      request: push
        ? {
            query: z.object({ execute: z.enum(['true', 'false']).optional() }),
            body: {
              ...jsonBody(pushBody, 'Optional: `{"execute": true}` sends the changes'),
              required: false,
            },
          }
        : undefined,
      responses: {
        202: json(
          z.strictObject({
            success: Success,
            runId: z.number().int(),
            job: z.literal(job),
            ...(push ? { execute: z.boolean() } : {}),
            status: z.string().openapi({ description: 'The run’s status path' }),
          }),
          'Started',
        ),
      },
      errors: [
        ...ERRORS.database,
        ...ERRORS.adminAccess,
        ...ERRORS.jsonBody,
        'INVALID_REQUEST',
        'HUBSPOT_NOT_CONFIGURED',
        'HUBSPOT_RUN_IN_PROGRESS',
        'SHUTTING_DOWN',
      ],
    });
  }
  registerOperation(registry, {
    method: 'get',
    path: '/etl/hubspot/runs',
    operationId: 'listHubspotRuns',
    tag: 'HubSpot',
    summary: 'The latest HubSpot runs (50), newest first',
    security: SECURITY.admin,
    request: { query: z.object({ job: z.enum(JOB_NAMES as [string, ...string[]]).optional() }) },
    responses: { 200: json(z.strictObject({ success: Success, runs: z.array(Run) }), 'The runs') },
    errors: [...ERRORS.database, ...ERRORS.adminAccess, 'INVALID_REQUEST'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/etl/hubspot/runs/{id}',
    operationId: 'getHubspotRun',
    tag: 'HubSpot',
    summary: 'One HubSpot run',
    security: SECURITY.admin,
    request: { params: z.object({ id: pathParam('id', 'The run id', '1') }) },
    responses: { 200: json(z.strictObject({ success: Success, run: Run }), 'The run') },
    errors: [...ERRORS.database, ...ERRORS.adminAccess, 'NOT_FOUND'],
  });
}
