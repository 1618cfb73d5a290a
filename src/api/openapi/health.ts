import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { ALERT_CONDITIONS } from '../../health/rules';
import { figuresQuery, testQuery } from '../health-metrics.router';
import { Count, NullableText, NullableTimestamp, Percent, Success, Timestamp } from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { z } from './zod';

const Definitions = z
  .record(z.string(), z.string())
  .openapi({ description: 'What each figure means, keyed by its path in the report' });
const LINK_COVERAGE = { total: Count, linked: Count, unlinked: Count, percent: Percent };
const LinkCoverage = z.strictObject(LINK_COVERAGE).openapi('LinkCoverage');
const Estimated = z.strictObject({ value: Count, estimated: z.boolean() });
const Severity = z.enum(['warning', 'critical']);

const StatusCounts = {
  received: Count,
  processed: Count,
  skipped: Count,
  dead: Count,
  pending: Count,
  pending_stuck: Count,
  ignored: Count,
};

const IngestionReport = z.strictObject({
  window_hours: z.number().int(),
  since: Timestamp,
  observations: z.strictObject({ ...StatusCounts, pending_in_flight: Count }),
  by_source: z.record(z.string(), z.strictObject(StatusCounts)),
  person_upsert: z.strictObject({
    succeeded: Count,
    failed: Count,
    attempted: Count,
    success_rate_percent: Percent,
  }),
  status: z.enum(['healthy', 'degraded', 'unhealthy', 'insufficient_data']),
  last_webhook_at: NullableTimestamp,
  seconds_since_last_webhook: z.number().nullable(),
  dead_letters_created: Count,
  definitions: Definitions,
});

const ParityReport = z.strictObject({
  all_time: z.strictObject({
    visits: Count,
    scans: Count,
    profile_observations: Count,
    resolved: Count,
    skipped: Count,
    pending: Count,
    dead: Count,
    resolved_percent: Percent,
    live_persons: Count,
    observations_per_person: z.number().nullable(),
  }),
  window: z.strictObject({
    window_hours: z.number().int(),
    profile_observations: Count,
    processed: Count,
    processed_without_person: Count,
    linked_to_missing_person: Count,
    linked_to_merged_person: Count,
    persons_checked: Count,
    count_mismatches: Count,
    mismatched_person_ids: z.array(z.string()),
  }),
  status: z.string(),
  definitions: Definitions,
});

const Throughput = z.strictObject({ observations: Count, visits: Count, scans: Count });

const MetricsReport = z.strictObject({
  counts: z.strictObject({
    persons: Count,
    merged_persons: Count,
    companies: Count,
    locations: Count,
    observations: Estimated,
    person_aliases: Estimated,
    merges: Count,
    merges_rolled_back: Count,
    identity_conflicts: Count,
  }),
  throughput: z.strictObject({ last_hour: Throughput, last_day: Throughput }),
  backlog: z.strictObject({
    pending_observations: Count,
    pending_stuck: Count,
    oldest_pending_at: NullableTimestamp,
    dead_observations: Count,
    dead_letters: z.strictObject({ pending: Count, due: Count, failed: Count, failing: Count }),
    entity_refresh: z.strictObject({ queued: Count, oldest_queued_at: NullableTimestamp }),
  }),
  leader: z
    .strictObject({
      instance_id: z.string(),
      since: Timestamp,
      heartbeat_at: Timestamp,
      heartbeat_age_seconds: z.number().nullable(),
    })
    .nullable(),
  definitions: Definitions,
});

const FieldCoverage = z.strictObject({ present: Count, missing: Count, percent: Percent });
const DataQualityReport = z.strictObject({
  live_persons: Count,
  fields: z.strictObject({
    name: FieldCoverage,
    title: FieldCoverage,
    company: FieldCoverage,
    location: FieldCoverage,
    email: FieldCoverage,
    seniority: FieldCoverage,
  }),
  completeness_percent: Percent,
  identity_conflicts: z.strictObject({ total: Count, last_day: Count, persons_involved: Count }),
  definitions: Definitions,
});

const DashboardReport = z.strictObject({
  status: z.enum(['ok', 'warning', 'critical']),
  alerts: z.array(
    z.strictObject({
      condition: z.enum(ALERT_CONDITIONS),
      severity: Severity,
      message: z.string(),
      values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
    }),
  ),
  alert_state: z.strictObject({
    active: z.array(
      z.strictObject({
        condition: z.string(),
        severity: Severity,
        message: z.string(),
        first_seen: Timestamp,
        last_seen: Timestamp,
        last_notified: NullableTimestamp,
      }),
    ),
    delivery_failures_last_day: Count,
  }),
  ingestion: IngestionReport,
  parity: ParityReport,
  metrics: MetricsReport,
  data_quality: DataQualityReport,
  definitions: Definitions,
});

const IdentityCoverageReport = z.strictObject({
  live_persons: Count,
  with_sales_nav_id: Count,
  with_member_id: Count,
  with_both: Count,
  with_stable_id: LinkCoverage,
  without_stable_id: Count,
  aliases_by_kind: z.strictObject({ counts: z.record(z.string(), Count), estimated: z.boolean() }),
  recommendations: z.array(z.string()),
  definitions: Definitions,
});

const CanonicalCoverageReport = z.strictObject({
  observations_to_persons: z.strictObject({ ...LINK_COVERAGE, skipped: Count, pending: Count, dead: Count }),
  persons_to_companies: LinkCoverage,
  persons_to_locations: LinkCoverage,
  definitions: Definitions,
});

