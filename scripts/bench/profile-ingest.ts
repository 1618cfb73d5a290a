import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../src/db/embedded';
import { benchDatabase, loadWebhookWithWrk, ROOT } from './lib';

/** Loads the webhook for 8 s while the service runs under --cpu-prof (BENCH_PROFILE=1); profiles land in ./profiles. */
async function main(): Promise<void> {
  const db = await benchDatabase();
  const port = await freePort();
  const profile =
    process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir', path.join(ROOT, 'profiles')] : [];
  const child = spawn(
    process.execPath,
    [...profile, '--import', 'tsx', path.join(ROOT, 'src', 'server.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        DATABASE_URL: db.url,
        WEBHOOK_SECRET: 's',
        WEBHOOK_RATE_LIMIT: '0',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 4000));
  loadWebhookWithWrk(`http://127.0.0.1:${port}/api/webhook?secret=s`, 32, 3);
  console.log(loadWebhookWithWrk(`http://127.0.0.1:${port}/api/webhook?secret=s`, 32, 8));
  await new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
  await db.close();
}
void main();
