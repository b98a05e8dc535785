/**
 * Public types: the middleware's options (re-exported by `types.ts`).
 * @module
 */
import type { Context } from 'hono'
import type { StandardSchemaV1 } from './schema.js'
import type { SessionStore } from './stores/types.js'
import type { SessionClaims, SessionData } from './types.js'

/**
 * One secret, or several for rotation: the first seals, all open. At least 32 bytes each. In a
 * list, later entries that are `undefined` or `''` are skipped (an old secret already removed);
 * the first must be set.
 *
 * @example
 * ```ts
 * edgeSession({ secret: (c) => [c.env.SESSION_SECRET, c.env.SESSION_SECRET_OLD] }) // rotating: new first
 * ```
 */
export type SecretInput = string | readonly (string | undefined)[]

/**
 * Cookie settings. Defaults are the secure ones; change them only with a reason.
 *
 * @example
 * ```ts
 * edgeSession({ secret, cookie: { domain: 'example.com' } }) // shared with subdomains: __Secure-session
 * ```
 */
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

/**
 * Lifetimes, in seconds.
 *
 * @example
 * ```ts
 * edgeSession({ secret, duration: { absolute: 12 * 60 * 60, inactivity: 15 * 60 } })
 * ```
 */
export interface SessionDurationOptions {
  /** Hard limit from sign-in, never extended by activity or updates. Default 8 hours (28 800). */
  absolute?: number
  /**
   * Idle limit: the session ends this long after the last recorded activity. Default 30 minutes
   * (1 800), or `absolute` if shorter. Activity is recorded at most once per
   * `activity.touchInterval` (and on a page view of a new path), and responses of status 400 or
   * more and prefetches are not activity: the session can end up to `touchInterval` sooner than
   * this long after the last request. With a store that has `touch` (Durable Objects, D1,
   * memory), the record goes at most half this long after the session ended idle; keeping it
   * costs one store write per half of this period while the session is used.
   */
  inactivity?: number
}

/**
 * A path rule: an exact path (`'/login'`), a prefix (`'/static/*'`), a RegExp, or a predicate.
 *
 * @example
 * ```ts
 * const allow: PathRule[] = ['/pricing', '/docs/*', /^\/share\/[\w-]+$/, (path) => path === '/health']
 * ```
 */
export type PathRule = string | RegExp | ((path: string, c: Context) => boolean)

/**
 * Settings of the onboarding gate.
 *
 * @example
 * ```ts
 * edgeSession({ secret, onboarding: { path: '/welcome', allow: ['/pricing'], protect: ['/app/*'] } })
 * ```
 */
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

/**
 * Settings of the activity tracker (`lastPath`, `lastVisit`, rolling expiry).
 *
 * @example
 * ```ts
 * edgeSession({ secret, activity: { touchInterval: 300 } }) // fewer activity cookie writes
 * ```
 */
export interface ActivityOptions {
  /**
   * Seconds between activity writes when nothing else changed. Default 60. At most half of
   * `duration.inactivity`: activity is recorded at most this often, so the session of an active
   * user can end up to this long before `inactivity` has passed since the last request.
   */
  touchInterval?: number
  /**
   * Whether the finished request was a page view to record as `lastPath`. Default
   * (`isPageNavigation`): a GET the browser made as a page navigation (`Sec-Fetch-Mode: navigate`
   * and `Sec-Fetch-Dest: document`, or without Fetch Metadata an `Accept` asking for `text/html`),
   * answered 2xx, whatever the response's content type; `fetch()` / XHR calls and assets are not.
   * Asked only about successful (2xx) GET requests (redirects, errors and other methods are never
   * page views); a prefetch it accepts is still not recorded.
   */
  isPageView?: (c: Context) => boolean
  /**
   * Keep the query string in `lastPath` (`/search?q=shoes`). Default false: the pathname only,
   * since a query may carry a secret (a magic link's or a password reset's token) that would
   * then live in the session and show wherever `lastPath` is shown.
   */
  recordQuery?: boolean
}

