import { PERSON_FIELD_GROUPS } from '../src/snapshots/contributions';
import {
  foldContribution,
  foldSnapshots,
  isEmpty,
  precedenceKey,
  sortedSnapshot,
  withProvenanceValues,
} from '../src/snapshots/fold';
import type { FieldProvenance, Origin, PrecedencePolicy, Snapshot } from '../src/snapshots/fold';

const DAY = 86_400_000;
const WINDOW = 30 * DAY;
const POLICY: PrecedencePolicy = { visitWindowMs: WINDOW };
/** 2025-07-03T02:22:28.672Z, the VisitTime of a real Dux-Soup sample. */
const T0 = 1_751_509_348_672;

interface Observation {
  origin: Origin;
  fields: Record<string, unknown>;
}

function observation(
  observationId: number,
  source: string,
  atMs: number,
  fields: Record<string, unknown>,
): Observation {
  return { origin: { observationId, source, observedAt: new Date(atMs) }, fields };
}

function foldAll(
  observations: readonly Observation[],
  start: Snapshot = {},
  policy: PrecedencePolicy = POLICY,
): Snapshot {
  return observations.reduce(
    (snapshot, { origin, fields }) => foldContribution(snapshot, fields, origin, PERSON_FIELD_GROUPS, policy),
    start,
  );
}

/** The snapshot as jsonb stores it and the API returns it: sorted keys, dates as ISO strings. */
function canonical(snapshot: Snapshot): string {
  return JSON.stringify(sortedSnapshot(snapshot));
}

function provenance(o: Observation): FieldProvenance {
  return {
    observedAt: o.origin.observedAt.toISOString(),
    source: o.origin.source,
    observationId: o.origin.observationId,
  };
}

/** Fields of a snapshot other than `_meta`. */
function fieldsOf(snapshot: Snapshot): Record<string, unknown> {
  const { _meta: _ignored, ...fields } = snapshot;
  return fields;
}

// ---------------------------------------------------------------------------------------------------------
// An independent reference implementation of the documented rules (written from the spec, not from fold.ts):
// for every group (or lone field) the observation with the greatest (rank, effective time, id) among those
// offering a non-empty value wins, and the group is exactly that observation's non-empty values.
// ---------------------------------------------------------------------------------------------------------

function blank(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim().length === 0;
  if (Array.isArray(value)) return value.length === 0;
  if (typeof value === 'object') return Object.keys(value).length === 0;
  return false;
}

function referenceKey(origin: Origin): number[] {
  const rank = origin.source === 'lead' || origin.source === 'hubspot' ? 0 : 1;
  const effective = origin.observedAt.getTime() + (origin.source === 'visit' ? WINDOW : 0);
  return [rank, effective, origin.observationId];
}

function greater(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return false;
}

function referenceFold(observations: readonly Observation[]): Snapshot {
  const grouped = new Set(PERSON_FIELD_GROUPS.flat());
  const lone = [...new Set(observations.flatMap((o) => Object.keys(o.fields)))].filter(
    (f) => !grouped.has(f),
  );
  const units: (readonly string[])[] = [...PERSON_FIELD_GROUPS, ...lone.map((field) => [field])];
  const result: Snapshot = {};
  const meta: Record<string, FieldProvenance> = {};
  for (const unit of units) {
    let winner: Observation | undefined;
    for (const candidate of observations) {
      if (unit.every((field) => blank(candidate.fields[field]))) continue;
      if (!winner || greater(referenceKey(candidate.origin), referenceKey(winner.origin))) winner = candidate;
    }
    if (!winner) continue;
    for (const field of unit) {
      if (blank(winner.fields[field])) continue;
      result[field] = winner.fields[field];
      meta[field] = provenance(winner);
    }
  }
  result._meta = meta;
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Helpers: seeded PRNG, permutations, deep freeze
// ---------------------------------------------------------------------------------------------------------

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i += 1) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i]!, ...tail];
  }
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// A realistic history of one person (Dana Whitfield) from visits, scans, a CSV import, a lead and HubSpot.
// Effective times (observedAt + 30 days for visits) are noted per observation.
// ---------------------------------------------------------------------------------------------------------

const LA = {
  location: 'Los Angeles, California, United States',
  city: 'Los Angeles',
  state: 'California',
  stateCode: 'CA',
  country: 'United States',
  countryCode: 'US',
  locationKey: 'los angeles|california|united states',
};
const SAN_MATEO = {
  location: 'San Mateo, California, United States',
  city: 'San Mateo',
  state: 'California',
  stateCode: 'CA',
  country: 'United States',
  countryCode: 'US',
  locationKey: 'san mateo|california|united states',
};

