import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

// The same import names as vitest.config.ts (duplicated: importing that file would load the
// Cloudflare pool plugin, which this Node run must not need).
const packageAliases = {
  'hono-edge-session/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'hono-edge-session/durable-object': fileURLToPath(new URL('./src/stores/durable-object.ts', import.meta.url)),
  'hono-edge-session': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
}

// The runtime-neutral suites: the same files that run in workerd, run again on Node through
// app.request, to prove the package needs nothing but Web standards.
const SHARED_SUITES = ['test/workerd/core', 'test/workerd/middleware', 'test/workerd/security', 'test/workerd/codec']

/** Shared test files that need workerd itself (they import a `cloudflare:*` module): left out here. */
function workerdOnly(): string[] {
  const out: string[] = []
  for (const dir of SHARED_SUITES) {
    let files: string[]
    try {
      files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    } catch {
      continue
    }
    for (const file of files) {
      if (!file.endsWith('.test.ts')) continue
      const path = `${dir}/${file}`
      if (/from\s+['"]cloudflare:|import\(\s*['"]cloudflare:/.test(readFileSync(path, 'utf8'))) out.push(path)
    }
  }
  return out
}

export default defineConfig({
  resolve: { alias: packageAliases },
  test: {
    environment: 'node',
    include: [...SHARED_SUITES.map((dir) => `${dir}/**/*.test.ts`), 'test/node/**/*.test.ts'],
    exclude: ['**/node_modules/**', ...workerdOnly()],
    reporters: ['default', ['json', { outputFile: '.tmp/test-results/node.json' }]],
  },
})
