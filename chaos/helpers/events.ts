import { fixture } from '../../__tests__/helpers/fixtures';

/** One distinct Dux-Soup event as the client holds it: its identity and the exact bytes it (re)sends. */
export interface ClientEvent {
  /** `data.id`: unique per event of a scenario, how the ledger finds the event's rows. */
  clientId: string;
  body: string;
}

const template = fixture(0);
const LOCATIONS = [
  'Los Angeles, California, United States',
  'London, England, United Kingdom',
  'Berlin, Germany',
  'Riga, Latvia',
  'Toronto, Ontario, Canada',
  'Austin, Texas, United States',
  'Paris, Île-de-France, France',
  'Sydney, New South Wales, Australia',
];
const COMPANIES = 40;

/**
 * A real-shaped visit.create for a distinct person (`index` makes it unique within the scenario): its own member
 * id, profile URLs, e-mail and handle, at one of a few dozen companies and a few places, as a Dux-Soup user's
 * day of visits would be.
 */
export function visitEvent(index: number): ClientEvent {
  const memberId = String(700_000_000 + index);
  const visitTime = 1_751_500_000_000 + index * 1000;
  const clientId = `id.${memberId}`;
  const payload = {
    ...template,
    time: new Date(visitTime + 800).toISOString(),
    data: {
      ...template.data,
      id: clientId,
      VisitTime: visitTime,
      Profile: `https://www.linkedin.com/in/chaos-${index}-${memberId}`,
      SalesProfile: `https://www.linkedin.com/sales/lead/ACwAAA${memberId}Xy,NAME_SEARCH,ab${index % 10}c`,
      RecruiterProfile: `https://www.linkedin.com/talent/profile/ACwAAA${memberId}Xy`,
      'First Name': `Chaos${index}`,
      Email: `chaos.${index}@example.com`,
      Twitter: `chaos${index}`,
      Phone: '',
      Company: `Chaos Company ${index % COMPANIES}`,
      CompanyProfile: `https://www.linkedin.com/company/${9_100_000 + (index % COMPANIES)}/`,
      CompanyWebsite: '',
      Location: LOCATIONS[index % LOCATIONS.length],
    },
  };
  return { clientId, body: JSON.stringify(payload) };
}
