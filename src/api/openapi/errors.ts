import type { ResponseConfig } from '@asteasolutions/zod-to-openapi';
import type { ErrorCode } from '../errors';
import { ERROR_CATALOGUE, RETRY_AFTER_SECONDS } from '../errors';
import type { LeadError } from '../lead.router';
import { LEAD_ERRORS } from '../lead.router';
import { z } from './zod';

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as [ErrorCode, ...ErrorCode[]];

/** The catalogue as a Markdown table: every code, its status and its default message. */
export function errorCatalogueTable(): string {
  const rows = ERROR_CODES.map((code) => {
    const { status, message } = ERROR_CATALOGUE[code];
    return `| \`${code}\` | ${status} | ${message} |`;
  });
  return ['| error | status | meaning |', '| --- | --- | --- |', ...rows].join('\n');
}

export const ErrorCodeSchema = z.enum(ERROR_CODES).openapi('ErrorCode', {
  description: `Stable error codes: a code never changes meaning.\n\n${errorCatalogueTable()}`,
});

/**
 * Not strict: per-operation error schemas extend it (an `allOf` with a `$ref`), and `additionalProperties: false`
 * in one branch of an `allOf` would reject the other branch's properties. The conformance test checks it strictly.
 */
export const ErrorBody = z
  .object({
    success: z.literal(false),
    error: ErrorCodeSchema,
    message: z.string().openapi({ description: 'Human-readable; may carry detail, never parse it' }),
    requestId: z.string().openapi({ description: 'Also in the X-Request-Id header; quote it in reports' }),
    details: z.unknown().optional().openapi({ description: 'Machine-readable detail, per error' }),
  })
  .openapi('Error', {
    description: 'Every error of the service (except POST /api/lead, which keeps leadCRM’s shape)',
  });

const LEAD_ERROR_NAMES = Object.keys(LEAD_ERRORS) as [LeadError, ...LeadError[]];

export const LeadErrorBody = z
  .object({ ok: z.literal(false), error: z.enum(LEAD_ERROR_NAMES) })
  .openapi('LeadError', {
    description:
      'The leadCRM contract’s error body. Statuses: ' +
      LEAD_ERROR_NAMES.map((name) => `\`${name}\` ${ERROR_CATALOGUE[LEAD_ERRORS[name]].status}`).join(', '),
  });

const retryAfter = {
  'Retry-After': {
    description: `Seconds to wait before retrying (${RETRY_AFTER_SECONDS})`,
    schema: { type: 'integer' as const },
  },
};

function byStatus<T extends string>(codes: readonly T[], statusOf: (code: T) => number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const code of new Set(codes)) {
    const status = statusOf(code);
    groups.set(status, [...(groups.get(status) ?? []), code]);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => a - b));
}

function describe(codes: readonly string[], messageOf: (code: string) => string): string {
  return codes.map((code) => `\`${code}\`: ${messageOf(code)}`).join('; ');
}

/** One response per status, each restricted to the codes the operation can answer with that status. */
export function errorResponses(codes: readonly ErrorCode[]): Record<number, ResponseConfig> {
  const responses: Record<number, ResponseConfig> = {};
  for (const [status, group] of byStatus(codes, (code) => ERROR_CATALOGUE[code].status)) {
    responses[status] = {
      description: describe(group, (code) => ERROR_CATALOGUE[code as ErrorCode].message),
      ...(status === 503 ? { headers: retryAfter } : {}),
      content: {
        'application/json': {
          schema: ErrorBody.extend({ error: z.enum(group as [ErrorCode, ...ErrorCode[]]) }),
        },
      },
    };
  }
  return responses;
}

/** The same for POST /api/lead, in leadCRM's `{ok: false, error}` shape. */
export function leadErrorResponses(errors: readonly LeadError[]): Record<number, ResponseConfig> {
  const responses: Record<number, ResponseConfig> = {};
  const statusOf = (error: LeadError) => ERROR_CATALOGUE[LEAD_ERRORS[error]].status;
  for (const [status, group] of byStatus(errors, statusOf)) {
    responses[status] = {
      description: describe(group, (error) => ERROR_CATALOGUE[LEAD_ERRORS[error as LeadError]].message),
      ...(status === 503 ? { headers: retryAfter } : {}),
      content: {
        'application/json': {
          schema: LeadErrorBody.extend({ error: z.enum(group as [LeadError, ...LeadError[]]) }),
        },
      },
    };
  }
  return responses;
}

/** Error codes by guard, shared by many operations. */
export const ERRORS = {
  readAccess: ['UNAUTHORIZED', 'AUTH_NOT_CONFIGURED', 'RATE_LIMITED'],
  adminAccess: ['UNAUTHORIZED', 'AUTH_NOT_CONFIGURED', 'RATE_LIMITED'],
  database: ['DATABASE_UNAVAILABLE'],
  jsonBody: ['INVALID_JSON', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_ENCODING'],
  page: ['INVALID_LIMIT', 'LIMIT_EXCEEDED', 'INVALID_SKIP'],
  queryLanguage: [
    'INVALID_FILTER',
    'INVALID_FILTER_FIELD',
    'INVALID_OPERATOR',
    'FORBIDDEN_OPERATOR',
    'INVALID_REGEX',
    'INVALID_SORT',
    'INVALID_PROJECTION',
  ],
} as const satisfies Record<string, readonly ErrorCode[]>;
