import express, { Router } from 'express';
import type { AppContext } from '../context';
import { COMPANY_FIELDS, PEOPLE_FIELDS, queryHelp, runQuery } from '../query';
import type { FieldCatalogue } from '../query';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';

/** POST /api/query/people, POST /api/query/companies and GET /api/query/help. */
export function queryRouter(context: AppContext): Router {
  const router = Router();
  router.use('/query', ...readAccess(context.config));
  // The raw JSON reaches the compiler untouched: dotted keys and $operators are validated, never stripped.
  const jsonBody = express.json({ limit: '256kb' });
  const options = {
    countLimit: context.config.QUERY_COUNT_LIMIT,
    countTimeoutMs: context.config.QUERY_COUNT_TIMEOUT_MS,
    countMaxCost: context.config.QUERY_COUNT_MAX_COST,
  };
  const help = queryHelp(options);

  router.get('/query/help', (_req, res) => {
    res.json({ success: true, data: help });
  });

  const query = (catalogue: FieldCatalogue): express.RequestHandler => {
    return async (req, res) => {
      // No body means "everything"; a body in another format must not silently mean the same.
      if (req.body === undefined && req.headers['content-type'] !== undefined) {
        throw new ApiError('INVALID_REQUEST', 'send the query as application/json');
      }
      const page = await runQuery(context.database.pool!, catalogue, req.body, options);
      res.json({ success: true, ...page });
    };
  };
  router.post('/query/people', requireDatabase(context.database), jsonBody, query(PEOPLE_FIELDS));
  router.post('/query/companies', requireDatabase(context.database), jsonBody, query(COMPANY_FIELDS));
  return router;
}