// visit, effective T0+30d
const O1 = observation(1, 'visit', T0, {
  firstName: 'Dana',
  lastName: 'Whitfield',
  fullName: 'Dana Whitfield',
  currentTitle: 'Chief Information Security Officer',
  currentCompany: 'Orchard Cyber',
  currentCompanyLinkedinId: '735879098',
  companyProfileUrl: 'https://www.linkedin.com/company/735879098/',
  currentRoleStartYear: 2024,
  seniorityLevel: 8,
  seniorityTier: 'C-Suite',
  department: 'Information Security',
  tags: ['ACME'],
  skills: ['Cloud Security', 'Identity'],
  summary: 'Security leader focused on pragmatic risk reduction.',
  degree: 1,
  ...LA,
});
// scan, effective T0+10d: loses every group to the visit O1
const O2 = observation(2, 'scan', T0 + 10 * DAY, {
  currentTitle: 'VP Security',
  currentCompany: 'Orchard Cyber',
  connections: 500,
  connectionsCapped: true,
  tags: [],
  skills: ['Cloud Security'],
});
// scan, effective T0+45d: more than the window newer than O1, so it takes the title group (without a company id)
const O3 = observation(3, 'scan', T0 + 45 * DAY, {
  firstName: '',
  lastName: ' ',
  fullName: null,
  currentTitle: 'Chief Security Officer',
  currentCompany: 'Nettle Toys',
  seniorityLevel: 8,
  summary: '',
});
// lead: newest of all, but only fills what LinkedIn data leaves empty
const O4 = observation(4, 'lead', T0 + 100 * DAY, {
  firstName: 'Danielle',
  lastName: 'Whitfield',
  currentTitle: 'CISO',
  email: 'dana@whitfield.example',
  phone: '+13105550158',
  tags: ['Lead-List'],
});
// hubspot: newer than the lead, so it wins among the fill-only sources
const O5 = observation(5, 'hubspot', T0 + 120 * DAY, {
  email: 'dana@orchard.example',
  twitter: 'danawhitx',
  tags: ['HubSpot'],
});
// visit, effective T0+50d
const O6 = observation(6, 'visit', T0 + 20 * DAY, {
  firstName: 'Dana',
  middleName: 'J.',
  lastName: 'Whitfield',
  fullName: 'Dana J. Whitfield',
  tags: [],
  skills: ['Cloud Security', 'Identity', 'Zero Trust'],
  summary: '   ',
  notes: {},
});
// scan, effective T0+50d: ties O6 on the name group, the higher observation id wins
const O7 = observation(7, 'scan', T0 + 50 * DAY, {
  firstName: 'Dana',
  lastName: 'Whitfield',
  fullName: 'Dana Whitfield',
  connections: 480,
  ...SAN_MATEO,
});
// visit, effective T0+25d
const O8 = observation(8, 'visit', T0 - 5 * DAY, {
  summary: 'Builds teams that ship secure products.',
  picture: 'https://media.licdn.com/dms/image/v2/dana.jpg',
  ...LA,
});
// csv import, effective T0+200d: blank title and company leave the title group alone
const O9 = observation(9, 'csv', T0 + 200 * DAY, {
  currentTitle: '',
  currentCompany: '',
  degree: 2,
  notes: ['Met at RSA'],
});
// lead
const O10 = observation(10, 'lead', T0 + 300 * DAY, {
  summary: 'Imported lead summary',
  picture: '',
  websites: ['https://whitfield.example'],
});

const HISTORY: readonly Observation[] = [O1, O2, O3, O4, O5, O6, O7, O8, O9, O10];

describe('isEmpty', () => {
  it.each<[string, unknown]>([
    ['undefined', undefined],
    ['null', null],
    ['the empty string', ''],
    ['spaces', '   '],
    ['tabs and newlines', '\t\n '],
    ['a no-break space', '\u00a0'],
    ['an empty array', []],
    ['an empty object', {}],
  ])('%s is empty', (_name, value) => {
    expect(isEmpty(value)).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a name', 'Dana'],
    ['a padded name', '  Dana '],
    ['zero', 0],
    ['false', false],
    ['a tag list', ['ACME']],
    ['an object with a key', { school: 'UCLA' }],
  ])('%s is not empty', (_name, value) => {
    expect(isEmpty(value)).toBe(false);
  });
});

