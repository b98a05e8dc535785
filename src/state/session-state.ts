/**
 * The session of one request: what the request carried, what handlers changed, and what the
 * response must say. Everything the middleware and the public functions do goes through here.
 *
 * Two cookies, so that concurrent requests cannot undo each other's work:
 * - the session cookie holds the data (or, with a store, the session id) and is written only when
 *   the data changes: sign-in, `updateSession`, key rotation, sign-out;
 * - the activity cookie holds `lastPath`, `lastVisit` and the time the session was last seen
 *   (which drives the inactivity timeout), bound to the session id. A response that only records
 *   activity never rewrites the data, so a slow page load cannot put back an older session.
 * @module
 */
import type { Context } from 'hono'
import { encode as base64url } from '../codec/base64url.js'
import { copyJson, equalMembers } from '../codec/frozen-json.js'
import { type IncomingCookies, NO_COOKIES, cookieBytes, readIncomingCookies, sessionTokenCandidates, splitIntoCookies } from '../codec/cookie-jar.js'
import type { Keyring } from '../codec/keyring.js'
import { type OpenedToken, TokenRefused, openToken, sealToken } from '../codec/token.js'
import {
  SessionCommittedError,
  SessionError,
  SessionMissingError,
  SessionStoreError,
  SessionTooLargeError,
  SessionUnsupportedError,
} from '../errors.js'
import type { ResolvedOptions } from '../options.js'
import type { StoredSession } from '../stores/types.js'
import type { InvalidReason, SessionData, SessionInput, SessionInternal, SessionDevice } from '../types.js'
import { isSessionRecord, passesSchema, toSessionRecord } from './validate.js'

/** The session cookie's payload: the record itself, or with a store only its id. */
type MainPayload = { s: StoredSession } | { sid: string }

/** A pending session-cookie write, split into cookies. */
type MainWrite = { kind: 'write'; cookies: Array<[string, string]> }

/** The activity cookie's payload. */
interface ActivityPayload {
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

interface Activity {
  readonly lastPath?: string
  readonly lastVisit?: number
  readonly seen: number
  readonly refreshed?: number
}

type Pending = { kind: 'none' } | { kind: 'clear' } | { kind: 'write'; token: string }
/** The session cookie's pending write, already split into the cookies (chunks) it takes. */
type MainPending = { kind: 'none' } | { kind: 'clear' } | { kind: 'write'; cookies: Array<[string, string]> }

const NONE = { kind: 'none' } as const
const CLEAR = { kind: 'clear' } as const
// What most responses carry; shared, so they allocate nothing.
const NO_LINES: readonly string[] = Object.freeze([])
const SESSION_ID_BYTES = 16
// Names one store write, so that a write given up on can be refused if it arrives late.
const WRITE_ID_BYTES = 12
// A write that can be settled leaves this fraction of storeTimeout for the settle call.
const SETTLE_RESERVE_DIVISOR = 5
// A lastPath longer than this keeps only its pathname, and is not recorded if that is too long.
const MAX_LAST_PATH = 1024
// Tokens of an ambiguous Cookie header opened at a sign-in or sign-out; a browser has one or two.
const MAX_AMBIGUOUS_TOKENS = 8

export class SessionState {
  /** Set once the response is on its way; later changes cannot reach the browser. */
  committed = false

  /** What the request carried or a handler wrote. May be shared with the token cache: never changed in place, never handed out. */
  #record: StoredSession | null = null
  /** `data`, composed on first use after each change: a request nobody reads the session in copies nothing. */
  #data: SessionData<object> | null | undefined = null
  #activity: Activity | null = null
  #main: MainPending = NONE
  #activityWrite: Pending = NONE
  #incoming: IncomingCookies = NO_COOKIES
  #activityToken: string | undefined
  /** The activity cookie was sealed with an older secret: re-seal it at the next touch. */
  #activityStale = false
  /**
   * With a store: the id the session cookie named once it opened (it is genuine), kept when the
   * record was then refused or could not be read: a sign-in or sign-out in this request still ends
   * it, so a copy of the cookie elsewhere does not outlive them.
   */
  #namedSid: string | undefined
  /** The store could not read the record the cookie names (failed, timed out, not visible yet). */
  #unread = false
  /** The Cookie header as it came, when our cookies in it were ambiguous: they may still name records to end. */
  #ambiguousCookies: string | undefined
  /** Store time left to this request, ms: all its store calls share one `storeTimeout`. */
  #storeBudgetMs: number
  /** With a store: the current record was written by this request's sign-in (deleted again if the request fails). */
  #createdHere = false

