import { fixture } from '../../__tests__/helpers/fixtures';

/** One distinct Dux-Soup event as the client holds it: its identity and the exact bytes it (re)sends. */
export interface ClientEvent {
  /** `data.id`: unique per event of a scenario, how the ledger finds the event's rows. */
  clientId: string;
  body: string;
}

const template = fixture(0);

/** A real-shaped visit.create for a distinct person; `index` makes it unique within the scenario. */
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
    },
  };
  return { clientId, body: JSON.stringify(payload) };
}
