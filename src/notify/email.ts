import nodemailer from 'nodemailer';
import type { Config } from '../config';
import type { Channel } from './types';

export type EmailConfig = Pick<
  Config,
  | 'SMTP_HOST'
  | 'SMTP_PORT'
  | 'SMTP_SECURE'
  | 'SMTP_USER'
  | 'SMTP_PASS'
  | 'ALERT_EMAIL_FROM'
  | 'ALERT_EMAIL_TO'
  | 'NOTIFY_TIMEOUT_MS'
>;

function senderOf(config: EmailConfig): string | undefined {
  return config.ALERT_EMAIL_FROM ?? config.SMTP_USER;
}

export function missingEmailSettings(config: EmailConfig): string[] {
  const missing: string[] = [];
  if (!config.SMTP_HOST) missing.push('SMTP_HOST');
  if (config.ALERT_EMAIL_TO.length === 0) missing.push('ALERT_EMAIL_TO');
  if (!senderOf(config)) missing.push('ALERT_EMAIL_FROM (or SMTP_USER)');
  return missing;
}

/**
 * Email through SMTP (nodemailer). Authenticates when SMTP_USER is set; SMTP_SECURE=true is TLS from the first
 * byte, otherwise STARTTLS is used when the server offers it. Every wait is bounded by NOTIFY_TIMEOUT_MS.
 */
export function emailChannel(config: EmailConfig): Channel {
  const missing = missingEmailSettings(config);
  return {
    name: 'email',
    missing,
    recipients: config.ALERT_EMAIL_TO.length,
    send: async (message) => {
      if (missing.length > 0) throw new Error(`email is not configured (missing ${missing.join(', ')})`);
      const transport = nodemailer.createTransport({
        host: config.SMTP_HOST,
        port: config.SMTP_PORT,
        secure: config.SMTP_SECURE,
        ...(config.SMTP_USER ? { auth: { user: config.SMTP_USER, pass: config.SMTP_PASS ?? '' } } : {}),
        connectionTimeout: config.NOTIFY_TIMEOUT_MS,
        greetingTimeout: config.NOTIFY_TIMEOUT_MS,
        socketTimeout: config.NOTIFY_TIMEOUT_MS,
      });
      try {
        const info = await transport.sendMail({
          from: senderOf(config),
          to: config.ALERT_EMAIL_TO,
          subject: message.subject,
          text: message.text,
          ...(message.html ? { html: message.html } : {}),
        });
        const rejected = info.rejected.length;
        return {
          reached: info.accepted.length,
          error: rejected > 0 ? `${rejected} recipient(s) rejected by the SMTP server` : null,
        };
      } finally {
        transport.close();
      }
    },
  };
}
