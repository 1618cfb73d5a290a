import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { NullableTimestamp, pathParam, Success } from './common';
import { json, registerOperation } from './define';
import { ERRORS } from './errors';
import { SECURITY } from './security';
import { Phase2Result } from './webhook';
import { z } from './zod';

const ObservationStatus = z.enum(['pending', 'processed', 'skipped', 'dead', 'ignored']);

export function registerAdmin(registry: OpenAPIRegistry): void {
  registerOperation(registry, {
    method: 'post',
    path: '/api/admin/replay/{observationId}',
    operationId: 'replayObservation',
    tag: 'Admin',
    summary: 'Replay one observation through the full Phase 2 now',
    description:
      'For dead letters (or any profile observation): 200 with the result, which may be `dead` again with its ' +
      'dead letter’s new state.',
    security: SECURITY.admin,
    request: { params: z.object({ observationId: pathParam('observationId', 'A positive integer', '42') }) },
    responses: {
      200: json(
        z.strictObject({
          success: Success,
          observation_id: z.number().int(),
          previous_status: ObservationStatus,
          result: Phase2Result,
          dead_letter: z
            .strictObject({
              status: z.enum(['pending', 'resolved', 'failed']),
              attempts: z.number().int(),
              permanent: z.boolean(),
              error: z.string().nullable(),
              next_attempt_at: NullableTimestamp,
              resolved_at: NullableTimestamp,
            })
            .nullable()
            .openapi({
              description: 'The observation’s dead letter after the replay; null when it never had one',
            }),
        }),
        'Replayed',
      ),
    },
    errors: [
      ...ERRORS.adminAccess,
      ...ERRORS.database,
      'INVALID_REQUEST',
      'NOT_FOUND',
      'NO_IDENTITY',
      'NOT_REPLAYABLE',
      'REPLAY_IN_PROGRESS',
    ],
  });
}