describe('precedenceKey', () => {
  const at = new Date(T0);

  it('is (1, observedAt + window, id) for a visit', () => {
    expect(precedenceKey({ observationId: 7, source: 'visit', observedAt: at }, POLICY)).toEqual([
      1,
      T0 + WINDOW,
      7,
    ]);
  });

  it.each(['scan', 'csv'])('is (1, observedAt, id) for %s: no visit bonus', (source) => {
    expect(precedenceKey({ observationId: 3, source, observedAt: at }, POLICY)).toEqual([1, T0, 3]);
  });

  it.each(['lead', 'hubspot'])('ranks %s 0', (source) => {
    expect(precedenceKey({ observationId: 4, source, observedAt: at }, POLICY)).toEqual([0, T0, 4]);
  });

  it('uses the window of the policy it is given', () => {
    const key = precedenceKey({ observationId: 1, source: 'visit', observedAt: at }, { visitWindowMs: DAY });
    expect(key).toEqual([1, T0 + DAY, 1]);
  });
});

describe('foldContribution: precedence', () => {
  const title = (id: number, source: string, atMs: number, currentTitle: string) =>
    observation(id, source, atMs, { currentTitle, currentCompany: 'Orchard Cyber' });

  /** Folds both orders, checks they agree, returns the winning title. */
  function winner(a: Observation, b: Observation, policy: PrecedencePolicy = POLICY): unknown {
    const ab = foldAll([a, b], {}, policy);
    const ba = foldAll([b, a], {}, policy);
    expect(ab).toStrictEqual(ba);
    return ab.currentTitle;
  }

  it('a newer observation beats an older one of the same source', () => {
    expect(winner(title(1, 'scan', T0, 'Old'), title(2, 'scan', T0 + 1, 'New'))).toBe('New');
    expect(winner(title(2, 'visit', T0, 'Old'), title(1, 'visit', T0 + 1, 'New'))).toBe('New');
  });

  it('a visit beats a scan up to the window newer', () => {
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, 'scan', T0 + WINDOW - 1, 'Scan'))).toBe('Visit');
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, 'scan', T0 + 5 * DAY, 'Scan'))).toBe('Visit');
  });

  it('a scan more than the window newer beats a visit', () => {
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, 'scan', T0 + WINDOW + 1, 'Scan'))).toBe('Scan');
  });

  it('a scan exactly the window newer ties with the visit: the higher observation id wins', () => {
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, 'scan', T0 + WINDOW, 'Scan'))).toBe('Scan');
    expect(winner(title(2, 'visit', T0, 'Visit'), title(1, 'scan', T0 + WINDOW, 'Scan'))).toBe('Visit');
  });

  it('an older scan never beats a visit', () => {
    expect(winner(title(2, 'scan', T0 - DAY, 'Scan'), title(1, 'visit', T0, 'Visit'))).toBe('Visit');
  });

  it('with a zero window a visit has no bonus', () => {
    const policy = { visitWindowMs: 0 };
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, 'scan', T0 + 1, 'Scan'), policy)).toBe('Scan');
  });

  it('same source and time: the higher observation id wins, in either order', () => {
    expect(winner(title(41, 'scan', T0, 'Forty-one'), title(42, 'scan', T0, 'Forty-two'))).toBe('Forty-two');
    expect(winner(title(42, 'scan', T0, 'Forty-two'), title(41, 'scan', T0, 'Forty-one'))).toBe('Forty-two');
  });

  it.each(['lead', 'hubspot'])('%s never overwrites LinkedIn data, however new', (source) => {
    expect(winner(title(1, 'scan', T0, 'Scan'), title(2, source, T0 + 3650 * DAY, 'CRM'))).toBe('Scan');
    expect(winner(title(1, 'csv', T0, 'CSV'), title(2, source, T0 + 3650 * DAY, 'CRM'))).toBe('CSV');
    expect(winner(title(1, 'visit', T0, 'Visit'), title(2, source, T0 + 3650 * DAY, 'CRM'))).toBe('Visit');
  });

  it.each(['lead', 'hubspot'])('%s fills a field LinkedIn data leaves empty', (source) => {
    const linkedin = observation(1, 'visit', T0, { firstName: 'Dana', email: '' });
    const crm = observation(2, source, T0 - DAY, { email: 'dana@whitfield.example', phone: '+13105550158' });
    const snapshot = foldAll([linkedin, crm]);
    expect(snapshot.email).toBe('dana@whitfield.example');
    expect(snapshot.phone).toBe('+13105550158');
    expect(snapshot._meta?.email?.source).toBe(source);
  });

  it('between lead and hubspot, the newer wins', () => {
    expect(winner(title(1, 'hubspot', T0, 'HubSpot'), title(2, 'lead', T0 + 1, 'Lead'))).toBe('Lead');
    expect(winner(title(1, 'lead', T0, 'Lead'), title(2, 'hubspot', T0 + 1, 'HubSpot'))).toBe('HubSpot');
  });

  it('a LinkedIn value arriving after a lead value replaces it', () => {
    const lead = observation(5, 'lead', T0 + 100 * DAY, { summary: 'From the lead list' });
    const scan = observation(6, 'scan', T0, { summary: 'From LinkedIn' });
    const snapshot = foldAll([lead, scan]);
    expect(snapshot.summary).toBe('From LinkedIn');
    expect(snapshot._meta?.summary).toEqual(provenance(scan));
  });
});

