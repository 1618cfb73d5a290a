import { phase2FromConfig } from '../../ingest/phase2';
import type { JobContext, JobCounts } from '../../jobs/types';
import type { RunnerDeps, SequenceEntry } from './runner';
import { runSequence, SYNC_JOBS } from './runner';
import { hubspotClientFromConfig, syncSettingsFromConfig } from './settings';

/**
 * The scheduled HubSpot sync (job `hubspot-sync`, every HUBSPOT_SYNC_INTERVAL_MINUTES on the leader): every sync
 * job in order, each resuming from its checkpoint. A job another run holds (a manual trigger) is skipped; the run
 * fails when any job failed or was interrupted, after the others have had their turn.
 */
export async function runHubspotSync(context: JobContext): Promise<JobCounts> {
  const deps: RunnerDeps = {
    pool: context.pool,
    client: hubspotClientFromConfig(context.config, context.logger),
    processor: phase2FromConfig(context.pool, context.config, context.logger),
    settings: syncSettingsFromConfig(context.config),
    logger: context.logger,
  };
  const entries = await runSequence(deps, SYNC_JOBS, { trigger: 'schedule', signal: context.signal });
  const failed = entries.filter(
    (entry) => 'outcome' in entry && (entry.outcome === 'failed' || entry.outcome === 'interrupted'),
  );
  if (failed.length > 0) {
    throw new Error(
      `hubspot sync failed: ${failed.map((entry) => `${entry.job} (${'error' in entry ? entry.error : ''})`).join('; ')}`,
    );
  }
  return jobCounts(entries);
}

function jobCounts(entries: SequenceEntry[]): JobCounts {
  const counts: JobCounts = { skipped: 0 };
  for (const entry of entries) {
    if (!('outcome' in entry)) {
      counts.skipped! += 1;
      continue;
    }
    for (const [name, value] of Object.entries(entry.counts)) {
      if (['records', 'upserted', 'archived', 'added', 'removed', 'people_linked'].includes(name)) {
        const key = `${entry.job.replace(':', '_')}_${name}`;
        counts[key] = value;
      }
    }
  }
  return counts;
}
