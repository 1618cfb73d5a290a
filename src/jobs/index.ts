export type { Job, JobContext, JobCounts } from './types';
export { startScheduler, Scheduler, JOB_LOCK_NAMESPACE } from './scheduler';
export type { StartSchedulerOptions } from './scheduler';
export { LeaderElection, LEADER_LOCK_KEY, newInstanceId, readLeader } from './leader';
export type { Leadership, LeaderRecord } from './leader';
export { loadDeadLetter, replayDueDeadLetters, replayObservation } from './dead-letters';
export type { ObservationReplay, Phase2Runner, ReplayCounts } from './dead-letters';
export {
  backoffSeconds,
  classifyFailure,
  DEFAULT_DEAD_LETTER_POLICY,
  deadLetterPolicyFromConfig,
  recordDeadLetter,
} from './dead-letter-policy';
export type { DeadLetterPolicy, DeadLetterState } from './dead-letter-policy';
