import { createHash } from 'node:crypto';
import type { Envelope } from './envelope';

/**
 * The idempotency key of a webhook. A `visit.create` is keyed by (user, type, event, profile id, VisitTime), so a
 * redelivery or the same event sent to several of our URLs is stored once, while a revisit (new VisitTime) and
 * its `visit.update` (different event) are distinct. Events other than `create` can legitimately repeat with
 * the same time (two updates of one visit, the paired `rccommand.ready` signals), so their content is part of
 * the key: an identical redelivery is still a duplicate, a different update is not lost. The same goes for an
 * event without `data.id`: two different profiles scanned in the same millisecond must not collide.
 */
export function eventKey(envelope: Envelope): string {
  const parts = [
    'duxsoup',
    envelope.userId ?? '',
    envelope.type,
    envelope.event,
    envelope.dataId ?? '',
    envelope.eventTime ? String(envelope.eventTime.getTime()) : '',
  ];
  const identifiedCreate =
    envelope.event === 'create' && envelope.eventTime !== null && envelope.dataId !== null;
  if (!identifiedCreate) parts.push(contentDigest(envelope.data));
  return sha256(parts.join('\u001f'));
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Digest of a JSON value that does not depend on key order. */
export function contentDigest(value: unknown): string {
  return sha256(canonicalJson(value));
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}
