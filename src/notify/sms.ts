import twilio from 'twilio';
import type { Config } from '../config';
import type { Channel } from './types';

export type SmsConfig = Pick<
  Config,
  | 'TWILIO_ACCOUNT_SID'
  | 'TWILIO_AUTH_TOKEN'
  | 'TWILIO_FROM'
  | 'ALERT_SMS_TO'
  | 'TWILIO_API_BASE_URL'
  | 'NOTIFY_TIMEOUT_MS'
>;

/**
 * One SMS segment (GSM-7): longer texts are cut rather than split into a costly multi-part message. The cut is
 * marked with ASCII dots: a single non-GSM character would switch the whole message to UCS-2 (70 characters).
 */
export const SMS_MAX_LENGTH = 160;

type RequestOptions<T> = twilio.RequestClient extends { request(options: infer O): unknown }
  ? O & { data?: T }
  : never;

/**
 * twilio-node's own HTTP client (axios, basic auth, form bodies, Twilio's error mapping), sending to another
 * origin: every `https://api.twilio.com/...` URL is rewritten onto `base`, path and query kept. This is the hook
 * twilio-node offers (`httpClient`); `edge` / `region` only rename the Twilio host.
 */
class RebasedRequestClient extends twilio.RequestClient {
  constructor(
    private readonly base: URL,
    timeoutMs: number,
  ) {
    super({ timeout: timeoutMs });
  }

  override request<TData>(options: RequestOptions<TData>) {
    const original = new URL(options.uri);
    const target = new URL(this.base.toString());
    target.pathname = `${this.base.pathname.replace(/\/$/, '')}${original.pathname}`;
    target.search = original.search;
    return super.request<TData>({ ...options, uri: target.toString() });
  }
}

export function missingSmsSettings(config: SmsConfig): string[] {
  const missing: string[] = [];
  if (!config.TWILIO_ACCOUNT_SID) missing.push('TWILIO_ACCOUNT_SID');
  if (!config.TWILIO_AUTH_TOKEN) missing.push('TWILIO_AUTH_TOKEN');
  if (!config.TWILIO_FROM) missing.push('TWILIO_FROM');
  if (config.ALERT_SMS_TO.length === 0) missing.push('ALERT_SMS_TO');
  return missing;
}

export function truncateSms(text: string): string {
  return text.length <= SMS_MAX_LENGTH ? text : `${text.slice(0, SMS_MAX_LENGTH - 3)}...`;
}

/**
 * SMS through the official twilio client, one message per recipient (all sent, whatever happens to the others).
 * Fails only when nobody was reached; a partial failure is reported in the result.
 */
export function smsChannel(config: SmsConfig): Channel {
  const missing = missingSmsSettings(config);
  return {
    name: 'sms',
    missing,
    recipients: config.ALERT_SMS_TO.length,
    send: async (message) => {
      if (missing.length > 0) throw new Error(`SMS is not configured (missing ${missing.join(', ')})`);
      const client = twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, {
        timeout: config.NOTIFY_TIMEOUT_MS,
        ...(config.TWILIO_API_BASE_URL
          ? {
              httpClient: new RebasedRequestClient(
                new URL(config.TWILIO_API_BASE_URL),
                config.NOTIFY_TIMEOUT_MS,
              ),
            }
          : {}),
      });
      const body = truncateSms(message.short);
      const results = await Promise.allSettled(
        config.ALERT_SMS_TO.map((to) => client.messages.create({ from: config.TWILIO_FROM!, to, body })),
      );
      const failures = results.filter((result) => result.status === 'rejected');
      if (failures.length === 0) return { reached: results.length, error: null };
      const reason: unknown = (failures[0] as PromiseRejectedResult).reason;
      const why = reason instanceof Error ? reason.message : String(reason);
      const error = `${failures.length} of ${results.length} SMS failed: ${why}`;
      if (failures.length === results.length) throw new Error(error);
      return { reached: results.length - failures.length, error };
    },
  };
}
