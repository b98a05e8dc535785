/**
 * Loading: what a request's cookies say, as one tagged result. Reads our cookies, opens the
 * session token, reads the record (from the token, or the store), checks its lifetimes and the
 * schema, opens the activity cookie beside it, and re-seals a token sealed with an older secret.
 * Never throws for bad input: a cookie that cannot be used is `refused`, with the reason.
 * @module
 */
import { type IncomingCookies, readIncomingCookies } from '../codec/cookie-jar.js'
import type { Keyring } from '../codec/keyring.js'
import { type OpenResult, type OpenedToken, TokenRefused, startOpen } from '../codec/token.js'
import type { ResolvedOptions } from '../options.js'
import type { InvalidReason } from '../types.js'
import { isSessionRecord, type SessionRecord } from './record.js'
import {
  type Activity,
  type ActivityPayload,
  activityOf,
  type SessionCookieWrite,
  type SessionPayload,
  sealSession,
  sessionCookieWrite,
} from './session-tokens.js'
import type { StoreCalls } from './store-calls.js'
import { passesSchema } from './validate.js'

/** A session the request carried, accepted. */
export interface LoadedSession {
  readonly kind: 'session'
  readonly incoming: IncomingCookies
  readonly record: SessionRecord
  /** The activity cookie's, when it opened and belongs to this session. */
  readonly activity: Activity | null
  /** The activity cookie as it came, when it opened and belongs to this session. */
  readonly activityToken: string | undefined
  /** The activity cookie was sealed with an older secret: re-seal it at the next touch. */
  readonly activityStale: boolean
  /** The activity cookie is another session's, expired or forged: clear it. */
  readonly activityRefused: boolean
  /** The session token as it came. */
  readonly token: string
  /** The session cookie re-sealed with the current secret, when it was sealed with an older one. */
  readonly resealed?: SessionCookieWrite
}

/**
 * What the request's cookies say.
 *
 * @example
 * ```ts
 * switch (result.kind) {
 *   case 'session': return use(result.record)
 *   case 'refused': return report(result.reason)
 * }
 * ```
 */
export type LoadResult =
  /** No session cookie; `leftover` when an activity cookie came alone (clear it). */
  | { readonly kind: 'none'; readonly incoming: IncomingCookies; readonly leftover: boolean }
  /**
   * A session cookie that cannot be used. `sid` is the record it named, when it opened (it is
   * genuine, so a sign-in or sign-out in this request still ends it); `ambiguousHeader` the Cookie
   * header, when our cookies in it were ambiguous (they may still name records to end); `idle`
   * when the session ended by inactivity (its record is deleted).
   */
  | {
      readonly kind: 'refused'
      readonly reason: InvalidReason
      readonly error?: unknown
      readonly incoming: IncomingCookies
      readonly sid?: string
      readonly ambiguousHeader?: string
      readonly idle?: boolean
    }
  /** An eventually consistent store does not show the fresh record `sid` yet. */
  | { readonly kind: 'pending'; readonly incoming: IncomingCookies; readonly sid: string }
  /** The store failed or timed out reading the record `sid`. */
  | { readonly kind: 'unreadable'; readonly incoming: IncomingCookies; readonly sid: string; readonly error: unknown }
  | LoadedSession

/** What loading reads besides the Cookie header. */
export interface LoadInput {
  readonly options: ResolvedOptions
  readonly keyring: Keyring
  /** This request's store calls, with a store. */
  readonly storeCalls: StoreCalls | undefined
  readonly now: number
}

type Pending<T> = T | Promise<T>

/**
 * Loads the session a Cookie header carries. Returns a promise only when it has to wait (a token
 * new to the isolate, a store, a schema, a re-seal); the usual signed-in request, whose cookies the
 * isolate has seen, is read without one.
 *
 * @example
 * ```ts
 * const loaded = loadSession(c.req.header('cookie'), { options, keyring, storeCalls, now: Date.now() })
 * const result = loaded instanceof Promise ? await loaded : loaded
 * if (result.kind === 'session') console.log(result.record.user.sub)
 * ```
 */
export function loadSession(header: string | null | undefined, input: LoadInput): Pending<LoadResult> {
  const { names, maxBytes } = input.options
  const incoming = readIncomingCookies(header, names, maxBytes)
  if (incoming.present.size === 0) return { kind: 'none', incoming, leftover: false }
  // Kept as it came: the refusal rewrites the request's Cookie header for downstream.
  if (incoming.problem)
    return { kind: 'refused', reason: incoming.problem, incoming, ambiguousHeader: header ?? undefined }
  const token = incoming.token
  // An activity cookie without a session: left over, clear it.
  if (token === undefined) return { kind: 'none', incoming, leftover: incoming.activity !== undefined }
  const session = startOpen<SessionPayload>(token, input.keyring, 'session', input.now)
  const loading = new Loading(input, incoming, token)
  if (session instanceof TokenRefused) return loading.refused(session.reason, session)
  // Both opens start before the one wait for them.
  const activityToken = incoming.activity
  const activity =
    activityToken === undefined
      ? undefined
      : startOpen<ActivityPayload>(activityToken, input.keyring, 'activity', input.now)
  if (session instanceof Promise || activity instanceof Promise) return loading.opened(session, activity)
  return loading.record(session, activity)
}

type Opening<P> = OpenResult<P> | Promise<OpenResult<P>>

/** One load, step by step; each step returns the result, or a promise of it. */
class Loading {
  /** With a store: the id the session cookie named once it opened. */
  #sid: string | undefined
  #stale = false

  constructor(
    private readonly input: LoadInput,
    private readonly incoming: IncomingCookies,
    private readonly token: string,
  ) {}

