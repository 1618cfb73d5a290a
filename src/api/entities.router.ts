import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import { loadCompany, loadLocation, loadPerson } from '../snapshots/queries';
import { requireDatabase } from './database-guard';
import { ApiError, sendError } from './errors';
import { readAccess } from './read-access';

// Exported for the OpenAPI document.
export const byAliasesBody = z.object({
  values: z.array(z.string().min(1).max(2048)).min(1).max(50),
});

/** Reads of canonical people, companies and locations, by id or by any alias. */
export function entitiesRouter(context: AppContext): Router {
  const router = Router();
  router.use(
    ['/people', '/companies', '/locations'],
    requireDatabase(context.database),
    ...readAccess(context.config),
  );
  const pool = () => context.database.pool!;
  const jsonBody = express.json({ limit: '256kb' });

  router.get('/people/by-alias/:value', async (req, res) => {
    const person = await loadPerson(pool(), req.params.value);
    if (!person) return sendError(res, 'NOT_FOUND', 'No person has this alias');
    res.json({ success: true, person });
  });

  router.post('/people/by-aliases', jsonBody, async (req, res) => {
    const parsed = byAliasesBody.safeParse(req.body);
    if (!parsed.success) {
      throw new ApiError('INVALID_REQUEST', 'expected {"values": [1 to 50 strings]}', parsed.error.issues);
    }
    const results = [];
    for (const value of parsed.data.values) results.push({ value, person: await loadPerson(pool(), value) });
    res.json({ success: true, results, found: results.filter((result) => result.person).length });
  });

  router.get('/people/:id', async (req, res) => {
    const person = await loadPerson(pool(), req.params.id);
    if (!person) return sendError(res, 'NOT_FOUND', 'No such person');
    res.json({ success: true, person });
  });

  router.get(['/companies/by-alias/:value', '/companies/:value'], async (req, res) => {
    const company = await loadCompany(pool(), req.params.value as string);
    if (!company) return sendError(res, 'NOT_FOUND', 'No such company');
    res.json({ success: true, company });
  });

  router.get(['/locations/by-alias/:value', '/locations/:value'], async (req, res) => {
    const location = await loadLocation(pool(), req.params.value as string);
    if (!location) return sendError(res, 'NOT_FOUND', 'No such location');
    res.json({ success: true, location });
  });
  return router;
}
