/**
 * Sessions in Workers KV.
 * @module
 */
import { SessionConfigError } from '../errors.js'
import type { SessionStore, StoredSession } from './types.js'

/** The part of a Workers KV binding (`KVNamespace`) this store uses. */
export interface KVNamespaceLike {
  get(key: string, options: { type: 'json' }): Promise<unknown>
  put(key: string, value: string, options: { expirationTtl: number }): Promise<void>
  delete(key: string): Promise<void>
}

/** Options of {@link kvStore}. */
export interface KvStoreOptions {
  /** Prepended to every key, so the namespace can hold other data. Default `'session:'`. */
  prefix?: string
}

// KV refuses an expiration less than 60 seconds away.
const MIN_TTL_SECONDS = 60
// A new key can take ~60 s to reach other locations, and a location that looked it up meanwhile
// caches the miss for up to another 60 s (KV's default cacheTtl).
const SETTLE_MS = 120_000

/**
 * Keeps sessions in Workers KV, one JSON value per session id, each expiring with its session
 * (`expirationTtl` from the absolute end, at least 60 seconds as KV requires; the middleware
 * checks the end itself, so the extra seconds never extend a session).
 *
 * A session that ends idle keeps its value until that absolute end: moving a KV expiry means
 * rewriting the value, and a copy read at another location may be stale (a session signed out
 * there would come back). And a write that fails or times out may still land: KV cannot say, so
 * `SessionStoreError.written` is `'unknown'`.
 *
 * Know what KV is before you pick it:
 * - **Eventually consistent.** A write is seen at once where it was made, but other locations
 *   may read the old value for 60 seconds or more. A sign-out or a changed role can take that
 *   long to reach a request served elsewhere: **revocation through KV can lag.** A sign-in can
 *   too: for two minutes after it, a request that finds no record has no session but keeps its
 *   cookie (`settleMs`), instead of signing the user out.
 * - **1 write per second per key.** The middleware writes only on sign-in, `updateSession` and
 *   sign-out, never for activity (that lives in the activity cookie), but several
 *   `updateSession` calls on one session within a second can fail with a `SessionStoreError`.
 * - **No atomic update.** This store has no `update`, so `updateSession` reads then writes:
 *   two concurrent updates of one session can lose one of them (last write wins), and a
 *   sign-out racing an update can be undone.
 * - **No sign-out-everywhere.** KV cannot list a user's keys consistently (`list` is eventually
 *   consistent too, and an index value per user would hit the 1 write/s limit and lose
 *   concurrent sign-ins), so `destroyUserSessions` throws `SessionUnsupportedError`.
 *
 * Good for read-heavy apps whose sessions rarely change; choose {@link durableObjectStore}
 * (strongly consistent, atomic updates) when revocation must be immediate.
 *
 * @example
 * ```ts
 * // wrangler.toml: [[kv_namespaces]] binding = "SESSIONS", id = "..."
 * import { env } from 'cloudflare:workers'
 * import { edgeSession, kvStore } from 'hono-edge-session'
 *
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, store: kvStore(env.SESSIONS) }))
 * ```
 */
export function kvStore(namespace: KVNamespaceLike, options: KvStoreOptions = {}): SessionStore {
  if (typeof namespace?.get !== 'function' || typeof namespace.put !== 'function')
    throw new SessionConfigError('kvStore() needs a Workers KV binding (env.YOUR_KV_NAMESPACE).')
  const prefix = options.prefix ?? 'session:'
  if (typeof prefix !== 'string') throw new SessionConfigError('kvStore() prefix must be a string.')
  const key = (sid: string) => prefix + sid

  return {
    settleMs: SETTLE_MS,
    async get(sid) {
      const value = await namespace.get(key(sid), { type: 'json' })
      return isObject(value) ? value : null
    },
    async set(sid, data, { expiresAt }) {
      const expirationTtl = Math.max(MIN_TTL_SECONDS, Math.ceil((expiresAt - Date.now()) / 1000))
      await namespace.put(key(sid), JSON.stringify(data), { expirationTtl })
    },
    async delete(sid) {
      await namespace.delete(key(sid))
    },
  }
}

function isObject(value: unknown): value is StoredSession {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
