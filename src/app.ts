import compression from 'compression';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { errorHandler, unmatchedRequest } from './api/errors';
import { healthRouter } from './api/health.router';
import { healthMetricsRouter } from './api/health-metrics.router';
import { requestContext } from './api/request-context';
import { webhookRouter } from './api/webhook.router';
import { entitiesRouter } from './api/entities.router';
import { queryRouter } from './api/query.router';
import { exportRouter } from './api/export.router';
import { adminRouter } from './api/admin.router';
import { changesRouter } from './api/changes.router';
import { searchRouter } from './api/search.router';
import { seniorityRouter } from './api/seniority.router';
import { leadRouter } from './api/lead.router';
import { leadsRouter } from './api/leads.router';
import { hubspotRouter } from './api/hubspot.router';
import { etlHubspotRouter } from './api/etl-hubspot.router';
import { docsRouter } from './api/docs.router';
import { metricsRouter } from './api/metrics.router';
import { instrumentApp } from './metrics';
import type { AppContext } from './context';

/** Builds the Express app without listening, so tests drive it through supertest. */
export function createApp(context: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', context.config.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use(requestContext(context.logger));
  app.use(helmet());
  app.use(
    cors({
      origin: context.config.ALLOWED_ORIGINS.length > 0 ? context.config.ALLOWED_ORIGINS : false,
      exposedHeaders: ['X-Request-Id', 'Retry-After', 'Allow'],
    }),
  );
  // The webhook's answers are a few hundred bytes: compressing them would only cost the hot path CPU.
  app.use('/api', webhookRouter(context));
  app.use('/api', leadRouter(context)); // POST /api/lead: a hot path like the webhook
  // Export downloads stream with backpressure: compression's 'drain' forwarding leaks listeners on its stream.
  app.use('/api', exportRouter(context));
  app.use(compression());

  app.use(healthRouter(context));
  app.use('/api', entitiesRouter(context));
  app.use('/api', searchRouter(context));
  app.use('/api', seniorityRouter(context));
  app.use('/api', changesRouter(context));
  app.use('/api', queryRouter(context));
  app.use('/api', healthMetricsRouter(context));
  app.use('/api', adminRouter(context));
  app.use('/api', leadsRouter(context));
  app.use('/api', hubspotRouter(context));
  app.use(etlHubspotRouter(context));
  // instrumentApp measures every request the app answers (it wraps the app's entry point) and Phase 2.
  app.use(docsRouter());
  app.use(metricsRouter(context, instrumentApp(app, context)));

  app.use(unmatchedRequest(app));
  app.use(errorHandler(context.logger));
  return app;
}