/**
 * Why a request's session could not be used; passed to `onInvalid`. Every reason but
 * `'store-failed'` and `'store-pending'` refuses the cookie, and the response clears it; those two
 * leave the cookie in place for the next request: `'store-failed'` when the store did not answer
 * the read in time, or failed; `'store-pending'` when an eventually consistent store (KV) had no
 * record yet for a cookie issued within its `settleMs`.
 *
 * @example
 * ```ts
 * edgeSession({ secret, onInvalid: (reason) => { if (reason === 'undecryptable') console.warn('forged or foreign session cookie') } })
 * ```
 */
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
  | 'store-pending'

/**
 * Options of {@link edgeSession}. Only `secret` is required.
 *
 * @example
 * ```ts
 * const options: EdgeSessionOptions = {
 *   secret: (c) => c.env.SESSION_SECRET,
 *   duration: { inactivity: 15 * 60 },
 *   onboarding: {},
 * }
 * app.use(edgeSession(options))
 * ```
 */
export interface EdgeSessionOptions<Claims extends object = SessionClaims> {
  /**
   * Secret(s) of at least 32 bytes, or a function of the context (for `c.env.SESSION_SECRET`).
   * Make one with `openssl rand -base64 32`. With several, the first seals and all open.
   */
  secret: SecretInput | ((c: Context) => SecretInput)
  /** Cookie name and attributes. Default: `__Host-session`, Secure, HttpOnly, SameSite=Lax, Path=/. */
  cookie?: SessionCookieOptions
  /** Lifetimes. Default: 8 hours absolute, 30 minutes of inactivity. */
  duration?: SessionDurationOptions
  /** A Standard Schema v1 validator (zod, valibot, arktype) for `{ user, ...claims }`, checked on read and write. Default: none. */
  schema?: StandardSchemaV1
  /** Most bytes of session cookies (all chunks, names included). Default 10 240. */
  maxBytes?: number
  /** Keep the session data in a store; the cookie then holds only the encrypted session id. Default: none (data in the cookie). */
  store?: SessionStore
  /**
   * Record, at each sign-in, a short summary of the browser (`'Safari on iOS'`) and the country of
   * the request (`request.cf.country`) in `internal.device`, for a page of the user's devices
   * ({@link listSessions}). **Personal data**: say so in your privacy notice. Needs a store (the
   * cookie mode keeps nothing it could list). Default `false`.
   */
  device?: boolean
  /**
   * Milliseconds the store calls of one request may take in all before they count as failed: one
   * budget per request, so a hung store holds a sign-in or sign-out once, not once per call. A
   * write to a store that has `settle` (Durable Objects, D1, memory) may use the budget left minus
   * a fifth of `storeTimeout`: that fifth is kept for asking the store, if the write fails or
   * times out, whether it landed (`SessionStoreError.written`). Reads and idle-deadline touches
   * use whatever is left. A call with nothing left fails without reaching the store. Default 5 000.
   */
  storeTimeout?: number
  /** Enforce onboarding for signed-in users. Default: off. Pass `{}` for the defaults. */
  onboarding?: OnboardingOptions<Claims> | false
  /** Record `lastPath` / `lastVisit`. Default: on with its defaults. */
  activity?: ActivityOptions | false
  /**
   * Called when a request carried a session cookie that was refused, or whose record the store
   * could not read (`'store-failed'`, `'store-pending'`). Default: nothing. What it throws is
   * ignored, so that a bad cookie can never cause a 500.
   */
  onInvalid?: (reason: InvalidReason, c: Context, error?: unknown) => void
  /**
   * Send `Cache-Control: private, no-store` on every response to a signed-in request whose
   * handler set no `Cache-Control` of its own, so that no cache (a CDN, or the browser's Back
   * button after sign-out) shows a personal page again. Default `true`. `false` leaves those
   * responses as the handler made them. Either way, a response that writes a session cookie
   * (sign-in, sign-out, an update, an activity write) always gets `private, no-store`, and loses
   * `CDN-Cache-Control` and `Cloudflare-CDN-Cache-Control`; anonymous responses are left alone.
   */
  cacheControl?: boolean
}
