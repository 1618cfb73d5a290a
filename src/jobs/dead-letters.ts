import type { Pool } from '../db/pool';
import { isDatabaseUnavailable } from '../db/pool';
import type { Phase2Result } from '../ingest/phase2';
import type { DeadLetterPolicy, DeadLetterState } from './dead-letter-policy';
import { DEAD_LETTER_COLUMNS, deadLetterState, recordDeadLetter } from './dead-letter-policy';

/** Phase 2 as the replayer needs it (`Phase2Processor` in production). */
export interface Phase2Runner {
  process(observationId: number): Promise<Phase2Result>;
}

export interface ReplayOptions {
  /** At most this many dead letters in one call. */
  limit: number;
  /** Claimed per round trip; each claim is a lease, so a crashed replayer holds back at most this many. */
  claimSize?: number;
  /** How long a claim keeps other replayers away from a dead letter. */
  leaseSeconds?: number;
  signal?: AbortSignal;
}

export interface ReplayCounts extends Record<string, number> {
  claimed: number;
  resolved: number;
  failed: number;
  /** Of the failed: given up on (permanent error or last attempt), now `failed`. */
  gave_up: number;
  /** The observation turned out to carry no usable identifier: it is `skipped`, the dead letter `failed`. */
  no_identity: number;
  /** Another processor held the observation; retried after the lease. */
  busy: number;
}

const DEFAULT_CLAIM_SIZE = 10;
const DEFAULT_LEASE_SECONDS = 300;

interface ClaimedLetter {
  id: number;
  observation_id: number;
  /** Text, not a Date: a JavaScript Date would drop the microseconds the release compares. */
  lease_until: string;
}

/**
 * Replays due dead letters (`pending`, `next_attempt_at` passed) through the full Phase 2. Each one is claimed
 * with `FOR UPDATE SKIP LOCKED` and leased by moving `next_attempt_at` forward, so replayers on any number of
 * instances never take the same dead letter; Phase 2 then resolves it, or records the failed attempt with its
 * classification and backoff (`recordDeadLetter`). Stops early (releasing what it claimed but did not process)
 * when the signal aborts, and stops with an error when the database becomes unreachable.
 */
export async function replayDueDeadLetters(
  pool: Pool,
  phase2: Phase2Runner,
  policy: DeadLetterPolicy,
  options: ReplayOptions,
): Promise<ReplayCounts> {
  const counts: ReplayCounts = { claimed: 0, resolved: 0, failed: 0, gave_up: 0, no_identity: 0, busy: 0 };
  const claimSize = options.claimSize ?? DEFAULT_CLAIM_SIZE;
  const leaseSeconds = options.leaseSeconds ?? DEFAULT_LEASE_SECONDS;
  while (counts.claimed < options.limit && !options.signal?.aborted) {
    const claimed = await claimDue(pool, Math.min(claimSize, options.limit - counts.claimed), leaseSeconds);
    if (claimed.length === 0) break;
    counts.claimed += claimed.length;
    let next = 0;
    try {
      for (; next < claimed.length && !options.signal?.aborted; next += 1) {
        const letter = claimed[next]!;
        const outcome = await replayClaimed(pool, phase2, policy, letter.observation_id);
        counts[outcome] += 1;
        if (outcome === 'failed' && (await hasGivenUp(pool, letter.id))) counts.gave_up += 1;
      }
    } finally {
      const unprocessed = claimed.slice(next);
      if (unprocessed.length > 0) await releaseClaims(pool, unprocessed).catch(() => undefined);
    }
  }
  return counts;
}

async function claimDue(pool: Pool, size: number, leaseSeconds: number): Promise<ClaimedLetter[]> {
  const { rows } = await pool.query<ClaimedLetter>(
    `WITH due AS (
       SELECT id FROM dead_letters
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT $1
          FOR UPDATE SKIP LOCKED
     )
     UPDATE dead_letters d SET next_attempt_at = now() + $2 * interval '1 second'
       FROM due WHERE d.id = due.id
     RETURNING d.id, d.observation_id, d.next_attempt_at::text AS lease_until`,
    [size, leaseSeconds],
  );
  return rows;
}

/** Claimed but not replayed (the run was aborted): due again at once, unless something else touched them. */
async function releaseClaims(pool: Pool, letters: ClaimedLetter[]): Promise<void> {
  await pool.query(
    `UPDATE dead_letters d SET next_attempt_at = now()
       FROM unnest($1::bigint[], $2::timestamptz[]) AS claimed(id, lease_until)
      WHERE d.id = claimed.id AND d.status = 'pending' AND d.next_attempt_at = claimed.lease_until`,
    [letters.map((letter) => letter.id), letters.map((letter) => letter.lease_until)],
  );
}

