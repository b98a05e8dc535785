/**
 * The built-in session stores. `SessionDurableObject` itself is exported from
 * `hono-edge-session/durable-object` only, so this entry never imports `cloudflare:workers`.
 * @module
 */
export { memoryStore } from './memory.js'
export type { MemoryStore } from './memory.js'
export { kvStore } from './kv.js'
export type { KVNamespaceLike, KvStoreOptions } from './kv.js'
export { durableObjectStore } from './durable-object-store.js'
export type { DurableObjectNamespaceLike, DurableObjectStoreOptions } from './durable-object-store.js'
export { d1Store, cleanupExpiredSessions } from './d1.js'
export type { CleanupOptions, D1DatabaseLike, D1StatementLike, D1StoreOptions } from './d1.js'
