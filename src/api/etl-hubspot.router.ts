import type { Request } from 'express';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { JobName } from '../sources/hubspot';
import {
  hubspotClientFromConfig,
  HubspotRunRegistry,
  JOB_NAMES,
  loadRun,
  recentRuns,
  RunInProgressError,
  ShuttingDownError,
  syncSettingsFromConfig,
} from '../sources/hubspot';
import { adminAccess } from './admin-auth';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';

/** Trigger path (after /etl/hubspot/) -> job. */
const TRIGGERS: readonly (readonly [string, JobName])[] = [
  ['companies', 'companies'],
  ['companies/archived', 'companies:deleted'],
  ['contacts', 'contacts'],
  ['contacts/archived', 'contacts:deleted'],
  ['deals', 'deals'],
  ['deals/archived', 'deals:deleted'],
  ['associations', 'associations:contacts'],
  ['push', 'push'],
];

// Exported for the OpenAPI document.
export const pushBody = z.strictObject({ execute: z.boolean().optional() }).optional();
const RUN_ID = /^\d{1,15}$/;
const RUNS_LIMIT = 50;

/**
 * HubSpot ETL triggers (admin secret): `POST /etl/hubspot/{job}` starts a run in the background and answers
 * 202 `{runId}` (409 HUBSPOT_RUN_IN_PROGRESS while one runs); `GET /etl/hubspot/runs/:id` tells how it went,
 * `GET /etl/hubspot/runs` lists the latest. `POST /etl/hubspot/push` is a dry run unless `{"execute": true}`
 * (or `?execute=true`); its run's `result` holds the changes. Runs are tracked in `context.hubspotRuns`: on
 * shutdown they are stopped at a page boundary and awaited, and a trigger during the drain answers 503
 * SHUTTING_DOWN.
 */
export function etlHubspotRouter(context: AppContext): Router {
  const router = Router();
  router.use('/etl/hubspot', requireDatabase(context.database), ...adminAccess(context.config));
  const pool = () => context.database.pool!;
  const jsonBody = express.json({ limit: '16kb' });
  const runs = (context.hubspotRuns ??= new HubspotRunRegistry());

  for (const [path, job] of TRIGGERS) {
    router.post(`/etl/hubspot/${path}`, jsonBody, async (req, res) => {
      const execute = job === 'push' ? executeOf(req) : undefined;
      if (!context.config.HUBSPOT_TOKEN) throw new ApiError('HUBSPOT_NOT_CONFIGURED');
      try {
        const started = await runs.start(
          {
            pool: pool(),
            client: hubspotClientFromConfig(context.config, context.logger),
            processor: context.processor,
            settings: syncSettingsFromConfig(context.config),
            logger: context.logger,
          },
          job,
          { trigger: 'http', execute },
        );
        // The run goes on after the answer; `finished` never rejects and the run's row records its end.
        void started.finished;
        res.status(202).json({
          success: true,
          runId: started.runId,
          job,
          ...(job === 'push' ? { execute: execute === true } : {}),
          status: `/etl/hubspot/runs/${started.runId}`,
        });
      } catch (error) {
        if (error instanceof RunInProgressError) {
          throw new ApiError('HUBSPOT_RUN_IN_PROGRESS', error.message, { job, runId: error.runId });
        }
        if (error instanceof ShuttingDownError) throw new ApiError('SHUTTING_DOWN', error.message);
        throw error;
      }
    });
  }

  router.get('/etl/hubspot/runs', async (req, res) => {
    const job = typeof req.query.job === 'string' && req.query.job !== '' ? req.query.job : null;
    if (job !== null && !(JOB_NAMES as readonly string[]).includes(job)) {
      throw new ApiError('INVALID_REQUEST', `job must be one of ${JOB_NAMES.join(', ')}`);
    }
    res.json({ success: true, runs: await recentRuns(pool(), job, RUNS_LIMIT) });
  });

  router.get('/etl/hubspot/runs/:id', async (req, res) => {
    const run = RUN_ID.test(req.params.id) ? await loadRun(pool(), Number(req.params.id)) : null;
    if (!run) throw new ApiError('NOT_FOUND', 'No such HubSpot run');
    res.json({ success: true, run });
  });
  return router;
}

function executeOf(req: Request): boolean {
  const parsed = pushBody.safeParse(req.body === undefined || isEmptyObject(req.body) ? undefined : req.body);
  if (!parsed.success)
    throw new ApiError('INVALID_REQUEST', 'expected {"execute"?: boolean}', parsed.error.issues);
  const query = req.query.execute;
  if (query !== undefined && query !== 'true' && query !== 'false') {
    throw new ApiError('INVALID_REQUEST', 'execute must be true or false');
  }
  return parsed.data?.execute === true || query === 'true';
}

function isEmptyObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0;
}
