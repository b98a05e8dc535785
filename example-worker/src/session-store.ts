/**
 * Where the example keeps sessions. By default in the encrypted cookie itself (no store).
 * The stores work (issue 5) extends this to switch to a Durable Object store by configuration.
 */
import type { SessionStore } from 'hono-edge-session'

export interface StoreBindings {
  SESSION_STORE?: string
}

export function sessionStore(_env: StoreBindings): SessionStore | undefined {
  return undefined
}
