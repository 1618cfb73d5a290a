import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { DatabaseState } from '../db';
import { databaseFigures } from './database';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The process's own figures (CPU, memory, event loop, GC): one registry per process, shared by every app. */
let processRegistry: Registry | null = null;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** Phase 2's path counters (Phase2Processor.paths). */
export interface PathCounts {
  fast: number;
  full: number;
}

export interface ServiceMetrics {
  readonly httpRequests: Counter<'method' | 'route' | 'status_class'>;
  readonly httpDuration: Histogram<'method' | 'route' | 'status_class'>;
  readonly phase2Duration: Histogram<'status'>;
  /** Where the processor in use keeps its path counters (read at scrape time). */
  phase2Paths: () => PathCounts | null;
  /** The exposition text: this app's metrics, its database figures read now, and the process's metrics. */
  scrape(): Promise<string>;
  readonly contentType: string;
}

/**
 * One registry per app (never prom-client's global one), so several apps in one process never collide.
 * Database figures are read when scraped, each by one time-bounded query.
 */
export function createMetrics(database: DatabaseState): ServiceMetrics {
  const registry = new Registry();
  const registers = [registry];
  const figures = databaseFigures(registry);

  const metrics: ServiceMetrics = {
    httpRequests: new Counter({
      name: 'duxsoup_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern (or "unmatched") and status class',
      labelNames: ['method', 'route', 'status_class'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'duxsoup_http_request_duration_seconds',
      help: 'HTTP request latency, from arrival to the last byte sent',
      labelNames: ['method', 'route', 'status_class'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    phase2Duration: new Histogram({
      name: 'duxsoup_phase2_duration_seconds',
      help: 'Phase 2 (identity resolution and snapshots) of one observation on the request path, by outcome',
      labelNames: ['status'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    phase2Paths: () => null,
    contentType: registry.contentType,
    async scrape() {
      await figures.refresh(database.ready ? database.pool : null);
      return `${await registry.metrics()}\n${await processMetrics().metrics()}`;
    },
  };

  // The processor's counters only grow: each scrape adds what they moved since the last one (a processor
  // assigned later starts from zero).
  const seen = new WeakMap<PathCounts, PathCounts>();
  new Counter({
    name: 'duxsoup_phase2_paths_total',
    help: 'Observations Phase 2 finished, by path: fast (one read, one apply) or full (merges, conflicts, ...)',
    labelNames: ['path'] as const,
    registers,
    collect() {
      const paths = metrics.phase2Paths();
      if (!paths) return;
      const last = seen.get(paths) ?? { fast: 0, full: 0 };
      for (const path of ['fast', 'full'] as const) this.inc({ path }, Math.max(0, paths[path] - last[path]));
      seen.set(paths, { ...paths });
    },
  });

  return metrics;
}
