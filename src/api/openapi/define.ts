import type { OpenAPIRegistry, ResponseConfig, RouteConfig } from '@asteasolutions/zod-to-openapi';
import type { ZodType } from 'zod';
import type { ErrorCode } from '../errors';
import { errorResponses } from './errors';

export interface Operation {
  method: 'get' | 'post' | 'patch';
  /** OpenAPI form: `/api/people/{id}`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  security: Record<string, string[]>[];
  request?: RouteConfig['request'];
  /** Answers that are not catalogue errors (2xx, and the few non-catalogue bodies such as /health/ready's 503). */
  responses: Record<number, ResponseConfig>;
  /** Catalogue codes the operation can answer with; INTERNAL_ERROR is added to every operation. */
  errors: readonly ErrorCode[];
}

export function registerOperation(registry: OpenAPIRegistry, operation: Operation): void {
  const { errors, responses, tag, ...route } = operation;
  registry.registerPath({
    ...route,
    tags: [tag],
    responses: { ...responses, ...errorResponses([...errors, 'INTERNAL_ERROR']) },
  });
}

export function json(
  schema: ZodType,
  description: string,
  extra: Omit<ResponseConfig, 'description' | 'content'> & { example?: unknown } = {},
): ResponseConfig {
  const { example, ...rest } = extra;
  return {
    description,
    ...rest,
    content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
  };
}

export function jsonBody(schema: ZodType, description: string, example?: unknown) {
  return {
    description,
    required: true,
    content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
  };
}
