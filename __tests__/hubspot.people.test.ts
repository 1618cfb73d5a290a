import type { Express } from 'express';
import request from 'supertest';
import { createLogger } from '../src/logger';
import type { ObservationProcessor } from '../src/ingest/processor';
import type { JobName, RunnerDeps } from '../src/sources/hubspot';
import { HubspotClient, runToEnd } from '../src/sources/hubspot';
import { hubspotContribution } from '../src/sources/hubspot/contribution';
import { contributionOf } from '../src/snapshots/contributions';
import { buildTestApp } from './helpers/app';
import type { TestDatabase } from './helpers/database';
import { createTestDatabase } from './helpers/database';
import { fixture } from './helpers/fixtures';
import type { HubspotStandIn } from './helpers/hubspot-standin';
import { startHubspotStandIn, testClientOptions } from './helpers/hubspot-standin';

const OPTIONS = { defaultPhoneCountry: 'US' };
const DANA_EMAIL = 'dana@whitfield.example';
const ALEX_PROFILE = 'https://www.linkedin.com/in/alex-moreno-hmlkgf4z/';

describe('the HubSpot contribution', () => {
  const observation = (properties: Record<string, string | null>, pushed: Record<string, string> = {}) => ({
    id: 1,
    source: 'hubspot',
    kind: 'contact',
    payload: { hubspot: { id: '101', properties: { hs_object_id: '101', ...properties } }, pushed },
  });

  it('maps a contact onto person fields and identifiers: e-mail, LinkedIn URLs, phone in E.164, the contact id last', () => {
    const contribution = hubspotContribution(
      observation({
        email: ' Jo.Doe@Acme-Mail.IO ',
        firstname: 'Jo',
        lastname: 'Doe',
        phone: '020 7946 0958',
        jobtitle: 'VP of Sales',
        company: 'Acme Ltd',
        city: 'London',
        state: 'England',
        country: 'GB',
        hs_linkedin_url: 'linkedin.com/in/jo-doe-1234/',
        custom_linkedin_sales:
          'https://www.linkedin.com/sales/lead/ACwAAAAbCdEfGhIjKlMnOpQrStUvWxYz12345,NAME_SEARCH,x1',
        notes: 'see https://www.linkedin.com/in/not-a-linkedin-property',
      }),
      OPTIONS,
    );
    expect(contribution.source).toBe('hubspot');
    expect(contribution.identifiers.map(({ kind, value }) => `${kind}:${value}`)).toEqual([
      'sales_nav_id:acwaaaabcdefghijklmnopqrstuvwxyz12345',
      'username:jo-doe-1234',
      'profile_url:https://www.linkedin.com/in/jo-doe-1234',
      'sales_url:https://www.linkedin.com/sales/lead/acwaaaabcdefghijklmnopqrstuvwxyz12345',
      'email:jo.doe@acme-mail.io',
      'hubspot_contact_id:101',
    ]);
    expect(contribution.person).toMatchObject({
      firstName: 'Jo',
      lastName: 'Doe',
      fullName: 'Jo Doe',
      email: 'jo.doe@acme-mail.io',
      phone: '+442079460958',
      currentTitle: 'VP of Sales',
      currentCompany: 'Acme Ltd',
      city: 'London',
      country: 'United Kingdom',
      countryCode: 'GB',
    });
    expect(contribution.person.seniorityTier).toBeDefined();
    expect(contribution.company?.name).toBe('Acme Ltd');
  });

  it('ignores a property still holding the value this service pushed, and only that one', () => {
    const contribution = hubspotContribution(
      observation(
        { email: 'jo@example.com', jobtitle: 'CTO', company: 'Acme', city: 'Paris', country: 'France' },
        { jobtitle: 'cto ', company: 'Other Co', hs_linkedin_url: 'https://www.linkedin.com/in/x' },
      ),
      OPTIONS,
    );
    expect(contribution.person.currentTitle).toBeUndefined();
    expect(contribution.person.currentCompany).toBe('Acme');
    expect(contribution.person.city).toBe('Paris');
  });

  it('never throws on garbage and needs a contact id', () => {
    for (const payload of [
      null,
      'x',
      { hubspot: 'x' },
      { hubspot: { id: 'abc', properties: {} } },
      { hubspot: [] },
    ]) {
      const contribution = hubspotContribution(
        { id: 1, source: 'hubspot', kind: 'contact', payload },
        OPTIONS,
      );
      expect(contribution.identifiers).toEqual([]);
    }
    // contributionOf dispatches HubSpot observations here.
    expect(contributionOf(observation({ email: 'a@b.example' }), OPTIONS).identifiers).toHaveLength(2);
  });
});

