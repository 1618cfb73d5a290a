import { randomUUID } from 'node:crypto';
import type { Express } from 'express';
import request from 'supertest';
import { contributionOf } from '../src/snapshots/contributions';
import { leadContribution } from '../src/sources/leads';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { distinctVisit } from './helpers/fixtures';

const OPTIONS = { defaultPhoneCountry: 'US' };

function leadObservation(lead: Record<string, unknown>) {
  return { id: 1, source: 'lead', kind: 'lead', payload: { lead_id: randomUUID(), lead } };
}

describe('leadContribution: a lead in the shape the folds consume', () => {
  it('is what contributionOf answers for source lead', () => {
    const observation = leadObservation({ email: 'Ann@Mail.LV', firstName: 'Ann' });
    expect(contributionOf(observation, OPTIONS)).toEqual(leadContribution(observation, OPTIONS));
    expect(contributionOf(observation, OPTIONS).source).toBe('lead');
  });

  it('maps names, e-mail, phone (E.164 in the lead country) and country', () => {
    const contribution = leadContribution(
      leadObservation({
        firstName: ' Anna ',
        lastName: 'Berzina',
        email: ' Anna.Berzina@Mail.LV ',
        phone: '29 123 456',
        country: 'lv',
      }),
      OPTIONS,
    );
    expect(contribution.identifiers).toEqual([
      { kind: 'email', value: 'anna.berzina@mail.lv', display: 'Anna.Berzina@Mail.LV', field: 'Email' },
    ]);
    expect(contribution.person).toMatchObject({
      firstName: 'Anna',
      lastName: 'Berzina',
      fullName: 'Anna Berzina',
      email: 'anna.berzina@mail.lv',
      phone: '+37129123456',
      country: 'Latvia',
      countryCode: 'LV',
    });
    expect(contribution.location).toMatchObject({ country: 'Latvia', countryCode: 'LV' });
    expect(contribution.company).toBeNull();
  });

  it('a phone without a country code uses DEFAULT_PHONE_COUNTRY when the lead has no usable country', () => {
    const person = (lead: Record<string, unknown>, defaultPhoneCountry = 'US') =>
      leadContribution(leadObservation(lead), { defaultPhoneCountry }).person;
    expect(person({ phone: '(310) 555-0158' }).phone).toBe('+13105550158');
    expect(person({ phone: '020 7946 0958' }, 'GB').phone).toBe('+442079460958');
    expect(person({ phone: '020 7946 0958', country: 'nowhere land' }, 'GB').phone).toBe('+442079460958');
    expect(person({ phone: '+371 29 123 456', country: 'US' }).phone).toBe('+37129123456');
    expect(person({ phone: 37129123456, country: 'LV' }).phone).toBe('+37129123456');
  });

  it('country: an ISO code, a country name or a place; a value naming no country is ignored', () => {
    const location = (country: unknown) => leadContribution(leadObservation({ country }), OPTIONS).location;
    expect(location('US')).toMatchObject({ country: 'United States', countryCode: 'US' });
    expect(location('Germany')).toMatchObject({ country: 'Germany', countryCode: 'DE' });
    expect(location('Riga, Latvia')).toMatchObject({ city: 'Riga', countryCode: 'LV' });
    expect(location('XX')).toBeNull();
    expect(location('Springfield')).toBeNull();
    expect(location(42)).toBeNull();
  });

  it('finds LinkedIn URLs in any string field, unknown keys and free text included', () => {
    const { identifiers } = leadContribution(
      leadObservation({
        email: 'lin@mail.lv',
        description: 'my profile: linkedin.com/in/lin-kedin-42/ thanks',
        extra: {
          links: ['https://www.linkedin.com/sales/lead/ACwAAAZ1Yk0Bq3cD7Ef9Gh2Ij4Kl6Mn8Op0Qr,NAME_SEARCH,x'],
        },
      }),
      OPTIONS,
    );
    expect(identifiers.map(({ kind, value }) => [kind, value])).toEqual([
      ['sales_nav_id', 'acwaaaz1yk0bq3cd7ef9gh2ij4kl6mn8op0qr'],
      ['username', 'lin-kedin-42'],
      ['profile_url', 'https://www.linkedin.com/in/lin-kedin-42'],
      ['sales_url', 'https://www.linkedin.com/sales/lead/acwaaaz1yk0bq3cd7ef9gh2ij4kl6mn8op0qr'],
      ['email', 'lin@mail.lv'],
    ]);
  });

  it('domain (the landing site) never makes a company; an explicit company and title do', () => {
    expect(leadContribution(leadObservation({ domain: 'acme.com' }), OPTIONS).company).toBeNull();
    const withCompany = leadContribution(
      leadObservation({ company: 'Acme Corp', title: 'VP Sales', domain: 'landing.example' }),
      OPTIONS,
    );
    expect(withCompany.company).toMatchObject({ name: 'Acme Corp' });
    expect(withCompany.person).toMatchObject({ currentCompany: 'Acme Corp', currentTitle: 'VP Sales' });
  });

  it('a form that sends only `name` is split; junk e-mails give no identifier; nothing throws', () => {
    expect(leadContribution(leadObservation({ name: 'Mary Ann Smith' }), OPTIONS).person).toMatchObject({
      firstName: 'Mary',
      lastName: 'Ann Smith',
    });
    expect(leadContribution(leadObservation({ email: 'test@example.com' }), OPTIONS).identifiers).toEqual([]);
    for (const payload of [null, 42, 'x', [], { lead: null }, { lead: [1, 2] }, { lead: { email: {} } }]) {
      expect(() => leadContribution({ id: 1, source: 'lead', kind: 'lead', payload }, OPTIONS)).not.toThrow();
    }
  });
});

