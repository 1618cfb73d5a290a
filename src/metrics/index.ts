import type { Express } from 'express';
import type { AppContext } from '../context';
import { instrumentHttp, instrumentProcessor } from './instrument';
import type { ServiceMetrics } from './metrics';
import { createMetrics } from './metrics';

export type { ServiceMetrics } from './metrics';
export { createMetrics } from './metrics';
export { COLLECT_TIMEOUT_MS, isThisProcess } from './database';
export { mountedRoutes, routeMatcher, toOpenApiPath } from './routes';
export type { MountedRoute } from './routes';

/** This app's metrics: its requests and its Phase 2 runs are measured from now on. */
export function instrumentApp(app: Express, context: AppContext): ServiceMetrics {
  const metrics = createMetrics(context.database);
  instrumentHttp(app, metrics);
  instrumentProcessor(context, metrics);
  return metrics;
}
