/**
 * TEST ONLY: a deliberately broken build of the service for the negative control of the kill scenario. It is
 * the real server (`src/server.ts`), except that when CHAOS_ACK_BEFORE_COMMIT_MS is set the observation writer
 * answers at once (id 0, not a duplicate) and commits the row only that many milliseconds later, like an
 * asynchronous commit. A SIGKILL in that window loses acknowledged events: the ledger must report them.
 * Production code has no such switch; only this entry point reads the variable.
 */
import type { NewObservation, StoredObservation } from '../../src/ingest/observations';
import { ObservationWriter } from '../../src/ingest/observation-writer';
// The real entry point: it starts listening as it loads. The patch below still applies to every request, since
// it is made in this same tick (before any connection can be served) and `append` is looked up at call time.
import '../../src/server';

const delayMs = Number(process.env.CHAOS_ACK_BEFORE_COMMIT_MS ?? 0);
if (delayMs > 0) {
  const commit: ObservationWriter['append'] = Reflect.get(ObservationWriter.prototype, 'append');
  ObservationWriter.prototype.append = function (
    this: ObservationWriter,
    observation: NewObservation,
  ): Promise<StoredObservation> {
    const later = () => commit.call(this, observation);
    setTimeout(() => void later().catch(() => undefined), delayMs);
    return Promise.resolve({ id: 0, duplicate: false });
  };
}
