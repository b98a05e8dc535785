/**
 * The session of one request: what the request carried, what handlers changed, and what the
 * response must say. The middleware and the public functions call it; it calls the codec and the
 * store (through `load.ts`, `store-calls.ts`, `store-writes.ts`) and answers with return values:
 * what downstream should see in the Cookie header ({@link SessionState.takeRequestCookies}) and
 * what the response must set ({@link SessionState.commit}). It formats no header.
 *
 * Two cookies, so that concurrent requests cannot undo each other's work: the session cookie
 * (the data, or with a store the session id) is written only when the data changes; the activity
 * cookie (`lastPath`, `lastVisit`, last seen) is bound to the session id, so a response that only
 * records activity never rewrites the data, and a slow page load cannot put back an older session.
 * @module
 */
import type { Context } from 'hono'
import { type CookieNames, splitIntoCookies } from '../codec/cookie-jar.js'
import type { Keyring } from '../codec/keyring.js'
import type { CookieChanges } from '../codec/set-cookie.js'
import { SessionCommittedError } from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { InvalidReason, SessionData } from '../types.js'
import { type ActivityDue, activityDue, nextActivity, refreshIdleDeadline } from './activity-record.js'
import { CookiePlan } from './cookie-plan.js'
import { type LoadResult, loadSession } from './load.js'
import type { SessionRecord } from './record.js'
import { RecordsToEnd } from './records-to-end.js'
import {
  type Activity,
  type SessionCookieWrite,
  composeSession,
  sealActivity,
  sealSession,
  sessionCookieWrite,
} from './session-tokens.js'
import { StoreCalls, deleteAfterResponse } from './store-calls.js'

/**
 * One request's session. Made by the middleware per request.
 *
 * @example
 * ```ts
 * const state = new SessionState(resolved, keyring, c)
 * await state.load(Date.now())
 * const lines = setCookieLines(state.commit(Date.now()), resolved)
 * ```
 */
export class SessionState {
  /** Set once the response is on its way; later changes cannot reach the browser. */
  committed = false

  /** What the request carried or a handler wrote. May be shared with the token cache: never changed in place, never handed out. */
  #record: SessionRecord | null = null
  /** `data`, composed on first use after each change: a request nobody reads the session in copies nothing. */
  #data: SessionData<object> | null | undefined = null
  #activity: Activity | null = null
  readonly #cookies: CookiePlan
  /** The activity cookie was sealed with an older secret: re-seal it at the next touch. */
  #activityStale = false
  /** The store could not read the record the cookie names (failed, timed out, not visible yet). */
  #unread = false
  /** With a store: the records a sign-in, a sign-out or a failure in this request ends. */
  readonly #ends: RecordsToEnd
  readonly #storeCalls: StoreCalls | undefined

  constructor(
    readonly options: ResolvedOptions,
    private readonly keyring: Keyring,
    private readonly c: Context,
  ) {
    this.#storeCalls = options.store ? new StoreCalls(options.store, options.storeTimeoutMs) : undefined
    this.#cookies = new CookiePlan(options.names)
    this.#ends = new RecordsToEnd(options.names, options.maxBytes, keyring)
  }

