import type { Config } from '../config';
import type { ActiveAlertRow } from '../notify';
import { activeAlertState } from '../notify';
import type { Queryable } from './format';
import { SharedCounts } from './format';
import type { IngestionReport } from './ingestion';
import { ingestionReport } from './ingestion';
import type { MetricsReport } from './metrics';
import { metricsReport } from './metrics';
import type { ParityReport } from './parity';
import { parityReport } from './parity';
import type { DataQualityReport } from './quality';
import { dataQualityReport } from './quality';
import type { AlertCondition, OverallStatus } from './rules';
import {
  alertFiguresFrom,
  alertThresholds,
  backlogOptions,
  evaluateRules,
  ingestionOptions,
  overallStatus,
} from './rules';

export interface DashboardReport {
  status: OverallStatus;
  alerts: AlertCondition[];
  alert_state: { active: ActiveAlertRow[]; delivery_failures_last_day: number };
  ingestion: IngestionReport;
  parity: ParityReport;
  metrics: MetricsReport;
  data_quality: DataQualityReport;
  definitions: Record<string, string>;
}

export const DASHBOARD_DEFINITIONS: Record<string, string> = {
  status:
    'The alert rules judged on these figures (as the health-check job judges them): critical when any critical ' +
    'alert holds, warning when any warning holds, else ok. The success-rate rule always uses ALERT_WINDOW_HOURS.',
  alerts: 'The conditions that hold now: stable key, severity, message and the figures behind it.',
  alert_state:
    'Open alert episodes as the last health-check run recorded them (with when they were last notified), and ' +
    'notification attempts that failed in the last 24 hours.',
  sections:
    'ingestion, parity, metrics and data_quality are the /api/health/<section> reports, each defined inside.',
};

/** Every health figure in one call, with the overall status from the alert rules. */
export async function dashboardReport(
  db: Queryable,
  config: Config,
  windowHours: number,
): Promise<DashboardReport> {
  const alertWindow = config.ALERT_WINDOW_HOURS;
  const shared = new SharedCounts(db);
  const [ingestion, alertIngestion, parity, metrics, quality, active, failures] = await Promise.all([
    ingestionReport(db, ingestionOptions(config, windowHours)),
    windowHours === alertWindow ? null : ingestionReport(db, ingestionOptions(config, alertWindow)),
    parityReport(db, windowHours, shared),
    metricsReport(db, backlogOptions(config), shared),
    dataQualityReport(db, shared),
    activeAlertState(db),
    db.query<{ count: number }>(
      `SELECT count(*) AS count FROM alert_notifications
        WHERE NOT delivered AND attempted_at >= now() - interval '1 day'`,
    ),
  ]);
  const alerts = evaluateRules(
    alertFiguresFrom(alertIngestion ?? ingestion, metrics.backlog),
    alertThresholds(config),
  );
  return {
    status: overallStatus(alerts),
    alerts,
    alert_state: { active, delivery_failures_last_day: failures.rows[0]!.count },
    ingestion,
    parity,
    metrics,
    data_quality: quality,
    definitions: DASHBOARD_DEFINITIONS,
  };
}
