import type { Config } from '../config';
import type { Logger } from '../logger';
import type { EmailConfig } from './email';
import { emailChannel } from './email';
import type { MessageContext } from './messages';
import { planMessage } from './messages';
import { redactSecrets } from './redact';
import type { SmsConfig } from './sms';
import { smsChannel } from './sms';
import type {
  AlertNotice,
  Channel,
  Delivery,
  NotificationPlan,
  OutgoingMessage,
  RecoveryNotice,
  Severity,
} from './types';

export interface Channels {
  email: Channel;
  sms: Channel;
}

export function channelsFromConfig(config: EmailConfig & SmsConfig): Channels {
  return { email: emailChannel(config), sms: smsChannel(config) };
}

export type RedactionConfig = Pick<Config, 'SMTP_PASS' | 'TWILIO_AUTH_TOKEN'>;

/**
 * Sends one message on one channel and describes the outcome. Never throws: a failure is logged (redacted) and
 * returned as an undelivered Delivery.
 */
export async function attempt(
  channel: Channel,
  message: OutgoingMessage,
  about: Pick<Delivery, 'kind' | 'conditions' | 'severity'>,
  deps: { config: RedactionConfig; logger: Logger },
): Promise<Delivery> {
  try {
    const result = await channel.send(message);
    const error = result.error ? redactSecrets(result.error, deps.config) : null;
    if (error)
      deps.logger.warn('notification partly failed', { channel: channel.name, kind: about.kind, error });
    return {
      ...about,
      channel: channel.name,
      recipients: channel.recipients,
      delivered: result.reached > 0,
      error,
    };
  } catch (failure) {
    const error = redactSecrets(failure instanceof Error ? failure.message : String(failure), deps.config);
    deps.logger.warn('notification failed', { channel: channel.name, kind: about.kind, error });
    return { ...about, channel: channel.name, recipients: channel.recipients, delivered: false, error };
  }
}

export interface PlanDelivery {
  deliveries: Delivery[];
  /** Alerts that reached somebody on at least one channel that carries them. */
  notifiedAlerts: AlertNotice[];
  notifiedRecoveries: RecoveryNotice[];
}

function highestSeverity(alerts: readonly AlertNotice[]): Severity | null {
  if (alerts.some((alert) => alert.severity === 'critical')) return 'critical';
  return alerts.length > 0 ? 'warning' : null;
}

/**
 * Email carries every due alert and recovery (warning and critical); SMS only critical alerts and the recoveries
 * of episodes that were critical. An unconfigured channel is skipped; a failing one never stops the other.
 */
export async function deliverPlan(
  plan: NotificationPlan,
  channels: Channels,
  context: MessageContext,
  deps: { config: RedactionConfig; logger: Logger },
): Promise<PlanDelivery> {
  const smsPlan: NotificationPlan = {
    alerts: plan.alerts.filter((alert) => alert.severity === 'critical'),
    suppressed: [],
    recoveries: plan.recoveries.filter((recovery) => recovery.wasCritical),
  };
  const sends: { channel: Channel; plan: NotificationPlan }[] = [
    { channel: channels.email, plan },
    { channel: channels.sms, plan: smsPlan },
  ].filter(
    (send) =>
      send.channel.missing.length === 0 && (send.plan.alerts.length > 0 || send.plan.recoveries.length > 0),
  );
  const deliveries = await Promise.all(
    sends.map((send) =>
      attempt(
        send.channel,
        planMessage(send.plan, context),
        {
          kind: send.plan.alerts.length > 0 ? 'alert' : 'recovery',
          conditions: [...send.plan.alerts, ...send.plan.recoveries].map((item) => item.condition),
          severity: highestSeverity(send.plan.alerts),
        },
        deps,
      ),
    ),
  );
  const reached = new Set<string>();
  sends.forEach((send, index) => {
    if (!deliveries[index]!.delivered) return;
    for (const alert of send.plan.alerts) reached.add(`alert:${alert.condition}`);
    for (const recovery of send.plan.recoveries) reached.add(`recovery:${recovery.condition}`);
  });
  return {
    deliveries,
    notifiedAlerts: plan.alerts.filter((alert) => reached.has(`alert:${alert.condition}`)),
    notifiedRecoveries: plan.recoveries.filter((recovery) => reached.has(`recovery:${recovery.condition}`)),
  };
}
