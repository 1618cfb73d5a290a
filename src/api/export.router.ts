import { createHash } from 'node:crypto';
import type { Request } from 'express';
import express, { Router } from 'express';
import { z } from 'zod';
import type { AppContext } from '../context';
import type { ExportEntity, ExportFormat, ExportJob } from '../exports';
import {
  CONTENT_TYPES,
  EXPORT_ENTITIES,
  EXPORT_FORMATS,
  createExport,
  describeExport,
  downloadUrlOf,
  fileNameOf,
  findExportJob,
  pipeChunks,
  statusUrlOf,
  visibleTo,
} from '../exports';
import { offeredApiKey } from './auth';
import { requireDatabase } from './database-guard';
import { ApiError } from './errors';
import { readAccess } from './read-access';

/** filters, fields and sort are validated by the query language itself (its own error codes). */
// Exported for the OpenAPI document.
export const exportBody = z
  .object({
    filters: z.unknown().optional(),
    fields: z.unknown().optional(),
    sort: z.unknown().optional(),
    bom: z.boolean().optional(),
  })
  .strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Asynchronous exports: `POST /api/export/{people,companies,locations}/{csv,json}` queues a job, any instance's
 * worker produces it into PostgreSQL, `GET /api/export/status/:jobId` reports progress and
 * `GET /api/export/download/:jobId` streams the file from any instance. A job is visible only to the API key
 * that created it (404 to any other), and to everyone while the API is open (no API_KEYS, development).
 */
export function exportRouter(context: AppContext): Router {
  const router = Router();
  const { config } = context;
  router.use('/export', requireDatabase(context.database), ...readAccess(config));
  const pool = () => context.database.pool!;
  const apiOpen = () => config.API_KEYS.length === 0;
  const ownerOf = (req: Request): string | null => {
    const key = offeredApiKey(req);
    return apiOpen() || key === undefined ? null : createHash('sha256').update(key).digest('hex');
  };
  const jsonBody = express.json({ limit: '256kb' });

  router.post('/export/:entity/:format', jsonBody, async (req, res) => {
    const entity = req.params.entity as ExportEntity;
    const format = req.params.format as ExportFormat;
    if (!EXPORT_ENTITIES.includes(entity) || !EXPORT_FORMATS.includes(format)) {
      throw new ApiError(
        'ROUTE_NOT_FOUND',
        `exports are POST /api/export/{${EXPORT_ENTITIES.join(',')}}/{${EXPORT_FORMATS.join(',')}}`,
      );
    }
    const parsed = exportBody.safeParse(req.body ?? {});
    if (!parsed.success) {
      throw new ApiError(
        'INVALID_REQUEST',
        'expected {"filters"?: {...}, "fields"?: [...], "sort"?: {...}, "bom"?: boolean}',
        parsed.error.issues,
      );
    }
    const { filters, fields, sort, bom } = parsed.data;
    if (bom && format !== 'csv') throw new ApiError('INVALID_REQUEST', 'bom applies to CSV exports only');
    const job = await createExport(
      pool(),
      { entity, format, filters, fields, sort, bom: bom ?? false, ownerKeyHash: ownerOf(req) },
      { ttlMs: config.EXPORT_TTL_HOURS * 3_600_000, maxActivePerOwner: config.EXPORT_MAX_ACTIVE_PER_KEY },
    );
    res
      .status(202)
      .location(statusUrlOf(job.id))
      .json({
        success: true,
        jobId: job.id,
        status: job.status,
        statusUrl: statusUrlOf(job.id),
        downloadUrl: downloadUrlOf(job.id),
        expiresAt: job.expiresAt.toISOString(),
      });
  });

  const visibleJob = async (req: Request): Promise<ExportJob> => {
    const id = req.params.jobId as string;
    const job = UUID.test(id) ? await findExportJob(pool(), id.toLowerCase()) : null;
    if (!job || !visibleTo(job, ownerOf(req), apiOpen())) throw new ApiError('EXPORT_NOT_FOUND');
    return job;
  };

  router.get('/export/status/:jobId', async (req, res) => {
    const job = await visibleJob(req);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ success: true, ...describeExport(job) });
  });

  router.get('/export/download/:jobId', async (req, res) => {
    const job = await visibleJob(req);
    if (job.status === 'failed') {
      throw new ApiError('EXPORT_FAILED', `the export failed: ${job.error ?? 'unknown error'}`, {
        jobId: job.id,
      });
    }
    if (job.status !== 'completed') {
      throw new ApiError('NOT_READY', `the export is ${job.status}; poll ${statusUrlOf(job.id)}`, {
        jobId: job.id,
        status: job.status,
        rowsDone: job.rowsDone,
        rowsTotal: job.rowsTotal,
      });
    }
    res.status(200);
    res.setHeader('Content-Type', CONTENT_TYPES[job.format]);
    res.setHeader('Content-Disposition', `attachment; filename="${fileNameOf(job)}"`);
    res.setHeader('Content-Length', String(job.sizeBytes));
    res.setHeader('Cache-Control', 'private, no-store');
    const complete = await pipeChunks(pool(), job, res);
    // A chunk vanished (the job expired mid-download): cut the connection so the client sees a truncated file.
    if (!complete) res.destroy();
    else res.end();
  });

  return router;
}
