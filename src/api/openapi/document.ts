import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { registerAdmin } from './admin';
import { registerChanges } from './changes';
import { registerEntities } from './entities';
import { ErrorBody, errorCatalogueTable, LeadErrorBody } from './errors';
import { registerExports } from './exports';
import { registerHealth } from './health';
import { registerHubspot } from './hubspot';
import { registerLeads } from './leads';
import { registerDocsAndMetrics } from './operations';
import { registerQuery } from './query';
import { registerSearch } from './search';
import { registerSecuritySchemes } from './security';
import { registerWebhook } from './webhook';

export type OpenApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

const DESCRIPTION = `
Dux-Soup webhooks, leads and HubSpot records folded into one canonical database of people, companies and
locations.

**Authentication.** Read endpoints take an API key (\`Authorization: Bearer <key>\` or \`X-API-Key\`) and are
limited to READ_RATE_LIMIT requests per minute per key. The webhook, the lead intake and the admin endpoints each
have a shared secret, accepted as a header, as \`Authorization: Bearer\` or as \`?secret=\`. Every secret is open
in development while unset and answers \`403 AUTH_NOT_CONFIGURED\` in production until it is set.

**Errors.** Every error is JSON, \`{success: false, error, message, requestId}\` (plus \`details\` for some), with a
stable \`error\` code; \`POST /api/lead\` keeps leadCRM's \`{ok: false, error}\`. \`503\` answers carry
\`Retry-After\`. Unknown routes answer \`404 ROUTE_NOT_FOUND\`.

${errorCatalogueTable()}
`.trim();

/** Every documented operation, its schemas and the shared components. */
export function buildOpenApiRegistry(): OpenAPIRegistry {
  const registry = new OpenAPIRegistry();
  registerSecuritySchemes(registry);
  registry.register('Error', ErrorBody);
  registry.register('LeadError', LeadErrorBody);
  registerWebhook(registry);
  registerEntities(registry);
  registerSearch(registry);
  registerChanges(registry);
  registerQuery(registry);
  registerExports(registry);
  registerHealth(registry);
  registerAdmin(registry);
  registerLeads(registry);
  registerHubspot(registry);
  registerDocsAndMetrics(registry);
  return registry;
}

export function buildOpenApiDocument(version: string): OpenApiDocument {
  return new OpenApiGeneratorV31(buildOpenApiRegistry().definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'duxsoup-etl', version, description: DESCRIPTION },
    tags: [
      { name: 'Webhook', description: 'The Dux-Soup receiver' },
      { name: 'People, companies, locations', description: 'Canonical records by id or alias' },
      { name: 'Search and seniority' },
      { name: 'Job changes and timeline' },
      { name: 'Query', description: 'A MongoDB-style query language over live people and companies' },
      { name: 'Exports', description: 'Asynchronous CSV and JSON exports' },
      { name: 'Leads', description: 'The leadCRM intake and the CRM operations on leads' },
      { name: 'HubSpot', description: 'The HubSpot mirror and its sync jobs' },
      { name: 'Health', description: 'Liveness, readiness and operational figures' },
      { name: 'Admin' },
      { name: 'Operations', description: 'Documentation and metrics' },
    ],
  });
}