describe('leads join the canonical people', () => {
  let db: TestDatabase;
  let app: Express;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = buildTestApp(db, {}, { phase2: true }).app;
  });
  afterAll(() => db.drop());

  /** A person seeded by a Dux-Soup visit: its own e-mail, no phone. */
  async function seedVisit(email: string) {
    const visit = distinctVisit() as { data: Record<string, unknown> };
    visit.data.Email = email;
    visit.data.Phone = '';
    const res = await request(app).post('/api/webhook').send(visit);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('processed');
    return { personId: res.body.person_id as string, data: visit.data };
  }

  async function postLead(body: Record<string, unknown>) {
    const res = await request(app).post('/api/lead').send(body);
    expect(res.status).toBe(201);
    const { rows } = await db.pool.query<{ person_id: string | null; status: string }>(
      'SELECT o.person_id, o.status FROM leads l JOIN observations o ON o.id = l.observation_id WHERE l.id = $1',
      [res.body.lead_id],
    );
    return { leadId: res.body.lead_id as string, ...rows[0]! };
  }

  async function person(id: string) {
    const res = await request(app).get(`/api/people/${id}`);
    expect(res.status).toBe(200);
    return res.body.person as {
      id: string;
      aliases: { type: string; value: string }[];
      snapshot: Record<string, unknown> & { _meta: Record<string, { source: string }> };
      leads: Record<string, unknown>[];
    };
  }

  it('by e-mail: the lead joins the visit person; lead values fill only what is empty', async () => {
    const email = `joined-${randomUUID().slice(0, 8)}@corp.lv`;
    const seeded = await seedVisit(email);
    const lead = await postLead({
      email: `  ${email.toUpperCase()} `,
      firstName: 'Someone',
      lastName: 'Else',
      phone: '29 123 456',
      country: 'LV',
      offer: 'Gold',
      sourcetype: 'web',
    });
    expect(lead).toMatchObject({ status: 'processed', person_id: seeded.personId });

    const view = await person(seeded.personId);
    expect(view.snapshot).toMatchObject({
      firstName: seeded.data['First Name'],
      email,
      phone: '+37129123456',
      countryCode: 'US',
    });
    expect(view.snapshot._meta.phone!.source).toBe('lead');
    expect(view.snapshot._meta.firstName!.source).toBe('visit');
    expect(view.snapshot._meta.country!.source).toBe('visit');
    expect(view.leads).toEqual([
      {
        id: lead.leadId,
        status: 'new',
        createdAt: expect.any(String),
        assignedTo: null,
        email: email.toUpperCase(),
        firstName: 'Someone',
        lastName: 'Else',
        phone: '29 123 456',
        country: 'LV',
        offer: 'Gold',
        sourcetype: 'web',
      },
    ]);
  });

  it('by LinkedIn URL in an unknown key: the lead joins the visit person', async () => {
    const seeded = await seedVisit(`url-${randomUUID().slice(0, 8)}@corp.lv`);
    const profile = String(seeded.data.Profile).replace('https://www.', '') + '/';
    const otherEmail = `other-${randomUUID().slice(0, 8)}@mail.lv`;
    const lead = await postLead({ email: otherEmail, linkedin: profile });
    expect(lead.person_id).toBe(seeded.personId);
    const view = await person(seeded.personId);
    expect(view.leads.map((item) => item.id)).toEqual([lead.leadId]);
    // The visit's e-mail stays the person's e-mail; the lead's becomes one more alias of the same person.
    expect(view.snapshot.email).toBe(seeded.data.Email);
    expect(view.aliases).toContainEqual({ type: 'email', value: otherEmail });
  });

  it('a lead-only person is created, and a later visit outranks its values', async () => {
    const email = `first-lead-${randomUUID().slice(0, 8)}@corp.lv`;
    const lead = await postLead({ email, firstName: 'Jon', lastName: 'Leadname', country: 'Germany' });
    expect(lead.status).toBe('processed');
    const before = await person(lead.person_id!);
    expect(before.snapshot).toMatchObject({ firstName: 'Jon', country: 'Germany' });

    const seeded = await seedVisit(email);
    expect(seeded.personId).toBe(lead.person_id);
    const after = await person(lead.person_id!);
    expect(after.snapshot).toMatchObject({ firstName: seeded.data['First Name'], countryCode: 'US' });
    expect(after.snapshot._meta.firstName!.source).toBe('visit');
    expect(after.leads.map((item) => item.id)).toEqual([lead.leadId]);
  });

  it('a lead with no usable identifier is stored as a lead but joins nobody (observation skipped)', async () => {
    const lead = await postLead({ firstName: 'Phone', phone: '+371 29 000 000' });
    expect(lead).toMatchObject({ status: 'skipped', person_id: null });
  });

  it('a person without leads has no leads key (like mergedFrom)', async () => {
    const seeded = await seedVisit(`noleads-${randomUUID().slice(0, 8)}@corp.lv`);
    expect(Object.keys(await person(seeded.personId))).not.toContain('leads');
  });
});
