import type { Config } from '../config';

/** Removes every configured secret from a text (error messages are logged and stored). */
export function redactSecrets(text: string, config: Pick<Config, 'SMTP_PASS' | 'TWILIO_AUTH_TOKEN'>): string {
  let result = text;
  for (const secret of [config.SMTP_PASS, config.TWILIO_AUTH_TOKEN]) {
    if (secret) result = result.split(secret).join('[redacted]');
  }
  return result.slice(0, 500);
}

/** `a***@example.com`: enough to recognise an address, not to harvest it. */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address[0]}***${address.slice(at)}`;
}

/** `+1******4567`. */
export function maskPhone(number: string): string {
  const digits = number.replace(/[^\d+]/g, '');
  if (digits.length <= 6) return '***';
  return `${digits.slice(0, 2)}${'*'.repeat(digits.length - 6)}${digits.slice(-4)}`;
}

/** `AC…1234`. */
export function maskSid(sid: string): string {
  return sid.length <= 6 ? '***' : `${sid.slice(0, 2)}…${sid.slice(-4)}`;
}
