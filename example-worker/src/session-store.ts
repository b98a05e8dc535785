/**
 * Where the example keeps sessions, chosen by configuration:
 * - by default in the encrypted cookie itself (no store);
 * - with `SESSION_STORE = "durable-object"` (wrangler.toml [vars]), in Durable Objects: the
 *   `SESSION_DO` binding, whose class `SessionDurableObject` is exported by the Worker's entry.
 */
import { type SessionStore, durableObjectStore } from 'hono-edge-session'
import type { SessionDurableObject } from 'hono-edge-session/durable-object'

export interface StoreBindings {
  /** `"durable-object"` to keep sessions in Durable Objects; anything else (or unset): in the cookie. */
  SESSION_STORE?: string
  SESSION_DO?: DurableObjectNamespace<SessionDurableObject>
}

export function sessionStore(env: StoreBindings): SessionStore | undefined {
  if (env.SESSION_STORE !== 'durable-object') return undefined
  // Throws a SessionConfigError naming the missing binding when SESSION_DO is not declared.
  return durableObjectStore(env.SESSION_DO as NonNullable<StoreBindings['SESSION_DO']>)
}
