/**
 * Public types: the session's shape (here) and the middleware's options (`option-types.ts`,
 * re-exported here).
 * @module
 */
export type {
  ActivityOptions,
  EdgeSessionOptions,
  InvalidReason,
  OnboardingOptions,
  PathRule,
  SecretInput,
  SessionCookieOptions,
  SessionDurationOptions,
} from './option-types.js'

/**
 * A value that survives `JSON.stringify` / `JSON.parse` unchanged: what session claims may hold.
 *
 * @example
 * ```ts
 * const ok: JsonValue = { plan: 'pro', seats: 3, tags: ['a'], trialEndsAt: 1767225600000 }
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/**
 * The signed-in user. `sub` is the stable user id; add what your pages need (name, email).
 *
 * @example
 * ```ts
 * await createSession(c, { user: { sub: account.id, name: account.name } })
 * ```
 */
export interface SessionUser {
  sub: string
  [key: string]: JsonValue
}

/**
 * Fields the middleware owns. Callers cannot change them: an update never extends `expiresAt`.
 *
 * @example
 * ```ts
 * const { createdAt } = getSession(c)!.internal
 * if (Date.now() - createdAt > 5 * 60_000) return c.redirect('/reauth', 303) // recent sign-in for a sensitive action
 * ```
 */
export interface SessionInternal {
  /** Random session id, 128 bits, base64url. New at every `createSession`. */
  readonly sid: string
  /** When `createSession` ran, in milliseconds since the epoch. */
  readonly createdAt: number
  /** When the session data last changed, in milliseconds since the epoch. */
  readonly updatedAt: number
  /** Absolute end of the session (`createdAt + duration.absolute`), in milliseconds since the epoch. */
  readonly expiresAt: number
  /** What the browser was at sign-in, when the `device` option is on (with a store only). Personal data. */
  readonly device?: SessionDevice
}

/**
 * What the `device` option records at sign-in: personal data (it tells where a user was and what
 * they use), kept with the session and gone with it.
 *
 * @example
 * ```ts
 * const device: SessionDevice = { browser: 'Firefox on Linux', country: 'DE' }
 * ```
 */
export interface SessionDevice {
  /** A short summary of the User-Agent header (`'Chrome on Android'`); never the header itself. */
  readonly browser?: string
  /** Two-letter country code from `request.cf.country` (Cloudflare), when the request had it. */
  readonly country?: string
}

/**
 * Your own claims. Augment it once and every `getSession` / `updateSession` is typed:
 *
 * @example
 * ```ts
 * declare module 'hono-edge-session' {
 *   interface SessionClaims {
 *     onboardingStep?: 'PROFILE' | 'PREFERENCES' | 'COMPLETED'
 *     role?: 'member' | 'admin'
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: meant to be augmented by users
export interface SessionClaims {}

/**
 * The session as handlers see it: user, internal fields, activity and your claims.
 *
 * @example
 * ```ts
 * const session: SessionData | null = getSession(c)
 * if (session?.lastPath) return c.redirect(session.lastPath, 303) // resume where the user left off
 * ```
 */
export type SessionData<Claims extends object = SessionClaims> = Claims & {
  user: SessionUser
  readonly internal: SessionInternal
  /**
   * Path of the last page view recorded by the activity tracker (with its query only under
   * `activity.recordQuery`). A path longer than 1 024 characters is not recorded.
   */
  readonly lastPath?: string
  /** When `lastPath` was last visited, in milliseconds since the epoch. */
  readonly lastVisit?: number
}

/**
 * What `createSession` and `updateSession` accept: a user and your claims. Fields the middleware
 * owns (`internal`, `lastPath`, `lastVisit`) may be present (so `{ ...session, x }` works) and are ignored.
 *
 * @example
 * ```ts
 * const input: SessionInput = { user: { sub: 'u1' }, onboardingStep: 'PROFILE' }
 * await createSession(c, input)
 * ```
 */
export type SessionInput<Claims extends object = SessionClaims> = Claims & {
  user: SessionUser
  internal?: unknown
  lastPath?: unknown
  lastVisit?: unknown
}