describe('contacts and people, both ways', () => {
  let db: TestDatabase;
  let standIn: HubspotStandIn;
  let app: Express;
  let processor: ObservationProcessor;

  beforeAll(async () => {
    db = await createTestDatabase();
    standIn = await startHubspotStandIn({ seed: 3, limits: { tenSecondly: null, searchSecondly: null } });
    const built = buildTestApp(db, { READ_RATE_LIMIT: '0' }, { phase2: true });
    app = built.app;
    processor = built.context.processor;
  });

  afterAll(async () => {
    await standIn.close();
    await db.drop();
  });

  function deps(): RunnerDeps {
    return {
      pool: db.pool,
      client: new HubspotClient(testClientOptions(standIn)),
      processor,
      settings: {
        pageSize: 100,
        batchSize: 1000,
        lookbackMinutes: 5,
        searchCap: 10_000,
        phase2Concurrency: 4,
      },
      logger: createLogger({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
    };
  }

  async function run(job: JobName, options: { execute?: boolean } = {}) {
    const result = await runToEnd(deps(), job, { trigger: 'cli', ...options });
    return result;
  }

  async function syncAll(): Promise<void> {
    for (const job of [
      'companies',
      'contacts',
      'contacts:deleted',
      'deals',
      'associations:contacts',
    ] as const) {
      expect((await run(job)).outcome).toBe('success');
    }
  }

  async function ingest(payload: object): Promise<string> {
    const res = await request(app).post('/api/webhook').send(payload);
    expect(res.body).toMatchObject({ processed: true });
    return res.body.person_id as string;
  }

  async function person(id: string) {
    const res = await request(app).get(`/api/people/${id}`);
    expect(res.status).toBe(200);
    return res.body.person as {
      id: string;
      snapshot: Record<string, unknown> & {
        _meta: Record<string, { source: string; observationId: number }>;
      };
      aliases: { type: string; value: string }[];
      hubspot?: { contacts: { id: string; deals: { id: string; name: string; stage: string }[] }[] };
    };
  }

  let dana: string;
  let alex: string;
  let danaContact: string;
  let alexContact: string;
  let deal: string;

  it('links a contact to the person a Dux-Soup visit made, by e-mail or LinkedIn URL; the person shows the contact and its deals', async () => {
    dana = await ingest(fixture(0));
    alex = await ingest(fixture(5));
    const { companies, deals } = standIn.generate({ companies: 1, deals: 2 });
    deal = deals[0]!;
    danaContact = standIn.create('contacts', {
      email: DANA_EMAIL.toUpperCase(),
      firstname: 'Dana',
      lastname: 'Whitfield',
      jobtitle: 'Security person',
      company: 'Orchard',
      phone: '(213) 555-0147',
    }).id;
    alexContact = standIn.create('contacts', {
      email: 'alex.work@juniper-software.io',
      firstname: 'Alex',
      lastname: 'Moreno',
      hs_linkedin_url: ALEX_PROFILE.replace('https://www.', 'http://').toUpperCase(),
      city: 'Austin',
      state: 'Texas',
      country: 'United States',
    }).id;
    const stranger = standIn.create('contacts', {
      email: 'new.person@elsewhere.example',
      firstname: 'New',
    }).id;
    standIn.associate('contacts', danaContact, 'deals', deal, [4, 101]);
    standIn.associate('contacts', danaContact, 'companies', companies[0]!, [279, 1]);
    await syncAll();

    const viewed = await person(dana);
    expect(viewed.hubspot?.contacts.map((contact) => contact.id)).toEqual([danaContact]);
    expect(viewed.hubspot?.contacts[0]!.deals).toEqual([
      expect.objectContaining({ id: deal, name: standIn.get('deals', deal)!.properties.dealname }),
    ]);
    expect(viewed.aliases).toContainEqual({ type: 'hubspot_contact_id', value: danaContact });
    // LinkedIn data outranks HubSpot's...
    expect(viewed.snapshot.currentTitle).toBe('Chief Information Security Officer');
    expect(viewed.snapshot.phone).toBe('+13105550158');

    const alexView = await person(alex);
    expect(alexView.hubspot?.contacts.map((contact) => contact.id)).toEqual([alexContact]);
    // ...and HubSpot fills what LinkedIn left empty (Alex's visit had no e-mail).
    expect(alexView.snapshot.email).toBe('alex.work@juniper-software.io');
    expect(alexView.snapshot._meta.email!.source).toBe('hubspot');
    expect(alexView.snapshot.city).toBe('San Mateo');
    // The contact id is an alias too, and an unknown contact makes a person of its own.
    const byContact = await request(app).get(`/api/people/by-alias/${stranger}`);
    expect(byContact.status).toBe(200);
    expect([dana, alex]).not.toContain(byContact.body.person.id);
    const detail = await request(app).get(`/api/hubspot/contacts/${danaContact}`);
    expect(detail.body.data.personId).toBe(dana);
  });

  it('push dry run shows the LinkedIn-derived changes and sends nothing', async () => {
    standIn.clearRequests();
    const dry = await run('push');
    expect(dry.outcome).toBe('success');
    expect(standIn.requests).toHaveLength(0);
    const result = dry.result as { mode: string; entries: { contactId: string; changes: object[] }[] };
    expect(result.mode).toBe('dry-run');
    const danaChanges = result.entries.find((entry) => entry.contactId === danaContact)!.changes;
    expect(danaChanges).toEqual(
      expect.arrayContaining([
        { property: 'jobtitle', from: 'Security person', to: 'Chief Information Security Officer' },
        { property: 'company', from: 'Orchard', to: 'Orchard Cyber' },
        { property: 'city', from: null, to: 'Los Angeles' },
        { property: 'state', from: null, to: 'California' },
        { property: 'country', from: null, to: 'United States' },
        { property: 'hs_linkedin_url', from: null, to: 'https://www.linkedin.com/in/danawhitfield' },
        { property: 'linkedin_seniority', from: null, to: expect.any(String) },
      ]),
    );
    // Alex's contact already has his LinkedIn URL (spelled differently): not a change. His place is HubSpot's.
    const alexChanges = result.entries.find((entry) => entry.contactId === alexContact)!.changes;
    expect(alexChanges.map((change) => (change as { property: string }).property)).not.toContain(
      'hs_linkedin_url',
    );
    expect(alexChanges).toContainEqual({ property: 'city', from: 'Austin', to: 'San Mateo' });
    const { rows } = await db.pool.query('SELECT 1 FROM hubspot_push_log');
    expect(rows).toHaveLength(0);
  });

  it('push execute writes in batches and handles a 207 partial failure per contact', async () => {
    standIn.archive('contacts', alexContact); // gone from HubSpot, still active in our copy
    standIn.clearRequests();
    const executed = await run('push', { execute: true });
    expect(executed).toMatchObject({ outcome: 'partial', counts: { updated: 1, failed: 1 } });
    expect(standIn.requests.map((entry) => [entry.route, entry.status])).toEqual([
      ['POST /crm/v3/objects/contacts/batch/update', 207],
    ]);
    const failures = (executed.result as { failures: { contactId: string; message: string }[] }).failures;
    expect(failures).toEqual([
      { contactId: alexContact, message: expect.stringContaining('Could not get some') },
    ]);
    expect(standIn.get('contacts', danaContact)!.properties).toMatchObject({
      jobtitle: 'Chief Information Security Officer',
      company: 'Orchard Cyber',
      city: 'Los Angeles',
      hs_linkedin_url: 'https://www.linkedin.com/in/danawhitfield',
    });
    const { rows } = await db.pool.query<{ contact_id: string }>(
      'SELECT DISTINCT contact_id::text FROM hubspot_push_log',
    );
    expect(rows).toEqual([{ contact_id: danaContact }]);
    // Sent and not read back yet: not sent again (Alex's contact, which failed, is offered again).
    const again = await run('push');
    const entries = (again.result as { entries: { contactId: string }[] }).entries;
    expect(entries.map((entry) => entry.contactId)).toEqual([alexContact]);
  });

  it('reading back what we pushed is not a new observation of the person: no sync loop', async () => {
    const before = await person(dana);
    await syncAll();
    const { rows } = await db.pool.query<{ id: number; payload: { pushed: Record<string, string> } }>(
      `SELECT id, payload FROM observations WHERE source = 'hubspot' AND payload -> 'hubspot' ->> 'id' = $1
        ORDER BY id DESC LIMIT 1`,
      [danaContact],
    );
    const readBack = rows[0]!;
    // The stored observation carries the contact as read, and what we had pushed...
    expect(readBack.payload.pushed).toMatchObject({ jobtitle: 'Chief Information Security Officer' });
    // ...and contributes none of it.
    const contribution = contributionOf({ ...readBack, source: 'hubspot', kind: 'contact' }, OPTIONS);
    for (const field of ['currentTitle', 'currentCompany', 'city', 'state', 'country', 'seniorityTier']) {
      expect(contribution.person[field]).toBeUndefined();
    }
    expect(contribution.identifiers.map((identifier) => identifier.kind)).toEqual([
      'email',
      'hubspot_contact_id',
    ]);
    const after = await person(dana);
    expect(after.snapshot).toEqual(before.snapshot);
    expect((await run('push')).counts.changes).toBe(0);

    // A human change in HubSpot is news (a HubSpot value, below LinkedIn's), and the push offers LinkedIn's back.
    standIn.update('contacts', danaContact, { jobtitle: 'Security Lead' });
    await run('contacts');
    expect((await person(dana)).snapshot.currentTitle).toBe('Chief Information Security Officer');
    const offered = await run('push');
    expect(offered.result).toMatchObject({
      entries: [
        {
          contactId: danaContact,
          changes: [
            { property: 'jobtitle', from: 'Security Lead', to: 'Chief Information Security Officer' },
          ],
        },
      ],
    });

    // New LinkedIn data about the person is pushed again, whatever we pushed before.
    const visit = fixture(0);
    visit.data = { ...visit.data, VisitTime: Date.now(), Title: 'Chief Security Officer' };
    visit.time = new Date().toISOString();
    await ingest(visit);
    const next = await run('push');
    expect(next.result).toMatchObject({
      entries: [
        { changes: expect.arrayContaining([expect.objectContaining({ to: 'Chief Security Officer' })]) },
      ],
    });
  });
});
