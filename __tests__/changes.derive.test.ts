import fc from 'fast-check';
import type { ChangePoint, LatestChange, PersonChange } from '../src/intelligence/changes';
import { changePointOf, deriveChanges, keepsChanges } from '../src/intelligence/changes';
import { contributionOf, PERSON_FIELD_GROUPS } from '../src/snapshots/contributions';
import type { Snapshot } from '../src/snapshots/fold';
import { foldContribution } from '../src/snapshots/fold';

const SETTINGS = { defaultPhoneCountry: 'US' };
const POLICY = { visitWindowMs: 30 * 86_400_000 };
const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

interface Seen {
  id: number;
  day: number;
  title?: string;
  company?: string;
  companyId?: string | null;
  kind?: 'visit' | 'scan';
  source?: string;
}

/** A stored observation as the person fold sees it: a Dux-Soup visit or scan payload and its company link. */
function observation(seen: Seen) {
  const kind = seen.kind ?? 'visit';
  const at = T0 + seen.day * DAY;
  const data: Record<string, unknown> = {
    [kind === 'visit' ? 'VisitTime' : 'ScanTime']: at,
    Profile: 'https://www.linkedin.com/in/jordan-avery-1a2b3c',
    'First Name': 'Jordan',
    'Last Name': 'Avery',
    ...(seen.title === undefined ? {} : { Title: seen.title }),
    ...(seen.company === undefined ? {} : { Company: seen.company }),
  };
  const row = {
    id: seen.id,
    source: seen.source ?? 'duxsoup',
    kind,
    payload: { type: kind, event: 'create', data },
    observed_at: new Date(at),
    company_id: seen.company === undefined ? null : (seen.companyId ?? null),
  };
  return { row, contribution: contributionOf(row, SETTINGS) };
}

function point(seen: Seen): ChangePoint | null {
  const { row, contribution } = observation(seen);
  return changePointOf(row, contribution);
}

function changes(...seen: Seen[]): PersonChange[] {
  return deriveChanges(seen.map(point));
}

/** The person snapshot the real fold builds from these observations. */
function snapshotOf(seen: readonly Seen[]): Snapshot {
  let snapshot: Snapshot = {};
  for (const item of seen) {
    const { row, contribution } = observation(item);
    const fields = { ...contribution.person };
    if (row.company_id && fields.currentCompany !== undefined) fields.companyId = row.company_id;
    const origin = { observationId: row.id, source: contribution.source, observedAt: row.observed_at };
    snapshot = foldContribution(snapshot, fields, origin, PERSON_FIELD_GROUPS, POLICY);
  }
  return snapshot;
}

const ACME = '11111111-1111-4111-8111-111111111111';
const GLOBEX = '22222222-2222-4222-8222-222222222222';

