import fs from 'node:fs';
import path from 'node:path';

export interface Fixture {
  index: number;
  source: string;
  kind: 'visit' | 'scan' | 'other';
  payload: Record<string, unknown> & { data: Record<string, unknown> };
}

export const FIXTURES_FILE = path.join(
  __dirname,
  '..',
  '..',
  '..',
  'shared',
  'fixtures',
  'duxsoup-samples-public.json',
);

export function loadFixtures(): Fixture[] {
  return JSON.parse(fs.readFileSync(FIXTURES_FILE, 'utf8')) as Fixture[];
}

export function fixture(index: number): Fixture['payload'] {
  const found = loadFixtures().find((item) => item.index === index);
  if (!found) throw new Error(`no fixture ${index}`);
  return structuredClone(found.payload);
}

let counter = 0;

/**
 * A realistic visit.create for a distinct person each call (unique member id, slug, e-mail and VisitTime): two
 * calls never share an identifier, so they never merge nor conflict.
 */
export function distinctVisit(seed = ++counter): Record<string, unknown> {
  const payload = fixture(0);
  const memberId = String(900000000 + seed);
  const visitTime = 1_751_500_000_000 + seed * 1000;
  return {
    ...payload,
    time: new Date(visitTime + 800).toISOString(),
    data: {
      ...payload.data,
      id: `id.${memberId}`,
      VisitTime: visitTime,
      Profile: `https://www.linkedin.com/in/person-${seed}-${memberId}`,
      SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAA${memberId}Xy,NAME_SEARCH,ab${seed % 10}c`,
      RecruiterProfile: `https://www.linkedin.com/talent/profile/ACwAAA${memberId}Xy`,
      'First Name': `Person${seed}`,
      Email: `person${seed}.${memberId}@distinct-visit.example`,
    },
  };
}
