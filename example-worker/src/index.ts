/**
 * The Worker's entry (wrangler.toml `main`). Run it with `npm run dev`, deploy it with
 * `npx wrangler secret put SESSION_SECRET && npx wrangler deploy`.
 * @module
 */
import app from './app'

// The Durable Object class for SESSION_STORE = "durable-object" (see wrangler.toml); unused,
// and harmless, while sessions are kept in the cookie.
export { SessionDurableObject } from 'hono-edge-session/durable-object'

export default app
