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
// on another runtime, to prove the package needs nothing but Web standards. Suites that need
// Cloudflare bindings live in test/workerd-only and run in workerd alone.
const ANY_RUNTIME = 'test/any-runtime'

/** Glob patterns of the runtime-neutral test files. */
export const neutralInclude: string[] = [`${ANY_RUNTIME}/**/*.test.ts`]

/**
 * Fails the run when a runtime-neutral file imports a `cloudflare:*` module: it belongs in
 * test/workerd-only, and leaving it out of the other runtimes silently would hide the mistake.
 */
export function assertNeutral(): void {
  const files = readdirSync(ANY_RUNTIME, { recursive: true, encoding: 'utf8' })
  const bound = files
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `${ANY_RUNTIME}/${file}`)
    .filter((path) => /from\s+['"]cloudflare:|import\(\s*['"]cloudflare:/.test(readFileSync(path, 'utf8')))
  if (bound.length > 0) throw new Error(`${bound.join(', ')} import cloudflare:*: move them to test/workerd-only`)
}
