import type { AlertNotice, NotificationPlan, OutgoingMessage, RecoveryNotice } from './types';

const SERVICE = 'duxsoup-etl';

export interface MessageContext {
  checkedAt: Date;
  instanceId?: string;
  dedupHours: number;
}

function line(alert: AlertNotice): string {
  return `- ${alert.severity.toUpperCase()} ${alert.condition}: ${alert.message}`;
}

function recoveryLine(recovery: RecoveryNotice): string {
  return (
    `- ${recovery.condition} (${recovery.severity}, since ${recovery.firstSeen.toISOString()}) cleared at ` +
    `${recovery.clearedAt.toISOString()}`
  );
}

function subjectOf(plan: NotificationPlan): string {
  const names = (items: { condition: string }[]) => items.map((item) => item.condition).join(', ');
  if (plan.alerts.some((alert) => alert.severity === 'critical')) {
    return `[CRITICAL] ${SERVICE}: ${names(plan.alerts)}`;
  }
  if (plan.alerts.length > 0) return `[WARNING] ${SERVICE}: ${names(plan.alerts)}`;
  return `[RECOVERED] ${SERVICE}: ${names(plan.recoveries)}`;
}

/** The email of one health-check run: what is new, what recovered, and what is still active. */
export function planMessage(plan: NotificationPlan, context: MessageContext): OutgoingMessage {
  const sections: [string, string[]][] = [
    ['Alerts', plan.alerts.map(line)],
    ['Recovered', plan.recoveries.map(recoveryLine)],
    [`Still active (already notified in the last ${context.dedupHours} h)`, plan.suppressed.map(line)],
  ];
  const present = sections.filter(([, lines]) => lines.length > 0);
  const header =
    `${SERVICE} health check at ${context.checkedAt.toISOString()}` +
    (context.instanceId ? ` (instance ${context.instanceId})` : '');
  const footer =
    'Every figure: GET /api/health/dashboard (API key). Rules and thresholds: .env.example (ALERT_*).';
  const text = [
    header,
    ...present.map(([title, lines]) => `\n${title}:\n${lines.join('\n')}`),
    `\n${footer}`,
  ].join('\n');
  const html = [
    `<p>${escapeHtml(header)}</p>`,
    ...present.map(
      ([title, lines]) =>
        `<h3>${escapeHtml(title)}</h3><ul>${lines.map((item) => `<li>${escapeHtml(item.slice(2))}</li>`).join('')}</ul>`,
    ),
    `<p>${escapeHtml(footer)}</p>`,
  ].join('\n');
  return { subject: subjectOf(plan), text, html, short: shortText(plan) };
}

/**
 * One SMS: every condition first (critical, then recovered), then the first critical message, so that cutting
 * the text to one segment loses only the end of that message.
 */
function shortText(plan: NotificationPlan): string {
  const critical = plan.alerts.filter((alert) => alert.severity === 'critical');
  const heads: string[] = [];
  if (critical.length > 0) heads.push(`CRITICAL ${critical.map((alert) => alert.condition).join(', ')}`);
  if (plan.recoveries.length > 0) {
    heads.push(`RECOVERED ${plan.recoveries.map((recovery) => recovery.condition).join(', ')}`);
  }
  const head = `${SERVICE} ${heads.join('; ')}`;
  return critical[0] ? `${head}: ${critical[0].message}` : head;
}

export function testMessage(context: { sentAt: Date; instanceId?: string }): OutgoingMessage {
  const text =
    `This is a test notification from ${SERVICE}, sent at ${context.sentAt.toISOString()}` +
    (context.instanceId ? ` by instance ${context.instanceId}` : '') +
    '. Alerts will reach you this way.';
  return {
    subject: `[TEST] ${SERVICE} notification test`,
    text,
    html: `<p>${escapeHtml(text)}</p>`,
    short: `${SERVICE} test notification (${context.sentAt.toISOString()})`,
  };
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}
