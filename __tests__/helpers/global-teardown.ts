import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const embedded = (globalThis as Record<string, unknown>).__EMBEDDED_PG__ as
    { stop: () => Promise<void>; dir: string } | undefined;
  if (!embedded) return;
  await embedded.stop();
  fs.rmSync(embedded.dir, { recursive: true, force: true });
}