describe('foldContribution: empty values never overwrite', () => {
  const older = observation(1, 'visit', T0, {
    summary: 'Security leader',
    tags: ['ACME'],
    skills: ['Cloud Security'],
    websites: ['https://whitfield.example'],
    notes: ['Met at RSA'],
    connections: 500,
    connectionsCapped: true,
  });

  it.each<[string, unknown]>([
    ['the empty string', ''],
    ['whitespace', ' \t\n'],
    ['null', null],
    ['undefined', undefined],
    ['an empty array', []],
    ['an empty object', {}],
  ])('%s from a newer observation keeps every field', (_name, empty) => {
    const newer = observation(2, 'scan', T0 + 365 * DAY, {
      summary: empty,
      tags: empty,
      skills: empty,
      websites: empty,
      notes: empty,
      connections: empty,
      connectionsCapped: empty,
    });
    const before = foldAll([older]);
    expect(foldAll([older, newer])).toStrictEqual(before);
    expect(foldAll([newer, older])).toStrictEqual(before);
    expect(before.summary).toBe('Security leader');
    expect(before.connections).toBe(500);
  });

  it('a newer observation whose whole group is blank leaves the group as it was', () => {
    const named = observation(1, 'visit', T0, { firstName: 'Dana', middleName: 'J.', lastName: 'Whitfield' });
    const blankName = observation(2, 'scan', T0 + 365 * DAY, {
      firstName: '',
      middleName: null,
      lastName: '  ',
      fullName: undefined,
      summary: 'New summary',
    });
    const snapshot = foldAll([named, blankName]);
    expect(snapshot).toMatchObject({
      firstName: 'Dana',
      middleName: 'J.',
      lastName: 'Whitfield',
      summary: 'New summary',
    });
    expect(snapshot._meta?.firstName?.observationId).toBe(1);
    expect(snapshot._meta?.summary?.observationId).toBe(2);
  });

  it('falsy but present values (0, false) do count as values', () => {
    const capped = observation(1, 'scan', T0, { connections: 500, connectionsCapped: true });
    const exact = observation(2, 'scan', T0 + DAY, { connections: 0, connectionsCapped: false });
    const snapshot = foldAll([capped, exact]);
    expect(snapshot.connections).toBe(0);
    expect(snapshot.connectionsCapped).toBe(false);
  });

  it('an empty contribution adds nothing but an empty _meta', () => {
    const snapshot = foldContribution({}, {}, O1.origin, PERSON_FIELD_GROUPS, POLICY);
    expect(snapshot).toStrictEqual({ _meta: {} });
  });
});

