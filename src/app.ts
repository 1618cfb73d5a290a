import compression from 'compression';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import { errorHandler, sendError } from './api/errors';
import { healthRouter } from './api/health.router';
import { requestContext } from './api/request-context';
import { webhookRouter } from './api/webhook.router';
import { entitiesRouter } from './api/entities.router';
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
  app.use(compression());

  app.use(healthRouter(context));
  app.use('/api', webhookRouter(context));
  app.use('/api', entitiesRouter(context));
  // --- issue 3 routers (query, search, seniority, exports, changes / timeline) ---
  // --- issue 4 routers (health metrics, admin) ---

  app.use((_req, res) => sendError(res, 'ROUTE_NOT_FOUND'));
  app.use(errorHandler(context.logger));
  return app;
}
