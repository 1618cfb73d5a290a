import { foldSettingsFrom } from '../../src/cli/runtime';
import { loadConfig } from '../../src/config';
import { createPool } from '../../src/db/pool';
import { ObservationFeed } from '../../src/rebuild/feed';

const BATCH = 2000;

/**
 * The rebuild's first stage alone: its ObservationFeed reads the whole log and computes every observation's
 * contribution, exactly as inside a rebuild, and nothing is resolved, folded or written. Run by bench:rebuild with
 * the ops command's node flags; prints how fast that stage goes and the CPU it takes, the most a rebuild whose
 * resolving and folding share this one thread could reach.
 */
async function main(): Promise<void> {
  const pool = createPool({
    connectionString: process.env.DATABASE_URL!,
    max: 2,
    connectTimeoutMs: 5000,
    queryTimeoutMs: 600_000,
  });
  try {
    const feed = new ObservationFeed(pool, foldSettingsFrom(loadConfig()), 0, BATCH);
    const cpu = process.cpuUsage();
    const started = performance.now();
    let observations = 0;
    for (let batch = await feed.take(BATCH); batch.length > 0; batch = await feed.take(BATCH))
      observations += batch.length;
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    process.stdout.write(
      `${JSON.stringify({
        observations,
        seconds,
        observationsPerSecond: Math.round(observations / seconds),
        nodeCpuSeconds: (used.user + used.system) / 1e6,
      })}\n`,
    );
  } finally {
    await pool.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
