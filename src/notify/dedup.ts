import type { PoolClient } from '../db/pool';
import type { AlertNotice, Delivery, NotificationPlan, RecoveryNotice, Severity } from './types';

/**
 * Transaction-scoped advisory lock around one evaluation (state read, notices sent, state written), so two
 * instances (or the job and the ops CLI) evaluating at once never both send a notice. The migration lock is
 * 72_410_001, the leader 72_410_002, job runs 72_410_003.
 */
export const ALERT_LOCK_KEY = 72_410_009;

interface AlertRow {
  condition: string;
  severity: Severity;
  first_seen: Date;
  cleared_at: Date | null;
  warning_notified_at: Date | null;
  critical_notified_at: Date | null;
  last_notified: Date | null;
  recovery_notified_at: Date | null;
}

/**
 * Records one evaluation in `alerts` and decides what to send. Must run in a transaction (it takes the alert
 * lock). A condition that holds opens an episode (or continues the open one); its notice is due unless one
 * for the same condition AND severity was delivered in this episode less than `dedupHours` ago, whatever the
 * live figures in the message. A condition that no longer holds closes its episode; a recovery notice is due
 * once when a problem notice of that episode had been delivered.
 */
export async function reconcileAlerts(
  client: PoolClient,
  active: readonly AlertNotice[],
  dedupHours: number,
): Promise<{ plan: NotificationPlan; now: Date }> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [ALERT_LOCK_KEY]);
  const clock = await client.query<{ now: Date }>('SELECT now() AS now');
  const now = clock.rows[0]!.now;
  const { rows } = await client.query<AlertRow>(
    `SELECT condition, severity, first_seen, cleared_at, warning_notified_at, critical_notified_at, last_notified,
            recovery_notified_at
       FROM alerts`,
  );
  const known = new Map(rows.map((row) => [row.condition, row]));
  const plan: NotificationPlan = { alerts: [], suppressed: [], recoveries: [] };
  const dedupMs = dedupHours * 3_600_000;

  for (const alert of active) {
    const row = known.get(alert.condition);
    const continuing = row !== undefined && row.cleared_at === null;
    await client.query(
      continuing
        ? `UPDATE alerts SET severity = $2, message = $3, last_values = $4, last_seen = $5, updated_at = $5
            WHERE condition = $1`
        : `INSERT INTO alerts (condition, severity, message, last_values, first_seen, last_seen)
           VALUES ($1, $2, $3, $4, $5, $5)
           ON CONFLICT (condition) DO UPDATE
             SET severity = EXCLUDED.severity, message = EXCLUDED.message, last_values = EXCLUDED.last_values,
                 first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen, cleared_at = NULL,
                 warning_notified_at = NULL, critical_notified_at = NULL, last_notified = NULL,
                 recovery_notified_at = NULL, updated_at = EXCLUDED.last_seen`,
      [alert.condition, alert.severity, alert.message, JSON.stringify(alert.values), now],
    );
    const notifiedAt = continuing
      ? alert.severity === 'critical'
        ? row.critical_notified_at
        : row.warning_notified_at
      : null;
    const due = notifiedAt === null || now.getTime() - notifiedAt.getTime() >= dedupMs;
    (due ? plan.alerts : plan.suppressed).push(alert);
  }

  const activeConditions = new Set(active.map((alert) => alert.condition));
  for (const row of rows) {
    if (activeConditions.has(row.condition)) continue;
    let clearedAt = row.cleared_at;
    if (clearedAt === null) {
      clearedAt = now;
      await client.query('UPDATE alerts SET cleared_at = $2, updated_at = $2 WHERE condition = $1', [
        row.condition,
        now,
      ]);
    }
    // Also retries a recovery notice that could not be delivered last time.
    if (row.last_notified !== null && row.recovery_notified_at === null) {
      plan.recoveries.push(recoveryOf(row, clearedAt));
    }
  }
  return { plan, now };
}

function recoveryOf(row: AlertRow, clearedAt: Date): RecoveryNotice {
  return {
    condition: row.condition,
    severity: row.severity,
    wasCritical: row.critical_notified_at !== null,
    firstSeen: row.first_seen,
    clearedAt,
  };
}

/** A problem notice reached somebody: restart its (condition, severity) de-duplication window. */
export async function markAlertsNotified(
  client: PoolClient,
  alerts: readonly AlertNotice[],
  now: Date,
): Promise<void> {
  for (const alert of alerts) {
    const column = alert.severity === 'critical' ? 'critical_notified_at' : 'warning_notified_at';
    await client.query(`UPDATE alerts SET ${column} = $2, last_notified = $2 WHERE condition = $1`, [
      alert.condition,
      now,
    ]);
  }
}

export async function markRecoveriesNotified(
  client: PoolClient,
  recoveries: readonly RecoveryNotice[],
  now: Date,
): Promise<void> {
  if (recoveries.length === 0) return;
  await client.query('UPDATE alerts SET recovery_notified_at = $2 WHERE condition = ANY($1::text[])', [
    recoveries.map((recovery) => recovery.condition),
    now,
  ]);
}

export async function recordDeliveries(client: Pick<PoolClient, 'query'>, deliveries: readonly Delivery[]) {
  for (const delivery of deliveries) {
    await client.query(
      `INSERT INTO alert_notifications (kind, channel, conditions, severity, recipients, delivered, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        delivery.kind,
        delivery.channel,
        delivery.conditions,
        delivery.severity,
        delivery.recipients,
        delivery.delivered,
        delivery.error,
      ],
    );
  }
}

export interface ActiveAlertRow {
  condition: string;
  severity: Severity;
  message: string;
  first_seen: string;
  last_seen: string;
  last_notified: string | null;
}

/** The open episodes, as recorded by the last evaluation (for the dashboard). */
export async function activeAlertState(client: Pick<PoolClient, 'query'>): Promise<ActiveAlertRow[]> {
  const { rows } = await client.query<{
    condition: string;
    severity: Severity;
    message: string;
    first_seen: Date;
    last_seen: Date;
    last_notified: Date | null;
  }>(
    `SELECT condition, severity, message, first_seen, last_seen, last_notified
       FROM alerts WHERE cleared_at IS NULL ORDER BY condition`,
  );
  return rows.map((row) => ({
    ...row,
    first_seen: row.first_seen.toISOString(),
    last_seen: row.last_seen.toISOString(),
    last_notified: row.last_notified ? row.last_notified.toISOString() : null,
  }));
}
