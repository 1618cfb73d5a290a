import { Router } from 'express';
import type { AppContext } from '../context';
import type { Pool } from '../db';
import type { Phase2Processor } from '../ingest/phase2';
import { phase2FromConfig } from '../ingest/phase2';
import { replayObservation } from '../jobs/dead-letters';
import { adminAccess } from './admin-auth';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';

/** Operator endpoints under `/api/admin`, behind the admin secret and its rate limit. */
export function adminRouter(context: AppContext): Router {
  const router = Router();
  router.use('/admin', ...adminAccess(context.config), requireDatabase(context.database));

  // The request path may run Phase 2 deferred (PHASE2_MODE); a replay always runs it, here and now.
  const processors = new WeakMap<Pool, Phase2Processor>();
  const phase2For = (pool: Pool) => {
    let processor = processors.get(pool);
    if (!processor)
      processors.set(pool, (processor = phase2FromConfig(pool, context.config, context.logger)));
    return processor;
  };

  /**
   * Replays one observation through the full Phase 2 (person, company, location): 200 with the result (which
   * may be `dead` again, with its dead letter's new state), 404, 422 NO_IDENTITY, 422 NOT_REPLAYABLE for an
   * `ignored` (non-profile) event, 409 while another processor holds it.
   */
  router.post('/admin/replay/:observationId', async (req, res) => {
    const observationId = parseObservationId(req.params.observationId);
    const pool = context.database.pool!;
    const replay = await replayObservation(pool, phase2For(pool), observationId);
    if (replay.kind === 'not_found') throw new ApiError('NOT_FOUND', `No observation ${observationId}`);
    if (replay.kind === 'not_replayable') {
      throw new ApiError('NOT_REPLAYABLE', undefined, {
        observation_id: observationId,
        status: replay.status,
      });
    }
    const { result, previousStatus, deadLetter } = replay;
    if (result.status === 'busy') throw new ApiError('REPLAY_IN_PROGRESS');
    if (result.status === 'skipped') {
      throw new ApiError('NO_IDENTITY', undefined, { observation_id: observationId, reason: result.reason });
    }
    context.logger.info('observation replayed', {
      observationId,
      previousStatus,
      status: result.status,
      personId: result.person_id,
    });
    res.json({
      success: true,
      observation_id: observationId,
      previous_status: previousStatus,
      result,
      dead_letter: deadLetter && {
        status: deadLetter.status,
        attempts: deadLetter.attempts,
        permanent: deadLetter.permanent,
        error: deadLetter.status === 'resolved' ? null : deadLetter.error,
        next_attempt_at: deadLetter.status === 'pending' ? deadLetter.nextAttemptAt : null,
        resolved_at: deadLetter.resolvedAt,
      },
    });
  });
  return router;
}

function parseObservationId(raw: string | undefined): number {
  const id = /^\d{1,15}$/.test(raw ?? '') ? Number(raw) : NaN;
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new ApiError('INVALID_REQUEST', 'observationId must be a positive integer', { observationId: raw });
  }
  return id;
}
