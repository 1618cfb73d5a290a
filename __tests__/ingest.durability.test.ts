import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';
import type { ServerProcess } from './helpers/server-process';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(180_000);

const TOTAL = 3000;
const CONCURRENCY = 64;
const KILL_AFTER_ACKS = 800;

interface Ledger {
  sent: number;
  acked: number;
  stored: number;
  lost: number;
  duplicated: number;
}

/**
 * Fires distinct webhooks at a real service process, SIGKILLs it part-way, restarts it and checks the ledger:
 * every request answered 2xx is stored exactly once.
 */
async function killDuringLoad(server: ServerProcess): Promise<{ acked: Map<string, number>; sent: number }> {
  const payloads = Array.from({ length: TOTAL }, (_, i) =>
    distinctVisit(5_000_000 + i + Math.floor(Math.random() * 1e6) * TOTAL),
  );
  const acked = new Map<string, number>();
  let next = 0;
  let sent = 0;
  let killed = false;
  const worker = async () => {
    while (next < payloads.length) {
      const payload = payloads[next++]!;
      sent += 1;
      try {
        const res = await fetch(`${server.baseUrl}/api/webhook`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(payload),
        });
        if (res.status >= 200 && res.status < 300) {
          const body = (await res.json()) as { event_key: string; observation_id: number };
          acked.set(body.event_key, body.observation_id);
          if (!killed && acked.size >= KILL_AFTER_ACKS) {
            killed = true;
            server.child.kill('SIGKILL');
          }
        }
      } catch {
        // Connection refused or reset by the kill: not acknowledged, so the sender still owns it.
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { acked, sent };
}

async function ledgerFor(
  client: pg.Client | pg.Pool,
  acked: Map<string, number>,
  sent: number,
): Promise<Ledger> {
  const keys = [...acked.keys()];
  const { rows } = await client.query<{ event_key: string; id: number }>(
    'SELECT event_key, id FROM observations WHERE event_key = ANY($1)',
    [keys],
  );
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.event_key, (counts.get(row.event_key) ?? 0) + 1);
  const lost = keys.filter((key) => !counts.has(key)).length;
  const duplicated = [...counts.values()].filter((count) => count > 1).length;
  const mismatched = rows.filter((row) => acked.get(row.event_key) !== row.id).length;
  if (mismatched > 0)
    throw new Error(`${mismatched} acknowledged observation ids differ from the stored ones`);
  return { sent, acked: acked.size, stored: rows.length, lost, duplicated };
}

describe('acknowledged webhooks survive SIGKILL', () => {
  it('on the run database: acked == stored, lost == 0', async () => {
    const db: TestDatabase = await createTestDatabase();
    try {
      const server = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
      const { acked, sent } = await killDuringLoad(server);
      await server.exited;
      const restarted = await startServerProcess({ DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
      const ledger = await ledgerFor(db.pool, acked, sent);
      console.log('durability ledger (external PostgreSQL)', ledger);
      expect(ledger.acked).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
      expect(ledger.lost).toBe(0);
      expect(ledger.duplicated).toBe(0);
      expect(ledger.stored).toBe(ledger.acked);
      restarted.child.kill('SIGTERM');
      expect((await restarted.exited).code).toBe(0);
    } finally {
      await db.drop();
    }
  });

  it('on the embedded PostgreSQL owned by the killed process: acked == stored, lost == 0', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'duxsoup-durability-'));
    fs.chmodSync(dir, 0o755);
    const dataDir = path.join(dir, 'pg');
    try {
      const server = await startServerProcess({ EMBEDDED_PG_DIR: dataDir, LOG_LEVEL: 'warn' });
      const { acked, sent } = await killDuringLoad(server);
      await server.exited;
      const restarted = await startServerProcess({ EMBEDDED_PG_DIR: dataDir, LOG_LEVEL: 'info' });
      const port = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[3]);
      const password = fs.readFileSync(`${dataDir}.password`, 'utf8').trim();
      const client = new pg.Client({
        connectionString: `postgres://postgres:${password}@127.0.0.1:${port}/duxsoup_etl`,
      });
      await client.connect();
      const ledger = await ledgerFor(client, acked, sent);
      await client.end();
      console.log('durability ledger (embedded PostgreSQL)', ledger);
      expect(ledger.acked).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
      expect(ledger.lost).toBe(0);
      expect(ledger.duplicated).toBe(0);
      expect(ledger.stored).toBe(ledger.acked);
      restarted.child.kill('SIGTERM');
      expect((await restarted.exited).code).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