describe('change types', () => {
  it('one observation, or the same job seen again, is no change (case, spacing, punctuation, legal suffix)', () => {
    expect(changes({ id: 1, day: 0, title: 'Sales Manager', company: 'Acme' })).toEqual([]);
    expect(
      changes(
        { id: 1, day: 0, title: 'VP, Sales', company: 'Google LLC' },
        { id: 2, day: 5, title: 'vp  sales', company: 'google llc' },
        { id: 3, day: 9, title: 'VP Sales', company: 'Google' },
      ),
    ).toEqual([]);
  });

  it('a new company is a company_change recording both sides with their tiers', () => {
    const [change, ...rest] = changes(
      { id: 1, day: 0, title: 'Sales Manager', company: 'Acme', companyId: ACME },
      { id: 2, day: 40, title: 'VP of Sales', company: 'Globex', companyId: GLOBEX },
    );
    expect(rest).toEqual([]);
    expect(change).toEqual({
      type: 'company_change',
      observationId: 2,
      changedAt: new Date(T0 + 40 * DAY),
      previousObservationId: 1,
      previousObservedAt: new Date(T0),
      before: {
        title: 'Sales Manager',
        company: 'Acme',
        companyId: ACME,
        seniorityLevel: 3,
        seniorityTier: 'Manager',
        department: 'sales',
      },
      after: {
        title: 'VP of Sales',
        company: 'Globex',
        companyId: GLOBEX,
        seniorityLevel: 5,
        seniorityTier: 'VP',
        department: 'sales',
      },
    });
  });

  it('Manager → Director is a title_change (one tier), Director → VP a promotion, at the same company', () => {
    const found = changes(
      { id: 1, day: 0, title: 'Sales Manager', company: 'Acme', companyId: ACME },
      { id: 2, day: 200, title: 'Director of Sales', company: 'Acme', companyId: ACME },
      { id: 3, day: 500, title: 'VP of Sales', company: 'Acme', companyId: ACME },
    );
    expect(
      found.map((c) => [c.type, c.observationId, c.before.seniorityTier, c.after.seniorityTier]),
    ).toEqual([
      ['title_change', 2, 'Manager', 'Manager'],
      ['promotion', 3, 'Manager', 'VP'],
    ]);
  });

  it('Senior Software Engineer → Engineering Manager → Head of Engineering → CTO are promotions', () => {
    const found = changes(
      { id: 1, day: 0, title: 'Senior Software Engineer', company: 'Acme' },
      { id: 2, day: 100, title: 'Engineering Manager', company: 'Acme' },
      { id: 3, day: 200, title: 'Head of Engineering', company: 'Acme' },
      { id: 4, day: 300, title: 'Chief Technology Officer', company: 'Acme' },
    );
    expect(found.map((c) => [c.type, c.before.seniorityLevel, c.after.seniorityLevel])).toEqual([
      ['promotion', 1, 3],
      ['promotion', 3, 5],
      ['promotion', 5, 7],
    ]);
  });

  it('same tier in another department is a lateral_move; in the same or an unknown department a title_change', () => {
    expect(
      changes(
        { id: 1, day: 0, title: 'Marketing Manager', company: 'Acme' },
        { id: 2, day: 30, title: 'Sales Manager', company: 'Acme' },
      ).map((c) => [c.type, c.before.department, c.after.department]),
    ).toEqual([['lateral_move', 'marketing', 'sales']]);
    expect(
      changes(
        { id: 1, day: 0, title: 'Customer Success Manager', company: 'Acme' },
        { id: 2, day: 30, title: 'Director, Customer Success', company: 'Acme' },
      ).map((c) => c.type),
    ).toEqual(['title_change']);
    expect(
      changes(
        { id: 1, day: 0, title: 'Product Manager', company: 'Acme' },
        { id: 2, day: 30, title: 'Program Manager', company: 'Acme' },
      ).map((c) => [c.type, c.after.department]),
    ).toEqual([['title_change', null]]);
  });

  it('a lower tier at the same company is a title_change with both tiers, not a promotion', () => {
    const [change] = changes(
      { id: 1, day: 0, title: 'VP of Sales', company: 'Acme' },
      { id: 2, day: 30, title: 'Sales Manager', company: 'Acme' },
    );
    expect([change?.type, change?.before.seniorityLevel, change?.after.seniorityLevel]).toEqual([
      'title_change',
      5,
      3,
    ]);
  });

  it('company ids decide when both sides have one: a rename is no change, a namesake is', () => {
    expect(
      changes(
        { id: 1, day: 0, title: 'Engineer', company: 'Facebook', companyId: ACME },
        { id: 2, day: 9, title: 'Engineer', company: 'Meta', companyId: ACME },
      ),
    ).toEqual([]);
    expect(
      changes(
        { id: 1, day: 0, title: 'Engineer', company: 'Acme', companyId: ACME },
        { id: 2, day: 9, title: 'Engineer', company: 'Acme', companyId: GLOBEX },
      ).map((c) => c.type),
    ).toEqual(['company_change']);
    // Without an id on one side the names decide, and the id is carried: the later namesake is a change.
    expect(
      changes(
        { id: 1, day: 0, title: 'Engineer', company: 'Acme', companyId: ACME },
        { id: 2, day: 5, title: 'Engineer', company: 'ACME' },
        { id: 3, day: 9, title: 'Engineer', company: 'Acme', companyId: GLOBEX },
      ).map((c) => [c.type, c.observationId]),
    ).toEqual([['company_change', 3]]);
  });

  it('a missing title or company is carried forward and never counts as a difference', () => {
    const found = changes(
      { id: 1, day: 0, title: 'Sales Manager', company: 'Acme' },
      { id: 2, day: 10, title: 'Sales Manager' },
      { id: 3, day: 20, company: 'Acme' },
      { id: 4, day: 30, title: 'Account Executive' },
      { id: 5, day: 40, company: 'Globex' },
    );
    expect(found.map((c) => [c.type, c.observationId, c.before.company, c.after.title])).toEqual([
      ['title_change', 4, 'Acme', 'Account Executive'],
      ['company_change', 5, 'Acme', 'Account Executive'],
    ]);
  });

  it('placeholder titles, observations with neither field and fill-only sources are not points', () => {
    expect(point({ id: 1, day: 0, title: 'N/A' })).toBeNull();
    expect(point({ id: 1, day: 0 })).toBeNull();
    expect(point({ id: 1, day: 0, title: 'Sales Manager', company: 'Acme', source: 'hubspot' })).toBeNull();
    expect(point({ id: 1, day: 0, title: 'Sales Manager', company: 'Acme', source: 'lead' })).toBeNull();
    expect(
      changes(
        { id: 1, day: 0, title: 'Sales Manager', company: 'Acme' },
        { id: 2, day: 10, title: 'N/A', company: 'Acme' },
        { id: 3, day: 20, title: 'Director of Sales', company: 'Globex', source: 'hubspot' },
        { id: 4, day: 30, title: 'sales manager', company: 'Acme' },
      ),
    ).toEqual([]);
  });
});