async function hasGivenUp(pool: Pool, letterId: number): Promise<boolean> {
  const { rows } = await pool.query<{ status: string }>('SELECT status FROM dead_letters WHERE id = $1', [
    letterId,
  ]);
  return rows[0]?.status === 'failed';
}

type ReplayOutcome = 'resolved' | 'failed' | 'no_identity' | 'busy';

async function replayClaimed(
  pool: Pool,
  phase2: Phase2Runner,
  policy: DeadLetterPolicy,
  observationId: number,
): Promise<ReplayOutcome> {
  let result: Phase2Result;
  try {
    result = await phase2.process(observationId);
  } catch (error) {
    // Phase 2 throws only when the database is unreachable: count the attempt if we still can, then stop.
    if (isDatabaseUnavailable(error)) {
      await recordDeadLetter(pool, observationId, error, policy).catch(() => undefined);
    }
    throw error;
  }
  return settleDeadLetter(pool, observationId, result);
}

/**
 * Brings the observation's dead letter (if it has one) in line with a Phase 2 result: `processed` resolves it
 * (and counts the attempt when this call did the work), no identity gives up on it. A `dead` result was already
 * recorded by Phase 2 itself.
 */
async function settleDeadLetter(
  pool: Pool,
  observationId: number,
  result: Phase2Result,
): Promise<ReplayOutcome> {
  if (result.status === 'busy') return 'busy';
  if (result.status === 'dead') return 'failed';
  if (result.processed) {
    const didWork = result.people_upsert !== undefined && result.people_upsert !== 'none';
    await pool.query(
      `WITH letter AS (
         UPDATE dead_letters
            SET status = 'resolved', resolved_at = COALESCE(resolved_at, now()),
                attempts = attempts + $2::int, last_attempt_at = CASE WHEN $2 = 1 THEN now() ELSE last_attempt_at END
          WHERE observation_id = $1 AND ($2 = 1 OR status <> 'resolved')
         RETURNING id, attempts
       )
       INSERT INTO dead_letter_attempts (dead_letter_id, attempt, outcome)
       SELECT id, attempts, 'resolved' FROM letter WHERE $2 = 1`,
      [observationId, didWork ? 1 : 0],
    );
    return 'resolved';
  }
  const reason = result.reason ?? `observation is ${result.status}`;
  await pool.query(
    `WITH letter AS (
       UPDATE dead_letters
          SET status = 'failed', permanent = true, attempts = attempts + 1, last_attempt_at = now(), error = $2
        WHERE observation_id = $1 AND status <> 'resolved'
       RETURNING id, attempts
     )
     INSERT INTO dead_letter_attempts (dead_letter_id, attempt, outcome, permanent, error)
     SELECT id, attempts, 'skipped', true, $2 FROM letter`,
    [observationId, reason],
  );
  return 'no_identity';
}

export type ObservationReplay =
  | { kind: 'not_found' }
  | { kind: 'not_replayable'; status: string }
  | {
      kind: 'replayed';
      previousStatus: string;
      result: Phase2Result;
      deadLetter: DeadLetterState | null;
    };

/**
 * Replays one observation on request (the admin endpoint, the ops CLI), whatever its status but `ignored`
 * (not a profile event): `pending` and `dead` ones run the full Phase 2; a `skipped` one is re-examined (its
 * identifiers are extracted again); a `processed` one is left as it is (Phase 2 is not applied twice) and its
 * links are reported. Its dead letter, if any, is settled like a scheduled replay would.
 */
export async function replayObservation(
  pool: Pool,
  phase2: Phase2Runner,
  observationId: number,
): Promise<ObservationReplay> {
  const { rows } = await pool.query<{ status: string }>(
    'SELECT status FROM observation_state WHERE id = $1',
    [observationId],
  );
  const previousStatus = rows[0]?.status;
  if (previousStatus === undefined) return { kind: 'not_found' };
  if (previousStatus === 'ignored') return { kind: 'not_replayable', status: previousStatus };
  if (previousStatus === 'skipped') {
    await pool.query(
      `UPDATE observation_state SET status = 'pending', status_reason = NULL WHERE id = $1 AND status = 'skipped'`,
      [observationId],
    );
  }
  const result = await phase2.process(observationId);
  await settleDeadLetter(pool, observationId, result);
  return { kind: 'replayed', previousStatus, result, deadLetter: await loadDeadLetter(pool, observationId) };
}

export async function loadDeadLetter(pool: Pool, observationId: number): Promise<DeadLetterState | null> {
  const { rows } = await pool.query<Parameters<typeof deadLetterState>[0]>(
    `SELECT ${DEAD_LETTER_COLUMNS} FROM dead_letters WHERE observation_id = $1`,
    [observationId],
  );
  return rows[0] ? deadLetterState(rows[0]) : null;
}
