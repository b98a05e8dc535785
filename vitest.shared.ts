import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

// What the Node, Bun and Deno runs share. Kept apart from vitest.config.ts: importing that file
// would load the Cloudflare pool plugin, which these runs must not need.

/** The package's own import names, resolved to the sources (as in vitest.config.ts). */
export const packageAliases = {
  'hono-edge-session/testing': fileURLToPath(new URL('./src/testing/index.ts', import.meta.url)),
  'hono-edge-session/durable-object': fileURLToPath(new URL('./src/stores/durable-object.ts', import.meta.url)),
  'hono-edge-session': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
}

// The runtime-neutral suites: the same files that run in workerd, run again through app.request
// on another runtime, to prove the package needs nothing but Web standards.
const SHARED_SUITES = ['test/workerd/core', 'test/workerd/middleware', 'test/workerd/security', 'test/workerd/codec']
/** Store tests that need no Cloudflare binding: the memory store, the cookie-only baseline, failing stores. */
const SHARED_STORE_FILES = [
  'test/workerd/stores/memory.test.ts',
  'test/workerd/stores/memory.mutants.test.ts',
  'test/workerd/stores/cookie.test.ts',
  'test/workerd/stores/failures.test.ts',
]

/** Glob patterns of the runtime-neutral test files. */
export const neutralInclude: string[] = [...SHARED_SUITES.map((dir) => `${dir}/**/*.test.ts`), ...SHARED_STORE_FILES]

/** Shared test files that need workerd itself (they import a `cloudflare:*` module): left out. */
export function workerdOnly(): string[] {
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
