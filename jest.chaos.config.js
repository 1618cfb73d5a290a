/**
 * `npm run test:chaos`: fault injection against the real service process and fuzzing (chaos/). Kept out of
 * `npm test` (its roots are __tests__ only): these run for minutes and load the whole machine.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/chaos'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/__tests__/helpers/global-setup.ts',
  globalTeardown: '<rootDir>/__tests__/helpers/global-teardown.ts',
  testTimeout: 300_000,
  // One scenario at a time: each one loads the machine and some stop and start PostgreSQL servers.
  maxWorkers: 1,
};
