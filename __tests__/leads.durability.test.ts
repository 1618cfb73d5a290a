import { randomUUID } from 'node:crypto';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import type { ServerProcess } from './helpers/server-process';
import { startServerProcess } from './helpers/server-process';

jest.setTimeout(120_000);

const TOTAL = 1500;
const CONCURRENCY = 48;
const KILL_AFTER_ACKS = 400;

interface Lead {
  key: string;
  body: Record<string, unknown>;
}

/** Posts leads with `concurrency` senders; `onAck` sees every 2xx / 409 answer. Refused connections are not acks. */
async function send(
  server: ServerProcess,
  leads: Lead[],
  onAck: (lead: Lead, leadId: string, status: number) => void,
  concurrency = CONCURRENCY,
): Promise<number> {
  let next = 0;
  let sent = 0;
  const worker = async () => {
    while (next < leads.length) {
      const lead = leads[next++]!;
      sent += 1;
      try {
        const res = await fetch(`${server.baseUrl}/api/lead`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': lead.key },
          body: JSON.stringify(lead.body),
        });
        if (res.status === 201 || res.status === 409) {
          const answer = (await res.json()) as { ok: boolean; lead_id: string };
          if (answer.ok) onAck(lead, answer.lead_id, res.status);
        }
      } catch {
        // Refused or reset by the kill: not acknowledged, so the sender still owns the lead.
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sent;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return check();
}

describe('acknowledged leads survive SIGKILL', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(() => db.drop());

  it('acked == stored exactly once, lost 0; stranded requests are re-driven; sender retries make no duplicates', async () => {
    const run = randomUUID().slice(0, 8);
    const leads: Lead[] = Array.from({ length: TOTAL }, (_, i) => ({
      key: `durability-${run}-${i}`,
      body: {
        email: `lead-${run}-${i}@mail.lv`,
        firstName: `Lead${i}`,
        phone: `+3712${String(i).padStart(7, '0')}`,
      },
    }));
    const env = { DATABASE_URL: db.url, LOG_LEVEL: 'warn', LEAD_RATE_LIMIT: '0' };

    const server = await startServerProcess(env);
    const acked = new Map<string, string>();
    let killed = false;
    const sent = await send(server, leads, (lead, leadId) => {
      acked.set(lead.key, leadId);
      if (!killed && acked.size >= KILL_AFTER_ACKS) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    });
    expect((await server.exited).signal).toBe('SIGKILL');

    // Restarted with a re-drive that runs every second on requests of any age.
    const restarted = await startServerProcess({
      ...env,
      LEAD_REDRIVE_INTERVAL_SECONDS: '1',
      LEAD_REDRIVE_AGE_SECONDS: '0',
    });
    try {
      const stranded = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM lead_requests WHERE state = 'received'`,
      );
      const settled = await waitFor(async () => {
        const { rows } = await db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM lead_requests WHERE state = 'received'`,
        );
        return rows[0]!.n === 0;
      }, 15_000);
      expect(settled).toBe(true);

      const keys = [...acked.keys()];
      const stored = await db.pool.query<{ idempotency_key: string; id: string; observations: number }>(
        `SELECT l.idempotency_key, l.id, (SELECT count(*)::int FROM observations o WHERE o.id = l.observation_id
                                            AND o.source = 'lead') AS observations
           FROM leads l WHERE l.idempotency_key = ANY($1)`,
        [keys],
      );
      const counts = new Map<string, number>();
      for (const row of stored.rows)
        counts.set(row.idempotency_key, (counts.get(row.idempotency_key) ?? 0) + 1);
      const ledger = {
        sent,
        acked: acked.size,
        stored: stored.rows.length,
        lost: keys.filter((key) => !counts.has(key)).length,
        duplicated: [...counts.values()].filter((count) => count > 1).length,
        mismatched: stored.rows.filter((row) => acked.get(row.idempotency_key) !== row.id).length,
        withoutObservation: stored.rows.filter((row) => row.observations !== 1).length,
        strandedAtRestart: stranded.rows[0]!.n,
      };

      // The PHP sender retries what was never acknowledged, with the same key: 201 or 409, never a second lead.
      const unacked = leads.filter((lead) => !acked.has(lead.key));
      const retryStatuses = new Map<number, number>();
      await send(restarted, unacked, (_lead, _id, status) =>
        retryStatuses.set(status, (retryStatuses.get(status) ?? 0) + 1),
      );
      const all = await db.pool.query<{ leads: number; keys: number }>(
        `SELECT count(*)::int AS leads, count(DISTINCT idempotency_key)::int AS keys
           FROM leads WHERE idempotency_key LIKE $1`,
        [`durability-${run}-%`],
      );
      console.log('lead durability ledger', {
        ...ledger,
        retried: unacked.length,
        retryAnswers: Object.fromEntries(retryStatuses),
        leadsAfterRetries: all.rows[0]!.leads,
      });

      expect(ledger.acked).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
      expect(ledger.lost).toBe(0);
      expect(ledger.duplicated).toBe(0);
      expect(ledger.mismatched).toBe(0);
      expect(ledger.withoutObservation).toBe(0);
      expect(ledger.stored).toBe(ledger.acked);
      expect([...retryStatuses.values()].reduce((a, b) => a + b, 0)).toBe(unacked.length);
      expect(all.rows[0]).toEqual({ leads: TOTAL, keys: TOTAL });
    } finally {
      restarted.child.kill('SIGTERM');
      expect((await restarted.exited).code).toBe(0);
    }
  });
});
