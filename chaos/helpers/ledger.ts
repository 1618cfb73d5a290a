import type { Pool } from '../../src/db';

/** What the client saw of one event: every attempt's outcome and every acknowledgement it got. */
export interface EventRecord {
  clientId: string;
  attempts: number;
  acks: { observationId: number; eventKey: string }[];
}

/**
 * The Jepsen set-test ledger: every distinct event the client sent, against what the database holds once the
 * faults are healed. `lost` (acknowledged, not stored) and `duplicated` (stored more than once) must be 0.
 */
export interface Ledger {
  sent: number;
  acked2xx: number;
  stored: number;
  lost: number;
  duplicated: number;
  /** Acknowledged with an observation id or event key the stored row does not carry. */
  mismatched: number;
  /** Sent and never acknowledged (the client gave up at its deadline): indeterminate, like Jepsen's :info. */
  unacked: number;
  /** Stored without ever being acknowledged (the answer was lost): allowed, since the client retried. */
  storedUnacked: number;
}

export async function computeLedger(pool: Pool, records: Iterable<EventRecord>): Promise<Ledger> {
  const { rows } = await pool.query<{ id: number; event_key: string; client_id: string | null }>(
    `SELECT id, event_key, payload->'data'->>'id' AS client_id FROM observations WHERE source = 'duxsoup'`,
  );
  const stored = new Map<string, { id: number; eventKey: string }[]>();
  for (const row of rows) {
    if (row.client_id === null) continue;
    const list = stored.get(row.client_id) ?? [];
    list.push({ id: row.id, eventKey: row.event_key });
    stored.set(row.client_id, list);
  }
  const ledger: Ledger = {
    sent: 0,
    acked2xx: 0,
    stored: 0,
    lost: 0,
    duplicated: 0,
    mismatched: 0,
    unacked: 0,
    storedUnacked: 0,
  };
  for (const record of records) {
    if (record.attempts === 0) continue;
    ledger.sent += 1;
    const found = stored.get(record.clientId) ?? [];
    ledger.stored += found.length;
    if (found.length > 1) ledger.duplicated += 1;
    if (record.acks.length === 0) {
      ledger.unacked += 1;
      if (found.length > 0) ledger.storedUnacked += 1;
      continue;
    }
    ledger.acked2xx += 1;
    if (found.length === 0) {
      ledger.lost += 1;
      continue;
    }
    const row = found[0]!;
    if (record.acks.some((ack) => ack.observationId !== row.id || ack.eventKey !== row.eventKey)) {
      ledger.mismatched += 1;
    }
  }
  return ledger;
}

export function printLedger(scenario: string, ledger: Ledger, extra: Record<string, unknown> = {}): void {
  console.log(`chaos ledger [${scenario}] ${JSON.stringify({ ...ledger, ...extra })}`);
}
