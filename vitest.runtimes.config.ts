import { defineConfig } from 'vitest/config'
import { assertNeutral, neutralInclude, packageAliases } from './vitest.shared.js'

// The runtime-neutral suites on Bun or Deno: `npm run test:bun`, `npm run test:deno`. Vitest itself
// runs on that runtime, and so do its test workers (test/runtimes/runtime.test.ts checks it).
const runtime = 'Bun' in globalThis ? 'bun' : 'Deno' in globalThis ? 'deno' : undefined
if (!runtime)
  throw new Error('vitest.runtimes.config.ts is for Bun or Deno: run `npm run test:bun` or `npm run test:deno`')
process.env.TEST_RUNTIME = runtime

assertNeutral()

export default defineConfig({
  resolve: { alias: packageAliases },
  test: {
    environment: 'node',
    include: [...neutralInclude, 'test/runtimes/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    reporters: ['default', ['json', { outputFile: `.tmp/test-results/${runtime}.json` }]],
  },
})