describe('foldContribution: groups come from one observation', () => {
  const visitTitle = observation(1, 'visit', T0, {
    currentTitle: 'Chief Information Security Officer',
    currentCompany: 'Orchard Cyber',
    currentCompanyLinkedinId: '735879098',
    companyProfileUrl: 'https://www.linkedin.com/company/735879098/',
    currentRoleStartYear: 2024,
    seniorityLevel: 8,
    department: 'Information Security',
  });
  const newerScanTitle = observation(2, 'scan', T0 + 60 * DAY, {
    currentTitle: 'Advisor',
    currentCompany: 'Nettle Toys',
    currentCompanyLinkedinId: '',
  });

  it.each([
    ['in arrival order', [visitTitle, newerScanTitle]],
    ['in reverse order', [newerScanTitle, visitTitle]],
  ])('the group winner replaces every field of the group, removing those it lacks (%s)', (_o, order) => {
    const snapshot = foldAll(order);
    const group = PERSON_FIELD_GROUPS[1]!;
    expect(group).toContain('currentCompanyLinkedinId');
    const present = Object.fromEntries(group.filter((f) => f in snapshot).map((f) => [f, snapshot[f]]));
    expect(present).toStrictEqual({ currentTitle: 'Advisor', currentCompany: 'Nettle Toys' });
    const metaGroup = group.filter((f) => snapshot._meta?.[f] !== undefined);
    expect(metaGroup.sort()).toEqual(['currentCompany', 'currentTitle']);
    expect(snapshot._meta?.currentTitle).toEqual(provenance(newerScanTitle));
  });

  it('a losing observation cannot fill a field the group winner lacks', () => {
    const winnerName = observation(5, 'scan', T0 + 90 * DAY, { firstName: 'Dana', lastName: 'Whitfield' });
    const loserName = observation(4, 'visit', T0, {
      firstName: 'Dana',
      middleName: 'Jane',
      lastName: 'Whitfield',
      fullName: 'Dana Jane Whitfield',
    });
    for (const order of [
      [winnerName, loserName],
      [loserName, winnerName],
    ]) {
      const snapshot = foldAll(order);
      expect(snapshot).not.toHaveProperty('middleName');
      expect(snapshot).not.toHaveProperty('fullName');
      expect(snapshot._meta).not.toHaveProperty('middleName');
      expect(snapshot._meta).not.toHaveProperty('fullName');
      expect(snapshot._meta?.firstName?.observationId).toBe(5);
      expect(snapshot._meta?.lastName?.observationId).toBe(5);
    }
  });

  it('a lead cannot fill a gap in a group held by LinkedIn data', () => {
    const scan = observation(1, 'scan', T0, { firstName: 'Dana', lastName: 'Whitfield' });
    const lead = observation(2, 'lead', T0 + DAY, { middleName: 'Jane', phone: '+13105550158' });
    const snapshot = foldAll([scan, lead]);
    expect(snapshot).not.toHaveProperty('middleName');
    expect(snapshot.phone).toBe('+13105550158');
  });

  it('the location group moves as one: city, state and key never mix two observations', () => {
    const la = observation(1, 'visit', T0, LA);
    const sanMateoPartial = observation(2, 'scan', T0 + 40 * DAY, {
      location: 'San Mateo, California, United States',
      city: 'San Mateo',
      locationKey: 'san mateo|california|united states',
    });
    const snapshot = foldAll([la, sanMateoPartial]);
    expect(snapshot.city).toBe('San Mateo');
    expect(snapshot).not.toHaveProperty('countryCode');
    expect(snapshot).not.toHaveProperty('stateCode');
    expect(snapshot.locationKey).toBe('san mateo|california|united states');
  });

  it('fields outside every group are independent of each other', () => {
    const a = observation(1, 'visit', T0, { tags: ['ACME'], skills: ['Cloud Security', 'Identity'] });
    const b = observation(2, 'scan', T0 + 60 * DAY, { tags: ['Prospect'], skills: [] });
    const snapshot = foldAll([a, b]);
    expect(snapshot.tags).toEqual(['Prospect']);
    expect(snapshot.skills).toEqual(['Cloud Security', 'Identity']);
    expect(snapshot._meta?.tags?.observationId).toBe(2);
    expect(snapshot._meta?.skills?.observationId).toBe(1);
  });

  it('custom groups are honoured too', () => {
    const groups = [['website', 'domain']];
    let snapshot = foldContribution(
      {},
      { website: 'https://www.orchardcyber.example/', domain: 'orchardcyber.example', name: 'Orchard Cyber' },
      O1.origin,
      groups,
      POLICY,
    );
    snapshot = foldContribution(
      snapshot,
      { website: 'https://orchard.example/', name: '' },
      O3.origin,
      groups,
      POLICY,
    );
    expect(fieldsOf(snapshot)).toStrictEqual({ website: 'https://orchard.example/', name: 'Orchard Cyber' });
  });
});

