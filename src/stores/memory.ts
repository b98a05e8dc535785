/**
 * An in-memory store for tests and local development only.
 * @module
 */
import { MAX_UPDATE_ATTEMPTS, parseRecord, subOf } from './internal.js'
import type { SessionStore, StoredSession, StoreWriteOptions } from './types.js'

interface Entry {
  readonly json: string
  readonly sub: string
  /** The absolute end. */
  readonly expiresAt: number
  /** When the entry is forgotten: the idle deadline, or the absolute end. */
  readonly until: number
}

/** The in-memory store; `size` is for tests. */
export interface MemoryStore extends SessionStore {
  update: NonNullable<SessionStore['update']>
  settle: NonNullable<SessionStore['settle']>
  touch: NonNullable<SessionStore['touch']>
  deleteByUser: NonNullable<SessionStore['deleteByUser']>
  listByUser: NonNullable<SessionStore['listByUser']>
  /** How many records are held, expired ones included until swept. */
  readonly size: number
}

// Expired entries are swept on every this-many writes, so an idle dev server does not grow forever.
const SWEEP_EVERY = 100
// How long a settled write stays refused.
const FENCE_MS = 10 * 60 * 1000

/**
 * Keeps sessions in a `Map` of the current isolate. **For tests and local development only**: a
 * Worker runs in many isolates (one per location, more under load) and each has its own map, so a
 * session created in one is unknown to the next; everything is lost when the isolate is recycled.
 * Use {@link durableObjectStore} or {@link d1Store} in production.
 *
 * Records are copied in and out (JSON), so changing a returned object changes nothing stored.
 * `update` is atomic within the isolate (compare-and-set on the entry; retried if another write
 * came in while `change` ran), and a record deleted meanwhile stays deleted. Entries expire at
 * their idle deadline (moved by `touch`) or absolute end, whichever comes first.
 *
 * @example
 * ```ts
 * import { edgeSession, memoryStore } from 'hono-edge-session'
 *
 * const store = memoryStore() // one per app: it is the whole database
 * app.use(edgeSession({ secret: SECRET, store }))
 * ```
 */
export function memoryStore(): MemoryStore {
  const db = new MemoryEntries()
  return {
    get size() {
      return db.entries.size
    },
    async get(sid) {
      return db.read(sid)
    },
    async set(sid, data, options) {
      db.write(sid, data, options)
    },
    async delete(sid, options) {
      db.refuseSettled(options?.writeId)
      db.entries.delete(sid)
    },
    async settle(sid, writeId) {
      db.fences.set(writeId, Date.now() + FENCE_MS)
      return db.read(sid)
    },
    async touch(sid, { expiresAt, idleExpiresAt }) {
      const entry = db.live(sid)
      const until = Math.min(expiresAt, entry?.expiresAt ?? expiresAt, idleExpiresAt)
      if (entry && until > entry.until) db.entries.set(sid, { ...entry, until })
    },
    update: (sid, change, options) => db.update(sid, change, options),
    async listByUser(sub) {
      const found = []
      for (const sid of db.entries.keys()) {
        const entry = db.live(sid)
        if (entry?.sub === sub) found.push({ sid, data: parseRecord(entry.json), until: entry.until })
      }
      return found
    },
    async deleteByUser(sub) {
      let count = 0
      for (const [sid, entry] of db.entries) {
        if (entry.sub !== sub) continue
        db.entries.delete(sid)
        if (entry.until > Date.now()) count++
      }
      return count
    },
  }
}

/** The records of one memory store, and the writes its callers gave up (settled). */
class MemoryEntries {
  readonly entries = new Map<string, Entry>()
  /** Writes given up by their caller (settled): refused until the time held. */
  readonly fences = new Map<string, number>()
  #writes = 0

  /** The entry of `sid` while it lives; an expired one is dropped. */
  live(sid: string): Entry | undefined {
    const entry = this.entries.get(sid)
    if (entry && entry.until <= Date.now()) {
      this.entries.delete(sid)
      return undefined
    }
    return entry
  }

  read(sid: string): StoredSession | null {
    const entry = this.live(sid)
    return entry ? parseRecord(entry.json) : null
  }

  refuseSettled(writeId: string | undefined): void {
    if (writeId !== undefined && this.fences.has(writeId))
      throw new Error('memoryStore: this write was given up by its caller and not written.')
  }

  write(sid: string, data: StoredSession, { expiresAt, idleExpiresAt, sub, writeId }: StoreWriteOptions): void {
    this.refuseSettled(writeId)
    this.entries.set(sid, {
      json: JSON.stringify(data),
      sub,
      expiresAt,
      until: Math.min(expiresAt, idleExpiresAt ?? expiresAt),
    })
    if (++this.#writes % SWEEP_EVERY === 0) {
      const now = Date.now()
      for (const [key, entry] of this.entries) if (entry.until <= now) this.entries.delete(key)
      for (const [key, until] of this.fences) if (until <= now) this.fences.delete(key)
    }
  }

  async update(
    sid: string,
    change: Parameters<MemoryStore['update']>[1],
    options: StoreWriteOptions,
  ): Promise<StoredSession | null> {
    // `change` may await: compare the entry afterwards and start again if it was replaced.
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      const entry = this.live(sid)
      if (!entry) return null
      const next = await change(parseRecord(entry.json))
      if (this.entries.get(sid) !== entry) continue
      options.signal?.throwIfAborted()
      // Never earlier: a touch may have moved the idle deadline later since the caller computed its own.
      const idleExpiresAt =
        options.idleExpiresAt === undefined ? undefined : Math.max(options.idleExpiresAt, entry.until)
      this.write(sid, next, { ...options, idleExpiresAt, sub: subOf(next) ?? entry.sub })
      return parseRecord(JSON.stringify(next))
    }
    throw new Error(`memoryStore: the session kept changing during ${MAX_UPDATE_ATTEMPTS} update attempts.`)
  }
}
