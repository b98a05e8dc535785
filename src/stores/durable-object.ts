/**
 * `hono-edge-session/durable-object`: the Durable Object class behind {@link durableObjectStore}.
 * Export it from your Worker's entry and declare it in wrangler.toml (SQLite storage):
 *
 * @example
 * ```ts
 * // src/index.ts
 * export { SessionDurableObject } from 'hono-edge-session/durable-object'
 * export default app
 * ```
 * ```toml
 * [[durable_objects.bindings]]
 * name = "SESSION_DO"
 * class_name = "SessionDurableObject"
 *
 * [[migrations]]
 * tag = "v1"
 * new_sqlite_classes = ["SessionDurableObject"]
 * ```
 * @module
 */
import { DurableObject } from 'cloudflare:workers'
import type { IndexedSession, ReplaceOutcome, SessionObjectRpc, SessionSnapshot } from './durable-object-store.js'

export { durableObjectStore } from './durable-object-store.js'
export type { DurableObjectNamespaceLike, DurableObjectStoreOptions } from './durable-object-store.js'

interface Row {
  json: string
  sub: string
  expiresAt: number
  version: number
}

const RECORD = 'record'
/** Until when a deleted session id stays dead (ms). */
const TOMBSTONE = 'tombstone'
const INDEX = 'sid:'
/** When the alarm is set for (ms), readable synchronously. */
const ALARM = 'alarm'
// How long a deleted id whose expiry is unknown stays dead: far longer than any sign-in takes.
const TOMBSTONE_FALLBACK_MS = 60 * 60 * 1000

/**
 * Holds one session (objects named after a session id) or one user's index of sessions (objects
 * named after a user). Each method reads and writes the SQLite-backed key-value storage
 * synchronously before its first `await`, so that part is one atomic step no other call can
 * interleave with (only the alarm is set after it). An alarm removes what has expired.
 * Use it only through {@link durableObjectStore}.
 */
export class SessionDurableObject<Env = unknown> extends DurableObject<Env> implements SessionObjectRpc {
  readSession(): SessionSnapshot | null {
    const row = this.#live()
    return row ? { json: row.json, sub: row.sub, version: row.version } : null
  }

  async writeSession(json: string, sub: string, expiresAt: number): Promise<boolean> {
    const kv = this.ctx.storage.kv
    if (this.#tombstone() !== undefined) return false
    const version = (kv.get<Row>(RECORD)?.version ?? 0) + 1
    kv.put<Row>(RECORD, { json, sub, expiresAt, version })
    await this.#wakeAt(expiresAt)
    return true
  }

  async replaceSession(version: number, json: string, sub: string, expiresAt: number): Promise<ReplaceOutcome> {
    const row = this.#live()
    if (!row) return 'missing'
    if (row.version !== version) return 'conflict'
    this.ctx.storage.kv.put<Row>(RECORD, { json, sub, expiresAt, version: version + 1 })
    await this.#wakeAt(expiresAt)
    return 'ok'
  }

  async deleteSession(expiresAt?: number, owner?: string): Promise<string | null> {
    const kv = this.ctx.storage.kv
    const row = this.#live()
    // Listed under `owner` but another user's now: an update moving it to `owner` that is still
    // under way (or lost its race): not `owner`'s to end. Reported by its user, left as it is.
    if (owner !== undefined && row !== undefined && row.sub !== owner) return row.sub
    const until = Math.max(kv.get<Row>(RECORD)?.expiresAt ?? 0, expiresAt ?? 0, this.#tombstone() ?? 0) || Date.now() + TOMBSTONE_FALLBACK_MS
    kv.delete(RECORD)
    kv.put(TOMBSTONE, until)
    await this.#wakeAt(until)
    return row ? row.sub : null
  }

  async indexSession(sid: string, expiresAt: number): Promise<void> {
    this.#prune()
    this.ctx.storage.kv.put(INDEX + sid, expiresAt)
    await this.#wakeAt(expiresAt)
  }

  listSessions(): IndexedSession[] {
    return this.#prune()
  }

  unindexSessions(sids: string[]): void {
    for (const sid of sids) this.ctx.storage.kv.delete(INDEX + sid)
  }

  /** Removes whatever has expired, and wakes again for what is left. */
  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv
    const now = Date.now()
    const row = kv.get<Row>(RECORD)
    if (row && row.expiresAt <= now) kv.delete(RECORD)
    const tombstone = this.#tombstone()
    if (tombstone !== undefined && tombstone <= now) kv.delete(TOMBSTONE)
    const left = [...this.#prune().map((e) => e.expiresAt), kv.get<Row>(RECORD)?.expiresAt ?? 0, this.#tombstone() ?? 0]
    const next = Math.max(...left)
    if (next > 0) {
      kv.put(ALARM, next)
      await this.ctx.storage.setAlarm(next)
    } else await this.ctx.storage.deleteAll()
  }

  #live(): Row | undefined {
    const row = this.ctx.storage.kv.get<Row>(RECORD)
    return row && row.expiresAt > Date.now() ? row : undefined
  }

  #tombstone(): number | undefined {
    return this.ctx.storage.kv.get<number>(TOMBSTONE)
  }

  /** The index entries that have not expired; expired ones are deleted on the way. */
  #prune(): IndexedSession[] {
    const kv = this.ctx.storage.kv
    const now = Date.now()
    const live: IndexedSession[] = []
    for (const [key, expiresAt] of kv.list<number>({ prefix: INDEX })) {
      if (expiresAt > now) live.push({ sid: key.slice(INDEX.length), expiresAt })
      else kv.delete(key)
    }
    return live
  }

  /**
   * Moves the alarm to `time` when that is later than the one set. The alarm removes whatever
   * has expired by then and re-arms itself for anything that lives longer, so one alarm at the
   * latest expiry is enough. Called after the data writes: the method's atomic part is done.
   */
  async #wakeAt(time: number): Promise<void> {
    const kv = this.ctx.storage.kv
    if ((kv.get<number>(ALARM) ?? 0) >= time) return
    kv.put(ALARM, time)
    await this.ctx.storage.setAlarm(time)
  }
}
