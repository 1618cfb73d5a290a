/**
 * HubSpot CRM sync: contacts, companies, deals and their associations mirrored incrementally (sync.ts,
 * associations.ts), contacts linked to people through observations (contribution.ts), LinkedIn data pushed back
 * (push.ts). Runs are exclusive per job and recorded (runner.ts); the client retries 429s, 5xx and timeouts
 * (client.ts, retry.ts). Entry points: cli.ts, the /etl/hubspot routes, and the scheduled job (job.ts).
 */
export type { HubspotClientOptions } from './client';
export { HubspotApiError, HubspotClient } from './client';
export { runHubspotSync } from './job';
export type { HubspotObjectType } from './objects';
export { OBJECT_TYPES } from './objects';
export type { ListFilters, PersonHubspotContact, RecordStatus } from './reads';
export {
  FILTERS,
  getRecord,
  hubspotContactsOfPerson,
  listRecords,
  statusesOf,
  survivorOfContact,
} from './reads';
export type {
  JobName,
  RunOutcome,
  RunRecord,
  RunnerDeps,
  SequenceEntry,
  StartedRun,
  SyncJobName,
  Trigger,
} from './runner';
export {
  isJobName,
  JOB_NAMES,
  loadRun,
  recentRuns,
  RunInProgressError,
  runSequence,
  runToEnd,
  startRun,
  SYNC_JOBS,
} from './runner';
export type { DrainReport } from './registry';
export { HubspotRunRegistry, ShuttingDownError } from './registry';
export type { SyncSettings } from './settings';
export {
  HubspotNotConfiguredError,
  hubspotClientFromConfig,
  syncSchedule,
  syncSettingsFromConfig,
} from './settings';
export type { PageProgress } from './sync';
