/**
 * When to try a HubSpot call again, and after how long. HubSpot answers bursts with 429 bodies naming the policy
 * (`policyName: "TEN_SECONDLY_ROLLING"`; search's per-second limit says "You have reached your secondly limit."
 * and has no policy name; `DAILY` lasts until midnight, so retrying is pointless). `Retry-After` is honoured when
 * present, but HubSpot does not always send it: otherwise exponential backoff with full jitter, capped.
 */

export interface BackoffSettings {
  /** Attempts in all (the first call included). */
  maxAttempts: number;
  /** 5xx, timeouts, network errors and unnamed 429s: first backoff ceiling, doubled per attempt. */
  baseDelayMs: number;
  /** The ten-secondly rolling window: it frees up within 10 s. */
  tenSecondlyBaseDelayMs: number;
  /** Search's per-second window. */
  secondlyBaseDelayMs: number;
  /** No backoff is longer than this. */
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the call fails instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_BACKOFF: Omit<BackoffSettings, 'maxAttempts'> = {
  baseDelayMs: 500,
  tenSecondlyBaseDelayMs: 2_000,
  secondlyBaseDelayMs: 500,
  maxDelayMs: 10_000,
  maxRetryAfterMs: 120_000,
};

export const SECONDLY_LIMIT_MESSAGE = 'You have reached your secondly limit.';

/** What went wrong with one attempt. */
export type AttemptFailure =
  | { kind: 'http'; status: number; body: unknown; retryAfter: string | null }
  | { kind: 'timeout' }
  | { kind: 'network'; message: string };

export type RateLimitPolicy = 'ten_secondly' | 'secondly' | 'daily' | 'other';

export function rateLimitPolicyOf(body: unknown): RateLimitPolicy {
  const record = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  if (record.policyName === 'TEN_SECONDLY_ROLLING') return 'ten_secondly';
  if (record.policyName === 'DAILY') return 'daily';
  if (record.message === SECONDLY_LIMIT_MESSAGE) return 'secondly';
  return 'other';
}

/** Retry-After as delta-seconds or an HTTP date, in milliseconds; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null) return null;
  const text = header.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Full jitter: uniformly random in [0, min(cap, base * 2^(attempt - 1))]. */
export function jitteredBackoff(base: number, attempt: number, cap: number, random: () => number): number {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(random() * ceiling);
}

/**
 * How long to wait before the next attempt, or null to give up now. `attempt` counts from 1 (the attempt that
 * just failed).
 */
export function nextDelay(
  failure: AttemptFailure,
  attempt: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): number | null {
  if (attempt >= settings.maxAttempts) return null;
  if (failure.kind !== 'http') {
    return jitteredBackoff(settings.baseDelayMs, attempt, settings.maxDelayMs, random);
  }
  if (!isRetryableStatus(failure.status)) return null;
  const policy = failure.status === 429 ? rateLimitPolicyOf(failure.body) : 'other';
  if (policy === 'daily') return null;
  const told = retryAfterMs(failure.retryAfter);
  if (told !== null) return told <= settings.maxRetryAfterMs ? told : null;
  const base =
    policy === 'ten_secondly'
      ? settings.tenSecondlyBaseDelayMs
      : policy === 'secondly'
        ? settings.secondlyBaseDelayMs
        : settings.baseDelayMs;
  return jitteredBackoff(base, attempt, settings.maxDelayMs, random);
}
