export type Severity = 'warning' | 'critical';

/** One alert as the notifier sees it: a stable condition key, a severity and a message for people. */
export interface AlertNotice {
  condition: string;
  severity: Severity;
  message: string;
  values: Record<string, unknown>;
}

/** A condition that held, was notified, and no longer holds. */
export interface RecoveryNotice {
  condition: string;
  /** The severity it last had. */
  severity: Severity;
  /** Whether a critical notice went out in this episode (its recovery then also goes by SMS). */
  wasCritical: boolean;
  firstSeen: Date;
  clearedAt: Date;
}

/** What one run of the health check has to say. */
export interface NotificationPlan {
  /** Problem notices due now (new, escalated, or last sent more than ALERT_DEDUP_HOURS ago). */
  alerts: AlertNotice[];
  /** Still active and already notified within the de-duplication window: mentioned, never a trigger. */
  suppressed: AlertNotice[];
  recoveries: RecoveryNotice[];
}

export type ChannelName = 'email' | 'sms';

export interface Delivery {
  channel: ChannelName;
  kind: 'alert' | 'recovery' | 'test';
  conditions: string[];
  severity: Severity | null;
  recipients: number;
  delivered: boolean;
  /** Redacted: never contains a configured secret. */
  error: string | null;
}

export interface OutgoingMessage {
  subject: string;
  text: string;
  html?: string;
  /** The short form for SMS. */
  short: string;
}

/** Recipients reached; `error` describes the ones that were not (a partial failure). */
export interface SendResult {
  reached: number;
  error: string | null;
}

/** A way of reaching people. `send` rejects when nobody was reached; the dispatcher catches it. */
export interface Channel {
  readonly name: ChannelName;
  /** Settings that are missing (the channel cannot send); empty when configured. */
  readonly missing: string[];
  readonly recipients: number;
  send(message: OutgoingMessage): Promise<SendResult>;
}
