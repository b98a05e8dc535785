import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// Tests that run in Node and start the Worker with Miniflare's own API.
export default defineConfig({
  // In this repository only: the package from its sources. Your project gets it from node_modules.
  resolve: {
    alias: {
      'hono-edge-session/testing': fileURLToPath(new URL('../../src/testing/index.ts', import.meta.url)),
      'hono-edge-session': fileURLToPath(new URL('../../src/index.ts', import.meta.url)),
    },
  },
  test: { include: ['test/**/*.miniflare.test.ts'], environment: 'node' },
})
