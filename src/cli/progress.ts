import cliProgress from 'cli-progress';

/**
 * How a long command reports how far it is. Commands call it whatever the output: the CLI shows a bar on a
 * terminal and nothing otherwise (piped, --json, tests).
 */
export interface Progress {
  /** Starts (or restarts, for a new phase) with the amount of work expected; 0 when unknown. */
  start(total: number, label: string): void;
  increment(by?: number): void;
  /** Sets the amount done (e.g. bytes read). */
  update(done: number): void;
  stop(): void;
}

export const silentProgress: Progress = {
  start: () => undefined,
  increment: () => undefined,
  update: () => undefined,
  stop: () => undefined,
};

/** A cli-progress bar on stderr, so stdout keeps only the summary. */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  let bar: cliProgress.SingleBar | null = null;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    start(total, label) {
      stop();
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${label.padEnd(22)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} | ETA {eta_formatted}`,
          hideCursor: true,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(Math.max(total, 1), 0);
    },
    increment(by = 1) {
      bar?.increment(by);
    },
    update(done) {
      bar?.update(done);
    },
    stop,
  };
}

/** A bar only where somebody watches it: stderr is a terminal and the output is not machine-read. */
export function progressFor(options: { json: boolean }): Progress {
  return process.stderr.isTTY && !options.json ? terminalProgress() : silentProgress;
}
