import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { DEPARTMENTS } from '../../intelligence/departments';
import { SENIORITY_TIERS } from '../../intelligence/seniority';
import { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, MAX_QUERY_LENGTH, MIN_QUERY_LENGTH } from '../search.router';
import {
  DEFAULT_ANALYSIS_TOP,
  DEFAULT_LEADERS_PER_COMPANY,
  MAX_ANALYSIS_TOP,
  MAX_LEADERS_PER_COMPANY,
} from '../seniority.router';
import {
  Count,
  NullableText,
  NullableTimestamp,
  pageQuery,
  pathParam,
  SkipPagination,
  Success,
  Uuid,
} from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const TierName = z.enum(SENIORITY_TIERS.map((tier) => tier.name) as [string, ...string[]]);
const Department = z.enum(DEPARTMENTS as unknown as [string, ...string[]]);

const SearchHit = z
  .strictObject({
    id: Uuid,
    fullName: NullableText,
    currentTitle: NullableText,
    currentCompany: NullableText,
    companyId: Uuid.nullable(),
    location: NullableText,
    seniorityTier: NullableText,
    department: NullableText,
    lastObservedAt: NullableTimestamp,
    score: z.number().openapi({ description: 'Higher is better; comparable within one query only' }),
  })
  .openapi('SearchHit');

export const PersonSummary = z
  .strictObject({
    id: Uuid,
    fullName: NullableText,
    currentTitle: NullableText,
    currentCompany: NullableText,
    companyId: Uuid.nullable(),
    location: NullableText,
    seniorityLevel: z.number().int().nullable(),
    seniorityTier: NullableText,
    department: NullableText,
    lastObservedAt: NullableTimestamp,
  })
  .openapi('PersonSummary');

const Share = { count: Count, percentage: z.number() };
const TierCount = z.strictObject({ level: z.number().int(), tier: TierName, count: Count });
const Breakdown = { total: Count, tiers: z.array(TierCount), unclassified: Count };
const digits = z.string().regex(/^\d+$/);

export function registerSearch(registry: OpenAPIRegistry): void {
  const searchQuery = z.object({
    q: z.string().openapi({
      description: `Search text, ${MIN_QUERY_LENGTH} to ${MAX_QUERY_LENGTH} characters (names, titles, companies, places)`,
      example: 'dana whitfield',
    }),
    ...pageQuery(DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT),
  });
  const searchPage = json(
    z.strictObject({
      success: Success,
      data: z.array(SearchHit),
      pagination: SkipPagination,
      meta: z.strictObject({ query: z.string(), fuzzy: z.boolean(), truncated: z.boolean() }),
    }),
    'Relevance-ranked people',
  );
  const searchErrors = [...ERRORS.database, ...ERRORS.readAccess, ...ERRORS.page, 'INVALID_QUERY'] as const;
  for (const [path, operationId] of [
    ['/api/search', 'search'],
    ['/api/search/people', 'searchPeople'],
  ] as const) {
    registerOperation(registry, {
      method: 'get',
      path,
      operationId,
      tag: 'Search and seniority',
      summary: path === '/api/search' ? 'Search people (alias of /api/search/people)' : 'Search people',
      security: SECURITY.apiKey,
      request: { query: searchQuery },
      responses: { 200: searchPage },
      errors: searchErrors,
    });
  }

  registerOperation(registry, {
    method: 'get',
    path: '/api/seniority/tiers',
    operationId: 'seniorityTiers',
    tag: 'Search and seniority',
    summary: 'The seniority ladder and the departments',
    security: SECURITY.apiKey,
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          data: z.strictObject({
            tiers: z.array(
              z.strictObject({
                level: z.number().int(),
                name: TierName,
                description: z.string(),
                keywords: z.array(z.string()),
              }),
            ),
            departments: z.array(Department),
          }),
        }),
        'The ladder, highest first',
      ),
    },
    errors: ERRORS.readAccess,
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/seniority/distribution',
    operationId: 'seniorityDistribution',
    tag: 'Search and seniority',
    summary: 'Live people per tier and per department',
    security: SECURITY.apiKey,
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          data: z.strictObject({
            total: Count,
            tiers: z.array(z.strictObject({ level: z.number().int(), tier: TierName, ...Share })),
            unclassified: z.strictObject(Share),
            departments: z.array(z.strictObject({ department: Department, ...Share })),
            noDepartment: z.strictObject(Share),
          }),
        }),
        'Shares are percentages of all live people',
      ),
    },
    errors: [...ERRORS.readAccess, ...ERRORS.database],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/seniority/by-tier/{tier}',
    operationId: 'peopleInTier',
    tag: 'Search and seniority',
    summary: 'The people of one tier, most recently observed first',
    security: SECURITY.apiKey,
    request: {
      params: z.object({ tier: pathParam('tier', 'A level from 1 to 8 or a tier name such as VP', 'VP') }),
      query: z.object(pageQuery(DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT)),
    },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          tier: z.strictObject({ level: z.number().int(), name: TierName }),
          data: z.array(PersonSummary),
          pagination: SkipPagination,
        }),
        'One page of the tier',
      ),
    },
    errors: [...ERRORS.readAccess, ...ERRORS.database, ...ERRORS.page, 'INVALID_TIER'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/seniority/analysis',
    operationId: 'seniorityAnalysis',
    tag: 'Search and seniority',
    summary: 'Seniority by company, department and country, and each top company’s leaders',
    security: SECURITY.apiKey,
    request: {
      query: z.object({
        top: digits.optional().openapi({
          description: `Companies and countries to report, 1 to ${MAX_ANALYSIS_TOP} (default ${DEFAULT_ANALYSIS_TOP})`,
        }),
        leaders: digits.optional().openapi({
          description: `Leaders named per company, 1 to ${MAX_LEADERS_PER_COMPANY} (default ${DEFAULT_LEADERS_PER_COMPANY})`,
        }),
      }),
    },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          data: z.strictObject({
            total: Count,
            byCompany: z.array(z.strictObject({ companyId: Uuid, company: NullableText, ...Breakdown })),
            byDepartment: z.array(z.strictObject({ department: Department.nullable(), ...Breakdown })),
            byLocation: z.array(z.strictObject({ country: z.string(), ...Breakdown })),
            leadersPerCompany: z.array(
              z.strictObject({
                companyId: Uuid,
                company: NullableText,
                leaderCount: Count,
                leaders: z.array(PersonSummary),
              }),
            ),
          }),
        }),
        'The analysis',
      ),
    },
    errors: [...ERRORS.readAccess, ...ERRORS.database, 'INVALID_LIMIT', 'LIMIT_EXCEEDED'],
  });
}
