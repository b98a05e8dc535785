/**
 * Typed errors. Every class carries a stable `code` (also on the class itself), so callers can
 * branch on `err.code` or `instanceof` without string-matching messages.
 *
 * @example
 * ```ts
 * import { SessionError, SessionTooLargeError } from 'hono-edge-session'
 * try {
 *   await updateSession(c, (s) => ({ ...s, notes }))
 * } catch (err) {
 *   if (err instanceof SessionTooLargeError) return c.text('Too much data for one session', 413)
 *   throw err
 * }
 * ```
 * @module
 */

/**
 * Every error's `code`: a union, so `switch (err.code)` narrows it and can be checked exhaustive.
 *
 * @example
 * ```ts
 * function status(code: SessionErrorCode): number {
 *   switch (code) {
 *     case 'ERR_SESSION_STORE':
 *       return 503
 *     case 'ERR_SESSION_INVALID':
 *     case 'ERR_SESSION_TOO_LARGE':
 *       return 400
 *     default:
 *       return 500
 *   }
 * }
 * ```
 */
export type SessionErrorCode =
  | 'ERR_SESSION'
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_NOT_MOUNTED'
  | 'ERR_SESSION_MISSING'
  | 'ERR_SESSION_INVALID'
  | 'ERR_SESSION_TOO_LARGE'
  | 'ERR_SESSION_COMMITTED'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_UNSUPPORTED'

/**
 * Base class of every error this package throws.
 *
 * @example
 * ```ts
 * app.onError((err, c) => (err instanceof SessionError ? c.json({ code: err.code }, 400) : c.text('error', 500)))
 * ```
 */
export class SessionError extends Error {
  /** Stable machine-readable code, also on the instance. */
  static code: SessionErrorCode = 'ERR_SESSION'
  readonly code: SessionErrorCode = 'ERR_SESSION'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * An option is missing or wrong. Thrown when the middleware is built, or on the first request
 * for options that depend on the context (a `secret` read from `c.env`).
 *
 * @example
 * ```ts
 * edgeSession({ secret: 'short' }) // throws: secret is shorter than 32 bytes. Make one with `openssl rand -base64 32` ...
 * ```
 */
export class SessionConfigError extends SessionError {
  static override readonly code = 'ERR_SESSION_CONFIG' as const
  override readonly code = 'ERR_SESSION_CONFIG' as const
}

/**
 * `getSession`, `updateSession` and friends were called on a context the middleware never saw.
 *
 * @example
 * ```ts
 * app.get('/me', (c) => c.json(getSession(c))) // throws: app.use(edgeSession(...)) is missing or mounted after this route
 * ```
 */
export class SessionNotMountedError extends SessionError {
  static override readonly code = 'ERR_SESSION_NOT_MOUNTED' as const
  override readonly code = 'ERR_SESSION_NOT_MOUNTED' as const
  constructor() {
    super('No session middleware on this request: mount it first with app.use(edgeSession({ ... })).')
  }
}

/**
 * `updateSession` was called while nobody is signed in.
 *
 * @example
 * ```ts
 * try {
 *   await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
 * } catch (err) {
 *   if (err instanceof SessionMissingError) return c.redirect('/login', 303)
 *   throw err
 * }
 * ```
 */
export class SessionMissingError extends SessionError {
  static override readonly code = 'ERR_SESSION_MISSING' as const
  override readonly code = 'ERR_SESSION_MISSING' as const
  constructor() {
    super('There is no active session to update: call createSession(c, { user }) at sign-in first.')
  }
}

/**
 * One problem found by the schema or the JSON check.
 *
 * @example
 * ```ts
 * // { message: 'must be a non-empty string', path: ['user', 'sub'] }
 * ```
 */
export interface SessionIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey>
}

/**
 * The new session data is not a plain JSON object (functions, class instances, `NaN`, cycles,
 * a key with a quote, backslash or control character, a missing `user.sub`) or was refused by
 * the `schema` option. The previous session is kept.
 *
 * @example
 * ```ts
 * await createSession(c, { user: { sub: id }, since: new Date() }) // throws: since: Date is not a plain JSON object
 * // store dates as numbers or ISO strings: since: Date.now()
 * ```
 */
