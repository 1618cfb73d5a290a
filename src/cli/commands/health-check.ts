import type { Command } from 'commander';
import type { Config } from '../../config';
import type { Pool } from '../../db/pool';
import type { DashboardReport, OverallStatus } from '../../health';
import { dashboardReport, runHealthCheck } from '../../health';
import type { Logger } from '../../logger';
import type { CommandResult } from '../runtime';
import { databaseAction, positiveInteger } from '../runtime';

/** Monitoring-plugin convention (Nagios, Icinga, Sensu): 0 ok, 1 warning, 2 critical. */
export const HEALTH_EXIT_CODES: Record<OverallStatus, number> = { ok: 0, warning: 1, critical: 2 };

export interface HealthCheckSummary extends Record<string, unknown> {
  status: OverallStatus;
  dashboard: DashboardReport;
  /** With notify: what the alerting run sent (or suppressed as already notified). */
  notifications?: { notified: string[]; undelivered: string[]; suppressed: string[]; recovered: string[] };
}

/**
 * The health dashboard (every figure computed from the database, as GET /api/health/dashboard reports it) and its
 * overall status from the alert rules. With `notify`, also runs the scheduled health check: e-mail / SMS for the
 * conditions that hold, de-duplicated by condition, recovery notices, alert state recorded.
 */
export async function healthCheck(
  pool: Pool,
  options: { config: Config; logger: Logger; windowHours?: number; notify: boolean },
): Promise<HealthCheckSummary> {
  const dashboard = await dashboardReport(
    pool,
    options.config,
    options.windowHours ?? options.config.ALERT_WINDOW_HOURS,
  );
  if (!options.notify) return { status: dashboard.status, dashboard };
  const run = await runHealthCheck({ pool, config: options.config, logger: options.logger });
  return {
    status: run.status,
    dashboard,
    notifications: {
      notified: run.notified,
      undelivered: run.undelivered,
      suppressed: run.suppressed,
      recovered: run.recovered,
    },
  };
}

export function describeHealth(summary: HealthCheckSummary): string[] {
  const { dashboard } = summary;
  const { counts, backlog } = dashboard.metrics;
  const upsert = dashboard.ingestion.person_upsert;
  const lines = [
    `status: ${summary.status.toUpperCase()}`,
    ...(dashboard.alerts.length === 0
      ? ['alerts: none']
      : ['alerts:', ...dashboard.alerts.map((alert) => `  [${alert.severity}] ${alert.message}`)]),
    `persons: ${counts.persons} live, ${counts.merged_persons} merged; companies: ${counts.companies}; ` +
      `locations: ${counts.locations}`,
    `observations: ${counts.observations.value}${counts.observations.estimated ? ' (estimated)' : ''}; ` +
      `last webhook: ${dashboard.ingestion.last_webhook_at ?? 'never'}`,
    `person upsert success (${dashboard.ingestion.window_hours} h): ` +
      `${percent(upsert.success_rate_percent)} ` +
      `(${upsert.succeeded} of ${upsert.attempted}; ingestion ${dashboard.ingestion.status})`,
    `backlog: ${backlog.pending_observations} pending (${backlog.pending_stuck} stuck), ` +
      `${backlog.dead_observations} dead; dead letters ${backlog.dead_letters.pending} pending, ` +
      `${backlog.dead_letters.failing} failing, ${backlog.dead_letters.failed} given up`,
    `parity: ${dashboard.parity.status}; data completeness: ${percent(dashboard.data_quality.completeness_percent)}`,
  ];
  if (summary.notifications) {
    const { notified, undelivered, suppressed, recovered } = summary.notifications;
    lines.push(
      `notifications: sent ${list(notified)}; undelivered ${list(undelivered)}; already sent ${list(suppressed)}; ` +
        `recovered ${list(recovered)}`,
    );
  }
  return lines;
}

function percent(value: number | null): string {
  return value === null ? 'n/a' : `${value}%`;
}

function list(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.join(', ');
}

interface CliOptions {
  notify?: boolean;
  window?: number;
}

export function register(program: Command): void {
  program
    .command('health-check')
    .summary('health summary and alert status (exit 0 ok, 1 warning, 2 critical)')
    .description(
      'print the health summary: ingestion success, backlog, dead letters, parity, data quality, alerts',
    )
    .option(
      '--window <hours>',
      'window of the ingestion figures (default ALERT_WINDOW_HOURS)',
      positiveInteger,
    )
    .option('--notify', 'also send the e-mail / SMS alerts due now, as the scheduled health check does')
    .addHelpText(
      'after',
      `
Exit codes (monitoring-plugin convention): 0 ok, 1 warning, 2 critical, 3 the check could not run (e.g. the
database is unreachable). The status comes from the alert rules: dead-letter backlog, dead letters failing
replay, person-upsert success rate and webhook freshness (thresholds in ALERT_* variables).`,
    )
    .action(
      databaseAction<CliOptions>(
        'health-check',
        async (context, options): Promise<CommandResult> => {
          const summary = await healthCheck(context.pool, {
            config: context.config,
            logger: context.logger,
            windowHours: options.window,
            notify: options.notify === true,
          });
          return { summary, text: describeHealth(summary), exitCode: HEALTH_EXIT_CODES[summary.status] };
        },
        { failureExitCode: 3 },
      ),
    );
}
