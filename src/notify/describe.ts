import type { EmailConfig } from './email';
import { missingEmailSettings } from './email';
import { maskEmail, maskPhone, maskSid } from './redact';
import type { SmsConfig } from './sms';
import { missingSmsSettings } from './sms';

/** What is configured for each channel, with no secret and only masked addresses and numbers. */
export function describeChannels(config: EmailConfig & SmsConfig) {
  const emailMissing = missingEmailSettings(config);
  const smsMissing = missingSmsSettings(config);
  const sender = config.ALERT_EMAIL_FROM ?? config.SMTP_USER;
  return {
    email: {
      configured: emailMissing.length === 0,
      missing: emailMissing,
      severities: ['warning', 'critical'],
      host: config.SMTP_HOST ?? null,
      port: config.SMTP_PORT,
      secure: config.SMTP_SECURE,
      authenticates: Boolean(config.SMTP_USER),
      password_set: Boolean(config.SMTP_PASS),
      from: sender ? maskEmail(sender.replace(/^.*<([^>]+)>.*$/, '$1')) : null,
      to: config.ALERT_EMAIL_TO.map(maskEmail),
    },
    sms: {
      configured: smsMissing.length === 0,
      missing: smsMissing,
      severities: ['critical'],
      account_sid: config.TWILIO_ACCOUNT_SID ? maskSid(config.TWILIO_ACCOUNT_SID) : null,
      auth_token_set: Boolean(config.TWILIO_AUTH_TOKEN),
      from: config.TWILIO_FROM ? maskPhone(config.TWILIO_FROM) : null,
      to: config.ALERT_SMS_TO.map(maskPhone),
      api: config.TWILIO_API_BASE_URL ? new URL(config.TWILIO_API_BASE_URL).origin : 'https://api.twilio.com',
    },
  };
}
