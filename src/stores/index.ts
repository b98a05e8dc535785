/**
 * The built-in session stores. `SessionDurableObject` itself is exported from
 * `hono-edge-session/durable-object` only, so this entry never imports `cloudflare:workers`.
 * @module
 */
export { memoryStore } from './memory'
export type { MemoryStore } from './memory'
export { kvStore } from './kv'
export type { KVNamespaceLike, KvStoreOptions } from './kv'
export { durableObjectStore } from './durable-object-store'
export type { DurableObjectNamespaceLike, DurableObjectStoreOptions } from './durable-object-store'
export { d1Store, cleanupExpiredSessions } from './d1'
export type { CleanupOptions, D1DatabaseLike, D1StatementLike, D1StoreOptions } from './d1'
