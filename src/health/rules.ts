import type { Config } from '../config';
import type { AlertNotice, Severity } from '../notify';
import type { Queryable } from './format';
import type { IngestionOptions, IngestionReport } from './ingestion';
import { ingestionReport } from './ingestion';
import type { Backlog, BacklogOptions } from './metrics';
import { backlogReport } from './metrics';

export type { Severity };
export type OverallStatus = 'ok' | Severity;

/** Stable keys: de-duplication, alert state and dashboards rely on them never changing. */
export const ALERT_CONDITIONS = [
  'dead_letter_backlog',
  'dead_letters_failing',
  'person_upsert_success_rate',
  'webhook_freshness',
] as const;
export type AlertConditionKey = (typeof ALERT_CONDITIONS)[number];

/** `message` carries live figures, so it changes from run to run: it is never used to de-duplicate. */
export interface AlertCondition extends AlertNotice {
  condition: AlertConditionKey;
  values: Record<string, number | string | null>;
}

export interface AlertThresholds {
  deadLetterBacklogWarning: number;
  deadLettersFailingCritical: number;
  successRateWarningBelow: number;
  successRateCriticalBelow: number;
  successRateMinSample: number;
  freshnessWarningHours: number;
  freshnessCriticalHours: number;
}

export function alertThresholds(config: Config): AlertThresholds {
  return {
    deadLetterBacklogWarning: config.ALERT_DEAD_LETTER_BACKLOG_WARNING,
    deadLettersFailingCritical: config.ALERT_DEAD_LETTER_FAILING_CRITICAL,
    successRateWarningBelow: config.ALERT_SUCCESS_RATE_WARNING,
    successRateCriticalBelow: config.ALERT_SUCCESS_RATE_CRITICAL,
    successRateMinSample: config.ALERT_SUCCESS_RATE_MIN_SAMPLE,
    freshnessWarningHours: config.ALERT_FRESHNESS_HOURS,
    freshnessCriticalHours: config.ALERT_FRESHNESS_HOURS * config.ALERT_FRESHNESS_CRITICAL_FACTOR,
  };
}

export function ingestionOptions(config: Config, windowHours = config.ALERT_WINDOW_HOURS): IngestionOptions {
  return {
    windowHours,
    stuckPendingMinutes: config.HEALTH_STUCK_PENDING_MINUTES,
    minSample: config.ALERT_SUCCESS_RATE_MIN_SAMPLE,
    warningBelowPercent: config.ALERT_SUCCESS_RATE_WARNING,
    criticalBelowPercent: config.ALERT_SUCCESS_RATE_CRITICAL,
  };
}

export function backlogOptions(config: Config): BacklogOptions {
  return {
    stuckPendingMinutes: config.HEALTH_STUCK_PENDING_MINUTES,
    failingAttempts: config.ALERT_DEAD_LETTER_FAILING_ATTEMPTS,
  };
}

/** The figures the rules judge. */
export interface AlertFigures {
  deadLetters: { pending: number; failing: number };
  personUpsert: { windowHours: number; succeeded: number; attempted: number };
  secondsSinceLastWebhook: number | null;
  lastWebhookAt: string | null;
}

export function alertFiguresFrom(ingestion: IngestionReport, backlog: Backlog): AlertFigures {
  return {
    deadLetters: { pending: backlog.dead_letters.pending, failing: backlog.dead_letters.failing },
    personUpsert: {
      windowHours: ingestion.window_hours,
      succeeded: ingestion.person_upsert.succeeded,
      attempted: ingestion.person_upsert.attempted,
    },
    secondsSinceLastWebhook: ingestion.seconds_since_last_webhook,
    lastWebhookAt: ingestion.last_webhook_at,
  };
}

/** Only what the rules need (one windowed count and the small backlog counts): cheap enough for every run. */
export async function loadAlertFigures(db: Queryable, config: Config): Promise<AlertFigures> {
  const [ingestion, backlog] = await Promise.all([
    ingestionReport(db, ingestionOptions(config)),
    backlogReport(db, backlogOptions(config)),
  ]);
  return alertFiguresFrom(ingestion, backlog);
}

