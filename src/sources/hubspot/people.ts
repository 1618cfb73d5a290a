import type { ObservationProcessor } from '../../ingest/processor';
import type { Logger } from '../../logger';
import type { StoredObservation } from './store';

export interface LinkCounts {
  linked: number;
  skipped: number;
  /** Left `pending` (a database outage during Phase 2): the sweeper finishes them. */
  pending: number;
}

/**
 * Phase 2 for the contact observations a committed page stored, a few at a time. A contact that cannot be
 * resolved never fails the sync: its observation is dead-lettered or left pending, as for a webhook.
 */
export async function linkContacts(
  processor: ObservationProcessor,
  observations: StoredObservation[],
  concurrency: number,
  logger: Logger,
): Promise<LinkCounts> {
  const counts: LinkCounts = { linked: 0, skipped: 0, pending: 0 };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < observations.length) {
      const observation = observations[next]!;
      next += 1;
      try {
        const result = await processor.process(observation.id, {
          source: 'hubspot',
          kind: 'contact',
          payload: observation.payload,
        });
        if (result.processed) counts.linked += 1;
        else if (result.status === 'skipped') counts.skipped += 1;
        else counts.pending += 1;
      } catch (error) {
        counts.pending += 1;
        logger.warn('hubspot contact left for the sweeper', {
          observationId: observation.id,
          error: (error as Error).message,
        });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, observations.length)) }, worker));
  return counts;
}