  constructor(
    readonly options: ResolvedOptions,
    private readonly keyring: Keyring,
    private readonly c: Context,
    /**
     * Called with the cookies of ours (name, value) that downstream handlers should see, whenever
     * they differ from what the request carried.
     */
    private readonly onVisibleChange: (c: Context, cookies: ReadonlyArray<readonly [string, string]>) => void,
  ) {
    this.#storeBudgetMs = options.storeTimeoutMs
  }

  /** The merged session that `getSession` returns (the handler's own copy), or `null` when nobody is signed in. */
  get data(): SessionData<object> | null {
    if (this.#data === undefined) this.#data = this.#record ? this.#composeFrom(this.#record) : null
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

  /**
   * Reads and checks the session the request carried. Never throws for bad input: it becomes "no
   * session". Returns a promise only when it has to wait (a token new to the isolate, a store, a
   * schema, a re-seal); the usual signed-in request, whose cookies the isolate has seen, is read
   * without one.
   */
  load(now: number): Promise<void> | undefined {
    const { names, maxBytes } = this.options
    const header = this.c.req.raw.headers.get('cookie')
    const incoming = readIncomingCookies(header, names, maxBytes)
    this.#incoming = incoming
    if (incoming.present.size === 0) return
    if (incoming.problem) {
      // Kept as it came: the refusal rewrites the request's Cookie header for downstream.
      this.#ambiguousCookies = header ?? undefined
      return this.#refuse(incoming.problem)
    }
    const token = incoming.token
    if (token === undefined) {
      // An activity cookie without a session: left over, clear it.
      if (incoming.activity !== undefined) this.#forget()
      return
    }
    let opened: OpenedToken<MainPayload> | Promise<OpenedToken<MainPayload>>
    try {
      opened = openToken<MainPayload>(token, this.keyring, 'session', now)
    } catch (error) {
      return this.#refuseToken(error)
    }
    if (opened instanceof Promise)
      return opened.then(
        (result) => this.#loadRecord(result, token, now),
        (error: unknown) => this.#refuseToken(error),
      )
    return this.#loadRecord(opened, token, now)
  }

  /** The session record an opened session cookie names: in the cookie, or in the store. */
  #loadRecord(opened: OpenedToken<MainPayload>, token: string, now: number): Promise<void> | undefined {
    const payload = opened.payload
    const store = this.options.store
    if ('sid' in payload && typeof payload.sid === 'string') {
      if (!store) return this.#refuse('malformed')
      return this.#loadStored(store, payload.sid, opened.payload.iat, opened.stale, token, now)
    }
    if (!('s' in payload) || store) return this.#refuse('malformed')
    const record = payload.s
    if (!isSessionRecord(record)) return this.#refuse('malformed')
    return this.#loadActivity(record, opened.stale, token, now)
  }

  async #loadStored(store: NonNullable<ResolvedOptions['store']>, sid: string, issuedAt: number, stale: boolean, token: string, now: number): Promise<void> {
    this.#namedSid = sid
    let record: StoredSession | null
    try {
      record = await this.#withTimeout(() => store.get(sid))
    } catch (error) {
      // Nothing is wrong with the cookie: no session for this request, but the cookies stay, so
      // a store that is down for a while does not sign out everyone who came by meanwhile.
      this.#unread = true
      this.#report('store-failed', error)
      return
    }
    if (record === null) {
      // An eventually consistent store may not show a sign-in's record here yet: not refused.
      if (store.settleMs !== undefined && now - issuedAt * 1000 < store.settleMs) {
        this.#unread = true
        this.#report('store-pending')
        return
      }
      return this.#refuse('revoked')
    }
    if (!isSessionRecord(record) || internalOf(record).sid !== sid) return this.#refuse('malformed')
    return this.#loadActivity(record, stale, token, now)
  }

  /** Checks the record's lifetime and opens the activity cookie beside it. */
  #loadActivity(record: StoredSession, stale: boolean, token: string, now: number): Promise<void> | undefined {
    const internal = internalOf(record)
    if (internal.expiresAt <= now) return this.#refuse('expired')
    const activityToken = this.#incoming.activity
    if (activityToken === undefined) return this.#accept(record, null, stale, token, now)
    let opened: OpenedToken<ActivityPayload> | Promise<OpenedToken<ActivityPayload>>
    try {
      opened = openToken<ActivityPayload>(activityToken, this.keyring, 'activity', now)
    } catch {
      return this.#accept(record, this.#activityRefused(), stale, token, now)
    }
    if (opened instanceof Promise)
      return opened.then(
        (result) => this.#accept(record, this.#activityOf(result, activityToken, internal.sid), stale, token, now),
        () => this.#accept(record, this.#activityRefused(), stale, token, now),
      )
    return this.#accept(record, this.#activityOf(opened, activityToken, internal.sid), stale, token, now)
  }

