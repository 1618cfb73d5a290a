import { Router } from 'express';
import type { AppContext } from '../context';
import { DEPARTMENTS, SENIORITY_TIERS } from '../intelligence/seniority';
import { parseTier, peopleInTier, seniorityAnalysis, seniorityDistribution } from '../search';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';
import { integerParam, pageParams, pagination } from './search.router';

export const DEFAULT_ANALYSIS_TOP = 10;
export const MAX_ANALYSIS_TOP = 50;
export const DEFAULT_LEADERS_PER_COMPANY = 5;
export const MAX_LEADERS_PER_COMPANY = 25;

const LADDER = SENIORITY_TIERS.map((tier) => ({
  level: tier.level,
  name: tier.name,
  description: tier.description,
  keywords: tier.examples,
}));

/** GET /api/seniority/{tiers, distribution, by-tier/:tier, analysis}. */
export function seniorityRouter(context: AppContext): Router {
  const router = Router();
  router.use('/seniority', ...readAccess(context.config));
  const database = requireDatabase(context.database);
  const pool = () => context.database.pool!;

  router.get('/seniority/tiers', (_req, res) => {
    res.json({ success: true, data: { tiers: LADDER, departments: DEPARTMENTS } });
  });

  router.get('/seniority/distribution', database, async (_req, res) => {
    res.json({ success: true, data: await seniorityDistribution(pool()) });
  });

  router.get('/seniority/by-tier/:tier', database, async (req, res) => {
    const tier = parseTier(req.params.tier as string);
    if (!tier) throw new ApiError('INVALID_TIER');
    const page = pageParams(req.query);
    const result = await peopleInTier(pool(), tier, page);
    res.json({
      success: true,
      tier: { level: tier.level, name: tier.name },
      data: result.people,
      pagination: pagination(page, result.people.length, result.hasMore),
    });
  });

  router.get('/seniority/analysis', database, async (req, res) => {
    const top = integerParam(req.query, {
      name: 'top',
      defaultValue: DEFAULT_ANALYSIS_TOP,
      min: 1,
      max: MAX_ANALYSIS_TOP,
      invalid: 'INVALID_LIMIT',
    });
    const leadersPerCompany = integerParam(req.query, {
      name: 'leaders',
      defaultValue: DEFAULT_LEADERS_PER_COMPANY,
      min: 1,
      max: MAX_LEADERS_PER_COMPANY,
      invalid: 'INVALID_LIMIT',
    });
    res.json({ success: true, data: await seniorityAnalysis(pool(), { top, leadersPerCompany }) });
  });
  return router;
}
