import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    // the example shop signs its unsubscribe links with this secret (links.secret: ${JOURNEY_LINK_SECRET}),
    // as npm run demo sets it; the CLI processes tests start inherit it
    env: { JOURNEY_LINK_SECRET: 'test-link-secret' },
    reporters: ['default', 'json'],
    outputFile: { json: '.vitest-results.json' },
  },
});