  /** The last checks (inactivity, schema); then the session is this request's. */
  #accept(record: StoredSession, activity: Activity | null, stale: boolean, token: string, now: number): Promise<void> | undefined {
    const seen = Math.max(internalOf(record).updatedAt, activity?.seen ?? 0)
    // Ends at seen + inactivity, as the absolute lifetime ends at expiresAt (and the activity token's exp).
    if (now - seen >= this.options.inactivityMs) {
      this.#refuse('inactive')
      return this.#endIdle(internalOf(record).sid)
    }
    const schema = this.options.schema
    if (!schema) return this.#use(record, activity, stale, token, now)
    return passesSchema(record, schema).then(
      (passes) => (passes ? this.#use(record, activity, stale, token, now) : this.#refuse('schema')),
      // A validator that throws on an old cookie's data must not turn every request of that user into a 500.
      (error: unknown) => this.#refuse('schema', error),
    )
  }

  #use(record: StoredSession, activity: Activity | null, stale: boolean, token: string, now: number): Promise<void> | undefined {
    this.#record = record
    this.#activity = activity
    this.#dataChanged()
    if (!stale && this.#activityWrite.kind !== 'clear') return
    if (!stale) {
      this.#setVisible(this.#cookiesOf(token))
      return
    }
    // Sealed with an older secret: re-seal with the current one in this same response.
    return this.#sealMain(record, now).then((sealed) => {
      let main: MainWrite
      try {
        main = this.#mainWrite(sealed)
      } catch (error) {
        // Past a lowered maxBytes: refused like an oversized cookie on read, never a 500 on every request.
        return this.#refuse('oversized', error)
      }
      this.#main = main
      this.#setVisible(main.cookies)
    })
  }

  #refuseToken(error: unknown): undefined {
    return this.#refuse(error instanceof TokenRefused ? error.reason : 'malformed', error)
  }

  /** Starts a new session: new id, new `createdAt`, whatever was there before is gone. */
  async create(input: SessionInput<object>, now: number, device?: SessionDevice): Promise<SessionData<object>> {
    this.#assertOpen()
    const fields = await toSessionRecord(input, this.options.schema)
    const store = this.options.store
    const previous = store ? await this.#endableSids(now) : []
    const internal: SessionInternal = {
      sid: base64url(crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES))),
      createdAt: now,
      updatedAt: now,
      expiresAt: now + this.options.absoluteMs,
    }
    const record: StoredSession = { ...fields, internal: (device ? { ...internal, device: { ...device } } : { ...internal }) as unknown as StoredSession }
    const main = this.#mainWrite(await this.#sealMain(record, now))
    // The response may have been committed while this awaited: fail loudly, never drop the change.
    this.#assertOpen()
    if (store) {
      let previousDeleted = false
      const removeIds = previous.map(() => writeId())
      const setId = writeId()
      // The delete in flight (an index into `previous`), or the new record's set.
      let step: number | 'set' = previous.length === 0 ? 'set' : 0
      try {
        // The old record goes first: a session id must never outlive a new sign-in (session fixation).
        await this.#storeWrite(
          async (signal) => {
            for (const [index, sid] of previous.entries()) {
              // Given up on (timed out): no further call starts.
              signal.throwIfAborted()
              step = index
              await store.delete(sid, { writeId: removeIds[index], signal })
              previousDeleted = true
            }
            step = 'set'
            signal.throwIfAborted()
            const idleExpiresAt = this.#idleDeadline(now, internal.expiresAt)
            await store.set(internal.sid, record, { expiresAt: internal.expiresAt, idleExpiresAt, sub: userSub(record), signal, writeId: setId })
          },
          async (failure) => {
            if (step !== 'set') {
              const left = await this.#settled(previous[step] as string, removeIds[step] as string)
              if (left === null) previousDeleted = true
              // An earlier delete landed: a previous session is ended whatever this one did.
              throw storeFailure(previousDeleted ? true : left === undefined ? 'unknown' : false, failure)
            }
            const stored = await this.#settled(internal.sid, setId)
            // Landed after all: the sign-in stands, and its cookie names the record.
            if (stored && sameRecord(stored, record)) return
            throw storeFailure(stored === null ? previousDeleted : 'unknown', failure)
          },
        )
      } catch (error) {
        // The old session is gone from the store: this request must not go on showing it.
        if (previousDeleted) this.#forget()
        throw error
      }
      this.#assertOpen()
    }
    this.#record = record
    this.#namedSid = undefined
    this.#ambiguousCookies = undefined
    this.#unread = false
    this.#createdHere = store !== undefined
    this.#activity = null
    this.#main = main
    // The old activity belongs to the old session id; commit clears it only if the browser has one.
    this.#activityWrite = CLEAR
    this.#activityToken = undefined
    this.#dataChanged()
    this.#setVisible(main.cookies)
    return this.data as SessionData<object>
  }

  /** Replaces the session's user and claims; `internal` and activity are kept. */
  async update(
    next: SessionInput<object> | ((current: SessionData<object>) => SessionInput<object> | Promise<SessionInput<object>>),
    now: number,
  ): Promise<SessionData<object>> {
    this.#assertOpen()
    const current = this.#record
    if (!current) {
      // An outage is not a sign-out: the app must not send a signed-in user to sign in again.
      if (this.#unread) throw new SessionStoreError('The session store could not read this request\'s session; nothing was changed.', { written: false })
      throw new SessionMissingError()
    }
    const internal = internalOf(current)
    const store = this.options.store
    const apply = async (base: StoredSession): Promise<StoredSession> => {
      // A deep copy (composeFrom): a function that mutates nested values (`s.user.name = x`) and then fails
      // validation or the size limit must not have changed the session this request goes on with.
      let input: SessionInput<object>
      try {
        input = typeof next === 'function' ? await next(this.#composeFrom(base)) : next
      } catch (error) {
        // The caller's own error (an HTTPException, say): #storeWrite must not report it as the store's.
        throw new CallerError(error)
      }
      const fields = await toSessionRecord(input, this.options.schema)
      return { ...fields, internal: { ...(base.internal as object), updatedAt: now } } as StoredSession
    }

    if (!store) {
      const record = await apply(current).catch(unwrapCallerError)
      // Same user and claims, in whatever member order (an idempotent "mark as done" on every
      // visit): no write, no Set-Cookie. `internal` moves with every update, so it is left out.
      if (equalMembers(record, current, 'internal')) return this.data as SessionData<object>
      const main = this.#mainWrite(await this.#sealMain(record, now))
      this.#assertOpen()
      this.#record = record
      this.#main = main
      this.#dataChanged()
      this.#setVisible(main.cookies)
      return this.data as SessionData<object>
    }

    // With a store the cookie keeps the same id; only the record changes. What the last attempt
    // started from and made, to tell after a failure whether it landed.
    let base: StoredSession | undefined
    let made: StoredSession | undefined
    const tracked = async (latest: StoredSession): Promise<StoredSession> => {
      base = latest
      made = undefined
      made = await apply(latest)
      return made
    }
    const id = writeId()
    const idleExpiresAt = this.#idleDeadline(now, internal.expiresAt)
    const record = await this.#storeWrite(
      async (signal) => {
        if (store.update)
          return store.update(internal.sid, tracked, { expiresAt: internal.expiresAt, idleExpiresAt, sub: userSub(current), signal, writeId: id })
        const latest = await store.get(internal.sid)
        if (latest === null) return null
        const updated = await tracked(latest)
        signal.throwIfAborted()
        // The user may have changed: a store that indexes by user files the record under the new one.
        await store.set(internal.sid, updated, { expiresAt: internal.expiresAt, idleExpiresAt, sub: userSub(updated), signal, writeId: id })
        return updated
      },
      async (failure) => {
        const stored = await this.#settled(internal.sid, id)
        if (stored === undefined) throw storeFailure('unknown', failure)
        // Landed after all: the update stands.
        if (made !== undefined && stored !== null && sameRecord(stored, made)) return made
        // Nothing was on its way, or the record is as this attempt found it: not written, and never will be.
        const unchanged = made === undefined || (stored !== null && base !== undefined && sameRecord(stored, base))
        throw storeFailure(unchanged ? false : 'unknown', failure)
      },
    )
    if (record === null) {
      // Ended elsewhere (sign-out in another tab): it stays ended.
      this.#forget()
      throw new SessionMissingError()
    }
    this.#record = record
    this.#dataChanged()
    return this.data as SessionData<object>
  }

  /** Ends the session: clears every cookie of it and, with a store, deletes the record. */
  async destroy(now: number): Promise<void> {
    this.#assertOpen()
    const store = this.options.store
    if (store) {
      const sids = await this.#endableSids(now)
      this.#assertOpen()
      // Record first: if it cannot be deleted, the session stays whole (cookie and record) rather
      // than half-ended with a replayable record behind a cleared cookie.
      if (sids.length > 0) {
        const ids = sids.map(() => writeId())
        // The delete in flight, an index into `sids`.
        let step = 0
        await this.#storeWrite(
          async (signal) => {
            for (const [index, sid] of sids.entries()) {
              signal.throwIfAborted()
              step = index
              await store.delete(sid, { writeId: ids[index], signal })
            }
          },
          async (failure) => {
            const stored = await this.#settled(sids[step] as string, ids[step] as string)
            // The last one gone after all: the sign-out stands.
            if (stored === null && step === sids.length - 1) return
            // An earlier record is gone: something was ended, but not all of it.
            if (step > 0 || stored === null)
              throw new SessionStoreError('The session store failed after ending some of the sessions this request named; the others were kept.', {
                cause: failure,
                written: true,
              })
            throw storeFailure(stored === undefined ? 'unknown' : false, failure)
          },
        )
      }
    }
    this.#namedSid = undefined
    this.#ambiguousCookies = undefined
    this.#forget()
  }

  /** Ends every session of `sub` through the store; this request's too when it is theirs. */
  async destroyUser(sub: string): Promise<number> {
    this.#assertOpen()
    const store = this.options.store
    if (!store?.deleteByUser)
      throw new SessionUnsupportedError(
        store
          ? 'This store cannot end sessions by user; use durableObjectStore() or d1Store().'
          : 'Sessions kept only in cookies cannot be ended one user at a time: use a store, or rotate the secret to end them all.',
      )
    const count = await this.#storeWrite(() => store.deleteByUser?.(sub) ?? Promise.resolve(0))
    if (this.#record && userSub(this.#record) === sub) this.#forget()
    return count
  }

  /**
   * The path to record after a successful response, or `undefined` when there is nothing to
   * write: `pageView` is the path of a page view, or `null` for any other request. Due only when
   * the path changed or the last write is older than `touchMs`, so a stream of API calls writes
   * nothing. Cheap: it runs on every signed-in request, before the costlier checks of whether
   * the request counts as activity at all.
   */
  activityDue(now: number, pageView: string | null, touchMs: number): { path: string | null } | undefined {
    const record = this.#record
    if (!record || this.committed) return undefined
    const previous = this.#activity
    const seen = Math.max(internalOf(record).updatedAt, previous?.seen ?? 0)
    const path = pageView !== null && pageView.length > MAX_LAST_PATH ? shortenPath(pageView) : pageView
    const newPath = path !== null && path !== previous?.lastPath
    if (!newPath && now - seen < touchMs && !this.#activityStale) return undefined
    return { path }
  }

  /** Records activity (see {@link SessionState.activityDue}): seals a new activity cookie. */
  async touch(now: number, due: { path: string | null }): Promise<void> {
    const record = this.#record
    if (!record || this.committed) return
    const internal = internalOf(record)
    const { path } = due
    const previous = this.#activity
    const refreshed = await this.#refreshStored(internal, previous, now)
    const activity: Activity = {
      lastPath: path ?? previous?.lastPath,
      lastVisit: path !== null ? now : previous?.lastVisit,
      seen: now,
      refreshed,
    }
    const payload: ActivityPayload = { sid: internal.sid, t: now }
    if (activity.lastPath !== undefined) payload.p = activity.lastPath
    if (activity.lastVisit !== undefined) payload.v = activity.lastVisit
    if (refreshed !== undefined) payload.r = refreshed
    const exp = Math.min(now + this.options.inactivityMs, internal.expiresAt)
    const token = await sealToken({ iat: seconds(now), exp: secondsUp(exp), ...payload }, this.keyring.current, 'activity')
    this.#activity = activity
    this.#activityWrite = { kind: 'write', token }
    this.#dataChanged()
  }

  /**
   * With a store that forgets idle records: moves the record's idle deadline later when the last
   * move is half an inactivity period old (see {@link SessionState.#idleDeadline}), so an active
   * session costs the store one write per half period, not one per request. Returns when the
   * deadline was last moved; a failed move is tried again at the next touch.
   */
  async #refreshStored(internal: SessionInternal, previous: Activity | null, now: number): Promise<number | undefined> {
    const store = this.options.store
    const touch = store?.touch
    if (!touch) return undefined
    const refreshed = Math.max(internal.updatedAt, previous?.refreshed ?? 0)
    if (now - refreshed < this.options.inactivityMs / 2) return refreshed
    try {
      await this.#withTimeout(() => touch.call(store, internal.sid, { expiresAt: internal.expiresAt, idleExpiresAt: this.#idleDeadline(now, internal.expiresAt) }))
      return now
    } catch {
      // The record lives until its previous deadline; the next touch tries again.
      return refreshed
    }
  }

  /**
   * Ends a failed request (a server error) without writing cookies: the browser keeps the cookies
   * it had. Marked committed all the same, so a later `updateSession` (in a stream) throws instead
   * of vanishing. With a store, a record this request's sign-in wrote is deleted again, since no
   * cookie will ever name it (the previous one was ended by that sign-in all the same); returns
   * that deletion, which never rejects.
   */
  abandon(): Promise<void> | undefined {
    this.#main = NONE
    this.#activityWrite = NONE
    this.committed = true
    const store = this.options.store
    const orphan = this.#storedSid()
    if (!this.#createdHere || !store || orphan === undefined) return undefined
    return this.#storeWrite(() => store.delete(orphan)).then(
      () => undefined,
      // Best effort: left behind, the record only waits for its idle deadline, and no cookie names it.
      () => undefined,
    )
  }

  /** The Set-Cookie lines this response must carry, and marks the state committed. */
  commit(now: number): readonly string[] {
    this.committed = true
    if (this.#main.kind === 'none' && this.#activityWrite.kind === 'none') return NO_LINES
    const { names, setCookie } = this.options
    const out: string[] = []
    const present = this.#incoming.present
    const expiresAt = this.#record ? internalOf(this.#record).expiresAt : now

    const main = this.#main
    const sentSessionCookie = present.size > (present.has(names.activity) ? 1 : 0)
    // A clear writes nothing to a browser that sent no session cookie (a leftover activity cookie,
    // a sign-out while signed out).
    if (main.kind === 'write' || (main.kind === 'clear' && sentSessionCookie)) {
      // Page views only write the activity cookie: this set is made for session-cookie writes only.
      const handled = new Set<string>([names.activity])
      if (main.kind === 'write') {
        const maxAge = Math.max(0, Math.ceil((expiresAt - now) / 1000))
        for (const [name, value] of main.cookies) {
          out.push(setCookie(name, value, maxAge))
          handled.add(name)
        }
      }
      // Clear every other name the session cookie can take, not only those this request carried: a
      // concurrent request may have set others (one tab grows the session into chunks while another
      // writes it unchunked), and the last response must leave one whole token, never a mix. Then
      // what the browser sent beyond them (chunks of a token written under a larger maxBytes).
      for (const candidates of [this.options.sessionCookieNames, present]) {
        for (const name of candidates) {
          if (handled.has(name)) continue
          out.push(setCookie(name, '', 0))
          handled.add(name)
        }
      }
    }

    const activity = this.#activityWrite
    if (activity.kind === 'write') {
      const seen = this.#activity?.seen ?? now
      const maxAge = Math.max(0, Math.ceil((Math.min(seen + this.options.inactivityMs, expiresAt) - now) / 1000))
      out.push(setCookie(names.activity, activity.token, maxAge))
    } else if (activity.kind === 'clear' && present.has(names.activity)) {
      // Same Path/Domain/Secure/SameSite as when set, or Chromium keeps the cookie.
      out.push(setCookie(names.activity, '', 0))
    }
    return out
  }

  /** With a store: the id of the record this request's session cookie names, read or not. */
  #storedSid(): string | undefined {
    return this.#record ? internalOf(this.#record).sid : this.#namedSid
  }

  /**
   * With a store: the records a sign-in or sign-out in this request ends: the one the session
   * cookie names, accepted or not. An ambiguous cookie (duplicate names, chunks beside a whole
   * cookie) was not opened at load; each of its tokens that opens is genuine and names one.
   */
  async #endableSids(now: number): Promise<string[]> {
    const own = this.#storedSid()
    const header = this.#ambiguousCookies
    if (own !== undefined || header === undefined) return own === undefined ? [] : [own]
    const sids = new Set<string>()
    for (const token of sessionTokenCandidates(header, this.options.names, this.options.maxBytes, MAX_AMBIGUOUS_TOKENS)) {
      try {
        const { payload } = await openToken<MainPayload>(token, this.keyring, 'session', now)
        if ('sid' in payload && typeof payload.sid === 'string') sids.add(payload.sid)
      } catch {
        // Not a session token of ours: it names nothing.
      }
    }
    return [...sids]
  }

  /**
   * Deletes the record of a session refused as idle: it is over, and a copy of its cookie kept
   * active elsewhere must not outlive it. On Workers the response does not wait for it (waitUntil);
   * elsewhere the request's load awaits it, so it is never dropped.
   */
  #endIdle(sid: string): Promise<void> | undefined {
    const store = this.options.store
    if (!store) return undefined
    // Best effort: this request is refused either way, and a record left behind still ends with its session.
    const deletion = this.#storeWrite(() => store.delete(sid)).then(
      () => undefined,
      () => undefined,
    )
    let context: { waitUntil(promise: Promise<unknown>): void } | undefined
    try {
      context = this.c.executionCtx
    } catch {
      // No ExecutionContext (Node, Bun, Deno, app.request() in tests): awaited instead.
    }
    if (!context) return deletion
    context.waitUntil(deletion)
    return undefined
  }

  #forget(): void {
    this.#unread = false
    this.#createdHere = false
    this.#record = null
    this.#activity = null
    this.#data = null
    this.#main = CLEAR
    this.#activityWrite = CLEAR
    this.#activityToken = undefined
    this.#setVisible()
  }

  /** A refused cookie: reported, and cleared from the browser. */
  #refuse(reason: InvalidReason, error?: unknown): undefined {
    this.#report(reason, error)
    this.#forget()
  }

  #report(reason: InvalidReason, error?: unknown): void {
    try {
      this.options.onInvalid?.(reason, this.c, error)
    } catch {
      // A throwing hook must not turn an attacker's garbage cookie into a 500 on demand.
    }
  }

  /** The activity an opened activity cookie holds, if it belongs to this session. */
  #activityOf(opened: OpenedToken<ActivityPayload>, token: string, sid: string): Activity | null {
    const { payload, stale } = opened
    if (payload.sid !== sid || typeof payload.t !== 'number') return this.#activityRefused()
    this.#activityToken = token
    this.#activityStale = stale
    // Filled in place, not with conditional spreads: no throwaway objects per request.
    const activity: { seen: number; lastPath?: string; lastVisit?: number; refreshed?: number } = { seen: payload.t }
    if (typeof payload.p === 'string') activity.lastPath = payload.p
    if (typeof payload.v === 'number') activity.lastVisit = payload.v
    if (typeof payload.r === 'number') activity.refreshed = payload.r
    return activity
  }

  /** Another session's activity cookie, an expired or a forged one: ignored, and cleared. */
  #activityRefused(): null {
    this.#activityWrite = CLEAR
    return null
  }

  #sealMain(record: StoredSession, now: number): Promise<string> {
    const internal = internalOf(record)
    const payload: MainPayload = this.options.store ? { sid: internal.sid } : { s: record }
    return sealToken({ iat: seconds(now), exp: secondsUp(internal.expiresAt), ...payload }, this.keyring.current, 'session')
  }

  /**
   * A session-cookie write of `token`, split into cookies once for the size check, the request
   * merge and the Set-Cookie lines. Throws {@link SessionTooLargeError} past `maxBytes`.
   */
  #mainWrite(token: string): MainWrite {
    const cookies = this.#cookiesOf(token)
    const bytes = cookieBytes(cookies)
    if (bytes > this.options.maxBytes) throw new SessionTooLargeError(bytes, this.options.maxBytes)
    return { kind: 'write', cookies }
  }

  #cookiesOf(token: string): Array<[string, string]> {
    return splitIntoCookies(this.options.names.main, token)
  }

  #assertOpen(): void {
    if (this.committed) throw new SessionCommittedError()
  }

  /**
   * Runs a store write within what is left of `storeTimeout`. The signal aborts on timeout, so a
   * store that retries (compare-and-set) stops instead of writing after the caller was told it
   * failed. With `settle` and a store that has one, the write leaves a fifth of `storeTimeout` for
   * it: a hung store holds the request one `storeTimeout` in all, settle included.
   */
  async #storeWrite<T>(write: (signal: AbortSignal) => Promise<T>, settle?: (failure: unknown) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    // Only a write whose outcome the store can tell keeps time back for asking it.
    const reserveMs = settle && this.options.store?.settle ? this.options.storeTimeoutMs / SETTLE_RESERVE_DIVISOR : 0
    try {
      return await this.#withTimeout(() => write(controller.signal), controller, reserveMs)
    } catch (error) {
      if (error instanceof SessionError) throw error
      if (error instanceof CallerError) unwrapCallerError(error)
      // Never sent to the store: nothing was written.
      if (error instanceof StoreTimeSpent) throw storeFailure(false, error)
      // A failed or timed-out write may still land: `settle` finds out, or throws saying what is known.
      if (settle) return settle(error)
      throw storeFailure('unknown', error)
    }
  }

  /**
   * After a failed write: the record as the store holds it now that the write named `id` can no
   * longer land (`null`: none), or `undefined` when the store cannot tell (no `settle`, or it failed too).
   * Runs within what is left of the request's store time: at least the settle reserve after a write
   * that timed out.
   */
  async #settled(sid: string, id: string): Promise<StoredSession | null | undefined> {
    const store = this.options.store
    const settle = store?.settle
    if (!settle) return undefined
    try {
      return await this.#withTimeout(() => settle.call(store, sid, id))
    } catch {
      return undefined
    }
  }

  /**
   * When the store may forget a record nobody uses: half an inactivity period after the idle
   * deadline, since the store's copy is moved at most once per half period (see `touch`), so it
   * never ends before the session's own idle deadline. Never past the absolute end.
   */
  #idleDeadline(now: number, expiresAt: number): number {
    return Math.min(now + this.options.inactivityMs * 1.5, expiresAt)
  }

  /**
   * Runs a store call within what is left of the request's `storeTimeout`: one budget for all the
   * request's store calls, so a hung store holds a request (a sign-out after the read, say) once,
   * not once per call. A write that will be settled leaves `reserveMs` of it for the settle. With
   * nothing left the store is not called at all (the call fails with {@link StoreTimeSpent}).
   */
  #withTimeout<T>(call: () => Promise<T>, controller?: AbortController, reserveMs = 0): Promise<T> {
    const budget = this.#storeBudgetMs
    const allowed = budget - reserveMs
    if (allowed <= 0) return Promise.reject(new StoreTimeSpent(this.options.storeTimeoutMs))
    const started = Date.now()
    // Assigned synchronously by the executor below. Not `| undefined`: workers-types' clearTimeout refuses it.
    let timer!: ReturnType<typeof setTimeout>
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A write's reserve stays for its settle.
        this.#storeBudgetMs = reserveMs
        const error = new Error(`store calls of this request timed out after ${this.options.storeTimeoutMs} ms`)
        controller?.abort(error)
        reject(error)
      }, allowed)
    })
    let promise: Promise<T>
    try {
      promise = call()
    } catch (error) {
      // A store that throws instead of rejecting failed all the same, never a 500.
      promise = Promise.reject(error)
    }
    return Promise.race([promise, timeout]).finally(() => {
      clearTimeout(timer)
      this.#storeBudgetMs = Math.min(this.#storeBudgetMs, budget - (Date.now() - started))
    })
  }

  #composeFrom(record: StoredSession): SessionData<object> {
    // A deep copy: the record may be the token cache's frozen object, and a caller changing
    // getSession(c).internal (or the session passed to an update function) must not reach the
    // record, or an update could extend expiresAt.
    const data = copyJson(record) as Record<string, unknown>
    const activity = this.#activity
    if (activity?.lastPath !== undefined) data.lastPath = activity.lastPath
    if (activity?.lastVisit !== undefined) data.lastVisit = activity.lastVisit
    return data as SessionData<object>
  }

  #dataChanged(): void {
    this.#data = undefined
  }

  /** Tells the middleware which cookies of ours downstream should now see. */
  #setVisible(mainCookies: ReadonlyArray<[string, string]> = []): void {
    const visible: Array<[string, string]> = [...mainCookies]
    if (this.#activityToken !== undefined && this.#activityWrite.kind !== 'clear') visible.push([this.options.names.activity, this.#activityToken])
    this.onVisibleChange(this.c, visible)
  }
}

