export { pipeChunks } from './chunks';
export { CONTENT_TYPES, CSV_LIST_SEPARATOR } from './formats';
export { cleanupExpiredExports, claimNextExport, findExportJob } from './jobs';
export type { CleanupResult } from './jobs';
export { createExport, describeExport, downloadUrlOf, fileNameOf, statusUrlOf, visibleTo } from './service';
export type { ExportLimits, NewExport } from './service';
export { LOCATION_FIELDS, defaultColumns } from './sources';
export {
  drainExports,
  exportSettingsFromConfig,
  runClaimedExport,
  runExportJobOnce,
  startExportWorker,
} from './worker';
export type { ExportOutcome, ExportRun, RunOptions } from './worker';
export { EXPORT_ENTITIES, EXPORT_FORMATS } from './types';
export type {
  ExportClaim,
  ExportEntity,
  ExportFormat,
  ExportJob,
  ExportSettings,
  ExportStatus,
} from './types';