export class SessionInvalidError extends SessionError {
  static override readonly code = 'ERR_SESSION_INVALID' as const
  override readonly code = 'ERR_SESSION_INVALID' as const
  readonly issues: ReadonlyArray<SessionIssue>
  constructor(issues: ReadonlyArray<SessionIssue>) {
    const where = (i: SessionIssue) => (i.path?.length ? `${i.path.map(String).join('.')}: ` : '')
    super(`Invalid session data: ${issues.map((i) => where(i) + i.message).join('; ')}`)
    this.issues = issues
  }
}

/**
 * The sealed session would exceed `maxBytes`. Nothing was written; the previous session is kept.
 *
 * @example
 * ```ts
 * if (err instanceof SessionTooLargeError) console.warn(`session needs ${err.bytes} of ${err.limit} bytes`)
 * ```
 */
export class SessionTooLargeError extends SessionError {
  static override readonly code = 'ERR_SESSION_TOO_LARGE' as const
  override readonly code = 'ERR_SESSION_TOO_LARGE' as const
  readonly bytes: number
  readonly limit: number
  constructor(bytes: number, limit: number) {
    super(
      `The session would take ${bytes} bytes of cookies, over the limit of ${limit}. ` +
        'Keep large data elsewhere (a store option, or your database) and only ids in the session.',
    )
    this.bytes = bytes
    this.limit = limit
  }
}

/**
 * The response was already sent (for example from inside a streaming body): the change cannot reach the browser.
 *
 * @example
 * ```ts
 * // Update first, then stream:
 * await updateSession(c, (s) => ({ ...s, seenIntro: true }))
 * return streamText(c, async (stream) => { await stream.write('...') })
 * ```
 */
export class SessionCommittedError extends SessionError {
  static override readonly code = 'ERR_SESSION_COMMITTED' as const
  override readonly code = 'ERR_SESSION_COMMITTED' as const
  constructor() {
    super(
      'The response carrying the session cookie was already committed; update the session before ' +
        'returning or starting to stream the response.',
    )
  }
}

/**
 * Whether a failed store write changed the store: `false` nothing was changed (the store showed,
 * after the failure, that the write had not landed and can no longer land); `true` something was
 * changed (a sign-in ended the previous session but could not write the new one: that request is
 * signed out); `'unknown'` the write may or may not have landed (the store could not be asked).
 */
export type StoreWriteOutcome = boolean | 'unknown'

/**
 * The session store failed or timed out while writing (`err.cause` says why); `err.written` says
 * whether the store was changed. A write that fails may still land: the Durable Object and D1
 * stores are then asked once more, after making sure the late write is refused, and a write found
 * to have landed is not an error at all. Other stores answer `'unknown'`.
 *
 * @example
 * ```ts
 * try {
 *   await updateSession(c, (s) => ({ ...s, plan: 'pro' }))
 * } catch (err) {
 *   if (!(err instanceof SessionStoreError)) throw err
 *   // false: nothing changed, safe to retry; 'unknown': read the session again before retrying
 *   return c.json({ error: 'store', written: err.written }, 503)
 * }
 * ```
 */
export class SessionStoreError extends SessionError {
  static override readonly code = 'ERR_SESSION_STORE' as const
  override readonly code = 'ERR_SESSION_STORE' as const
  /** Whether the store was changed; see {@link StoreWriteOutcome}. */
  readonly written: StoreWriteOutcome

  constructor(message: string, options: { cause?: unknown; written?: StoreWriteOutcome } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined)
    this.written = options.written ?? 'unknown'
  }
}

/**
 * The configured store cannot do what was asked (for example ending all sessions of a user).
 *
 * @example
 * ```ts
 * await destroyUserSessions(c, sub) // throws with kvStore() or cookie-only sessions: use durableObjectStore() or d1Store()
 * ```
 */
export class SessionUnsupportedError extends SessionError {
  static override readonly code = 'ERR_SESSION_UNSUPPORTED' as const
  override readonly code = 'ERR_SESSION_UNSUPPORTED' as const
}
