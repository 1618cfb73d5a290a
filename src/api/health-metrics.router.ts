import type { Response } from 'express';
import { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { Pool } from '../db';
import {
  canonicalCoverageReport,
  companyCoverageReport,
  dashboardReport,
  dataQualityReport,
  FigureCache,
  identityCoverageReport,
  ingestionOptions,
  ingestionReport,
  locationCoverageReport,
  backlogOptions,
  metricsReport,
  parityReport,
} from '../health';
import type { Delivery } from '../notify';
import { attempt, channelsFromConfig, describeChannels, recordDeliveries, testMessage } from '../notify';
import { adminAccess } from './admin-auth';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';

const flag = z.enum(['true', 'false', '1', '0']).transform((value) => value === 'true' || value === '1');

// Exported for the OpenAPI document.
export const figuresQuery = z.object({
  fresh: flag.optional(),
  hours: z.coerce.number().int().min(1).max(720).optional(),
});

// Exported for the OpenAPI document.
export const testQuery = z.object({ send: flag.optional() });

function parse<T>(schema: z.ZodType<T>, query: unknown): T {
  const parsed = schema.safeParse(query);
  if (!parsed.success) {
    throw new ApiError(
      'INVALID_REQUEST',
      'invalid query: fresh and send take true or false; hours is a whole number from 1 to 720',
      parsed.error.issues.map((issue) => ({ parameter: issue.path.join('.'), message: issue.message })),
    );
  }
  return parsed.data;
}

/**
 * `/api/health/*`: operational figures, each computed from the database (identical on every instance) and
 * defined in its response, cached per instance for HEALTH_CACHE_SECONDS (`?fresh=true` recomputes), behind an
 * API key; and the admin-only notification test.
 */
export function healthMetricsRouter(context: AppContext): Router {
  const { config, logger } = context;
  const router = Router();
  const cache = new FigureCache(config.HEALTH_CACHE_SECONDS * 1000);
  const pool = (): Pool => context.database.pool!;

  router.get('/health/test-notifications', ...adminAccess(config), async (req, res) => {
    const { send = false } = parse(testQuery, req.query);
    const configured = describeChannels(config);
    if (!send) {
      res.json({ success: true, sent: false, ...configured });
      return;
    }
    const channels = channelsFromConfig(config);
    const message = testMessage({ sentAt: new Date() });
    const results = await Promise.all(
      [channels.email, channels.sms].map(async (channel) =>
        channel.missing.length > 0
          ? null
          : attempt(channel, message, { kind: 'test', conditions: [], severity: null }, { config, logger }),
      ),
    );
    const deliveries = results.filter((delivery): delivery is Delivery => delivery !== null);
    // Recording is a courtesy here: the test must work while the database is down.
    if (context.database.ready) await recordDeliveries(pool(), deliveries).catch(() => undefined);
    const outcome = (index: number) => {
      const delivery = results[index];
      return delivery
        ? {
            attempted: true,
            delivered: delivery.delivered,
            recipients: delivery.recipients,
            error: delivery.error,
          }
        : { attempted: false, delivered: false, recipients: 0, error: 'not configured' };
    };
    res.json({
      success: true,
      sent: true,
      email: { ...configured.email, result: outcome(0) },
      sms: { ...configured.sms, result: outcome(1) },
    });
  });

  router.use('/health', requireDatabase(context.database), ...readAccess(config));

  const serve = async (res: Response, key: string, fresh: boolean, compute: () => Promise<object>) => {
    const result = await cache.get(key, compute, fresh);
    res.setHeader('Cache-Control', 'no-store');
    res.json({
      success: true,
      generated_at: result.computedAt.toISOString(),
      cached: result.cached,
      ...result.value,
    });
  };

  const windowed = (name: string, compute: (db: Pool, hours: number) => Promise<object>): void => {
    router.get(`/health/${name}`, async (req, res) => {
      const { fresh = false, hours = config.ALERT_WINDOW_HOURS } = parse(figuresQuery, req.query);
      await serve(res, `${name}:${hours}`, fresh, () => compute(pool(), hours));
    });
  };
  const plain = (name: string, compute: (db: Pool) => Promise<object>): void => {
    router.get(`/health/${name}`, async (req, res) => {
      const { fresh = false } = parse(figuresQuery, req.query);
      await serve(res, name, fresh, () => compute(pool()));
    });
  };

  windowed('ingestion', (db, hours) => ingestionReport(db, ingestionOptions(config, hours)));
  windowed('parity', (db, hours) => parityReport(db, hours));
  windowed('dashboard', (db, hours) => dashboardReport(db, config, hours));
  plain('metrics', (db) => metricsReport(db, backlogOptions(config)));
  plain('data-quality', (db) => dataQualityReport(db));
  plain('coverage-breakdown', (db) => identityCoverageReport(db));
  plain('canonical-coverage', (db) => canonicalCoverageReport(db));
  plain('company-coverage', (db) => companyCoverageReport(db));
  plain('location-coverage', (db) => locationCoverageReport(db));
  return router;
}
