import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

type SecurityScheme = Parameters<OpenAPIRegistry['registerComponent']>[2];
type Requirement = Record<string, string[]>;

const OPEN_UNLESS_CONFIGURED =
  'Open in development while the secret is not configured; `403 AUTH_NOT_CONFIGURED` in production until it is.';

const bearer = (description: string): SecurityScheme => ({ type: 'http', scheme: 'bearer', description });
const header = (name: string, description: string): SecurityScheme => ({
  type: 'apiKey',
  in: 'header',
  name,
  description,
});
const query = (description: string): SecurityScheme => ({
  type: 'apiKey',
  in: 'query',
  name: 'secret',
  description,
});

/** Every way a secret can be offered; an operation's `security` lists the alternatives it accepts. */
export const SECURITY_SCHEMES: Record<string, SecurityScheme> = {
  apiKeyBearer: bearer(
    `An API key from API_KEYS as \`Authorization: Bearer <key>\`. ${OPEN_UNLESS_CONFIGURED}`,
  ),
  apiKeyHeader: header('X-API-Key', `An API key from API_KEYS. ${OPEN_UNLESS_CONFIGURED}`),
  webhookSecretQuery: query(
    `WEBHOOK_SECRET as \`?secret=\` (Dux-Soup can only be given a URL). ${OPEN_UNLESS_CONFIGURED}`,
  ),
  webhookSecretHeader: header('X-Webhook-Secret', `WEBHOOK_SECRET. ${OPEN_UNLESS_CONFIGURED}`),
  webhookSecretBearer: bearer(`WEBHOOK_SECRET as \`Authorization: Bearer\`. ${OPEN_UNLESS_CONFIGURED}`),
  adminSecretHeader: header(
    'X-Admin-Secret',
    `ADMIN_SECRET (WEBHOOK_SECRET when unset); ADMIN_RATE_LIMIT per client IP. ${OPEN_UNLESS_CONFIGURED}`,
  ),
  adminSecretQuery: query(
    `ADMIN_SECRET (WEBHOOK_SECRET when unset) as \`?secret=\`. ${OPEN_UNLESS_CONFIGURED}`,
  ),
  adminSecretBearer: bearer(
    `ADMIN_SECRET (WEBHOOK_SECRET when unset) as \`Authorization: Bearer\`. ${OPEN_UNLESS_CONFIGURED}`,
  ),
  leadSecretHeader: header('X-Lead-Secret', `LEAD_SECRET. ${OPEN_UNLESS_CONFIGURED}`),
  leadSecretQuery: query(`LEAD_SECRET as \`?secret=\`. ${OPEN_UNLESS_CONFIGURED}`),
  leadSecretBearer: bearer(`LEAD_SECRET as \`Authorization: Bearer\`. ${OPEN_UNLESS_CONFIGURED}`),
  metricsToken: bearer(
    'METRICS_TOKEN as `Authorization: Bearer` (an API key works too). Open in development while neither ' +
      'METRICS_TOKEN nor API_KEYS is set; `403 AUTH_NOT_CONFIGURED` in production until one is.',
  ),
};

const anyOf = (...names: (keyof typeof SECURITY_SCHEMES)[]): Requirement[] =>
  names.map((name) => ({ [name]: [] }));

/** The alternatives each kind of endpoint accepts. */
export const SECURITY = {
  public: [] as Requirement[],
  apiKey: anyOf('apiKeyBearer', 'apiKeyHeader'),
  webhook: anyOf('webhookSecretQuery', 'webhookSecretHeader', 'webhookSecretBearer'),
  admin: anyOf('adminSecretHeader', 'adminSecretBearer', 'adminSecretQuery'),
  lead: anyOf('leadSecretQuery', 'leadSecretHeader', 'leadSecretBearer'),
  metrics: anyOf('metricsToken', 'apiKeyBearer', 'apiKeyHeader'),
};

export function registerSecuritySchemes(registry: OpenAPIRegistry): void {
  for (const [name, scheme] of Object.entries(SECURITY_SCHEMES)) {
    registry.registerComponent('securitySchemes', name, scheme);
  }
}
