/**
 * Serves the Quickstart app with Deno.serve on 127.0.0.1 and a free port, for test/runtimes/smoke.test.ts.
 * Run: `SESSION_SECRET=... deno run <flags in smoke.test.ts> test/runtimes/serve-deno.ts`; prints
 * `listening on <origin>` when ready.
 */
import { LISTENING, QUICKSTART_URL, type QuickstartApp } from './app-contract.js'

interface DenoRuntime {
  serve(
    options: { hostname: string; port: number; onListen(address: { hostname: string; port: number }): void },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown
  readonly env: { get(name: string): string | undefined }
}
declare const Deno: DenoRuntime

const SESSION_SECRET = Deno.env.get('SESSION_SECRET')
if (!SESSION_SECRET) throw new Error('serve-deno: set SESSION_SECRET')
const app = ((await import(QUICKSTART_URL)) as { default: QuickstartApp }).default
Deno.serve(
  {
    hostname: '127.0.0.1',
    port: 0,
    onListen: ({ hostname, port }) => console.log(`${LISTENING}http://${hostname}:${port}`),
  },
  (request) => app.fetch(request, { SESSION_SECRET }),
)
