/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // ts-jest does not work with TypeScript 7; swc only strips types (tsc --noEmit checks them).
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 30000,
  globalSetup: '<rootDir>/test/helpers/global-setup.js',
  globalTeardown: '<rootDir>/test/helpers/global-teardown.js',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/host-check.ts'],
  // Two cores: the spawning suites measure fds and zombies of their own process, so they
  // must not compete for the machine with too many siblings.
  maxWorkers: 2,
};
