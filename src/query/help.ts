import { COMPANY_FIELDS, PEOPLE_FIELDS } from './catalogue';
import { FILTER_LIMITS, FORBIDDEN_OPERATORS, operatorsFor } from './filter';
import { MAX_PROJECTION_FIELDS } from './projection';
import { QUERY_LIMITS } from './run';
import type { QueryOptions } from './run';
import { MAX_SORT_KEYS } from './sort';
import type { FieldCatalogue } from './types';

export interface QueryExample {
  description: string;
  method: 'POST';
  path: '/api/query/people' | '/api/query/companies';
  body: Record<string, unknown>;
}

/** Every example runs against the real endpoint in __tests__/query.api.test.ts. */
export const QUERY_EXAMPLES: readonly QueryExample[] = [
  {
    description: 'Vice presidents in the United States, most recently seen first',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: { currentTitle: { $regex: 'VP|Vice President', $options: 'i' }, countryCode: 'US' },
      sort: { lastObservedAt: -1 },
      limit: 50,
    },
  },
  {
    description: 'Well-connected senior people, chosen columns, most connected first',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: { connections: { $gte: 500 }, seniorityLevel: { $gte: 5 } },
      fields: ['fullName', 'currentTitle', 'currentCompany', 'connections', 'seniorityTier'],
      sort: { connections: -1 },
    },
  },
  {
    description: 'Technology or finance industry',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: {
        $or: [
          { industry: { $regex: 'Technology', $options: 'i' } },
          { industry: { $regex: 'Finance', $options: 'i' } },
        ],
      },
    },
  },
  {
    description: 'Ever worked at a company starting with "Google" (any position) and knows Python or SQL',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: {
        'roles.companyName': { $regex: '^Google', $options: 'i' },
        skills: { $in: ['Python', 'SQL'] },
      },
    },
  },
  {
    description: 'Sales and marketing people with an email, seen since 2025',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: {
        department: { $in: ['sales', 'marketing'] },
        email: { $exists: true },
        lastObservedAt: { $gte: '2025-01-01' },
      },
      sort: { fullName: 1 },
    },
  },
  {
    description: 'Nested logic: VPs or C-level outside the United States',
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: {
        $and: [
          { $or: [{ seniorityTier: 'VP' }, { seniorityTier: 'CXO' }] },
          { country: { $ne: 'United States' } },
        ],
      },
    },
  },
  {
    description: "The old system's field names still work",
    method: 'POST',
    path: '/api/query/people',
    body: {
      filters: {
        'snapshot.currentTitle': { $regex: 'engineer', $options: 'i' },
        'meta.lastObservedAt': { $lt: '2030-01-01T00:00:00Z' },
      },
      sort: { 'snapshot.fullName': 1 },
      limit: 20,
      skip: 0,
    },
  },
  {
    description: 'Companies with at least two known people, biggest first',
    method: 'POST',
    path: '/api/query/companies',
    body: {
      filters: { peopleCount: { $gte: 2 } },
      sort: { peopleCount: -1 },
      fields: ['name', 'domain', 'industry', 'peopleCount'],
    },
  },
];

function describeFields(catalogue: FieldCatalogue) {
  return Object.values(catalogue.fields).map((spec) => ({
    name: spec.name,
    type: spec.type,
    ...(spec.element ? { elementType: spec.element.type } : {}),
    ...(spec.format ? { format: spec.format } : {}),
    description: spec.description,
    operators: operatorsFor(spec),
    sortable: spec.sortable === true,
    default: spec.default === true || spec.name === 'id',
    ...(spec.aliases && spec.aliases.length > 0 ? { aliases: spec.aliases } : {}),
  }));
}

