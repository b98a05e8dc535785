import { fileURLToPath } from 'node:url'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/** The package's own import names, resolved to the sources (the example imports them like a user). */
export const packageAliases = {
  'hono-edge-session/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'hono-edge-session/durable-object': fileURLToPath(new URL('./src/stores/durable-object.ts', import.meta.url)),
  'hono-edge-session': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
}

// Every suite runs inside workerd: the runtime-neutral ones (test/any-runtime, also run on Node,
// Bun and Deno) and those that need Cloudflare bindings or `cloudflare:*` modules (test/workerd-only).
export default defineConfig({
  plugins: [
    cloudflareTest({
      main: './test/fixtures/worker.ts',
      miniflare: {
        compatibilityDate: '2026-04-20',
        compatibilityFlags: ['nodejs_compat'],
        // Real bindings for the store tests (test/workerd-only/stores); storage is fresh per test file.
        kvNamespaces: ['SESSION_KV'],
        d1Databases: ['SESSION_DB'],
        durableObjects: { SESSION_DO: { className: 'SessionDurableObject', useSQLite: true } },
        bindings: { D1_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL('./migrations', import.meta.url))) },
      },
    }),
  ],
  resolve: { alias: packageAliases },
  test: {
    include: ['test/any-runtime/**/*.test.ts', 'test/workerd-only/**/*.test.ts'],
    // Leaves out two lines workerd prints on every run and counts them instead (see the file).
    globalSetup: ['./test/setup/workerd-output.ts'],
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/workerd.json' }]],
  },
})