  /** The merged session that `getSession` returns (the handler's own copy), or `null` when nobody is signed in. */
  get data(): SessionData<object> | null {
    if (this.#data === undefined) this.#data = this.#record ? this.composeFrom(this.#record) : null
    return this.#data
  }

  /** Whether someone is signed in, without composing {@link SessionState.data}. */
  get signedIn(): boolean {
    return this.#record !== null
  }

  /** Whether the request's session cookie names a record the store could not read. */
  get unreadable(): boolean {
    return this.#unread
  }

  /** The names of the session's cookies. */
  get cookieNames(): CookieNames {
    return this.options.names
  }

  /**
   * Our cookies (name, value) downstream handlers should see in the request's Cookie header, when
   * they changed since last asked; `undefined` when they did not.
   */
  takeRequestCookies(): ReadonlyArray<readonly [string, string]> | undefined {
    return this.#cookies.takeRequestCookies()
  }

  /**
   * Reads and checks the session the request carried (see {@link loadSession}). Never throws for
   * bad input: it becomes "no session". Returns a promise only when it has to wait.
   */
  load(now: number): Promise<void> | undefined {
    const header = this.c.req.raw.headers.get('cookie')
    const result = loadSession(header, {
      options: this.options,
      keyring: this.keyring,
      storeCalls: this.#storeCalls,
      now,
    })
    return result instanceof Promise ? result.then((loaded) => this.#take(loaded)) : this.#take(result)
  }

  /** Makes a load's result this request's session. */
  #take(result: LoadResult): Promise<void> | undefined {
    const cookies = this.#cookies
    cookies.incoming = result.incoming
    switch (result.kind) {
      case 'none':
        if (result.leftover) this.forget()
        return undefined
      case 'pending':
      case 'unreadable':
        this.#ends.namedSid = result.sid
        this.#unread = true
        this.#report(
          result.kind === 'pending' ? 'store-pending' : 'store-failed',
          result.kind === 'unreadable' ? result.error : undefined,
        )
        return undefined
      case 'refused':
        this.#ends.namedSid = result.sid
        this.#ends.ambiguousCookies = result.ambiguousHeader
        this.#refuse(result.reason, result.error)
        // Over: its record goes too, so a copy of the cookie kept active elsewhere does not outlive it.
        return result.idle && result.sid !== undefined && this.#storeCalls
          ? deleteAfterResponse(this.#storeCalls, result.sid, this.c)
          : undefined
      case 'session':
        this.#ends.namedSid = this.#storeCalls ? result.record.internal.sid : undefined
        this.#record = result.record
        this.#activity = result.activity
        this.#activityStale = result.activityStale
        this.#data = undefined
        cookies.keepActivity(result.activityToken)
        if (result.activityRefused) cookies.refuseActivity()
        if (result.resealed) cookies.writeSession(result.resealed)
        else if (result.activityRefused) cookies.showSession(splitIntoCookies(this.options.names.main, result.token))
        return undefined
    }
  }

  /** The record the request carried or a handler wrote; never changed in place, never handed out. */
  get record(): SessionRecord | null {
    return this.#record
  }

  /** This request's store calls, with a store. */
  get storeCalls(): StoreCalls | undefined {
    return this.#storeCalls
  }

  /** Throws {@link SessionCommittedError} once the response is on its way: a change could not reach the browser. */
  assertOpen(): void {
    if (this.committed) throw new SessionCommittedError()
  }

  /** A new session (sign-in): `record`, sealed as `write`; whatever was there before is gone. */
  startSession(record: SessionRecord, write: SessionCookieWrite): void {
    this.#record = record
    this.#ends.clear()
    this.#unread = false
    this.#ends.createdHere = this.#storeCalls !== undefined
    this.#activity = null
    this.#data = undefined
    // The old activity belongs to the old session id; it is cleared only if the browser has one.
    this.#cookies.startSession(write)
  }

  /** An updated session: `record`, and with the session in the cookie its new cookie `write`. */
  replaceRecord(record: SessionRecord, write?: SessionCookieWrite): SessionData<object> {
    if (write) this.#cookies.writeSession(write)
    this.#record = record
    this.#data = undefined
    return this.data as SessionData<object>
  }

  /** Signed out: no session, every cookie of it cleared, and no record left to end. */
  endSession(): void {
    this.#ends.clear()
    this.forget()
  }

  /** No session from now on, and its cookies cleared (a record was ended elsewhere, or refused). */
  forget(): void {
    this.#unread = false
    this.#ends.createdHere = false
    this.#record = null
    this.#activity = null
    this.#data = null
    this.#cookies.clearAll()
  }

  /** The session cookie's write for `record`, sealed now. Throws `SessionTooLargeError` past `maxBytes`. */
  async sealWrite(record: SessionRecord, now: number): Promise<SessionCookieWrite> {
    const token = await sealSession(record, this.keyring.current, now, this.#storeCalls !== undefined)
    return sessionCookieWrite(this.options.names.main, token, this.options.maxBytes)
  }

  /** With a store: the records a sign-in or sign-out in this request ends (see {@link RecordsToEnd.endable}). */
  endableSids(now: number): Promise<string[]> {
    return this.#ends.endable(this.#record, now)
  }

  /** The session as handlers see it, composed from `record` and this request's activity (see {@link composeSession}). */
  composeFrom(record: SessionRecord): SessionData<object> {
    return composeSession(record, this.#activity)
  }

  /** The activity write due after a successful response, if any (see {@link activityDue}); throttled by `activity.touchInterval`. */
  activityDue(now: number, pageView: string | null): ActivityDue | undefined {
    const record = this.#record
    if (!record || this.committed) return undefined
    return activityDue(
      record.internal,
      this.#activity,
      this.#activityStale,
      now,
      pageView,
      this.options.activity.touchMs,
    )
  }

  /** Records activity (see {@link SessionState.activityDue}): seals a new activity cookie. */
  async touch(now: number, due: ActivityDue): Promise<void> {
    const record = this.#record
    if (!record || this.committed) return
    const { internal } = record
    const refreshed = await refreshIdleDeadline(this.#storeCalls, internal, this.#activity, now, this.options)
    const { activity, payload } = nextActivity(internal, this.#activity, now, due, refreshed)
    const expiresAt = Math.min(now + this.options.inactivityMs, internal.expiresAt)
    const token = await sealActivity(payload, this.keyring.current, now, expiresAt)
    this.#activity = activity
    this.#cookies.writeActivity(token)
    this.#data = undefined
  }

  /**
   * Ends a failed request (a server error) without writing cookies: the browser keeps the cookies
   * it had. Marked committed all the same, so a later `updateSession` (in a stream) throws instead
   * of vanishing. With a store, a record this request's sign-in wrote is deleted again, since no
   * cookie will ever name it (the previous one was ended by that sign-in all the same): through
   * `waitUntil` where there is one, so the error response does not wait for the store; elsewhere
   * returned to be awaited (it never rejects).
   */
  abandon(): Promise<void> | undefined {
    this.#cookies.writeNothing()
    this.committed = true
    const orphan = this.#ends.storedSid(this.#record)
    if (!this.#ends.createdHere || orphan === undefined) return undefined
    // Best effort: left behind, the record only waits for its idle deadline, and no cookie names it.
    return this.deleteLater(orphan)
  }

  /** With a store: deletes `sid` at best effort, after the response where there is `waitUntil` (see `deleteAfterResponse`). */
  deleteLater(sid: string): Promise<void> | undefined {
    return this.#storeCalls && deleteAfterResponse(this.#storeCalls, sid, this.c)
  }

  /** What the response must do with the session's cookies (see `setCookieLines`); marks the state committed. */
  commit(now: number): CookieChanges {
    this.committed = true
    const expiresAt = this.#record ? this.#record.internal.expiresAt : now
    return this.#cookies.changes({
      now,
      expiresAt,
      seen: this.#activity?.seen ?? now,
      inactivityMs: this.options.inactivityMs,
    })
  }

  /** A refused cookie: reported, and cleared from the browser. */
  #refuse(reason: InvalidReason, error?: unknown): void {
    this.#report(reason, error)
    this.forget()
  }

  #report(reason: InvalidReason, error?: unknown): void {
    try {
      this.options.onInvalid?.(reason, this.c, error)
    } catch {
      // A throwing hook must not turn an attacker's garbage cookie into a 500 on demand.
    }
  }
}