/** Carries an error thrown by the caller's update function through a store's `update`, unwrapped by #storeWrite. */
class CallerError {
  constructor(readonly error: unknown) {}
}

function unwrapCallerError(error: unknown): never {
  throw error instanceof CallerError ? error.error : error
}

/** A store call the request had no store time left for: it never reached the store. */
class StoreTimeSpent extends Error {
  constructor(storeTimeoutMs: number) {
    super(`store calls of this request took their ${storeTimeoutMs} ms already`)
  }
}

function writeId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(WRITE_ID_BYTES)))
}

/** Whether two records hold the same JSON (what a store hands back is a JSON round trip of what it was given). */
function sameRecord(a: StoredSession, b: StoredSession): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function storeFailure(written: boolean | 'unknown', cause: unknown): SessionStoreError {
  const message =
    written === false
      ? 'The session store failed; nothing was changed.'
      : written === true
        ? 'The session store failed after ending the previous session; the new one was not written, so this request is signed out.'
        : 'The session store failed or timed out; whether the change was written is unknown.'
  return new SessionStoreError(message, { cause, written })
}

/** The middleware's fields of a record that passed {@link isSessionRecord} or was built here. */
function internalOf(record: StoredSession): SessionInternal {
  return record.internal as unknown as SessionInternal
}

function userSub(record: StoredSession): string {
  return (record.user as { sub: string }).sub
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000)
}

/** For `exp`: rounded up, so the token never ends before the ms-precise limit checked in `load`. */
function secondsUp(ms: number): number {
  return Math.ceil(ms / 1000)
}

function shortenPath(path: string): string | null {
  const q = path.indexOf('?')
  const pathname = q === -1 ? path : path.slice(0, q)
  return pathname.length > MAX_LAST_PATH ? null : pathname
}