/** The body of GET /api/query/help. */
export function queryHelp({ countLimit, countTimeoutMs }: QueryOptions) {
  return {
    endpoints: {
      'POST /api/query/people': 'Live people (merged duplicates excluded)',
      'POST /api/query/companies': 'Live companies, with the number of people currently working there',
    },
    body: {
      filters: 'object: field -> value (equality) or field -> {operator: value}; $and / $or at any level',
      sort: `object: field -> 1 (ascending) or -1 (descending), up to ${MAX_SORT_KEYS} fields; default {"lastObservedAt": -1}; missing values sort as the largest`,
      limit: `rows per page, default ${QUERY_LIMITS.defaultLimit}, at most ${QUERY_LIMITS.maxLimit}`,
      skip: 'rows to skip (offset paging; slow when deep: prefer cursor)',
      cursor: 'pagination.nextCursor of the previous page, with the same filters and sort (keyset paging)',
      fields: 'array of field names to return (id is always included); default: the fields marked default',
    },
    semantics: [
      'Every field is a set of values: a plain field has zero or one, skills / tags / roles.* / education.* one per element.',
      'A positive operator ($eq $gt $gte $lt $lte $in $regex) matches when some value matches it: roles.title matches any position.',
      'Conditions on roles.* are matched independently: {"roles.title": "CTO", "roles.isCurrent": true} needs some position titled CTO and some current position.',
      '$ne and $nin are the negations of $eq and $in, so they also match people without the field.',
      'null stands for "no value": {"email": null} is {"email": {"$exists": false}}.',
      'Text comparisons are exact and case-sensitive; use {"$regex": "...", "$options": "i"} for case-insensitive or partial matches (PostgreSQL regular expressions).',
      'Dates are ISO 8601 (2025-07-01 or 2025-07-01T12:00:00Z; a time without a zone is UTC). Numbers may be JSON numbers or text such as "500+".',
    ],
    operators: {
      $eq: 'equal (the default when a plain value is given)',
      $ne: 'not equal, or no value',
      $gt: 'greater than (numbers, dates)',
      $gte: 'greater than or equal (numbers, dates)',
      $lt: 'less than (numbers, dates)',
      $lte: 'less than or equal (numbers, dates)',
      $in: `equal to one of an array of at most ${FILTER_LIMITS.maxInValues} values`,
      $nin: 'equal to none of an array of values',
      $regex: `PostgreSQL regular expression (text fields), at most ${FILTER_LIMITS.maxRegexLength} characters`,
      $options: '"i" for a case-insensitive $regex (the only option)',
      $exists: 'true: the field has a value; false: it has none',
      $and: 'array of filters that must all match',
      $or: 'array of filters of which at least one must match',
    },
    forbidden: FORBIDDEN_OPERATORS,
    limits: {
      defaultLimit: QUERY_LIMITS.defaultLimit,
      maxLimit: QUERY_LIMITS.maxLimit,
      maxInValues: FILTER_LIMITS.maxInValues,
      maxNestingDepth: FILTER_LIMITS.maxDepth,
      maxBranchesPerLogicalOperator: FILTER_LIMITS.maxBranches,
      maxConditions: FILTER_LIMITS.maxConditions,
      maxRegexLength: FILTER_LIMITS.maxRegexLength,
      maxSortFields: MAX_SORT_KEYS,
      maxProjectionFields: MAX_PROJECTION_FIELDS,
      exactTotalCountUpTo: countLimit,
      exactTotalCountWithinMs: countTimeoutMs,
    },
    pagination: {
      count: 'rows in this page',
      totalCount: `rows matching the filter, counted exactly up to ${countLimit}; pages reached by cursor repeat the first page's count`,
      totalCountCapped: `true when more than ${countLimit} rows match (totalCount is then ${countLimit})`,
      totalCountEstimated: `true when counting would take long (PostgreSQL expects it to, or it took longer than ${countTimeoutMs} ms): totalCount is then PostgreSQL's estimate`,
      hasMore: 'another page follows',
      nextSkip: 'skip for the next page (offset paging), null on the last page or when paging by cursor',
      nextCursor:
        'cursor for the next page (keyset paging: stable and fast at any depth), null on the last page',
    },
    errors: {
      INVALID_FILTER: 'malformed filter or a value of the wrong type (details.path names the node)',
      INVALID_FILTER_FIELD: 'a field that is not in the list below',
      INVALID_OPERATOR: 'an operator that is not in the list above',
      FORBIDDEN_OPERATOR: `one of ${FORBIDDEN_OPERATORS.join(', ')}`,
      INVALID_REGEX: 'a pattern PostgreSQL cannot compile',
      INVALID_SORT: 'a field that cannot be sorted on, or a direction other than 1 / -1',
      INVALID_PROJECTION: 'fields names an unknown field',
      INVALID_LIMIT: 'limit is not a positive integer',
      LIMIT_EXCEEDED: `limit above ${QUERY_LIMITS.maxLimit}`,
      INVALID_SKIP: 'skip is not a non-negative integer',
      INVALID_CURSOR: 'a cursor that was modified, belongs to another query, or is combined with skip',
    },
    fields: { people: describeFields(PEOPLE_FIELDS), companies: describeFields(COMPANY_FIELDS) },
    examples: QUERY_EXAMPLES,
  };
}