describe('time order, not arrival order', () => {
  const history: Seen[] = [
    { id: 10, day: 0, title: 'Account Executive', company: 'Acme', companyId: ACME },
    { id: 11, day: 100, title: 'Sales Manager', company: 'Acme', companyId: ACME, kind: 'scan' },
    { id: 12, day: 300, title: 'VP of Sales', company: 'Globex', companyId: GLOBEX },
  ];

  it('a late-arriving older observation of an old job slots into history: no change back', () => {
    const before = deriveChanges(history.map(point));
    expect(before.map((c) => c.type)).toEqual(['promotion', 'company_change']);
    const late = { id: 99, day: 50, title: 'Account Executive', company: 'Acme', companyId: ACME };
    const after = deriveChanges([...history, late].map(point));
    expect(after.map((c) => [c.type, c.observationId, c.after.title])).toEqual([
      ['promotion', 11, 'Sales Manager'],
      ['company_change', 12, 'VP of Sales'],
    ]);
    expect(after[0]?.previousObservationId).toBe(99);
  });

  it('equal observation times are ordered by observation id', () => {
    const found = changes(
      { id: 2, day: 7, title: 'Director of Sales', company: 'Acme' },
      { id: 1, day: 7, title: 'Sales Manager', company: 'Acme' },
    );
    expect(found.map((c) => [c.observationId, c.previousObservationId])).toEqual([[2, 1]]);
  });

  it('any arrival order gives the same changes (property)', () => {
    const titles = [
      'Sales Manager',
      'Director of Sales',
      'VP of Sales',
      'Marketing Manager',
      'Engineer',
      undefined,
    ];
    const companies = [
      ['Acme', ACME],
      ['Globex', GLOBEX],
      ['ACME Inc.', null],
      [undefined, null],
    ] as const;
    const seen = fc.record({
      day: fc.integer({ min: 0, max: 60 }),
      title: fc.constantFrom(...titles),
      company: fc.constantFrom(...companies),
      kind: fc.constantFrom('visit' as const, 'scan' as const),
    });
    fc.assert(
      fc.property(
        fc.array(seen, { minLength: 1, maxLength: 8 }),
        fc.infiniteStream(fc.nat()),
        (items, seeds) => {
          const observations = items.map((item, index) => ({
            id: index + 1,
            day: item.day,
            title: item.title,
            company: item.company[0],
            companyId: item.company[1],
            kind: item.kind,
          }));
          const points = observations.map(point);
          const expected = JSON.stringify(deriveChanges(points));
          const shuffled = [...points];
          for (let i = shuffled.length - 1; i > 0; i -= 1) {
            const j = seeds.next().value % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          expect(JSON.stringify(deriveChanges(shuffled))).toBe(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('keepsChanges (the incremental write path)', () => {
  const latestOf = (found: PersonChange[]): LatestChange | null => {
    const last = found[found.length - 1];
    return last ? { observationId: last.observationId, changedAt: last.changedAt, after: last.after } : null;
  };

  it('a later observation of the current job keeps the changes; a new job or an older one does not', () => {
    const history: Seen[] = [
      { id: 1, day: 0, title: 'Sales Manager', company: 'Acme', companyId: ACME },
      { id: 2, day: 50, title: 'VP of Sales', company: 'Acme', companyId: ACME },
    ];
    const latest = latestOf(changes(...history));
    const snapshot = snapshotOf(history);
    expect(
      keepsChanges(
        point({ id: 3, day: 60, title: 'vp of sales', company: 'Acme', companyId: ACME }),
        latest,
        snapshot,
      ),
    ).toBe(true);
    expect(
      keepsChanges(
        point({ id: 3, day: 60, title: 'VP of Sales', company: 'Globex', companyId: GLOBEX }),
        latest,
        snapshot,
      ),
    ).toBe(false);
    expect(
      keepsChanges(
        point({ id: 3, day: 40, title: 'VP of Sales', company: 'Acme', companyId: ACME }),
        latest,
        snapshot,
      ),
    ).toBe(false);
    expect(keepsChanges(point({ id: 3, day: 60 }), latest, snapshot)).toBe(true);
  });

  it('without changes, an observation matching the snapshot keeps them wherever it falls', () => {
    const history: Seen[] = [
      { id: 1, day: 10, title: 'Sales Manager', company: 'Acme', companyId: ACME },
      { id: 2, day: 20, title: 'Sales Manager', company: 'Acme', companyId: ACME, kind: 'scan' },
    ];
    const snapshot = snapshotOf(history);
    expect(
      keepsChanges(
        point({ id: 3, day: 0, title: 'Sales Manager', company: 'Acme', companyId: ACME }),
        null,
        snapshot,
      ),
    ).toBe(true);
    expect(
      keepsChanges(
        point({ id: 3, day: 30, title: 'Director of Sales', company: 'Acme', companyId: ACME }),
        null,
        snapshot,
      ),
    ).toBe(false);
    expect(
      keepsChanges(
        point({ id: 3, day: 30, title: 'Sales Manager', company: 'Acme', companyId: ACME }),
        null,
        {},
      ),
    ).toBe(false);
  });

  it('is never wrong: when it says "keeps", re-deriving with the new observation gives the same changes (property)', () => {
    const titles = ['Sales Manager', 'sales manager', 'Director of Sales', 'VP of Sales', 'N/A', undefined];
    // As Phase 2 links them: every real name has a company id (namesakes and renames included), placeholders none.
    const companies = [
      ['Acme', ACME],
      ['ACME Inc.', ACME],
      ['Acme', GLOBEX],
      ['Globex', GLOBEX],
      ['Meta', ACME],
      ['Self-employed', null],
      [undefined, null],
    ] as const;
    const seen = fc.record({
      day: fc.integer({ min: 0, max: 90 }),
      title: fc.constantFrom(...titles),
      company: fc.constantFrom(...companies),
      kind: fc.constantFrom('visit' as const, 'scan' as const),
      source: fc.constantFrom('duxsoup', 'duxsoup', 'duxsoup', 'hubspot'),
    });
    let kept = 0;
    fc.assert(
      fc.property(fc.array(seen, { minLength: 1, maxLength: 7 }), seen, (items, next) => {
        const toSeen = (item: typeof next, id: number): Seen => ({
          id,
          day: item.day,
          title: item.title,
          company: item.company[0],
          companyId: item.company[1],
          kind: item.kind,
          source: item.source,
        });
        const history = items.map((item, index) => toSeen(item, index + 1));
        const incoming = toSeen(next, history.length + 1);
        const existing = changes(...history);
        if (!keepsChanges(point(incoming), latestOf(existing), snapshotOf(history))) return;
        kept += 1;
        expect(JSON.stringify(changes(...history, incoming))).toBe(JSON.stringify(existing));
      }),
      { numRuns: Number(process.env.CHANGES_PROPERTY_RUNS ?? 3000) },
    );
    expect(kept).toBeGreaterThan(100);
  });
});
