import type { Config } from '../config';
import type { Pool } from '../db/pool';
import { isDatabaseUnavailable } from '../db/pool';

/** How failed observations are retried: exponential backoff, capped, for at most `maxAttempts` attempts. */
export interface DeadLetterPolicy {
  maxAttempts: number;
  backoffBaseSeconds: number;
  backoffCapSeconds: number;
}

export const DEFAULT_DEAD_LETTER_POLICY: DeadLetterPolicy = {
  maxAttempts: 10,
  backoffBaseSeconds: 120,
  backoffCapSeconds: 43_200,
};

export function deadLetterPolicyFromConfig(
  config: Pick<
    Config,
    'DEAD_LETTER_MAX_ATTEMPTS' | 'DEAD_LETTER_BACKOFF_BASE_SECONDS' | 'DEAD_LETTER_BACKOFF_CAP_SECONDS'
  >,
): DeadLetterPolicy {
  return {
    maxAttempts: config.DEAD_LETTER_MAX_ATTEMPTS,
    backoffBaseSeconds: config.DEAD_LETTER_BACKOFF_BASE_SECONDS,
    backoffCapSeconds: config.DEAD_LETTER_BACKOFF_CAP_SECONDS,
  };
}

/** Seconds to wait after the `failedAttempts`-th failure: base × 2^(failedAttempts − 1), at most the cap. */
export function backoffSeconds(policy: DeadLetterPolicy, failedAttempts: number): number {
  const exponent = Math.min(Math.max(failedAttempts - 1, 0), 30);
  return Math.min(policy.backoffBaseSeconds * 2 ** exponent, policy.backoffCapSeconds);
}

export type FailureClass = 'permanent' | 'transient';

const TRANSIENT_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '55P03', // lock_not_available
  '55006', // object_in_use
  '57014', // query_canceled (statement timeout)
]);

/**
 * Permanent: the same input fails the same way every time, so retrying cannot help (invalid data, a constraint
 * the data breaks, a payload of an unexpected shape). Transient: the database or the moment was the problem
 * (connection lost, timeout, serialization failure, lock contention). Unknown errors count as transient: a
 * retry costs little, and `maxAttempts` bounds it.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (isDatabaseUnavailable(error)) return 'transient';
  const code = error && typeof error === 'object' ? (error as { code?: unknown }).code : undefined;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (TRANSIENT_SQLSTATES.has(code)) return 'transient';
    // Class 22: data exception (bad text representation, out of range, too long); class 23: integrity
    // constraint violation (check, not null, foreign key, unique).
    if (code.startsWith('22') || code.startsWith('23')) return 'permanent';
    return 'transient';
  }
  // Thrown by our own code while reading the payload: the payload will not change, nor will the outcome.
  if (error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError)
    return 'permanent';
  if (error instanceof Error && error.name === 'ZodError') return 'permanent';
  return 'transient';
}

export type DeadLetterStatus = 'pending' | 'resolved' | 'failed';

export interface DeadLetterState {
  id: number;
  observationId: number;
  status: DeadLetterStatus;
  attempts: number;
  permanent: boolean;
  error: string;
  nextAttemptAt: Date;
  lastAttemptAt: Date;
  resolvedAt: Date | null;
}

interface DeadLetterRow {
  id: number;
  observation_id: number;
  status: DeadLetterStatus;
  attempts: number;
  permanent: boolean;
  error: string;
  next_attempt_at: Date;
  last_attempt_at: Date;
  resolved_at: Date | null;
}

export const DEAD_LETTER_COLUMNS =
  'id, observation_id, status, attempts, permanent, error, next_attempt_at, last_attempt_at, resolved_at';

export function deadLetterState(row: DeadLetterRow): DeadLetterState {
  return {
    id: row.id,
    observationId: row.observation_id,
    status: row.status,
    attempts: row.attempts,
    permanent: row.permanent,
    error: row.error,
    nextAttemptAt: row.next_attempt_at,
    lastAttemptAt: row.last_attempt_at,
    resolvedAt: row.resolved_at,
  };
}

/**
 * Records a failed Phase 2 attempt in one statement: creates the observation's dead letter or counts one more
 * attempt on it, schedules the next attempt with backoff, gives up (`failed`) on a permanent error or after
 * `maxAttempts`, appends the attempt to `dead_letter_attempts` and marks the observation `dead`.
 */
export async function recordDeadLetter(
  pool: Pool,
  observationId: number,
  error: unknown,
  policy: DeadLetterPolicy,
): Promise<DeadLetterState> {
  const message = (error instanceof Error ? error.message : String(error)) || 'unknown error';
  const permanent = classifyFailure(error) === 'permanent';
  const { rows } = await pool.query<DeadLetterRow>(
    `WITH letter AS (
       INSERT INTO dead_letters AS d (observation_id, error, permanent, attempts, status, next_attempt_at,
                                      last_attempt_at)
       VALUES ($1, $2, $3, 1, CASE WHEN $3 OR $4 <= 1 THEN 'failed' ELSE 'pending' END,
               now() + least($5::float8, $6::float8) * interval '1 second', now())
       ON CONFLICT (observation_id) DO UPDATE
         SET error = EXCLUDED.error, permanent = EXCLUDED.permanent, attempts = d.attempts + 1,
             status = CASE WHEN EXCLUDED.permanent OR d.attempts + 1 >= $4 THEN 'failed' ELSE 'pending' END,
             next_attempt_at = now() + least($5 * power(2, least(d.attempts, 30)), $6) * interval '1 second',
             last_attempt_at = now(), resolved_at = NULL
       RETURNING ${DEAD_LETTER_COLUMNS}
     ), attempt AS (
       INSERT INTO dead_letter_attempts (dead_letter_id, attempt, outcome, permanent, error)
       SELECT id, attempts, 'failed', permanent, error FROM letter
     ), observation AS (
       UPDATE observation_state SET status = 'dead', status_reason = $7 WHERE id = $1
     )
     SELECT * FROM letter`,
    [
      observationId,
      message.slice(0, 2000),
      permanent,
      policy.maxAttempts,
      policy.backoffBaseSeconds,
      policy.backoffCapSeconds,
      message.slice(0, 500),
    ],
  );
  return deadLetterState(rows[0]!);
}
