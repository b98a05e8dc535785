import { defineConfig } from 'vitest/config'
import { assertNeutral, neutralInclude, packageAliases } from './vitest.shared.js'

// The runtime-neutral suites on Node, plus the Node-only checks in test/node.
assertNeutral()

export default defineConfig({
  resolve: { alias: packageAliases },
  test: {
    environment: 'node',
    include: [...neutralInclude, 'test/node/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/node.json' }]],
  },
})
