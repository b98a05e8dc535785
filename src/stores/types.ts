/**
 * The contract between the middleware and a place that keeps session data. Implement it to keep
 * sessions in Redis, Postgres or anything else; the built-in stores are examples of it.
 * @module
 */
import type { JsonValue } from '../types.js'

/** What a store keeps under a session id: the session as a JSON object (user, internal, claims). */
export type StoredSession = { [key: string]: JsonValue }

/**
 * One session of a user, as {@link SessionStore.listByUser} returns it.
 *
 * @example
 * ```ts
 * async listByUser(sub) {
 *   const rows = await sql`SELECT sid, data, expires_at FROM sessions WHERE sub = ${sub} AND expires_at > now()`
 *   return rows.map((r): UserSessionRecord => ({ sid: r.sid, data: JSON.parse(r.data), until: r.expires_at.getTime() }))
 * }
 * ```
 */
export interface UserSessionRecord {
  /** The session id (what the cookie names): for the store's own calls only, never shown to anyone. */
  readonly sid: string
  /** The record, as {@link SessionStore.get} would return it. */
  readonly data: StoredSession
  /** When the store forgets the record: the earlier of its idle deadline and its absolute end (ms). */
  readonly until: number
}

/** Options passed with every write. */
export interface StoreWriteOptions {
  /** When the record must be forgotten, in milliseconds since the epoch (the session's absolute end). */
  expiresAt: number
  /**
   * When the record may be forgotten unless {@link SessionStore.touch} moves it later: the idle
   * deadline of a session nobody uses any more (a sign-in whose cookie never came back, a user who
   * left). Never after `expiresAt`. A store without `touch` must ignore it.
   */
  idleExpiresAt?: number
  /** The user the session belongs to (`user.sub`), for stores that index sessions by user. */
  sub: string
  /**
   * Aborted when the request's `storeTimeout` runs out: the caller has been told the write
   * failed, so a store that retries must stop and not write afterwards.
   */
  signal?: AbortSignal
  /**
   * Names this write for {@link SessionStore.settle}: a store with `settle` must refuse a write
   * whose id was settled before it arrived.
   */
  writeId?: string
}

/** Options of {@link SessionStore.delete}. */
export interface StoreDeleteOptions {
  /** See {@link StoreWriteOptions.writeId}. */
  writeId?: string
  /** See {@link StoreWriteOptions.signal}. */
  signal?: AbortSignal
}

/** Options of {@link SessionStore.touch}. */
export interface StoreTouchOptions {
  /** The session's absolute end: the record's life is never extended past it. */
  expiresAt: number
  /** The new idle deadline (see {@link StoreWriteOptions.idleExpiresAt}); never moves it earlier. */
  idleExpiresAt: number
}

/**
 * Where session data lives. Every method may throw or reject: the middleware turns a failed read
 * into "no session" and a failed write into a {@link SessionStoreError} (whose `written` says
 * whether the write landed, when the store has `settle`).
 *
 * @example
 * ```ts
 * const store: SessionStore = {
 *   async get(sid) { return JSON.parse((await redis.get(`s:${sid}`)) ?? 'null') },
 *   async set(sid, data, { expiresAt }) { await redis.set(`s:${sid}`, JSON.stringify(data), { PXAT: expiresAt }) },
 *   async delete(sid) { await redis.del(`s:${sid}`) },
 * }
 * ```
 */
export interface SessionStore {
  /** The record, or `null` when there is none (never created, expired, deleted). */
  get(sid: string): Promise<StoredSession | null>
  /** Create or replace a record. */
  set(sid: string, data: StoredSession, options: StoreWriteOptions): Promise<void>
  /** Remove a record. Removing a missing record is not an error. */
  delete(sid: string, options?: StoreDeleteOptions): Promise<void>
  /**
   * Optional atomic read-modify-write. Returns the new record, or `null` when the record does not
   * exist (it must then stay absent: a deleted session is never brought back). `change` may
   * reject (the data failed validation): nothing is written then. Without it the
   * middleware reads, then writes, and concurrent updates can overwrite each other. An update
   * never moves the record's idle deadline earlier (`touch` may have moved it later meanwhile).
   */
  update?(
    sid: string,
    change: (current: StoredSession) => StoredSession | Promise<StoredSession>,
    options: StoreWriteOptions,
  ): Promise<StoredSession | null>
  /**
   * Optional: after the write named `writeId` failed or timed out (it may still be on its way),
   * make sure it can no longer land, then return the record as it is now (`null` when there is
   * none). The middleware compares it with what it wrote, so a write that landed anyway is not
   * reported as failed, and one that did not is reported as `written: false`. Without it, a
   * failed write is reported as `written: 'unknown'`.
   */
  settle?(sid: string, writeId: string): Promise<StoredSession | null>
  /**
   * Optional: move a live record's idle deadline later (see {@link StoreWriteOptions.idleExpiresAt});
   * a missing or expired record stays absent. Called at most once per half of
   * `duration.inactivity` for a session in use, never on every request.
   */
  touch?(sid: string, options: StoreTouchOptions): Promise<void>
  /**
   * Optional: the live sessions of a user (expired and deleted ones left out, and never another
   * user's), for {@link sessionAdmin}. Stores that index sessions by user have it (Durable
   * Objects, D1, memory); without it `sessionAdmin` refuses the store.
   */
  listByUser?(sub: string): Promise<UserSessionRecord[]>
  /** Optional: remove every session of a user; returns how many were removed. */
  deleteByUser?(sub: string): Promise<number>
  /**
   * For an eventually consistent store: how many milliseconds a record just written may stay
   * invisible to reads elsewhere. A session cookie issued less than this long ago whose record
   * is not found is not refused: that request has no session (reported to `onInvalid` as
   * `'store-pending'`) and the cookie is kept, so a request served at another location right
   * after a sign-in does not sign the user out. Default 0: a missing record means the session ended.
   */
  readonly settleMs?: number
}
