import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { byAliasesBody } from '../entities.router';
import { Count, NullableText, NullableTimestamp, pathParam, Success, Timestamp, Uuid } from './common';
import { json, jsonBody, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const Alias = z.strictObject({ type: z.string(), value: z.string() });

const Provenance = z
  .looseObject({
    value: z.unknown(),
    observedAt: Timestamp,
    source: z.string(),
    observationId: z.number().int(),
  })
  .openapi('FieldProvenance', { description: 'Where the current value of a snapshot field came from' });

const Role = z.looseObject({
  title: NullableText,
  companyName: NullableText,
  location: NullableText,
  description: NullableText,
  startYear: z.number().int().nullable(),
  startMonth: z.number().int().nullable(),
  endYear: z.number().int().nullable(),
  endMonth: z.number().int().nullable(),
  isCurrent: z.boolean(),
});

const Education = z.looseObject({
  school: NullableText,
  degree: NullableText,
  field: NullableText,
  startYear: z.number().int().nullable(),
  endYear: z.number().int().nullable(),
});

/** A field is absent (never null) when no observation carried a value for it. */
export const PersonSnapshot = z
  .looseObject({
    firstName: z.string().optional(),
    middleName: z.string().optional(),
    lastName: z.string().optional(),
    fullName: z.string().optional(),
    currentTitle: z.string().optional(),
    currentCompany: z.string().optional(),
    companyId: Uuid.optional(),
    location: z.string().optional(),
    locationId: Uuid.optional(),
    city: z.string().optional(),
    state: z.string().optional(),
    stateCode: z.string().optional(),
    country: z.string().optional(),
    countryCode: z.string().optional(),
    industry: z.string().optional(),
    connections: z.number().int().optional(),
    degree: z.number().int().optional(),
    email: z.string().optional(),
    phone: z.string().optional().openapi({ description: 'E.164' }),
    skills: z.array(z.string()).optional(),
    roles: z.array(Role).optional(),
    education: z.array(Education).optional(),
    seniorityLevel: z.number().int().optional(),
    seniorityTier: z.string().optional(),
    department: z.string().optional(),
    _meta: z.record(z.string(), Provenance).optional(),
  })
  .openapi('PersonSnapshot', {
    description:
      'Every snapshot field (the common ones listed) with `_meta.<field>` saying which observation it came from. ' +
      'See GET /api/query/help for the full field list.',
  });

const PersonLead = z.strictObject({
  id: Uuid,
  status: z.string(),
  createdAt: Timestamp,
  assignedTo: NullableText,
  email: NullableText,
  firstName: NullableText,
  lastName: NullableText,
  phone: NullableText,
  country: NullableText,
  offer: NullableText,
  sourcetype: NullableText,
});

const AssociationType = z.strictObject({
  category: z.string(),
  typeId: z.number().int(),
  label: NullableText,
});

export const HubspotContactSummary = z
  .looseObject({
    id: z.string(),
    companies: z.array(z.looseObject({ id: z.string(), types: z.array(AssociationType) })),
    deals: z.array(z.looseObject({ id: z.string(), types: z.array(AssociationType) })),
  })
  .openapi('PersonHubspotContact');

export const Person = z
  .strictObject({
    id: Uuid,
    aliases: z.array(Alias),
    snapshot: PersonSnapshot,
    meta: z.strictObject({
      observationsCount: Count,
      firstObservedAt: NullableTimestamp,
      lastObservedAt: NullableTimestamp,
    }),
    derived: z.strictObject({
      yearsAtCurrentCompany: z.number().nullable(),
      totalTenureYears: z.number().nullable(),
      rolesCount: Count,
      averageTenureYears: z.number().nullable(),
      recentJobChange: z.boolean(),
      lastJobChangeAt: NullableTimestamp,
    }),
    mergedFrom: z
      .array(Uuid)
      .optional()
      .openapi({ description: 'Ids merged into this person (present when any)' }),
    redirectedFrom: Uuid.optional().openapi({ description: 'The merged id that was asked for' }),
    leads: z
      .array(PersonLead)
      .optional()
      .openapi({ description: 'Leads resolved to this person, newest first' }),
    hubspot: z.strictObject({ contacts: z.array(HubspotContactSummary) }).optional(),
  })
  .openapi('Person');

const EntityMeta = z.strictObject({
  observationsCount: Count,
  peopleCount: Count,
  firstObservedAt: NullableTimestamp,
  lastObservedAt: NullableTimestamp,
});

export const Company = z
  .strictObject({
    id: Uuid,
    aliases: z.array(Alias),
    snapshot: z.record(z.string(), z.unknown()),
    meta: EntityMeta,
    mergedFrom: z.array(Uuid).optional(),
  })
  .openapi('Company');

export const Location = z
  .strictObject({
    id: Uuid,
    key: z.string().openapi({ example: 'los angeles|california|united states' }),
    aliases: z.array(z.string()),
    snapshot: z.record(z.string(), z.unknown()),
    meta: EntityMeta,
  })
  .openapi('Location');

const PERSON_LOOKUP =
  'A canonical person id (a merged id answers with the survivor and `redirectedFrom`), or any alias: profile, ' +
  'Sales Navigator or recruiter URL, member id (`id.123…`), Sales Navigator id, username or email';

const personParams = z.object({ id: pathParam('id', PERSON_LOOKUP, '18619978') });
const aliasParams = z.object({
  value: pathParam('value', PERSON_LOOKUP, 'https://www.linkedin.com/in/danawhitfield'),
});
const READ_ERRORS = [...ERRORS.database, ...ERRORS.readAccess, 'NOT_FOUND'] as const;

export function registerEntities(registry: OpenAPIRegistry): void {
  const personResponse = json(z.strictObject({ success: Success, person: Person }), 'The person');
  registerOperation(registry, {
    method: 'get',
    path: '/api/people/by-alias/{value}',
    operationId: 'getPersonByAlias',
    tag: 'People, companies, locations',
    summary: 'A person by any alias',
    security: SECURITY.apiKey,
    request: { params: aliasParams },
    responses: { 200: personResponse },
    errors: READ_ERRORS,
  });
  registerOperation(registry, {
    method: 'post',
    path: '/api/people/by-aliases',
    operationId: 'getPeopleByAliases',
    tag: 'People, companies, locations',
    summary: 'Up to 50 people by alias in one call',
    security: SECURITY.apiKey,
    request: {
      body: jsonBody(byAliasesBody, 'The values to look up', { values: ['18619978', 'alex@moreno.example'] }),
    },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          results: z.array(z.strictObject({ value: z.string(), person: z.union([Person, z.null()]) })),
          found: Count,
        }),
        'One result per value, in order (`person: null` when nobody has it)',
      ),
    },
    errors: [...ERRORS.database, ...ERRORS.readAccess, ...ERRORS.jsonBody, 'INVALID_REQUEST'],
  });
  registerOperation(registry, {
    method: 'get',
    path: '/api/people/{id}',
    operationId: 'getPerson',
    tag: 'People, companies, locations',
    summary: 'A person by id or alias',
    security: SECURITY.apiKey,
    request: { params: personParams },
    responses: { 200: personResponse },
    errors: READ_ERRORS,
  });

  const companyLookup = 'A company id, LinkedIn company id or URL, slug or name';
  const companyParams = z.object({ value: pathParam('value', companyLookup, '735879098') });
  const companyResponse = json(z.strictObject({ success: Success, company: Company }), 'The company');
  for (const [path, operationId] of [
    ['/api/companies/by-alias/{value}', 'getCompanyByAlias'],
    ['/api/companies/{value}', 'getCompany'],
  ] as const) {
    registerOperation(registry, {
      method: 'get',
      path,
      operationId,
      tag: 'People, companies, locations',
      summary: 'A company by id or alias',
      security: SECURITY.apiKey,
      request: { params: companyParams },
      responses: { 200: companyResponse },
      errors: READ_ERRORS,
    });
  }

  const locationLookup = 'A location id or any spelling of the place';
  const locationParams = z.object({
    value: pathParam('value', locationLookup, 'Los Angeles, California, United States'),
  });
  const locationResponse = json(z.strictObject({ success: Success, location: Location }), 'The location');
  for (const [path, operationId] of [
    ['/api/locations/by-alias/{value}', 'getLocationByAlias'],
    ['/api/locations/{value}', 'getLocation'],
  ] as const) {
    registerOperation(registry, {
      method: 'get',
      path,
      operationId,
      tag: 'People, companies, locations',
      summary: 'A location by id or alias',
      security: SECURITY.apiKey,
      request: { params: locationParams },
      responses: { 200: locationResponse },
      errors: READ_ERRORS,
    });
  }
}