describe('foldContribution: provenance', () => {
  it('records {observedAt, source, observationId} for every field, and only for present fields', () => {
    const snapshot = foldAll(HISTORY);
    const fields = Object.keys(fieldsOf(snapshot)).sort();
    expect(Object.keys(snapshot._meta ?? {}).sort()).toEqual(fields);
    expect(fields.length).toBeGreaterThan(20);
    for (const field of fields) {
      const meta = snapshot._meta![field]!;
      // The value is stored once, in the field; the API adds it back (withProvenanceValues).
      expect(Object.keys(meta).sort()).toEqual(['observationId', 'observedAt', 'source']);
      const source = HISTORY.find((o) => o.origin.observationId === meta.observationId)!;
      expect(source.fields[field]).toEqual(snapshot[field]);
      expect(meta).toEqual(provenance(source));
      expect(meta.observedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it("withProvenanceValues gives every _meta entry its field's value, for stored snapshots old and new", () => {
    const snapshot = foldAll(HISTORY);
    const shown = withProvenanceValues(snapshot);
    for (const field of Object.keys(fieldsOf(snapshot))) {
      expect(shown._meta?.[field]).toEqual({ value: snapshot[field], ...snapshot._meta![field] });
      expect(shown[field]).toBe(snapshot[field]);
    }
    expect(snapshot._meta!.fullName).not.toHaveProperty('value'); // the stored snapshot is left as it was
    expect(withProvenanceValues({})).toEqual({}); // nothing folded yet: no _meta to show
    // Written before values stopped being repeated: the field's value wins over a stale copy.
    const legacy = {
      fullName: 'Ada Lovelace',
      _meta: {
        fullName: {
          value: 'A. Lovelace',
          observedAt: '2025-07-01T00:00:00.000Z',
          source: 'visit',
          observationId: 3,
        },
      },
    } as Snapshot;
    expect(withProvenanceValues(legacy)._meta).toEqual({
      fullName: {
        value: 'Ada Lovelace',
        observedAt: '2025-07-01T00:00:00.000Z',
        source: 'visit',
        observationId: 3,
      },
    });
  });

  it('every present field of a group carries the same observation', () => {
    const snapshot = foldAll(HISTORY);
    for (const group of PERSON_FIELD_GROUPS) {
      const ids = new Set(group.filter((f) => f in snapshot).map((f) => snapshot._meta![f]!.observationId));
      expect(ids.size).toBeLessThanOrEqual(1);
    }
  });
});

describe('foldContribution: a realistic history', () => {
  const expectedFields = {
    // name group: O7 (scan, T0+50d, id 7) ties O6 (visit, T0+20d+30d, id 6) and wins on id: no middle name
    firstName: 'Dana',
    lastName: 'Whitfield',
    fullName: 'Dana Whitfield',
    // title group: O3 (scan, T0+45d) beats O1 (visit, T0+30d); O1's company id and URL are gone
    currentTitle: 'Chief Security Officer',
    currentCompany: 'Nettle Toys',
    seniorityLevel: 8,
    // location group: O7 (T0+50d) beats O1 (T0+30d) and O8 (T0+25d)
    ...SAN_MATEO,
    // connections group: O7 (T0+50d) beats O2 (T0+10d); O7 has no connectionsCapped
    connections: 480,
    tags: ['ACME'], // O1: O2 and O6 are empty, O4 and O5 are fill-only
    skills: ['Cloud Security', 'Identity', 'Zero Trust'], // O6 (T0+50d)
    summary: 'Security leader focused on pragmatic risk reduction.', // O1 (T0+30d) beats O8 (T0+25d)
    degree: 2, // O9 csv (T0+200d)
    email: 'dana@orchard.example', // O5 hubspot is newer than O4 lead
    phone: '+13105550158', // O4 lead, nobody else has one
    twitter: 'danawhitx', // O5
    picture: 'https://media.licdn.com/dms/image/v2/dana.jpg', // O8; O10's is blank
    notes: ['Met at RSA'], // O9; O6's {} is blank
    websites: ['https://whitfield.example'], // O10 lead fills
  };

  it('folds to the hand-computed snapshot', () => {
    const snapshot = foldAll(HISTORY);
    expect(fieldsOf(snapshot)).toStrictEqual(expectedFields);
    expect(snapshot._meta?.fullName?.observationId).toBe(7);
    expect(snapshot._meta?.currentTitle?.observationId).toBe(3);
    expect(snapshot._meta?.email?.source).toBe('hubspot');
    expect(snapshot._meta?.websites?.source).toBe('lead');
  });

  it('agrees with the reference implementation of the rules', () => {
    expect(foldAll(HISTORY)).toStrictEqual(referenceFold(HISTORY));
  });

  it('folds in place to the same snapshot, changing only the snapshot it is given', () => {
    const start: Snapshot = {};
    const before = foldAll(HISTORY.slice(0, 3));
    const kept = canonical(before);
    let inPlace = start;
    for (const { origin, fields } of HISTORY)
      inPlace = foldContribution(inPlace, fields, origin, PERSON_FIELD_GROUPS, POLICY, true);
    expect(inPlace).toBe(start);
    expect(canonical(inPlace)).toBe(canonical(foldAll(HISTORY)));
    foldContribution(before, HISTORY[9]!.fields, HISTORY[9]!.origin, PERSON_FIELD_GROUPS, POLICY);
    expect(canonical(before)).toBe(kept); // the copying fold leaves its input alone
  });
});

describe('order independence', () => {
  it('every one of the 5040 orders of seven observations folds to the same snapshot', () => {
    const seven = [O1, O2, O3, O4, O6, O7, O9];
    const expected = canonical(referenceFold(seven));
    const outcomes = new Map<string, number>();
    let count = 0;
    for (const order of permutations(seven)) {
      const outcome = canonical(foldAll(order));
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      count += 1;
    }
    expect(count).toBe(5040);
    expect([...outcomes.keys()]).toEqual([expected]);
  });

  it('200 seeded random orders of all ten observations fold to the same snapshot', () => {
    const random = mulberry32(0xd0c5);
    const expected = foldAll(HISTORY);
    const orders = new Set<string>();
    for (let i = 0; i < 200; i += 1) {
      const order = shuffled(HISTORY, random);
      orders.add(order.map((o) => o.origin.observationId).join(','));
      expect(foldAll(order)).toStrictEqual(expected);
    }
    expect(orders.size).toBeGreaterThan(190); // the PRNG really produced different orders
  });

  it('random histories agree with the reference implementation in every order', () => {
    const random = mulberry32(20250703);
    const sources = ['visit', 'scan', 'csv', 'lead', 'hubspot'];
    const titles = ['CISO', 'VP Security', '', 'Advisor', '  '];
    const names = [
      { firstName: 'Dana', lastName: 'Whitfield' },
      { firstName: 'Dana', middleName: 'J.', lastName: 'Whitfield', fullName: 'Dana J. Whitfield' },
      { firstName: '', lastName: '' },
      {},
    ];
    for (let history = 0; history < 40; history += 1) {
      const size = 6 + Math.floor(random() * 5);
      const observations = Array.from({ length: size }, (_, i) =>
        observation(
          i + 1 + Math.floor(random() * 3) * 100,
          sources[Math.floor(random() * sources.length)]!,
          // coarse times so ties on effective time happen
          T0 + Math.floor(random() * 8) * 15 * DAY,
          {
            ...names[Math.floor(random() * names.length)]!,
            currentTitle: titles[Math.floor(random() * titles.length)],
            currentCompany: random() < 0.5 ? 'Orchard Cyber' : '',
            tags: random() < 0.5 ? [] : [`tag-${i}`],
            skills: random() < 0.3 ? null : ['Cloud Security', `skill-${i}`],
          },
        ),
      );
      const expected = referenceFold(observations);
      for (let order = 0; order < 20; order += 1) {
        expect(foldAll(shuffled(observations, random))).toStrictEqual(expected);
      }
    }
  });

  it('folding incrementally through stored JSON (as companies and locations do) gives the same snapshot', () => {
    const random = mulberry32(7);
    const expected = canonical(foldAll(HISTORY));
    for (let i = 0; i < 50; i += 1) {
      let stored = '{}';
      for (const { origin, fields } of shuffled(HISTORY, random)) {
        const current = JSON.parse(stored) as Snapshot;
        stored = canonical(foldContribution(current, fields, origin, PERSON_FIELD_GROUPS, POLICY));
      }
      expect(stored).toBe(expected);
    }
  });
});

describe('foldSnapshots', () => {
  it('merging two folded sets equals folding their union (seeded random splits, both directions)', () => {
    const random = mulberry32(42);
    const expected = foldAll(HISTORY);
    for (let i = 0; i < 100; i += 1) {
      const a: Observation[] = [];
      const b: Observation[] = [];
      for (const o of shuffled(HISTORY, random)) {
        const where = random();
        if (where < 0.45) a.push(o);
        else if (where < 0.9) b.push(o);
        else {
          // an observation both entities saw
          a.push(o);
          b.push(o);
        }
      }
      const snapshotA = foldAll(a);
      const snapshotB = foldAll(b);
      expect(foldSnapshots(snapshotA, snapshotB, PERSON_FIELD_GROUPS, POLICY)).toStrictEqual(expected);
      expect(foldSnapshots(snapshotB, snapshotA, PERSON_FIELD_GROUPS, POLICY)).toStrictEqual(expected);
    }
  });

  it('works on snapshots read back from jsonb', () => {
    const a = JSON.parse(canonical(foldAll([O1, O4, O8, O9]))) as Snapshot;
    const b = JSON.parse(canonical(foldAll([O2, O3, O5, O6, O7, O10]))) as Snapshot;
    expect(canonical(foldSnapshots(a, b, PERSON_FIELD_GROUPS, POLICY))).toBe(canonical(foldAll(HISTORY)));
  });

  it('takes each group from the stronger side as a whole', () => {
    const older = foldAll([O1]); // visit: name, title with company id, location LA
    const newer = foldAll([O3, O7]); // scans: newer title without company id, name, San Mateo
    const merged = foldSnapshots(older, newer, PERSON_FIELD_GROUPS, POLICY);
    expect(merged).toMatchObject({
      currentTitle: 'Chief Security Officer',
      currentCompany: 'Nettle Toys',
      city: 'San Mateo',
      tags: ['ACME'],
      summary: 'Security leader focused on pragmatic risk reduction.',
    });
    expect(merged).not.toHaveProperty('currentCompanyLinkedinId');
    expect(merged).not.toHaveProperty('companyProfileUrl');
    expect(merged._meta?.tags?.observationId).toBe(1);
    expect(merged._meta?.city?.observationId).toBe(7);
  });

  it('with an empty side returns the other side', () => {
    const snapshot = foldAll(HISTORY);
    expect(foldSnapshots(snapshot, {}, PERSON_FIELD_GROUPS, POLICY)).toStrictEqual(snapshot);
    expect(foldSnapshots({}, snapshot, PERSON_FIELD_GROUPS, POLICY)).toStrictEqual(snapshot);
  });
});

describe('purity', () => {
  it('foldContribution mutates neither the snapshot, the contribution, the origin nor the groups', () => {
    const snapshot = deepFreeze(foldAll([O1, O2, O8]));
    const contribution = deepFreeze(JSON.parse(JSON.stringify(O7.fields)) as Record<string, unknown>);
    const origin = deepFreeze({ ...O7.origin });
    const groups = deepFreeze(PERSON_FIELD_GROUPS.map((group) => [...group]));
    const before = JSON.stringify({ snapshot, contribution, origin, groups });
    const next = foldContribution(snapshot, contribution, origin, groups, POLICY);
    expect(JSON.stringify({ snapshot, contribution, origin, groups })).toBe(before);
    expect(next).not.toBe(snapshot);
    expect(next._meta).not.toBe(snapshot._meta);
    expect(next.city).toBe('San Mateo');
    expect(snapshot.city).toBe('Los Angeles');
  });

  it('foldSnapshots mutates neither input', () => {
    const a = deepFreeze(foldAll([O1, O4, O8]));
    const b = deepFreeze(foldAll([O3, O6, O7]));
    const before = JSON.stringify({ a, b });
    const merged = foldSnapshots(a, b, PERSON_FIELD_GROUPS, POLICY);
    expect(JSON.stringify({ a, b })).toBe(before);
    expect(merged).not.toBe(a);
    expect(merged.fullName).toBe('Dana Whitfield');
    expect(merged._meta?.fullName?.observationId).toBe(7);
  });

  it('sortedSnapshot does not mutate its input', () => {
    const snapshot = deepFreeze(foldAll(HISTORY));
    const before = JSON.stringify(snapshot);
    const sorted = sortedSnapshot(snapshot);
    expect(JSON.stringify(snapshot)).toBe(before);
    expect(sorted).not.toBe(snapshot);
  });

  it('folding the same inputs twice gives equal results', () => {
    expect(foldAll(HISTORY)).toStrictEqual(foldAll(HISTORY));
  });
});

describe('sortedSnapshot', () => {
  it('sorts the fields, puts _meta last and sorts its keys', () => {
    const snapshot = foldAll([O7, O1]);
    const sorted = sortedSnapshot(snapshot);
    const keys = Object.keys(sorted);
    expect(keys[keys.length - 1]).toBe('_meta');
    const fields = keys.slice(0, -1);
    expect(fields).toEqual([...fields].sort());
    expect(fields).toEqual(Object.keys(fieldsOf(snapshot)).sort());
    const metaKeys = Object.keys(sorted._meta ?? {});
    expect(metaKeys).toEqual([...metaKeys].sort());
    expect(sorted).toStrictEqual(snapshot);
  });

  it('adds an empty _meta when there is none', () => {
    const sorted = sortedSnapshot({ zeta: 1, alpha: 'a' });
    expect(Object.keys(sorted)).toEqual(['alpha', 'zeta', '_meta']);
    expect(sorted._meta).toEqual({});
  });

  it('is idempotent and gives the same JSON for any insertion order', () => {
    const a = foldAll([O1, O2, O3]);
    const b = foldAll([O3, O2, O1]);
    expect(JSON.stringify(a)).not.toBe(JSON.stringify(b)); // insertion orders really differ
    expect(JSON.stringify(sortedSnapshot(a))).toBe(JSON.stringify(sortedSnapshot(b)));
    expect(JSON.stringify(sortedSnapshot(sortedSnapshot(a)))).toBe(JSON.stringify(sortedSnapshot(a)));
  });
});
