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

/** Base class of every error this package throws. */
export class SessionError extends Error {
  /** Stable machine-readable code, also on the instance. */
  static code = 'ERR_SESSION'
  readonly code: string = 'ERR_SESSION'

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/**
 * An option is missing or wrong. Thrown when the middleware is built, or on the first request
 * for options that depend on the context (a `secret` read from `c.env`).
 */
export class SessionConfigError extends SessionError {
  static override code = 'ERR_SESSION_CONFIG'
  override readonly code = 'ERR_SESSION_CONFIG'
}

/** `getSession`, `updateSession` and friends were called on a context the middleware never saw. */
export class SessionNotMountedError extends SessionError {
  static override code = 'ERR_SESSION_NOT_MOUNTED'
  override readonly code = 'ERR_SESSION_NOT_MOUNTED'
  constructor() {
    super('No session middleware on this request: mount it first with app.use(edgeSession({ ... })).')
  }
}

/** `updateSession` was called while nobody is signed in. */
export class SessionMissingError extends SessionError {
  static override code = 'ERR_SESSION_MISSING'
  override readonly code = 'ERR_SESSION_MISSING'
  constructor() {
    super('There is no active session to update: call createSession(c, { user }) at sign-in first.')
  }
}

/** One problem found by the schema or the JSON check. */
export interface SessionIssue {
  readonly message: string
  readonly path?: ReadonlyArray<PropertyKey>
}

/**
 * The new session data is not a plain JSON object (functions, class instances, `NaN`, cycles,
 * a missing `user.sub`) or was refused by the `schema` option. The previous session is kept.
 */
export class SessionInvalidError extends SessionError {
  static override code = 'ERR_SESSION_INVALID'
  override readonly code = 'ERR_SESSION_INVALID'
  readonly issues: ReadonlyArray<SessionIssue>
  constructor(issues: ReadonlyArray<SessionIssue>) {
    const where = (i: SessionIssue) => (i.path?.length ? `${i.path.map(String).join('.')}: ` : '')
    super(`Invalid session data: ${issues.map((i) => where(i) + i.message).join('; ')}`)
    this.issues = issues
  }
}

/** The sealed session would exceed `maxBytes`. Nothing was written; the previous session is kept. */
export class SessionTooLargeError extends SessionError {
  static override code = 'ERR_SESSION_TOO_LARGE'
  override readonly code = 'ERR_SESSION_TOO_LARGE'
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

/** The response was already sent (for example from inside a streaming body): the change cannot reach the browser. */
export class SessionCommittedError extends SessionError {
  static override code = 'ERR_SESSION_COMMITTED'
  override readonly code = 'ERR_SESSION_COMMITTED'
  constructor() {
    super(
      'The response carrying the session cookie was already committed; update the session before ' +
        'returning or starting to stream the response.',
    )
  }
}

/** The session store failed or timed out while writing. The previous session is kept. */
export class SessionStoreError extends SessionError {
  static override code = 'ERR_SESSION_STORE'
  override readonly code = 'ERR_SESSION_STORE'
}

/** The configured store cannot do what was asked (for example ending all sessions of a user). */
export class SessionUnsupportedError extends SessionError {
  static override code = 'ERR_SESSION_UNSUPPORTED'
  override readonly code = 'ERR_SESSION_UNSUPPORTED'
}
