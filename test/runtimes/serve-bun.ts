/**
 * Serves the Quickstart app with Bun.serve on 127.0.0.1 and a free port, for test/runtimes/smoke.test.ts.
 * Run: `SESSION_SECRET=... bun --tsconfig-override=tsconfig.json test/runtimes/serve-bun.ts` (the root
 * tsconfig's paths map `hono-edge-session`, which the example imports by name, to the sources);
 * prints `listening on <origin>` when ready.
 */
import { LISTENING, QUICKSTART_URL, type QuickstartApp } from './app-contract.js'

interface BunRuntime {
  serve(options: { hostname: string; port: number; fetch(request: Request): Response | Promise<Response> }): {
    readonly url: URL
  }
  readonly env: Record<string, string | undefined>
}
declare const Bun: BunRuntime

const SESSION_SECRET = Bun.env.SESSION_SECRET
if (!SESSION_SECRET) throw new Error('serve-bun: set SESSION_SECRET')
const app = ((await import(QUICKSTART_URL)) as { default: QuickstartApp }).default
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => app.fetch(request, { SESSION_SECRET }) })
console.log(`${LISTENING}${server.url.origin}`)
