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

// One store object per env (the bindings of an isolate): the middleware, the devices page and the
// webhook all use the same one.
const stores = new WeakMap<StoreBindings, SessionStore>()

export function sessionStore(env: StoreBindings): SessionStore | undefined {
  if (env.SESSION_STORE !== 'durable-object') return undefined
  let store = stores.get(env)
  if (!store) {
    // Throws a SessionConfigError naming the missing binding when SESSION_DO is not declared.
    store = durableObjectStore(env.SESSION_DO as NonNullable<StoreBindings['SESSION_DO']>)
    stores.set(env, store)
  }
  return store
}
