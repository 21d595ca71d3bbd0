import { defineConfig } from 'vitest/config';

/** The slower reliability suite (`npm run test:reliability`): fault injection, kills and restarts. */
export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    passWithNoTests: true,
  },
});
