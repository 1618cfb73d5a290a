import { Router } from 'express';
import type { Config } from '../config';
import type { AppContext } from '../context';
import type { ServiceMetrics } from '../metrics';
import { requireApiKey } from './auth';

/** Scrapers present METRICS_TOKEN or any API key, as `Authorization: Bearer` or `X-API-Key`. */
function metricsAccess(config: Config) {
  const accepted = config.METRICS_TOKEN ? [...config.API_KEYS, config.METRICS_TOKEN] : config.API_KEYS;
  return requireApiKey({ keys: accepted, production: config.NODE_ENV === 'production' });
}

/** `GET /metrics`: Prometheus text format. Works while the database is down (its figures are then absent). */
export function metricsRouter(context: AppContext, metrics: ServiceMetrics): Router {
  const router = Router();
  router.get('/metrics', metricsAccess(context.config), async (_req, res) => {
    const text = await metrics.scrape();
    res.setHeader('Cache-Control', 'no-store');
    res.type(metrics.contentType).send(text);
  });
  return router;
}