const CompanyCoverageReport = z.strictObject({
  persons: LinkCoverage,
  companies: z.strictObject({
    live: Count,
    merged: Count,
    with_linkedin_id: LinkCoverage,
    with_domain: LinkCoverage,
    with_industry: LinkCoverage,
    without_observations: Count,
  }),
  definitions: Definitions,
});

const LocationCoverageReport = z.strictObject({
  persons: LinkCoverage,
  locations: z.strictObject({
    total: Count,
    with_city: LinkCoverage,
    with_state: LinkCoverage,
    with_country: LinkCoverage,
    without_observations: Count,
  }),
  definitions: Definitions,
});

const FIGURES = [
  [
    'ingestion',
    'healthIngestion',
    'Ingestion over a window: received, processed, failed, freshness',
    IngestionReport,
    true,
  ],
  [
    'parity',
    'healthParity',
    'Observations against persons: every profile event accounted for',
    ParityReport,
    true,
  ],
  [
    'dashboard',
    'healthDashboard',
    'Every figure at once, with the alert rules’ verdict',
    DashboardReport,
    true,
  ],
  ['metrics', 'healthMetrics', 'Sizes, throughput, backlog and the scheduler leader', MetricsReport, false],
  ['data-quality', 'healthDataQuality', 'Field completeness of live persons', DataQualityReport, false],
  [
    'coverage-breakdown',
    'healthIdentityCoverage',
    'Which identifiers people are known by',
    IdentityCoverageReport,
    false,
  ],
  [
    'canonical-coverage',
    'healthCanonicalCoverage',
    'Observations → persons → companies, locations',
    CanonicalCoverageReport,
    false,
  ],
  [
    'company-coverage',
    'healthCompanyCoverage',
    'Companies: links and completeness',
    CompanyCoverageReport,
    false,
  ],
  [
    'location-coverage',
    'healthLocationCoverage',
    'Locations: links and completeness',
    LocationCoverageReport,
    false,
  ],
] as const;

const ChannelResult = z.strictObject({
  attempted: z.boolean(),
  delivered: z.boolean(),
  recipients: Count,
  error: NullableText,
});
const EmailChannel = z.strictObject({
  configured: z.boolean(),
  missing: z.array(z.string()),
  severities: z.array(Severity),
  host: NullableText,
  port: z.number().int(),
  secure: z.boolean(),
  authenticates: z.boolean(),
  password_set: z.boolean(),
  from: NullableText,
  to: z.array(z.string()).openapi({ description: 'Masked addresses' }),
  result: ChannelResult.optional(),
});
const SmsChannel = z.strictObject({
  configured: z.boolean(),
  missing: z.array(z.string()),
  severities: z.array(Severity),
  account_sid: NullableText,
  auth_token_set: z.boolean(),
  from: NullableText,
  to: z.array(z.string()).openapi({ description: 'Masked numbers' }),
  api: z.string(),
  result: ChannelResult.optional(),
});

export function registerHealth(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'get',
    path: '/health',
    operationId: 'health',
    tag: 'Health',
    summary: 'Liveness: always 200 (Render’s health check)',
    security: SECURITY.public,
    responses: {
      200: json(
        z.strictObject({
          status: z.enum(['ok', 'starting']),
          database: z.strictObject({
            mode: z.enum(['embedded', 'external']),
            connected: z.boolean(),
            migrated: z.boolean(),
            latencyMs: z.number().nullable(),
            error: z.string().optional(),
          }),
          timestamp: Timestamp,
        }),
        '`starting` until the database is reachable and migrated',
      ),
    },
    errors: [],
  });
  const Readiness = z.strictObject({
    ready: z.boolean(),
    database: z.strictObject({ connected: z.boolean(), migrated: z.boolean() }),
    timestamp: Timestamp,
  });
  registerOperation(registry, {
    method: 'get',
    path: '/health/ready',
    operationId: 'ready',
    tag: 'Health',
    summary: 'Readiness: 200 once the database is reachable and migrated',
    security: SECURITY.public,
    responses: {
      200: json(Readiness.extend({ ready: z.literal(true) }), 'Ready for traffic'),
      503: json(Readiness.extend({ ready: z.literal(false) }), 'Not ready (this body, not the error shape)'),
    },
    errors: [],
  });

  registerOperation(registry, {
    method: 'get',
    path: '/api/health/test-notifications',
    operationId: 'testNotifications',
    tag: 'Health',
    summary: 'What alert channels are configured; with `send=true`, send a test message through each',
    description:
      'Addresses and numbers are masked; no secret is ever shown. Works while the database is down.',
    security: SECURITY.admin,
    request: { query: testQuery },
    responses: {
      200: json(
        z.strictObject({ success: Success, sent: z.boolean(), email: EmailChannel, sms: SmsChannel }),
        'The channels (with `result` when sent)',
      ),
    },
    errors: [...ERRORS.adminAccess, 'INVALID_REQUEST'],
  });

  for (const [name, operationId, summary, report, windowed] of FIGURES) {
    registerOperation(registry, {
      method: 'get',
      path: `/api/health/${name}`,
      operationId,
      tag: 'Health',
      summary,
      description:
        'Computed from the database (identical on every instance), cached per instance for HEALTH_CACHE_SECONDS; ' +
        '`fresh=true` recomputes.' +
        (windowed ? ' `hours` sets the window (default ALERT_WINDOW_HOURS).' : ''),
      security: SECURITY.apiKey,
      request: { query: windowed ? figuresQuery : figuresQuery.pick({ fresh: true }) },
      responses: {
        200: json(
          report.extend({ success: Success, generated_at: Timestamp, cached: z.boolean() }),
          'The report, with when it was computed',
        ),
      },
      errors: [...ERRORS.database, ...ERRORS.readAccess, 'INVALID_REQUEST'],
    });
  }
}
