/**
 * Public types: the session's shape and the middleware's options.
 * @module
 */
import type { Context } from 'hono'
import type { StandardSchemaV1 } from './schema'
import type { SessionStore } from './stores/types'

/** A value that survives `JSON.stringify` / `JSON.parse` unchanged. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** The signed-in user. `sub` is the stable user id; add what your pages need (name, email). */
export interface SessionUser {
  sub: string
  [key: string]: JsonValue
}

/** Fields the middleware owns. Callers cannot change them: an update never extends `expiresAt`. */
export interface SessionInternal {
  /** Random session id, 128 bits, base64url. New at every `createSession`. */
  readonly sid: string
  /** When `createSession` ran, in milliseconds since the epoch. */
  readonly createdAt: number
  /** When the session data last changed, in milliseconds since the epoch. */
  readonly updatedAt: number
  /** Absolute end of the session (`createdAt + duration.absolute`), in milliseconds since the epoch. */
  readonly expiresAt: number
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

/** The session as handlers see it: user, internal fields, activity and your claims. */
export type SessionData<Claims extends object = SessionClaims> = Claims & {
  user: SessionUser
  readonly internal: SessionInternal
  /** Path and query of the last page view recorded by the activity tracker. */
  readonly lastPath?: string
  /** When `lastPath` was last visited, in milliseconds since the epoch. */
  readonly lastVisit?: number
}

/**
 * What `createSession` and `updateSession` accept: a user and your claims. Fields the middleware
 * owns (`internal`, `lastPath`, `lastVisit`) may be present (so `{ ...session, x }` works) and are ignored.
 */
export type SessionInput<Claims extends object = SessionClaims> = Claims & {
  user: SessionUser
  internal?: unknown
  lastPath?: unknown
  lastVisit?: unknown
}

/** One secret, or several for rotation: the first seals, all open. At least 32 bytes each. */
export type SecretInput = string | readonly string[]

/** Cookie settings. Defaults are the secure ones; change them only with a reason. */
export interface SessionCookieOptions {
  /** Base name. Default `'session'`, sent as `__Host-session` while `secure` is on. */
  name?: string
  /**
   * Send only over HTTPS, with the `__Host-` prefix. Default `true`. Chrome and Firefox accept
   * secure cookies from `http://localhost`; Safari does not, so set `false` for Safari on plain-http local development only.
   */
  secure?: boolean
  /** Default `'Lax'`. */
  sameSite?: 'Lax' | 'Strict' | 'None'
  /**
   * Share the cookie with subdomains. Turns the `__Host-` prefix into `__Secure-` (a Domain
   * attribute is not allowed with `__Host-`). Default: unset, host-only.
   */
  domain?: string
}

/** Lifetimes, in seconds. */
export interface SessionDurationOptions {
  /** Hard limit from sign-in, never extended by activity or updates. Default 8 hours (28 800). */
  absolute?: number
  /** Idle limit: the session ends this long after the last request. Default 30 minutes (1 800). */
  inactivity?: number
}

/** A path rule: an exact path (`'/login'`), a prefix (`'/static/*'`), a RegExp, or a predicate. */
export type PathRule = string | RegExp | ((path: string, c: Context) => boolean)

/** Settings of the onboarding gate. */
export interface OnboardingOptions<Claims extends object = SessionClaims> {
  /** Whether the user is done. Default: `session.onboardingStep === 'COMPLETED'`. */
  isComplete?: (session: SessionData<Claims>) => boolean
  /** Entry page of the onboarding. Default `'/onboarding'`; everything under it stays reachable. */
  path?: string
  /**
   * More paths reachable mid-onboarding. Added to the defaults: `/login`, `/logout`, `/signin`,
   * `/signout`, `/auth/*`, `/callback/*`, `/api/auth/*`, `/static/*`, `/assets/*`, `/favicon.ico`, `/robots.txt`.
   * A path passes only if both `c.req.path` and its decoded, dot-resolved form match (case-sensitive),
   * so `/static/..%2Fexplore` does not.
   */
  allow?: readonly PathRule[]
  /** Where a user who has finished is sent from the onboarding path without a `returnTo`. Default `'/'`. */
  home?: string
  /**
   * Send anonymous requests for these paths to `loginPath`. Default: none (anonymous requests pass).
   * Matched on the decoded, dot-resolved, lower-cased path too, so no spelling slips past. Only
   * `loginPath` itself is exempt: leave sign-in callbacks out of these rules.
   */
  protect?: readonly PathRule[]
  /** Sign-in page for `protect`. Default `'/login'`. */
  loginPath?: string
}

/** Settings of the activity tracker (`lastPath`, `lastVisit`, rolling expiry). */
export interface ActivityOptions {
  /** Seconds between activity writes when nothing else changed. Default 60. */
  touchInterval?: number
  /**
   * Whether the finished request was a page view to record as `lastPath`. Default: a successful
   * (2xx) GET navigation answered with HTML, not a prefetch. Asked only about successful (2xx),
   * non-prefetch GET requests: redirects, errors and other methods are never page views.
   */
  isPageView?: (c: Context) => boolean
}

/** Why a cookie was refused; passed to `onInvalid`. */
export type InvalidReason =
  | 'malformed'
  | 'undecryptable'
  | 'expired'
  | 'inactive'
  | 'duplicate'
  | 'incomplete'
  | 'oversized'
  | 'schema'
  | 'revoked'
  | 'store-failed'

/** Options of {@link edgeSession}. */
export interface EdgeSessionOptions<Claims extends object = SessionClaims> {
  /**
   * Secret(s) of at least 32 bytes, or a function of the context (for `c.env.SESSION_SECRET`).
   * Make one with `openssl rand -base64 32`. With several, the first seals and all open.
   */
  secret: SecretInput | ((c: Context) => SecretInput)
  cookie?: SessionCookieOptions
  duration?: SessionDurationOptions
  /** A Standard Schema v1 validator (zod, valibot, arktype) for `{ user, ...claims }`, checked on read and write. */
  schema?: StandardSchemaV1
  /** Most bytes of session cookies (all chunks, names included). Default 10 240. */
  maxBytes?: number
  /** Keep the session data in a store; the cookie then holds only the encrypted session id. */
  store?: SessionStore
  /** Milliseconds a store call may take before it counts as failed. Default 5 000. */
  storeTimeout?: number
  /** Enforce onboarding for signed-in users. Default: off. Pass `{}` for the defaults. */
  onboarding?: OnboardingOptions<Claims> | false
  /** Record `lastPath` / `lastVisit`. Default: on with its defaults. */
  activity?: ActivityOptions | false
  /**
   * Called when a request carried a session cookie that was refused. Default: nothing. What it
   * throws is ignored, so that a bad cookie can never cause a 500.
   */
  onInvalid?: (reason: InvalidReason, c: Context, error?: unknown) => void
}
