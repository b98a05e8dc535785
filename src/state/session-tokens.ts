/**
 * What the session's two cookies carry, and sealing them:
 * - the session cookie holds the record (or, with a store, only its id) and is written only when
 *   the data changes;
 * - the activity cookie holds `lastPath`, `lastVisit` and when the session was last seen, bound to
 *   the session id.
 *
 * Handlers see the two composed into one session ({@link composeSession}).
 * @module
 */
import { type CookieNames, cookieBytes, sessionTokenCandidates, splitIntoCookies } from '../codec/cookie-jar.js'
import { copyJson } from '../codec/frozen-json.js'
import type { Keyring, SecretKeys } from '../codec/keyring.js'
import { TokenRefused, sealToken, startOpen } from '../codec/token.js'
import { SessionTooLargeError } from '../errors.js'
import type { SessionData } from '../types.js'
import type { SessionRecord } from './record.js'

/** The session cookie's payload: the record itself, or with a store only its id. */
export type SessionPayload = { s: SessionRecord } | { sid: string }

/** The activity cookie's payload. */
export interface ActivityPayload {
  sid: string
  /** lastPath */
  p?: string
  /** lastVisit, ms */
  v?: number
  /** last seen, ms: any successful request, for the inactivity timeout */
  t: number
  /** with a store that has `touch`: when the record's idle deadline in the store was last moved, ms */
  r?: number
}

/** The activity of a session, as its activity cookie says. */
export interface Activity {
  readonly lastPath?: string
  readonly lastVisit?: number
  readonly seen: number
  readonly refreshed?: number
}

/**
 * The session as handlers see it, composed from `record`: a deep copy (the record may be the
 * token cache's frozen object, and a caller changing `getSession(c).internal`, or the session
 * passed to an update function, must not reach the record, or an update could extend
 * `expiresAt`), with the activity's `lastPath` and `lastVisit`.
 *
 * @example
 * ```ts
 * const data = composeSession(record, { lastPath: '/cart', lastVisit: now, seen: now })
 * data.lastPath // '/cart'
 * ```
 */
export function composeSession(record: SessionRecord, activity: Activity | null): SessionData<object> {
  const data = copyJson<Record<string, unknown>>(record)
  if (activity?.lastPath !== undefined) data.lastPath = activity.lastPath
  if (activity?.lastVisit !== undefined) data.lastVisit = activity.lastVisit
  return data as SessionData<object>
}

/** A session-cookie write, already split into the cookies (chunks) it takes. */
export interface SessionCookieWrite {
  readonly kind: 'write'
  readonly cookies: Array<[string, string]>
}

/**
 * Seals the session cookie's token for `record`: the record itself, or its id with a store.
 *
 * @example
 * ```ts
 * const token = await sealSession(record, keyring.current, Date.now(), store !== undefined)
 * ```
 */
export function sealSession(record: SessionRecord, keys: SecretKeys, now: number, byId: boolean): Promise<string> {
  const { sid, expiresAt } = record.internal
  const payload: SessionPayload = byId ? { sid } : { s: record }
  return sealToken({ iat: seconds(now), exp: secondsUp(expiresAt), ...payload }, keys, 'session')
}

/**
 * Seals an activity cookie's token, valid until `expiresAt` (ms).
 *
 * @example
 * ```ts
 * const token = await sealActivity({ sid, t: now, p: '/explore', v: now }, keyring.current, now, now + inactivityMs)
 * ```
 */
export function sealActivity(
  payload: ActivityPayload,
  keys: SecretKeys,
  now: number,
  expiresAt: number,
): Promise<string> {
  return sealToken({ iat: seconds(now), exp: secondsUp(expiresAt), ...payload }, keys, 'activity')
}

/**
 * A session-cookie write of `token`, split into cookies once for the size check, the request
 * merge and the Set-Cookie lines. Throws {@link SessionTooLargeError} past `maxBytes`.
 *
 * @example
 * ```ts
 * const write = sessionCookieWrite('__Host-session', token, 10 * 1024)
 * ```
 */
export function sessionCookieWrite(main: string, token: string, maxBytes: number): SessionCookieWrite {
  const cookies = splitIntoCookies(main, token)
  const bytes = cookieBytes(cookies)
  if (bytes > maxBytes) throw new SessionTooLargeError(bytes, maxBytes)
  return { kind: 'write', cookies }
}

/**
 * The activity an opened activity cookie's payload holds, or `null` when it is not this session's.
 *
 * @example
 * ```ts
 * const activity = activityOf(opened.payload, record.internal.sid)
 * ```
 */
export function activityOf(payload: ActivityPayload, sid: string): Activity | null {
  if (payload.sid !== sid || typeof payload.t !== 'number') return null
  // Filled in place, not with conditional spreads: no throwaway objects per request.
  const activity: { seen: number; lastPath?: string; lastVisit?: number; refreshed?: number } = { seen: payload.t }
  if (typeof payload.p === 'string') activity.lastPath = payload.p
  if (typeof payload.v === 'number') activity.lastVisit = payload.v
  if (typeof payload.r === 'number') activity.refreshed = payload.r
  return activity
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000)
}

/** For `exp`: rounded up, so the token never ends before the ms-precise limit checked at load. */
function secondsUp(ms: number): number {
  return Math.ceil(ms / 1000)
}

// Tokens of an ambiguous Cookie header opened at a sign-in or sign-out; a browser has one or two.
const MAX_AMBIGUOUS_TOKENS = 8

/**
 * With a store: the session ids an ambiguous Cookie header names (duplicate names, chunks beside
 * a whole cookie). Not opened at load; each of its tokens that opens is genuine and names one, to
 * be ended by a sign-in or sign-out.
 *
 * @example
 * ```ts
 * const sids = await sessionIdsIn(header, names, maxBytes, keyring, Date.now())
 * ```
 */
export async function sessionIdsIn(
  header: string,
  names: CookieNames,
  maxBytes: number,
  keyring: Keyring,
  now: number,
): Promise<string[]> {
  const sids = new Set<string>()
  for (const token of sessionTokenCandidates(header, names, maxBytes, MAX_AMBIGUOUS_TOKENS)) {
    const opened = await startOpen<{ sid?: unknown }>(token, keyring, 'session', now)
    // A refused token is not a session token of ours: it names nothing.
    const sid = opened instanceof TokenRefused ? undefined : opened.payload.sid
    if (typeof sid === 'string') sids.add(sid)
  }
  return [...sids]
}
