import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { EXPORT_ENTITIES, EXPORT_FORMATS } from '../../exports';
import { exportBody } from '../export.router';
import { Count, NullableTimestamp, pathParam, Success, Timestamp, Uuid } from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { QueryRequest } from './query';
import { SECURITY } from './security';
import { z } from './zod';

const ExportStatus = z.enum(['pending', 'processing', 'completed', 'failed']);

/** The router's body schema, its query-language parts typed like POST /api/query/*. */
const ExportRequest = exportBody
  .extend({
    filters: QueryRequest.shape.filters,
    fields: QueryRequest.shape.fields,
    sort: QueryRequest.shape.sort,
    bom: z
      .boolean()
      .optional()
      .openapi({ description: 'CSV only: a UTF-8 byte order mark first (for Excel)' }),
  })
  .openapi('ExportRequest');

const ExportJob = z
  .strictObject({
    success: Success,
    jobId: Uuid,
    entity: z.enum(EXPORT_ENTITIES),
    format: z.enum(EXPORT_FORMATS),
    status: ExportStatus,
    rowsDone: Count,
    rowsTotal: Count.nullable(),
    sizeBytes: Count,
    createdAt: Timestamp,
    startedAt: NullableTimestamp,
    completedAt: NullableTimestamp,
    expiresAt: Timestamp,
    error: z.string().optional().openapi({ description: 'Why it failed (failed jobs only)' }),
    statusUrl: z.string(),
    downloadUrl: z.string(),
  })
  .openapi('ExportJob');

const jobParams = z.object({
  jobId: pathParam('jobId', 'The export job id', '1a02f470-4197-47be-83f8-c5d48210ca2c'),
});

export function registerExports(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'post',
    path: '/api/export/{entity}/{format}',
    operationId: 'createExport',
    tag: 'Exports',
    summary: 'Queue an export of people, companies or locations as CSV or JSON',
    description:
      'Any instance’s worker produces the file into the database; poll the status URL, then download. A job is ' +
      'visible only to the API key that created it, and expires after EXPORT_TTL_HOURS.',
    security: SECURITY.apiKey,
    request: {
      params: z.object({
        entity: z.enum(EXPORT_ENTITIES).openapi({ param: { name: 'entity', in: 'path' }, example: 'people' }),
        format: z.enum(EXPORT_FORMATS).openapi({ param: { name: 'format', in: 'path' }, example: 'csv' }),
      }),
      body: {
        description: 'What to export (default: every live row, default columns)',
        required: false,
        content: {
          'application/json': {
            schema: ExportRequest,
            example: { filters: { countryCode: 'US' }, fields: ['fullName', 'currentTitle', 'email'] },
          },
        },
      },
    },
    responses: {
      202: json(
        z.strictObject({
          success: Success,
          jobId: Uuid,
          status: ExportStatus,
          statusUrl: z.string(),
          downloadUrl: z.string(),
          expiresAt: Timestamp,
        }),
        'Queued (the Location header is the status URL)',
        { headers: { Location: { description: 'The status URL', schema: { type: 'string' } } } },
      ),
    },
    errors: [
      ...ERRORS.database,
      ...ERRORS.readAccess,
      ...ERRORS.jsonBody,
      ...ERRORS.queryLanguage,
      'INVALID_REQUEST',
      'ROUTE_NOT_FOUND',
      'EXPORT_QUEUE_FULL',
    ],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/export/status/{jobId}',
    operationId: 'exportStatus',
    tag: 'Exports',
    summary: 'The progress of an export',
    security: SECURITY.apiKey,
    request: { params: jobParams },
    responses: { 200: json(ExportJob, 'The job') },
    errors: [...ERRORS.database, ...ERRORS.readAccess, 'EXPORT_NOT_FOUND'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/export/download/{jobId}',
    operationId: 'exportDownload',
    tag: 'Exports',
    summary: 'Download a completed export',
    security: SECURITY.apiKey,
    request: { params: jobParams },
    responses: {
      200: {
        description: 'The file (Content-Disposition: attachment)',
        content: {
          'text/csv': { schema: z.string().openapi({ description: 'RFC 4180, a header row first' }) },
          'application/json': {
            schema: z.array(z.record(z.string(), z.unknown())).openapi({ description: 'One object per row' }),
          },
        },
      },
    },
    errors: [...ERRORS.database, ...ERRORS.readAccess, 'EXPORT_NOT_FOUND', 'NOT_READY', 'EXPORT_FAILED'],
  });
}
