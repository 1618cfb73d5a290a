/**
 * Phase 2 (identity resolution and snapshots) runs after the observation is committed. The webhook answers
 * with whatever the processor reports; a processor failure never fails the request, the observation just
 * stays `pending` for the sweeper.
 */
export interface ObservationProcessor {
  process(observationId: number): Promise<Record<string, unknown> & { processed: boolean }>;
}

/** Used until Phase 2 is wired in: observations stay `pending`. */
export const deferredProcessor: ObservationProcessor = {
  process: () => Promise.resolve({ processed: false }),
};
