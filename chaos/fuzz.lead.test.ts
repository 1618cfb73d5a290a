import type { FuzzTarget } from './helpers/fuzz/harness';
import { fuzzRuns, fuzzSeed, startFuzzTarget } from './helpers/fuzz/harness';
import { LEAD_PROPERTIES } from './helpers/fuzz/lead';

let target: FuzzTarget;
beforeAll(async () => {
  target = await startFuzzTarget();
});
afterAll(() => target.close());

describe('fuzz POST /api/lead', () => {
  it.each(LEAD_PROPERTIES.map((property) => [property.name, property] as const))(
    '%s',
    async (_name, property) => {
      const runs = fuzzRuns();
      expect(await property.check(target, runs)).toBe(runs);
      console.log(`fuzz [${property.name}] ${runs} cases passed (FUZZ_SEED=${fuzzSeed()})`);
    },
  );
});
