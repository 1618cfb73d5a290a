export { FigureCache } from './cache';
export type { Cached } from './cache';
export type { HealthCheckContext, HealthCheckReport } from './check';
export { runHealthCheck } from './check';
export type {
  CanonicalCoverageReport,
  CompanyCoverageReport,
  IdentityCoverageReport,
  LocationCoverageReport,
} from './coverage';
export {
  canonicalCoverageReport,
  companyCoverageReport,
  identityCoverageReport,
  locationCoverageReport,
} from './coverage';
export type { DashboardReport } from './dashboard';
export { dashboardReport } from './dashboard';
export type { IngestionReport } from './ingestion';
export { ingestionReport } from './ingestion';
export type { MetricsReport } from './metrics';
export { metricsReport } from './metrics';
export type { ParityReport } from './parity';
export { parityReport } from './parity';
export type { DataQualityReport } from './quality';
export { dataQualityReport } from './quality';
export type {
  AlertCondition,
  AlertConditionKey,
  AlertFigures,
  AlertThresholds,
  OverallStatus,
} from './rules';
export {
  ALERT_CONDITIONS,
  alertThresholds,
  backlogOptions,
  evaluateRules,
  ingestionOptions,
  loadAlertFigures,
  overallStatus,
} from './rules';
