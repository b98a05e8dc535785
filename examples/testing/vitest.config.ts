import { fileURLToPath } from 'node:url'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

// Tests that run inside workerd, beside the Worker of wrangler.toml, with its KV namespace and
// Durable Object (fresh storage for each test file).
export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: './wrangler.toml' },
      miniflare: { bindings: { SESSION_SECRET: 'test-secret-of-at-least-32-bytes!!' } },
    }),
  ],
  // In this repository only: the package from its sources. Your project gets it from node_modules.
  resolve: {
    alias: {
      'hono-edge-session/testing': fileURLToPath(new URL('../../src/testing/index.ts', import.meta.url)),
      'hono-edge-session/durable-object': fileURLToPath(new URL('../../src/stores/durable-object.ts', import.meta.url)),
      'hono-edge-session': fileURLToPath(new URL('../../src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.workers.test.ts'],
    // In this repository only: leaves out a harmless line workerd prints ("WebSocket peer disconnected").
    globalSetup: [fileURLToPath(new URL('../../test/setup/workerd-output.ts', import.meta.url))],
  },
})
