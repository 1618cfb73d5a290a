import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

/** The service's own endpoints about itself: the API documentation and the Prometheus metrics. */
export function registerDocsAndMetrics(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'get',
    path: '/api/docs',
    operationId: 'apiDocs',
    tag: 'Operations',
    summary: 'This documentation (Swagger UI)',
    security: SECURITY.public,
    responses: {
      200: { description: 'An HTML page (at /api/docs/)', content: { 'text/html': { schema: z.string() } } },
      301: {
        description: 'To /api/docs/: the page’s asset URLs are relative to it',
        headers: { Location: { description: '`docs/`', schema: { type: 'string' } } },
      },
    },
    errors: [],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/docs/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Operations',
    summary: 'This document (OpenAPI 3.1)',
    security: SECURITY.public,
    responses: {
      200: {
        description: 'The OpenAPI document',
        content: { 'application/json': { schema: z.record(z.string(), z.unknown()) } },
      },
    },
    errors: [],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    description:
      'Request counts and latency by route pattern, observations by kind and status, the dead-letter backlog, ' +
      'Phase 2 latency and paths, the scheduler leader, and the process’s own figures. Database figures are read ' +
      'at scrape time, each by one time-bounded query.',
    security: SECURITY.metrics,
    responses: {
      200: {
        description: 'The Prometheus text exposition format',
        content: { 'text/plain': { schema: z.string() } },
      },
    },
    errors: ERRORS.readAccess.filter((code) => code !== 'RATE_LIMITED'),
  });
}
