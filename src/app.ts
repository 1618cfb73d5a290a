import compression from 'compression';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { errorHandler, sendError } from './api/errors';
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
import { leadRouter } from './api/lead.router'; // issue 5
import { leadsRouter } from './api/leads.router'; // issue 5
import { hubspotRouter } from './api/hubspot.router'; // issue 6
import { etlHubspotRouter } from './api/etl-hubspot.router'; // issue 6
import { docsRouter } from './api/docs.router'; // issue 7
import { metricsRouter } from './api/metrics.router'; // issue 7
import { instrumentApp } from './metrics'; // issue 7
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
      exposedHeaders: ['X-Request-Id', 'Retry-After'],
    }),
  );
  // The webhook's answers are a few hundred bytes: compressing them would only cost the hot path CPU.
  app.use('/api', webhookRouter(context));
  app.use('/api', leadRouter(context)); // issue 5: POST /api/lead, a hot path like the webhook
  // Export downloads stream with backpressure: compression's 'drain' forwarding leaks listeners on its stream.
  app.use('/api', exportRouter(context));
  app.use(compression());

  app.use(healthRouter(context));
  app.use('/api', entitiesRouter(context));
  // --- issue 3 routers (query, search, seniority, exports, changes / timeline) ---
  app.use('/api', searchRouter(context));
  app.use('/api', seniorityRouter(context));
  app.use('/api', changesRouter(context));
  app.use('/api', queryRouter(context));
  // --- issue 4 routers (health metrics, admin) ---
  app.use('/api', healthMetricsRouter(context));
  app.use('/api', adminRouter(context));
  // --- issue 5 routers (leads) ---
  app.use('/api', leadsRouter(context));
  // --- issue 6 routers (hubspot) ---
  app.use('/api', hubspotRouter(context));
  app.use(etlHubspotRouter(context));
  // --- issue 7 (docs, metrics) ---
  // instrumentApp measures every request the app answers (it wraps the app's entry point) and Phase 2.
  app.use(docsRouter());
  app.use(metricsRouter(context, instrumentApp(app, context)));

  app.use((_req, res) => sendError(res, 'ROUTE_NOT_FOUND'));
  app.use(errorHandler(context.logger));
  return app;
}
