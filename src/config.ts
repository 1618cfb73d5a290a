import { z } from 'zod';

const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value && value.trim() !== '' ? value : undefined));

const commaList = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== ''),
  );

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Every environment variable the service reads, with its default. `.env.example` mirrors this list;
 * `__tests__/config.test.ts` checks that the two agree.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().default('0.0.0.0'),
  LOG_LEVEL: z.enum(['error', 'warn', 'info', 'http', 'debug', 'silent']).default('http'),
  TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),

  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(20),
  DATABASE_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  DATABASE_QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(15000),
  EMBEDDED_PG_DIR: z.string().min(1).default('./.data/postgres'),
  EMBEDDED_PG_PORT: port.optional(),

  ALLOWED_ORIGINS: commaList,
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10000),

  WEBHOOK_SECRET: optionalSecret,
  WEBHOOK_RATE_LIMIT: z.coerce.number().int().min(0).default(100),
  WEBHOOK_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).default(10),
  CANONICAL_ID_NAMESPACE: z.uuid().default('6f1c2a4e-8d3b-5f7a-9c0e-1b2d3e4f5a6b'),
  VISIT_PRECEDENCE_WINDOW: z
    .string()
    .regex(/^\d+(d|h|m)?$/, 'expected a duration such as 30d, 720h or 30 (days)')
    .default('30d'),
  DEFAULT_PHONE_COUNTRY: z
    .string()
    .regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 country code such as US or GB')
    .default('US'),
  // inline: Phase 2 runs in the request (the answer reports the person); deferred: the sweeper runs it.
  PHASE2_MODE: z.enum(['inline', 'deferred']).default('inline'),
  ENTITY_REFRESH_INTERVAL_MS: z.coerce.number().int().min(50).default(1000),
  PENDING_SWEEP_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(30),
  PENDING_SWEEP_AGE_SECONDS: z.coerce.number().int().min(0).default(60),

  API_KEYS: commaList,
  READ_RATE_LIMIT: z.coerce.number().int().min(0).default(60),

  WEBHOOK_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'expected a size such as 1mb, 512kb or 1048576')
    .default('1mb'),

  // --- query, search, exports (issue 3) ---

  // --- change detection, seniority, timeline (issue 3) ---

  // --- scheduler, leader election, dead letters, admin (issue 4) ---

  // --- health metrics, alerts, email and SMS (issue 4) ---
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment; the error names every bad variable so start-up fails with a useful message. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = configSchema.safeParse(withoutEmptyValues(env));
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  return result.data;
}

/** `FOO=` in a .env file means "not set", as it does for most tools. */
function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  return cleaned;
}

/** VISIT_PRECEDENCE_WINDOW in milliseconds: `30d`, `720h`, `90m`, or a bare number of days. */
export function durationMs(value: string): number {
  const match = /^(\d+)(d|h|m)?$/.exec(value);
  if (!match) throw new ConfigError(`cannot parse duration ${value}`);
  const unit = match[2] ?? 'd';
  const factor = unit === 'd' ? 86_400_000 : unit === 'h' ? 3_600_000 : 60_000;
  return Number(match[1]) * factor;
}

export function bodyLimitBytes(limit: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(limit);
  if (!match) throw new ConfigError(`WEBHOOK_BODY_LIMIT: cannot parse ${limit}`);
  const unit = (match[2] ?? 'b').toLowerCase();
  const multiplier = unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1;
  return Number(match[1]) * multiplier;
}
