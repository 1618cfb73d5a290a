import { z } from './zod';

/** Timestamps are ISO 8601; most end in `Z`, ones built inside PostgreSQL JSON carry an offset. */
export const Timestamp = z.iso.datetime({ offset: true }).openapi({ example: '2025-07-03T02:24:40.005Z' });
export const NullableTimestamp = Timestamp.nullable();
export const Uuid = z.uuid().openapi({ example: '25f4f4bd-f445-53a5-8294-c8515162558d' });
export const NullableText = z.string().nullable();
export const Count = z.number().int().min(0);
export const Percent = z
  .number()
  .nullable()
  .openapi({ description: '0-100; null when there is nothing to divide' });

export const Success = z.literal(true);

const wholeNumber = z.string().regex(/^\d+$/);

/** `limit` and `skip` of GET lists: whole numbers written with digits only. */
export function pageQuery(defaultLimit: number, maxLimit: number) {
  return {
    limit: wholeNumber.optional().openapi({
      description: `Page size, 1 to ${maxLimit} (default ${defaultLimit}); above: LIMIT_EXCEEDED`,
      example: String(Math.min(defaultLimit, 20)),
    }),
    skip: wholeNumber.optional().openapi({ description: 'Items to skip (default 0)', example: '0' }),
  };
}

/** Pagination of search and seniority lists: no total count (the next page tells). */
export const SkipPagination = z.strictObject({
  count: Count,
  hasMore: z.boolean(),
  nextSkip: z.number().int().nullable(),
});

/** Pagination with an exact total (changes, timeline). */
export const CountedPagination = z.strictObject({
  count: Count,
  totalCount: Count,
  skip: Count,
  hasMore: z.boolean(),
  nextSkip: z.number().int().nullable(),
});

/** Pagination of leads and HubSpot lists: CountedPagination plus the limit applied. */
export const LimitedPagination = CountedPagination.extend({ limit: z.number().int().min(1) });

/** `?from=` / `?to=`: ISO dates or timestamps, both inclusive (a date-only `to` covers its whole UTC day). */
export const DateRangeQuery = {
  from: z
    .string()
    .optional()
    .openapi({ description: 'ISO 8601 date or timestamp (inclusive)', example: '2025-01-01' }),
  to: z.string().optional().openapi({
    description: 'ISO 8601 date or timestamp (inclusive; a date covers its whole UTC day)',
    example: '2025-12-31',
  }),
};

export function pathParam(name: string, description: string, example: string) {
  return z.string().openapi({ param: { name, in: 'path', description }, example });
}
