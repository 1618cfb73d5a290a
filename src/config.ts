import cron from 'node-cron';
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

const cronExpression = z
  .string()
  .refine((value) => cron.validate(value), 'expected a cron expression such as "0 * * * *"');

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

  // --- query, search, exports ---
  // POST /api/query/*: totalCount is exact up to this many rows (counting more costs too much at scale).
  QUERY_COUNT_LIMIT: z.coerce.number().int().min(1).default(10000),
  // ... and within this many milliseconds; a slower count reports PostgreSQL's estimate instead.
  QUERY_COUNT_TIMEOUT_MS: z.coerce.number().int().min(1).default(20),
  // ... and only when PostgreSQL prices the count at most this (planner cost units; about 20-40 ms here).
  QUERY_COUNT_MAX_COST: z.coerce.number().positive().default(10000),
  EXPORT_TTL_HOURS: z.coerce.number().positive().default(24),
  EXPORT_MAX_ROWS: z.coerce.number().int().min(1).default(1_000_000),
  EXPORT_WORKER_INTERVAL_MS: z.coerce.number().int().min(50).default(2000),
  EXPORT_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).default(60),
  EXPORT_MAX_ACTIVE_PER_KEY: z.coerce.number().int().min(0).default(5),

  // --- change detection, seniority, timeline ---

  // --- scheduler, leader election, dead letters, admin ---
  ENABLE_SCHEDULER: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(true),
  LEADER_RETRY_SECONDS: z.coerce.number().int().min(1).default(10),
  LEADER_CHECK_SECONDS: z.coerce.number().int().min(1).default(5),
  // Empty: every built-in job. `probe` (a job that only sleeps) runs only when listed.
  SCHEDULER_JOBS: commaList.pipe(
    z.array(
      z.enum([
        'pending-sweep',
        'dead-letter-replay',
        'health-check',
        'export-cleanup',
        'probe',
        'hubspot-sync',
      ]),
    ),
  ),
  PENDING_SWEEP_CRON: cronExpression.default('* * * * *'),
  DEAD_LETTER_REPLAY_CRON: cronExpression.default('0 * * * *'),
  HEALTH_CHECK_CRON: cronExpression.default('0 */6 * * *'),
  EXPORT_CLEANUP_CRON: cronExpression.default('0 */6 * * *'),
  SCHEDULER_PROBE_CRON: cronExpression.default('* * * * * *'),
  SCHEDULER_PROBE_MS: z.coerce.number().int().min(0).default(200),
  JOB_RUNS_RETENTION_DAYS: z.coerce.number().int().min(1).default(30),
  DEAD_LETTER_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  DEAD_LETTER_BACKOFF_BASE_SECONDS: z.coerce.number().int().min(1).default(120),
  DEAD_LETTER_BACKOFF_CAP_SECONDS: z.coerce.number().int().min(1).default(43200),
  DEAD_LETTER_REPLAY_BATCH: z.coerce.number().int().min(1).max(10000).default(100),
  ADMIN_SECRET: optionalSecret,
  ADMIN_RATE_LIMIT: z.coerce.number().int().min(0).default(10),

  // --- health metrics, alerts, email and SMS ---
  HEALTH_CACHE_SECONDS: z.coerce.number().int().min(0).default(30),
  HEALTH_STUCK_PENDING_MINUTES: z.coerce.number().int().min(1).default(5),
  ALERT_WINDOW_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  ALERT_DEAD_LETTER_BACKLOG_WARNING: z.coerce.number().int().min(0).default(100),
  ALERT_DEAD_LETTER_FAILING_CRITICAL: z.coerce.number().int().min(0).default(10),
  ALERT_DEAD_LETTER_FAILING_ATTEMPTS: z.coerce.number().int().min(1).default(3),
  ALERT_SUCCESS_RATE_WARNING: z.coerce.number().min(0).max(100).default(95),
  ALERT_SUCCESS_RATE_CRITICAL: z.coerce.number().min(0).max(100).default(90),
  ALERT_SUCCESS_RATE_MIN_SAMPLE: z.coerce.number().int().min(1).default(20),
  ALERT_FRESHNESS_HOURS: z.coerce.number().positive().default(6),
  ALERT_FRESHNESS_CRITICAL_FACTOR: z.coerce.number().min(1).default(4),
  ALERT_DEDUP_HOURS: z.coerce.number().min(0).default(6),
  NOTIFY_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
  SMTP_HOST: z.string().optional(),
  SMTP_PORT: port.default(587),
  SMTP_SECURE: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .default(false),
  SMTP_USER: z.string().optional(),
  SMTP_PASS: optionalSecret,
  ALERT_EMAIL_FROM: z.string().optional(),
  ALERT_EMAIL_TO: commaList.pipe(z.array(z.email())),
  TWILIO_ACCOUNT_SID: z
    .string()
    .regex(/^AC\w+$/, 'expected an account SID starting with AC')
    .optional(),
  TWILIO_AUTH_TOKEN: optionalSecret,
  TWILIO_FROM: z.string().optional(),
  ALERT_SMS_TO: commaList,
  // Empty: the real Twilio API. Tests point it at a local stand-in (http://127.0.0.1:<port>).
  TWILIO_API_BASE_URL: z.url().optional(),

  // --- leads ---
  // Shared secret of POST /api/lead (?secret=, X-Lead-Secret or Authorization: Bearer).
  // Unset: open in development, 403 in production.
  LEAD_SECRET: optionalSecret,
  // Requests per minute per client IP (0 = off), and failed-auth attempts per 15 minutes per IP before 429.
  LEAD_RATE_LIMIT: z.coerce.number().int().min(0).default(600),
  LEAD_AUTH_FAILURE_LIMIT: z.coerce.number().int().min(0).default(10),
  LEAD_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)?$/i, 'expected a size such as 1mb, 512kb or 1048576')
    .default('1mb'),
  // Without an Idempotency-Key, one body within one window of this many minutes is one lead (0 = off).
  LEAD_DEDUP_WINDOW_MINUTES: z.coerce.number().int().min(0).max(10080).default(10),
  // Requests stored but never turned into a lead are re-driven: how often, and how old they must be.
  LEAD_REDRIVE_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(30),
  LEAD_REDRIVE_AGE_SECONDS: z.coerce.number().int().min(0).default(60),

  // --- hubspot ---
  // HubSpot private app token (Bearer). Unset: no HubSpot sync (no scheduled job; triggers answer 409).
  HUBSPOT_TOKEN: optionalSecret,
  HUBSPOT_BASE_URL: z.url().default('https://api.hubapi.com'),
  // Records per page: list endpoints take at most 100 (larger values apply to search only, up to 200).
  HUBSPOT_PAGE_SIZE: z.coerce.number().int().min(1).max(200).default(100),
  // Contacts per association batch read (HubSpot's maximum is 1000).
  HUBSPOT_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(1000),
  // Incremental searches re-read this many minutes before the checkpoint (records HubSpot indexed late).
  HUBSPOT_LOOKBACK_MINUTES: z.coerce.number().int().min(0).max(10080).default(5),
  HUBSPOT_SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  HUBSPOT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30000),
  // Retries of one call after 429, 5xx, a timeout or a network error (then the run fails, keeping its pages).
  HUBSPOT_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(5),

  // --- docs, metrics ---
  // Bearer token for Prometheus scrapers of GET /metrics (any API_KEYS key works too).
  // Neither set: open in development, 403 in production.
  METRICS_TOKEN: optionalSecret,
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
