/**
 * The session record: what a session cookie carries or a store keeps under the session id, its
 * shape checked once where it enters (a token's payload, a store's read), typed from then on.
 * @module
 */
import type { JsonValue, SessionUser } from '../types.js'

/** The middleware's own fields of a record, as JSON (see the public `SessionInternal`). */
export type RecordInternal = {
  readonly sid: string
  readonly createdAt: number
  readonly updatedAt: number
  readonly expiresAt: number
  /** What the browser was at sign-in, under the `device` option (see the public `SessionDevice`). */
  readonly device?: { readonly browser?: string; readonly country?: string }
}

/**
 * A session as kept: the user, the middleware's fields and the app's claims. Plain JSON, so it is
 * a `StoredSession` as it is.
 *
 * @example
 * ```ts
 * const record: SessionRecord = { user: { sub: 'u1' }, internal: { sid, createdAt: now, updatedAt: now, expiresAt }, plan: 'pro' }
 * ```
 */
export type SessionRecord = {
  readonly user: SessionUser
  readonly internal: RecordInternal
  readonly [claim: string]: JsonValue
}

/** A record without its `internal` fields: what a caller's input becomes once checked. */
export type RecordFields = {
  readonly user: SessionUser
  readonly [claim: string]: JsonValue
}

/**
 * Whether a value read back (a token's payload, a store's answer) has the shape every session has.
 *
 * @example
 * ```ts
 * const stored = await store.get(sid)
 * if (stored !== null && isSessionRecord(stored)) use(stored.internal.expiresAt)
 * ```
 */
export function isSessionRecord(value: unknown): value is SessionRecord {
  if (!isPlainObject(value)) return false
  const { user, internal } = value
  if (!isPlainObject(user) || typeof user.sub !== 'string') return false
  if (!isPlainObject(internal)) return false
  const { sid, createdAt, updatedAt, expiresAt } = internal
  // Plain checks, not `[...].every(...)`: this runs on every signed-in request.
  return typeof sid === 'string' && isFiniteNumber(createdAt) && isFiniteNumber(updatedAt) && isFiniteNumber(expiresAt)
}

/**
 * Whether `value` is an object literal or `JSON.parse` output (no class instance, no array).
 *
 * @example
 * ```ts
 * isPlainObject({ a: 1 }) // true; isPlainObject(new Date()) // false
 * ```
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function isFiniteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value)
}
