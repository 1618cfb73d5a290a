import { withTransaction } from '../db/pool';
import type { JobContext, JobCounts } from '../jobs/types';
import type { Channels, Delivery } from '../notify';
import {
  channelsFromConfig,
  deliverPlan,
  markAlertsNotified,
  markRecoveriesNotified,
  reconcileAlerts,
  recordDeliveries,
} from '../notify';
import type { AlertCondition, OverallStatus } from './rules';
import { alertThresholds, evaluateRules, loadAlertFigures, overallStatus } from './rules';

export type HealthCheckContext = Pick<JobContext, 'pool' | 'config' | 'logger'> &
  Partial<Pick<JobContext, 'signal' | 'instanceId'>>;

export interface HealthCheckReport {
  status: OverallStatus;
  checkedAt: Date;
  alerts: AlertCondition[];
  /** Conditions whose notice was due and reached somebody. */
  notified: string[];
  /** Due, but no configured channel delivered it: retried on the next run. */
  undelivered: string[];
  /** Active, already notified within ALERT_DEDUP_HOURS. */
  suppressed: string[];
  recovered: string[];
  deliveries: Delivery[];
  /** For the scheduler's job_runs.counts. */
  counts: JobCounts;
}

/**
 * The scheduled health check: evaluate the alert rules, notify (de-duplicated by condition and severity, with
 * recovery notices) and record the state and every delivery attempt. A notification failure never fails the run:
 * it is logged, recorded in alert_notifications, and the notice is retried next time. Only a database failure
 * (the figures cannot be read) fails it. `channels` replaces the configured ones (tests, the ops CLI).
 */
export async function runHealthCheck(
  context: HealthCheckContext,
  channels: Channels = channelsFromConfig(context.config),
): Promise<HealthCheckReport> {
  const { pool, config, logger, signal } = context;
  const figures = await loadAlertFigures(pool, config);
  const alerts = evaluateRules(figures, alertThresholds(config));
  signal?.throwIfAborted();

  const outcome = await withTransaction(pool, async (client) => {
    const { plan, now } = await reconcileAlerts(client, alerts, config.ALERT_DEDUP_HOURS);
    signal?.throwIfAborted();
    const delivered = await deliverPlan(
      plan,
      channels,
      { checkedAt: now, instanceId: context.instanceId, dedupHours: config.ALERT_DEDUP_HOURS },
      { config, logger },
    );
    await recordDeliveries(client, delivered.deliveries);
    await markAlertsNotified(client, delivered.notifiedAlerts, now);
    await markRecoveriesNotified(client, delivered.notifiedRecoveries, now);
    return { plan, delivered, now };
  });

  const { plan, delivered, now } = outcome;
  const notified = delivered.notifiedAlerts.map((alert) => alert.condition);
  const report: HealthCheckReport = {
    status: overallStatus(alerts),
    checkedAt: now,
    alerts,
    notified,
    undelivered: plan.alerts.map((alert) => alert.condition).filter((name) => !notified.includes(name)),
    suppressed: plan.suppressed.map((alert) => alert.condition),
    recovered: plan.recoveries.map((recovery) => recovery.condition),
    deliveries: delivered.deliveries,
    counts: {
      alerts: alerts.length,
      critical: alerts.filter((alert) => alert.severity === 'critical').length,
      notified: notified.length,
      suppressed: plan.suppressed.length,
      recovered: delivered.notifiedRecoveries.length,
      delivery_failures: delivered.deliveries.filter((delivery) => !delivery.delivered).length,
    },
  };
  logger.info('health check', {
    status: report.status,
    alerts: alerts.map((alert) => `${alert.condition}:${alert.severity}`),
    notified: report.notified,
    undelivered: report.undelivered,
    suppressed: report.suppressed,
    recovered: report.recovered,
  });
  return report;
}
