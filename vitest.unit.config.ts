import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the pure tests (domain, views, parsers, in-memory helpers) in seconds, with no
 * database and no app. `npm test` runs them too, with everything else.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 10_000,
  },
});
