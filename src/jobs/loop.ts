import type { Logger } from '../logger';

/**
 * Runs `task` every `intervalMs`, never two at once in this process; failures are logged, not thrown.
 * Returns a function that stops the loop and resolves once any run in progress has finished.
 */
export function runEvery(
  name: string,
  intervalMs: number,
  task: () => Promise<unknown>,
  logger: Logger,
): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = task()
      .then(
        () => undefined,
        (error: unknown) => {
          logger.warn(`${name} failed`, { error: (error as Error).message });
        },
      )
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
