import { isDatabaseUnavailable } from './pool';

export interface GroupedCallsOptions<I, O> {
  /** Runs one call on its own: a lone call, and the fallback for each call of a group that failed. */
  one(input: I): Promise<O>;
  /** Runs a group of calls in one round trip; answers in the inputs' order. */
  many(inputs: I[]): Promise<O[]>;
  maxBatch?: number;
  maxConcurrent?: number;
}

interface Pending<I, O> {
  input: I;
  resolve: (output: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit as a general mechanism: calls that arrive while earlier ones are in flight are sent together (one
 * round trip, one transaction) instead of one each; an idle grouper sends a lone call at once, so nothing waits
 * for a timer. Every caller still gets its own answer. A group that fails for any reason but an unreachable
 * database is retried call by call, so one bad call never fails its neighbours.
 */
export class GroupedCalls<I, O> {
  private readonly queue: Pending<I, O>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly maxConcurrent: number;

  constructor(private readonly options: GroupedCallsOptions<I, O>) {
    this.maxBatch = options.maxBatch ?? 64;
    this.maxConcurrent = options.maxConcurrent ?? 4;
  }

  call(input: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.startGroups();
    });
  }

  private startGroups(): void {
    while (this.inFlight < this.maxConcurrent && this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.send(group).finally(() => {
        this.inFlight -= 1;
        this.startGroups();
      });
    }
  }

  private async send(group: Pending<I, O>[]): Promise<void> {
    if (group.length === 1) {
      const [only] = group as [Pending<I, O>];
      await this.options.one(only.input).then(only.resolve, only.reject);
      return;
    }
    try {
      const outputs = await this.options.many(group.map((item) => item.input));
      group.forEach((item, index) => item.resolve(outputs[index]!));
    } catch (error) {
      if (isDatabaseUnavailable(error)) {
        group.forEach((item) => item.reject(error));
        return;
      }
      await Promise.all(group.map((item) => this.options.one(item.input).then(item.resolve, item.reject)));
    }
  }
}
