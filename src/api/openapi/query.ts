import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { QUERY_LIMITS, queryBodySchema } from '../../query/run';
import { Count, Success, Uuid } from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const Filter = z.record(z.string(), z.unknown()).openapi('QueryFilter', {
  description:
    'MongoDB-style: `{field: value}`, `{field: {$op: value}}`, `$and` / `$or`. Fields and operators are ' +
    'whitelisted (GET /api/query/help); anything else is a 400 with a stable code.',
  example: { currentTitle: { $regex: 'engineer', $options: 'i' }, countryCode: 'US' },
});
const Sort = z
  .record(z.string(), z.union([z.literal(1), z.literal(-1)]))
  .openapi('QuerySort', { example: { lastObservedAt: -1 } });

/** The routers' body schema, its free-form parts typed for readers (each part is still checked by its compiler). */
export const QueryRequest = queryBodySchema
  .extend({
    filters: Filter.optional(),
    sort: Sort.optional(),
    limit: z
      .number()
      .int()
      .min(1)
      .max(QUERY_LIMITS.maxLimit)
      .optional()
      .openapi({ description: `Default ${QUERY_LIMITS.defaultLimit}` }),
    skip: z.number().int().min(0).optional(),
    cursor: z
      .string()
      .nullable()
      .optional()
      .openapi({ description: 'nextCursor of the previous page (keyset paging)' }),
    fields: z
      .array(z.string())
      .optional()
      .openapi({ description: 'Projection; default: the default fields' }),
  })
  .openapi('QueryRequest');

export const QueryPage = z
  .strictObject({
    success: Success,
    data: z
      .array(z.looseObject({ id: Uuid }))
      .openapi({ description: 'The projected fields of each row, id always' }),
    pagination: z.strictObject({
      count: Count,
      limit: z.number().int(),
      skip: Count,
      totalCount: Count,
      totalCountCapped: z.boolean(),
      totalCountEstimated: z.boolean(),
      hasMore: z.boolean(),
      nextSkip: z.number().int().nullable(),
      nextCursor: z.string().nullable(),
    }),
  })
  .openapi('QueryPage');

const FieldHelp = z.strictObject({
  name: z.string(),
  type: z.enum(['text', 'number', 'date', 'boolean', 'textArray', 'objectArray']),
  elementType: z
    .enum(['text', 'number', 'boolean'])
    .optional()
    .openapi({ description: 'objectArray sub-fields' }),
  format: z.literal('uuid').optional(),
  description: z.string(),
  operators: z.array(z.string()),
  sortable: z.boolean(),
  default: z.boolean(),
  aliases: z.array(z.string()).optional(),
});

const QueryHelp = z
  .strictObject({
    success: Success,
    data: z.strictObject({
      endpoints: z.record(z.string(), z.string()),
      body: z.record(z.string(), z.string()),
      semantics: z.array(z.string()),
      operators: z.record(z.string(), z.string()),
      forbidden: z.array(z.string()),
      limits: z.record(z.string(), z.number()),
      pagination: z.record(z.string(), z.string()),
      errors: z.record(z.string(), z.string()),
      fields: z.strictObject({ people: z.array(FieldHelp), companies: z.array(FieldHelp) }),
      examples: z.array(
        z.strictObject({ description: z.string(), method: z.string(), path: z.string(), body: z.unknown() }),
      ),
    }),
  })
  .openapi('QueryHelp');

export function registerQuery(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'get',
    path: '/api/query/help',
    operationId: 'queryHelp',
    tag: 'Query',
    summary: 'The query language: fields, operators, limits, examples',
    security: SECURITY.apiKey,
    responses: { 200: json(QueryHelp, 'The reference') },
    errors: ERRORS.readAccess,
  });
  const queryErrors = [
    ...ERRORS.readAccess,
    ...ERRORS.database,
    ...ERRORS.jsonBody,
    ...ERRORS.queryLanguage,
    'INVALID_REQUEST',
    'INVALID_LIMIT',
    'LIMIT_EXCEEDED',
    'INVALID_SKIP',
    'INVALID_CURSOR',
  ] as const;
  for (const [entity, operationId] of [
    ['people', 'queryPeople'],
    ['companies', 'queryCompanies'],
  ] as const) {
    registerOperation(registry, {
      method: 'post',
      path: `/api/query/${entity}`,
      operationId,
      tag: 'Query',
      summary: `Filter, sort, project and page live ${entity}`,
      description: 'No body means every row. Merged duplicates are never returned.',
      security: SECURITY.apiKey,
      request: {
        body: {
          description: 'The query',
          required: false,
          content: {
            'application/json': {
              schema: QueryRequest,
              example: {
                filters: entity === 'people' ? { seniorityLevel: { $gte: 5 }, countryCode: 'US' } : {},
                sort: { lastObservedAt: -1 },
                limit: 20,
              },
            },
          },
        },
      },
      responses: { 200: json(QueryPage, 'One page') },
      errors: queryErrors,
    });
  }
}
