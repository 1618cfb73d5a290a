/** What a cached figure carries besides its value. */
export interface Cached<T> {
  value: T;
  /** When the value was computed. */
  computedAt: Date;
  /** True when this answer came from the cache. */
  cached: boolean;
}

interface Entry {
  expiresAt: number;
  computedAt: Date;
  value: Promise<unknown>;
}

/**
 * A short-lived, per-process cache of computed figures. Concurrent requests for the same key share one
 * computation (a burst of dashboard loads runs the queries once); a failed computation is never cached.
 * `fresh` recomputes and replaces the entry. Keys are few and fixed (endpoint + window), so nothing is evicted
 * but expired entries.
 */
export class FigureCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly ttlMs: number) {}

  async get<T>(key: string, compute: () => Promise<T>, fresh = false): Promise<Cached<T>> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (!fresh && entry && entry.expiresAt > now) {
      return { value: (await entry.value) as T, computedAt: entry.computedAt, cached: true };
    }
    this.purgeExpired(now);
    const computedAt = new Date(now);
    const value = compute();
    if (this.ttlMs > 0) {
      this.entries.set(key, { expiresAt: now + this.ttlMs, computedAt, value });
      value.catch(() => {
        if (this.entries.get(key)?.value === value) this.entries.delete(key);
      });
    }
    return { value: await value, computedAt, cached: false };
  }

  private purgeExpired(now: number): void {
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}
