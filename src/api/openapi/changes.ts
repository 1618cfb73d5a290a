import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { CHANGE_TYPES } from '../../intelligence/changes';
import {
  CountedPagination,
  DateRangeQuery,
  NullableText,
  pageQuery,
  pathParam,
  Success,
  Timestamp,
  Uuid,
} from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const ChangeType = z.enum(CHANGE_TYPES);

const JobState = z
  .strictObject({
    title: NullableText,
    company: NullableText,
    companyId: Uuid.nullable(),
    seniorityLevel: z.number().int().nullable(),
    seniorityTier: NullableText,
    department: NullableText,
  })
  .openapi('JobState');

const Change = z
  .strictObject({
    personId: Uuid,
    fullName: NullableText,
    type: ChangeType,
    changedAt: Timestamp,
    observationId: z.number().int(),
    previousObservationId: z.number().int(),
    previousObservedAt: Timestamp,
    detectedAt: Timestamp,
    before: JobState,
    after: JobState,
  })
  .openapi('JobChange');

const TimelineEntry = z
  .discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('observation'),
      at: Timestamp,
      observationId: z.number().int(),
      kind: z.string(),
      source: z.string(),
      title: NullableText,
      company: NullableText,
      companyId: Uuid.nullable(),
    }),
    z.strictObject({
      type: z.literal('change'),
      at: Timestamp,
      observationId: z.number().int(),
      changeType: ChangeType,
      previousObservationId: z.number().int(),
      before: JobState,
      after: JobState,
    }),
    z.strictObject({ type: z.literal('first_seen'), at: Timestamp, observationId: z.number().int() }),
  ])
  .openapi('TimelineEntry');

const personId = (description: string) =>
  z.object({ id: pathParam('id', description, '25f4f4bd-f445-53a5-8294-c8515162558d') });
const PERSON = 'A person id or any alias (a merged id answers for the survivor, with `redirectedFrom`)';

export function registerChanges(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'get',
    path: '/api/changes',
    operationId: 'recentChanges',
    tag: 'Job changes and timeline',
    summary: 'Recent job changes, newest first',
    security: SECURITY.apiKey,
    request: {
      query: z.object({
        type: ChangeType.optional(),
        days: z
          .string()
          .regex(/^\d+$/)
          .optional()
          .openapi({ description: 'Changes of the last N days, 1 to 3650 (default 90)', example: '30' }),
        ...pageQuery(50, 500),
      }),
    },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          data: z.array(Change),
          filters: z.strictObject({ type: ChangeType.nullable(), days: z.number().int() }),
          pagination: CountedPagination,
        }),
        'One page of changes',
      ),
    },
    errors: [
      ...ERRORS.database,
      ...ERRORS.readAccess,
      ...ERRORS.page,
      'INVALID_REQUEST',
      'INVALID_CHANGE_TYPE',
      'INVALID_DAYS',
    ],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/changes/person/{id}',
    operationId: 'changesOfPerson',
    tag: 'Job changes and timeline',
    summary: 'Every job change of one person',
    security: SECURITY.apiKey,
    request: { params: personId(PERSON) },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          personId: Uuid,
          redirectedFrom: Uuid.optional(),
          recentJobChange: z.boolean(),
          lastJobChangeAt: Timestamp.nullable(),
          lastJobChangeType: ChangeType.nullable(),
          data: z.array(Change),
        }),
        'The person’s changes, newest first',
      ),
    },
    errors: [...ERRORS.database, ...ERRORS.readAccess, 'NOT_FOUND'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/people/{id}/timeline',
    operationId: 'personTimeline',
    tag: 'Job changes and timeline',
    summary: 'A person’s history: observations, changes and first sighting, newest first',
    security: SECURITY.apiKey,
    request: { params: personId(PERSON), query: z.object({ ...DateRangeQuery, ...pageQuery(50, 500) }) },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          personId: Uuid,
          redirectedFrom: Uuid.optional(),
          data: z.array(TimelineEntry),
          pagination: CountedPagination,
        }),
        'One page of the timeline',
      ),
    },
    errors: [
      ...ERRORS.database,
      ...ERRORS.readAccess,
      ...ERRORS.page,
      'INVALID_REQUEST',
      'INVALID_DATE_RANGE',
      'NOT_FOUND',
    ],
  });
}
