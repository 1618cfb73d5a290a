/**
 * Phase 2 (identity resolution and snapshots) runs after the observation is committed. The webhook answers
 * with whatever the processor reports; a processor failure never fails the request, the observation just
 * stays `pending` for the sweeper.
 */
export interface ObservationProcessor {
  /** `known`: the observation's source, kind and payload when the caller has them in hand (saves a read). */
  process(
    observationId: number,
    known?: { source: string; kind: string; payload: unknown },
  ): Promise<Record<string, unknown> & { processed: boolean }>;
}

/** Used until Phase 2 is wired in: observations stay `pending`. */
export const deferredProcessor: ObservationProcessor = {
  process: () => Promise.resolve({ processed: false }),
};