/** Every rule, judged on the figures: a pure function, so the dashboard and the job always agree. */
export function evaluateRules(figures: AlertFigures, thresholds: AlertThresholds): AlertCondition[] {
  const conditions: AlertCondition[] = [];
  const { pending, failing } = figures.deadLetters;
  if (pending > thresholds.deadLetterBacklogWarning) {
    conditions.push({
      condition: 'dead_letter_backlog',
      severity: 'warning',
      message: `${pending} dead letters are waiting for replay (warning above ${thresholds.deadLetterBacklogWarning}).`,
      values: { pending, threshold: thresholds.deadLetterBacklogWarning },
    });
  }
  if (failing > thresholds.deadLettersFailingCritical) {
    conditions.push({
      condition: 'dead_letters_failing',
      severity: 'critical',
      message:
        `${failing} dead letters are failing replay (critical above ${thresholds.deadLettersFailingCritical}): ` +
        'inspect them with the ops CLI and replay or fix the cause.',
      values: { failing, threshold: thresholds.deadLettersFailingCritical },
    });
  }
  const upsert = successRateCondition(figures.personUpsert, thresholds);
  if (upsert) conditions.push(upsert);
  const freshness = freshnessCondition(figures, thresholds);
  if (freshness) conditions.push(freshness);
  return conditions;
}

function successRateCondition(
  upsert: AlertFigures['personUpsert'],
  thresholds: AlertThresholds,
): AlertCondition | null {
  const { succeeded, attempted, windowHours } = upsert;
  if (attempted === 0 || attempted < thresholds.successRateMinSample) return null;
  const rate = (succeeded / attempted) * 100;
  const severity: Severity | null =
    rate < thresholds.successRateCriticalBelow
      ? 'critical'
      : rate < thresholds.successRateWarningBelow
        ? 'warning'
        : null;
  if (!severity) return null;
  const shown = Math.round(rate * 10) / 10;
  return {
    condition: 'person_upsert_success_rate',
    severity,
    message:
      `Person upsert success rate is ${shown}% over the last ${windowHours} h (${succeeded} of ${attempted}; ` +
      `warning below ${thresholds.successRateWarningBelow}%, critical below ${thresholds.successRateCriticalBelow}%).`,
    values: { success_rate_percent: shown, succeeded, attempted, window_hours: windowHours },
  };
}

function freshnessCondition(figures: AlertFigures, thresholds: AlertThresholds): AlertCondition | null {
  const seconds = figures.secondsSinceLastWebhook;
  if (seconds === null) {
    return {
      condition: 'webhook_freshness',
      severity: 'warning',
      message:
        'No Dux-Soup webhook has been received yet: check the webhook URL in Dux-Soup (Options > Connect).',
      values: { last_webhook_at: null, hours_since: null },
    };
  }
  const hours = seconds / 3600;
  const severity: Severity | null =
    hours >= thresholds.freshnessCriticalHours
      ? 'critical'
      : hours >= thresholds.freshnessWarningHours
        ? 'warning'
        : null;
  if (!severity) return null;
  const shown = Math.round(hours * 10) / 10;
  return {
    condition: 'webhook_freshness',
    severity,
    message:
      `No Dux-Soup webhook for ${shown} hours (last at ${figures.lastWebhookAt}; warning after ` +
      `${thresholds.freshnessWarningHours} h, critical after ${thresholds.freshnessCriticalHours} h).`,
    values: { last_webhook_at: figures.lastWebhookAt, hours_since: shown },
  };
}

export function overallStatus(conditions: readonly AlertCondition[]): OverallStatus {
  if (conditions.some((condition) => condition.severity === 'critical')) return 'critical';
  return conditions.length > 0 ? 'warning' : 'ok';
}
