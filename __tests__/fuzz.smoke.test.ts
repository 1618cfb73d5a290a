import type { FuzzProperty, FuzzTarget } from '../chaos/helpers/fuzz/harness';
import { startFuzzTarget } from '../chaos/helpers/fuzz/harness';
import { LEAD_PROPERTIES } from '../chaos/helpers/fuzz/lead';
import { QUERY_PROPERTIES } from '../chaos/helpers/fuzz/query';
import { WEBHOOK_PROPERTIES } from '../chaos/helpers/fuzz/webhook';

/**
 * The fuzz properties of `npm run test:chaos` (chaos/fuzz.*.test.ts, over 10 000 cases there) at a smoke-test
 * size, so every `npm test` exercises them too. Same fixed seed (FUZZ_SEED), printed on failure.
 */
const RUNS = 200;

describe.each([
  ['POST /api/webhook', WEBHOOK_PROPERTIES],
  ['POST /api/lead', LEAD_PROPERTIES],
  ['POST /api/query/people', QUERY_PROPERTIES],
] as const)('fuzz smoke: %s', (_endpoint, properties: readonly FuzzProperty[]) => {
  let target: FuzzTarget;
  beforeAll(async () => {
    target = await startFuzzTarget();
  });
  afterAll(() => target.close());

  it.each(properties.map((property) => [property.name, property] as const))('%s', async (_name, property) => {
    expect(await property.check(target, RUNS)).toBe(RUNS);
  });
});
