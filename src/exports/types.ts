export const EXPORT_ENTITIES = ['people', 'companies', 'locations'] as const;
export type ExportEntity = (typeof EXPORT_ENTITIES)[number];

export const EXPORT_FORMATS = ['csv', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export type ExportStatus = 'pending' | 'processing' | 'completed' | 'failed';

/** What the client asked for, stored on the job and compiled again by the worker that runs it. */
export interface ExportRequest {
  filters: unknown;
  /** Canonical field names; null: the entity's default columns. */
  fields: string[] | null;
  /** As `POST /api/query/*` takes it; null: the default order (most recently observed first). */
  sort: unknown;
  /** CSV only: a UTF-8 byte order mark first, so Excel reads the file as UTF-8. */
  bom: boolean;
}

export interface ExportJob {
  id: string;
  entity: ExportEntity;
  format: ExportFormat;
  request: ExportRequest;
  ownerKeyHash: string | null;
  status: ExportStatus;
  attempt: number;
  rowsDone: number;
  rowsTotal: number | null;
  sizeBytes: number;
  chunkCount: number;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  completedAt: Date | null;
  expiresAt: Date;
}

/** A worker's hold on a job: every write it makes is fenced by the token. */
export interface ExportClaim {
  job: ExportJob;
  token: string;
}

/** How the worker behaves; from configuration in the service, explicit in tests. */
export interface ExportSettings {
  ttlMs: number;
  maxRows: number;
  /** A processing job whose heartbeat is older than this is presumed abandoned and claimed again. */
  staleAfterMs: number;
  /** Claims of one job (a worker that keeps dying on it) before it is failed instead. */
  maxAttempts: number;
  chunkBytes: number;
  fetchRows: number;
  workerId: string;
}
