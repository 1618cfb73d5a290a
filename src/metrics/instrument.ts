import { hrtime } from 'node:process';
import type { Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { AppContext } from '../context';
import type { ObservationProcessor } from '../ingest/processor';
import type { PathCounts, ServiceMetrics } from './metrics';
import type { RouteMatcher } from './routes';
import { mountedRoutes, routeMatcher } from './routes';

function statusClass(status: number): string {
  return `${Math.floor(status / 100)}xx`;
}

/**
 * Counts and times every request the app answers, labelled by the route pattern it matched (never the raw path,
 * whose ids would make a series per person) or `unmatched`. Wraps the app's entry point rather than adding a
 * middleware, so requests answered by any router or guard mounted before this call are seen too.
 */
export function instrumentHttp(app: Express, metrics: ServiceMetrics): void {
  let matcher: RouteMatcher | null = null;
  const routeOf = (req: Request): string => {
    // Built on the first request: by then every router is mounted.
    matcher ??= routeMatcher(mountedRoutes(app));
    return matcher.match(req.method, (req.originalUrl ?? req.url).split('?')[0] ?? '/') ?? 'unmatched';
  };
  const entry = app as unknown as { handle: RequestHandler };
  const handle = entry.handle.bind(app);
  entry.handle = (req: Request, res: Response, next: NextFunction) => {
    const started = hrtime.bigint();
    res.once('finish', () => {
      const labels = { method: req.method, route: routeOf(req), status_class: statusClass(res.statusCode) };
      metrics.httpRequests.inc(labels);
      metrics.httpDuration.observe(labels, Number(hrtime.bigint() - started) / 1e9);
    });
    return handle(req, res, next);
  };
}

function pathCountsOf(processor: ObservationProcessor): PathCounts | null {
  const paths = (processor as { paths?: unknown }).paths;
  if (typeof paths !== 'object' || paths === null) return null;
  const { fast, full } = paths as Record<string, unknown>;
  return typeof fast === 'number' && typeof full === 'number' ? (paths as PathCounts) : null;
}

/**
 * Times Phase 2 on the request path. `context.processor` becomes a transparent proxy of whichever processor is
 * assigned to it, now or later (the server assigns the real one once the database is open): `process` is timed,
 * every other property (`paths`, `foldSettings`, ...) is the processor's own.
 */
export function instrumentProcessor(context: AppContext, metrics: ServiceMetrics): void {
  const timed = (inner: ObservationProcessor): ObservationProcessor => {
    const process: ObservationProcessor['process'] = async (observationId, known) => {
      const started = hrtime.bigint();
      const observe = (status: string) =>
        metrics.phase2Duration.observe({ status }, Number(hrtime.bigint() - started) / 1e9);
      try {
        const result = await inner.process(observationId, known);
        // A processor that reports no status (the deferred one) did not run Phase 2: nothing to time.
        if (typeof result.status === 'string') observe(result.status);
        return result;
      } catch (error) {
        observe('error');
        throw error;
      }
    };
    return new Proxy(inner, {
      get: (target, property): unknown =>
        property === 'process' ? process : (Reflect.get(target, property, target) as unknown),
    });
  };
  let inner = context.processor;
  let current = timed(inner);
  Object.defineProperty(context, 'processor', {
    configurable: true,
    enumerable: true,
    get: () => current,
    set: (processor: ObservationProcessor) => {
      inner = processor;
      current = timed(processor);
    },
  });
  metrics.phase2Paths = () => pathCountsOf(inner);
}
