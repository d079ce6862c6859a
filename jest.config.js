// Two projects: `unit` (no I/O beyond stubs, parallel) and `integration` (the real Kafka broker and Jaeger
// brought up once by globalSetup; run in band because the suites share one broker and two cores).
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { target: 'es2022' } }] };

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/harness/global-teardown.ts',
      slowTestThreshold: 30,
    },
    {
      // Slow fault repetitions (`npm run chaos`): the same real stack, not part of `npm test` or CI.
      displayName: 'chaos',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/chaos/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/harness/global-teardown.ts',
      slowTestThreshold: 120,
    },
  ],
  testTimeout: 120_000,
  // The integration suites share one broker and outage tests stop it; two cores gain nothing from more.
  maxWorkers: 1,
};
