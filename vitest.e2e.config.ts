import { defineConfig } from 'vitest/config'

// Browser end-to-end tests: they run in Node and drive `wrangler dev` with Debian's chromium.
// Run with `npm run test:e2e` (installs chromium with apt first when it is missing).
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.test.ts'],
    environment: 'node',
    // wrangler's first start bundles and boots workerd: 10-20 s on a 2-core machine.
    hookTimeout: 180_000,
    testTimeout: 240_000,
    fileParallelism: false,
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/e2e.json' }]],
  },
})