  /** Waits for both cookies' opens together, then goes on as {@link Loading.record}. */
  async opened(session: Opening<SessionPayload>, activity: Opening<ActivityPayload> | undefined): Promise<LoadResult> {
    let opened: OpenResult<SessionPayload>
    let activityOpened: OpenResult<ActivityPayload> | undefined
    try {
      // A refusal is a value, so neither should reject; if one ever did, it is still "no session", not a 500.
      ;[opened, activityOpened] = await Promise.all([session, activity])
    } catch (error) {
      return this.refused('malformed', error)
    }
    if (opened instanceof TokenRefused) return this.refused(opened.reason, opened)
    return this.record(opened, activityOpened)
  }

  refused(reason: InvalidReason, error?: unknown, idle?: boolean): LoadResult {
    const result: {
      kind: 'refused'
      reason: InvalidReason
      incoming: IncomingCookies
      error?: unknown
      sid?: string
      idle?: boolean
    } = {
      kind: 'refused',
      reason,
      incoming: this.incoming,
    }
    if (error !== undefined) result.error = error
    if (this.#sid !== undefined) result.sid = this.#sid
    if (idle) result.idle = true
    return result
  }

  /**
   * The record an opened session cookie names: in the cookie, or in the store. `activity` is the
   * activity cookie's opening, `undefined` when there is none.
   */
  record(opened: OpenedToken<SessionPayload>, activity: OpenResult<ActivityPayload> | undefined): Pending<LoadResult> {
    const payload = opened.payload
    this.#stale = opened.stale
    const calls = this.input.storeCalls
    if ('sid' in payload && typeof payload.sid === 'string') {
      if (!calls) return this.refused('malformed')
      return this.#stored(calls, payload.sid, payload.iat, activity)
    }
    if (!('s' in payload) || calls) return this.refused('malformed')
    const record: unknown = payload.s
    if (!isSessionRecord(record)) return this.refused('malformed')
    return this.#lifetime(record, activity)
  }

  async #stored(
    calls: StoreCalls,
    sid: string,
    issuedAt: number,
    activity: OpenResult<ActivityPayload> | undefined,
  ): Promise<LoadResult> {
    this.#sid = sid
    const { incoming, input } = this
    let stored: unknown
    try {
      stored = await calls.call(() => calls.store.get(sid))
    } catch (error) {
      // Nothing is wrong with the cookie: no session for this request, but the cookies stay, so
      // a store that is down for a while does not sign out everyone who came by meanwhile.
      return { kind: 'unreadable', incoming, sid, error }
    }
    if (stored === null) {
      // An eventually consistent store may not show a sign-in's record here yet: not refused.
      const settleMs = calls.store.settleMs
      if (settleMs !== undefined && input.now - issuedAt * 1000 < settleMs) return { kind: 'pending', incoming, sid }
      return this.refused('revoked')
    }
    if (!isSessionRecord(stored) || stored.internal.sid !== sid) return this.refused('malformed')
    return this.#lifetime(stored, activity)
  }

  /** Checks the record's lifetime and takes the activity cookie's opening, when it is this session's. */
  #lifetime(record: SessionRecord, activity: OpenResult<ActivityPayload> | undefined): Pending<LoadResult> {
    if (record.internal.expiresAt <= this.input.now) return this.refused('expired')
    if (activity === undefined) return this.#accept(record, null)
    if (activity instanceof TokenRefused) return this.#accept(record, undefined)
    const opened = activityOf(activity.payload, record.internal.sid)
    // Opened, so the request carried one.
    const token = this.incoming.activity as string
    return this.#accept(record, opened ? { activity: opened, token, stale: activity.stale } : undefined)
  }

  /** The last checks (inactivity, schema); then the session is this request's. */
  #accept(
    record: SessionRecord,
    opened: { activity: Activity; token: string; stale: boolean } | null | undefined,
  ): Pending<LoadResult> {
    const { options } = this.input
    const seen = Math.max(record.internal.updatedAt, opened?.activity.seen ?? 0)
    // Ends at seen + inactivity, as the absolute lifetime ends at expiresAt (and the activity token's exp).
    if (this.input.now - seen >= options.inactivityMs) return this.refused('inactive', undefined, true)
    const schema = options.schema
    if (!schema) return this.#use(record, opened)
    // A cookie's record that passed is not checked again when the cookie comes back (see
    // `passedSchema`); a store's record is checked on every read, whatever object the store returns.
    const fromCookie = this.#sid === undefined
    if (fromCookie && options.passedSchema.has(record)) return this.#use(record, opened)
    return passesSchema(record, schema).then(
      (passes) => {
        if (!passes) return this.refused('schema')
        if (fromCookie) options.passedSchema.add(record)
        return this.#use(record, opened)
      },
      // A validator that throws on an old cookie's data must not turn every request of that user into a 500.
      (error: unknown) => this.refused('schema', error),
    )
  }

  #use(
    record: SessionRecord,
    opened: { activity: Activity; token: string; stale: boolean } | null | undefined,
  ): Pending<LoadResult> {
    const session: LoadedSession = {
      kind: 'session',
      incoming: this.incoming,
      record,
      activity: opened?.activity ?? null,
      activityStale: opened?.stale ?? false,
      activityRefused: opened === undefined,
      activityToken: opened?.token,
      token: this.token,
    }
    if (!this.#stale) return session
    // Sealed with an older secret: re-seal with the current one in this same response.
    const { options, keyring, now } = this.input
    return sealSession(record, keyring.current, now, options.store !== undefined).then((sealed) => {
      try {
        return { ...session, resealed: sessionCookieWrite(options.names.main, sealed, options.maxBytes) }
      } catch (error) {
        // Past a lowered maxBytes: refused like an oversized cookie on read, never a 500 on every request.
        return this.refused('oversized', error)
      }
    })
  }
}
