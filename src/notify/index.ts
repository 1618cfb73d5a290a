export type { Channels, PlanDelivery } from './dispatcher';
export { attempt, channelsFromConfig, deliverPlan } from './dispatcher';
export type { ActiveAlertRow } from './dedup';
export {
  activeAlertState,
  markAlertsNotified,
  markRecoveriesNotified,
  reconcileAlerts,
  recordDeliveries,
} from './dedup';
export { describeChannels } from './describe';
export { planMessage, testMessage } from './messages';
export { maskEmail, maskPhone, maskSid, redactSecrets } from './redact';
export { SMS_MAX_LENGTH, truncateSms } from './sms';
export type {
  AlertNotice,
  Channel,
  ChannelName,
  Delivery,
  NotificationPlan,
  OutgoingMessage,
  RecoveryNotice,
  SendResult,
  Severity,
} from './types';
