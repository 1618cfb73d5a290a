import type { Attempt } from './sender';

/** Attempts issued at or after `from` and answered by `to` (both epoch ms): wholly inside a fault window. */
export function within(attempts: Attempt[], from: number, to: number): Attempt[] {
  return attempts.filter((attempt) => attempt.startedAt >= from && attempt.startedAt + attempt.ms <= to);
}

export function isAck(attempt: Attempt): boolean {
  return attempt.status >= 200 && attempt.status < 300;
}

export function countBy(attempts: Attempt[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const attempt of attempts) counts[attempt.status] = (counts[attempt.status] ?? 0) + 1;
  return counts;
}

export function slowest(attempts: Attempt[]): number {
  return attempts.reduce((max, attempt) => Math.max(max, attempt.serviceMs), 0);
}
