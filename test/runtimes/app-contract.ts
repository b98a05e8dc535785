/**
 * What the runtime smoke tests need from the Quickstart app (examples/quickstart/src/index.ts):
 * a Hono app as its default export, taking `{ SESSION_SECRET }` as its env.
 */
export interface QuickstartApp {
  fetch(request: Request, env: { SESSION_SECRET: string }): Response | Promise<Response>
}

/** The app's module, as a URL: imported at run time, so the server scripts do not type-check the example (it declares its own SessionClaims). */
export const QUICKSTART_URL = new URL('../../examples/quickstart/src/index.ts', import.meta.url).href

/** The line a server prints on stdout once it listens; the smoke test reads the origin from it. */
export const LISTENING = 'listening on '
