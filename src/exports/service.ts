import { randomUUID } from 'node:crypto';
import { ApiError } from '../api/errors';
import type { Pool } from '../db/pool';
import { assertRegexesCompile } from '../query';
import { countActiveJobs, insertExportJob } from './jobs';
import { planExport, resolveFields } from './sources';
import type { ExportEntity, ExportFormat, ExportJob, ExportRequest } from './types';

export interface NewExport {
  entity: ExportEntity;
  format: ExportFormat;
  filters: unknown;
  fields: unknown;
  sort: unknown;
  bom: boolean;
  /** sha256 (hex) of the caller's API key; null when the API is open (development without keys). */
  ownerKeyHash: string | null;
}

export interface ExportLimits {
  ttlMs: number;
  /** Jobs one key may have pending or processing at once; 0: no limit. */
  maxActivePerOwner: number;
}

/**
 * Validates the request completely (filters, fields, sort, and every $regex against PostgreSQL itself) and
 * queues the job. Throws ApiError 400s for bad input and EXPORT_QUEUE_FULL when the caller has too many jobs
 * in flight.
 */
export async function createExport(pool: Pool, input: NewExport, limits: ExportLimits): Promise<ExportJob> {
  const request: ExportRequest = {
    filters: input.filters ?? null,
    fields:
      input.fields === undefined || input.fields === null ? null : resolveFields(input.entity, input.fields),
    sort: input.sort ?? null,
    bom: input.bom,
  };
  const plan = planExport(input.entity, request);
  await assertRegexesCompile(pool, plan.regexes);
  if (limits.maxActivePerOwner > 0) {
    const active = await countActiveJobs(pool, input.ownerKeyHash);
    if (active >= limits.maxActivePerOwner) {
      throw new ApiError(
        'EXPORT_QUEUE_FULL',
        `${active} exports of this API key are queued or running (at most ${limits.maxActivePerOwner}); retry when one has finished`,
      );
    }
  }
  return insertExportJob(pool, {
    id: randomUUID(),
    entity: input.entity,
    format: input.format,
    request,
    ownerKeyHash: input.ownerKeyHash,
    ttlMs: limits.ttlMs,
  });
}

/** An owner sees only its own jobs; with the API open (no keys configured) every job is visible. */
export function visibleTo(job: ExportJob, ownerKeyHash: string | null, apiOpen: boolean): boolean {
  return apiOpen || job.ownerKeyHash === null || job.ownerKeyHash === ownerKeyHash;
}

export function statusUrlOf(jobId: string): string {
  return `/api/export/status/${jobId}`;
}

export function downloadUrlOf(jobId: string): string {
  return `/api/export/download/${jobId}`;
}

/** The status document of `GET /api/export/status/:jobId`. */
export function describeExport(job: ExportJob): Record<string, unknown> {
  return {
    jobId: job.id,
    entity: job.entity,
    format: job.format,
    status: job.status,
    rowsDone: job.rowsDone,
    rowsTotal: job.rowsTotal,
    sizeBytes: job.sizeBytes,
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    completedAt: job.completedAt?.toISOString() ?? null,
    expiresAt: job.expiresAt.toISOString(),
    ...(job.error === null ? {} : { error: job.error }),
    statusUrl: statusUrlOf(job.id),
    downloadUrl: downloadUrlOf(job.id),
  };
}

/** `people-2025-07-03-1a2b3c4d.csv`: the entity, the day it was created and the start of its id. */
export function fileNameOf(job: ExportJob): string {
  return `${job.entity}-${job.createdAt.toISOString().slice(0, 10)}-${job.id.slice(0, 8)}.${job.format}`;
}
