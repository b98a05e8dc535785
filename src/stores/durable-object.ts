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
  /** The session's absolute end. */
  expiresAt: number
  /** The idle deadline, moved later by touchSession; absent on records written without one. */
  idleUntil?: number
  version: number
}

const RECORD = 'record'
/** Until when a deleted session id stays dead (ms). */
const TOMBSTONE = 'tombstone'
const INDEX = 'sid:'
/** When the alarm is set for (ms), readable synchronously. */
const ALARM = 'alarm'
/** `fence:<writeId>`: until when a write given up by its caller is refused (ms). */
const FENCE = 'fence:'
// Far longer than any call can be on its way.
const FENCE_MS = 10 * 60 * 1000
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
    return row ? { json: row.json, sub: row.sub, version: row.version, until: deadlineOf(row) } : null
  }

  async writeSession(
    json: string,
    sub: string,
    expiresAt: number,
    idleUntil?: number,
    writeId?: string,
  ): Promise<boolean> {
    const kv = this.ctx.storage.kv
    if (this.#tombstone() !== undefined || this.#fenced(writeId)) return false
    const version = (kv.get<Row>(RECORD)?.version ?? 0) + 1
    kv.put<Row>(RECORD, row(json, sub, expiresAt, idleUntil, version))
    await this.#wakeAt(deadlineOf({ expiresAt, idleUntil }))
    return true
  }

  async replaceSession(
    version: number,
    json: string,
    sub: string,
    expiresAt: number,
    idleUntil?: number,
    writeId?: string,
  ): Promise<ReplaceOutcome> {
    if (this.#fenced(writeId)) return 'refused'
    const current = this.#live()
    if (!current) return 'missing'
    if (current.version !== version) return 'conflict'
    // Never earlier: a touch may have moved the idle deadline later since the caller computed its own.
    const idle =
      idleUntil === undefined || current.idleUntil === undefined ? idleUntil : Math.max(idleUntil, current.idleUntil)
    this.ctx.storage.kv.put<Row>(RECORD, row(json, sub, expiresAt, idle, version + 1))
    await this.#wakeAt(deadlineOf({ expiresAt, idleUntil: idle }))
    return 'ok'
  }

  async touchSession(idleUntil: number): Promise<void> {
    const current = this.#live()
    // Never revives, never shortens, never outlives the absolute end.
    if (!current || current.idleUntil === undefined || current.idleUntil >= idleUntil) return
    this.ctx.storage.kv.put<Row>(RECORD, { ...current, idleUntil: Math.min(idleUntil, current.expiresAt) })
    // The alarm set for the old deadline finds the record alive and wakes again for the new one.
  }

  async settleWrite(writeId: string): Promise<SessionSnapshot | null> {
    const until = Date.now() + FENCE_MS
    this.ctx.storage.kv.put(FENCE + writeId, until)
    const snapshot = this.readSession()
    await this.#wakeAt(until)
    return snapshot
  }

  async deleteSession(expiresAt?: number, owner?: string, writeId?: string): Promise<string | null> {
    const kv = this.ctx.storage.kv
    if (this.#fenced(writeId)) return null
    const row = this.#live()
    // Listed under `owner` but another user's now: an update moving it to `owner` that is still
    // under way (or lost its race): not `owner`'s to end. Reported by its user, left as it is.
    if (owner !== undefined && row !== undefined && row.sub !== owner) return row.sub
    const until =
      Math.max(kv.get<Row>(RECORD)?.expiresAt ?? 0, expiresAt ?? 0, this.#tombstone() ?? 0) ||
      Date.now() + TOMBSTONE_FALLBACK_MS
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

  /** Removes whatever has expired, and wakes again for the earliest of what is left. */
  override async alarm(): Promise<void> {
    const kv = this.ctx.storage.kv
    const now = Date.now()
    const row = kv.get<Row>(RECORD)
    if (row && deadlineOf(row) <= now) kv.delete(RECORD)
    const tombstone = this.#tombstone()
    if (tombstone !== undefined && tombstone <= now) kv.delete(TOMBSTONE)
    const left = this.#prune().map((e) => e.expiresAt)
    for (const [key, until] of kv.list<number>({ prefix: FENCE })) {
      if (until <= now) kv.delete(key)
      else left.push(until)
    }
    const record = kv.get<Row>(RECORD)
    if (record) left.push(deadlineOf(record))
    if (this.#tombstone() !== undefined) left.push(this.#tombstone() as number)
    if (left.length > 0) {
      const next = Math.min(...left)
      kv.put(ALARM, next)
      await this.ctx.storage.setAlarm(next)
    } else await this.ctx.storage.deleteAll()
  }

  #live(): Row | undefined {
    const row = this.ctx.storage.kv.get<Row>(RECORD)
    return row && deadlineOf(row) > Date.now() ? row : undefined
  }

  /** A write its caller gave up on and settled: refused if it arrives now. */
  #fenced(writeId: string | undefined): boolean {
    return writeId !== undefined && this.ctx.storage.kv.get<number>(FENCE + writeId) !== undefined
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
   * Moves the alarm to `time` when none is set or the one set is later. The alarm removes
   * whatever has expired by then and re-arms itself for the earliest of what is left, so an
   * alarm set earlier than needed only wakes the object once more. Called after the data writes:
   * the method's atomic part is done.
   */
  async #wakeAt(time: number): Promise<void> {
    const kv = this.ctx.storage.kv
    const set = kv.get<number>(ALARM)
    if (set !== undefined && set <= time) return
    kv.put(ALARM, time)
    await this.ctx.storage.setAlarm(time)
  }
}

function row(json: string, sub: string, expiresAt: number, idleUntil: number | undefined, version: number): Row {
  return idleUntil === undefined
    ? { json, sub, expiresAt, version }
    : { json, sub, expiresAt, idleUntil: Math.min(idleUntil, expiresAt), version }
}

/** When a record stops being a session: its idle deadline, or its absolute end. */
function deadlineOf(row: Pick<Row, 'expiresAt' | 'idleUntil'>): number {
  return row.idleUntil === undefined ? row.expiresAt : Math.min(row.idleUntil, row.expiresAt)
}
