/**
 * Options are checked and resolved once, here, when the middleware is built: the cookies, the
 * lifetimes, the store, the activity rules and the onboarding gate (its settings in
 * `middleware/gate/settings.ts`), into one object that the middleware, the gate, the activity rules
 * and each request's session state read. A wrong option fails at startup with a message that says
 * what to change.
 * @module
 */
import type { Context } from 'hono'
import { type CookieNames, sessionCookieNamesWithin } from './codec/cookie-jar.js'
import { checkSecrets, createKeyringCache, type Keyring } from './codec/keyring.js'
import { type CookieLineWriter, cookieLineWriter } from './codec/set-cookie.js'
import { SessionConfigError } from './errors.js'
import { type GateSettings, resolveOnboarding } from './middleware/gate/settings.js'
import type { StandardSchemaV1 } from './schema.js'
import type { SessionStore } from './stores/types.js'
import type { ActivityOptions, EdgeSessionOptions, InvalidReason, SecretInput } from './types.js'

/** The options every request reads, resolved once. */
export interface ResolvedOptions {
  readonly names: CookieNames
  /** Every name the session cookie can take within `maxBytes`: `main`, then `main.0` ... `main.<n-1>`. */
  readonly sessionCookieNames: readonly string[]
  /** A Set-Cookie line of ours: `name=value; Max-Age=n` and the cookie attributes (Path, HttpOnly, Secure, SameSite, Domain). */
  readonly setCookie: CookieLineWriter
  /** The keyring itself once derived (no await per request), a promise of it before. */
  readonly keyring: (c: Context) => Keyring | Promise<Keyring>
  readonly absoluteMs: number
  readonly inactivityMs: number
  readonly maxBytes: number
  readonly schema?: StandardSchemaV1
  /**
   * Records from session cookies that passed `schema` on a read. A record is never changed in
   * place, and the token cache hands out the very object it opened or sealed for as long as it
   * keeps the token, so a cookie that comes back is the same data, already checked. A store's
   * record is checked on every read (a store may hand out the same object and change it).
   */
  readonly passedSchema: WeakSet<object>
  readonly store?: SessionStore
  /** Record `internal.device` at sign-in (only ever `true` with a store). */
  readonly device: boolean
  readonly storeTimeoutMs: number
  readonly onInvalid?: (reason: InvalidReason, c: Context, error?: unknown) => void
  /** Mark signed-in responses `private, no-store` (`cacheControl` option). */
  readonly cacheControl: boolean
  readonly activity: ActivitySettings
  /** The onboarding gate's settings; `undefined` when the gate is off. */
  readonly onboarding?: GateSettings
}

/** The `activity` option, resolved. */
export interface ActivitySettings {
  /** Activity is written at most once per this many ms, unless the page changed. */
  readonly touchMs: number
  /** `false` under `activity: false`: the rolling timeout stays, no page views are recorded. */
  readonly recordPages: boolean
  readonly recordQuery: boolean
  /** The app's page-view test, when it gave one. */
  readonly isPageView?: (c: Context) => boolean
}

const DEFAULT_NAME = 'session'
const DEFAULT_ABSOLUTE_SECONDS = 8 * 60 * 60
const DEFAULT_INACTIVITY_SECONDS = 30 * 60
const DEFAULT_MAX_BYTES = 10 * 1024
const DEFAULT_STORE_TIMEOUT_MS = 5000
const DEFAULT_TOUCH_SECONDS = 60
const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60
const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/
// The middleware adds the prefix itself (from `secure` and `domain`); one in the name is a mistake.
const PREFIXED_NAME = /^__(host|secure)-/i
// Dot-separated labels of letters, digits and inner hyphens, an optional leading dot (browsers drop it).
const HOST_NAME =
  /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

function positiveInteger(value: unknown, label: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max)
    throw new SessionConfigError(`${label} must be a whole number from 1 to ${max}; got ${String(value)}.`)
  return value
}

/**
 * Resolves and checks every option. Throws {@link SessionConfigError}.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ secret: env.SESSION_SECRET, duration: { inactivity: 15 * 60 } })
 * resolved.inactivityMs // 900000
 * ```
 */
export function resolveOptions(options: EdgeSessionOptions<object>): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new SessionConfigError('edgeSession() needs an options object with at least { secret }.')
  const { names, setCookie } = resolveCookie(options.cookie ?? {})
  const absoluteSeconds = positiveInteger(
    options.duration?.absolute,
    'duration.absolute',
    DEFAULT_ABSOLUTE_SECONDS,
    MAX_COOKIE_AGE_SECONDS,
  )
  const inactivitySeconds = positiveInteger(
    options.duration?.inactivity,
    'duration.inactivity',
    Math.min(DEFAULT_INACTIVITY_SECONDS, absoluteSeconds),
    absoluteSeconds,
  )
  const maxBytes = positiveInteger(options.maxBytes, 'maxBytes', DEFAULT_MAX_BYTES, 64 * 1024)
  if (maxBytes < 1024) throw new SessionConfigError(`maxBytes must be at least 1024; got ${maxBytes}.`)
  if (options.schema !== undefined && typeof options.schema?.['~standard']?.validate !== 'function')
    throw new SessionConfigError('schema must be a Standard Schema v1 validator (zod, valibot, arktype, ...).')
  const store = checkStore(options.store)
  const device = options.device ?? false
  if (typeof device !== 'boolean') throw new SessionConfigError(`device must be true or false; got ${String(device)}.`)
  if (device && !store)
    throw new SessionConfigError(
      'device: true needs a store: without one the session lives only in its cookie, and no page could list it.',
    )
  if (options.onInvalid !== undefined && typeof options.onInvalid !== 'function')
    throw new SessionConfigError('onInvalid must be a function.')
  const cacheControl = options.cacheControl === undefined ? true : options.cacheControl
  if (typeof cacheControl !== 'boolean')
    throw new SessionConfigError(
      `cacheControl must be true or false; got ${JSON.stringify(cacheControl) ?? String(cacheControl)}.`,
    )
  const keyring = resolveSecret(options.secret, names)
  const storeTimeoutMs = positiveInteger(options.storeTimeout, 'storeTimeout', DEFAULT_STORE_TIMEOUT_MS)
  const onboarding = options.onboarding ? resolveOnboarding(options.onboarding) : undefined
  return {
    names,
    sessionCookieNames: sessionCookieNamesWithin(names.main, maxBytes),
    setCookie,
    keyring,
    absoluteMs: absoluteSeconds * 1000,
    inactivityMs: inactivitySeconds * 1000,
    maxBytes,
    schema: options.schema,
    passedSchema: new WeakSet(),
    store,
    device,
    storeTimeoutMs,
    onInvalid: options.onInvalid,
    cacheControl,
    activity: resolveActivity(options.activity, inactivitySeconds),
    onboarding,
  }
}

function resolveCookie(cookie: NonNullable<EdgeSessionOptions<object>['cookie']>): {
  names: CookieNames
  setCookie: CookieLineWriter
} {
  const baseName = cookie.name ?? DEFAULT_NAME
  if (!COOKIE_NAME.test(baseName))
    throw new SessionConfigError(
      `cookie.name must be 1-64 letters, digits, "_" or "-"; got ${JSON.stringify(baseName)}.`,
    )
  if (PREFIXED_NAME.test(baseName))
    throw new SessionConfigError(
      `cookie.name must not start with __Host- or __Secure-: the prefix is added from cookie.secure and cookie.domain; got ${JSON.stringify(baseName)}.`,
    )
  const secure = cookie.secure ?? true
  const sameSite = cookie.sameSite ?? 'Lax'
  if (!['Lax', 'Strict', 'None'].includes(sameSite))
    throw new SessionConfigError(`cookie.sameSite must be 'Lax', 'Strict' or 'None'; got ${JSON.stringify(sameSite)}.`)
  if (sameSite === 'None' && !secure)
    throw new SessionConfigError("cookie.sameSite 'None' needs cookie.secure: true (browsers refuse it otherwise).")
  const domain = cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !HOST_NAME.test(domain)))
    throw new SessionConfigError(`cookie.domain must be a plain host name; got ${JSON.stringify(domain)}.`)
  // __Host- stops sibling subdomains from planting a same-named cookie; it forbids Domain, so a
  // shared cookie falls back to __Secure-.
  const prefix = !secure ? '' : domain ? '__Secure-' : '__Host-'
  const main = prefix + baseName
  const attributes = { path: '/', httpOnly: true, secure, sameSite, ...(domain ? { domain } : {}) } as const
  return { names: { main, activity: `${main}-activity` }, setCookie: cookieLineWriter(main, attributes) }
}

function checkStore(store: SessionStore | undefined): SessionStore | undefined {
  if (
    store !== undefined &&
    (typeof store?.get !== 'function' || typeof store.set !== 'function' || typeof store.delete !== 'function')
  )
    throw new SessionConfigError('store must have get, set and delete methods (see SessionStore).')
  const settleMs = store?.settleMs
  if (settleMs !== undefined && (typeof settleMs !== 'number' || !Number.isInteger(settleMs) || settleMs < 0))
    throw new SessionConfigError(
      `store.settleMs must be a whole number of milliseconds, 0 or more; got ${String(settleMs)}.`,
    )
  return store
}

/**
 * Resolves `activity`. `false` keeps the rolling timeout but records no page views.
 * `inactivitySeconds` is the resolved `duration.inactivity`, which bounds `touchInterval`.
 */
function resolveActivity(options: ActivityOptions | false | undefined, inactivitySeconds: number): ActivitySettings {
  if (options !== undefined && options !== false && (typeof options !== 'object' || options === null))
    throw new SessionConfigError('activity must be an options object, or false.')
  const settings: ActivityOptions = options || {}
  // Activity is recorded at most once per touchInterval: a user seen just after a write and then
  // active every few seconds is seen again only a touchInterval later, so it must leave room.
  const touchSeconds = settings.touchInterval ?? Math.min(DEFAULT_TOUCH_SECONDS, inactivitySeconds / 2)
  if (typeof touchSeconds !== 'number' || !Number.isFinite(touchSeconds) || touchSeconds < 0)
    throw new SessionConfigError(
      `activity.touchInterval must be a number of seconds, 0 or more; got ${String(touchSeconds)}.`,
    )
  if (touchSeconds > inactivitySeconds / 2)
    throw new SessionConfigError(
      `activity.touchInterval must be at most half of duration.inactivity (${inactivitySeconds} s); got ${touchSeconds}. Activity is recorded at most once per touchInterval, so a longer one signs out users who are active.`,
    )
  const isPageView = settings.isPageView
  if (isPageView != null && typeof isPageView !== 'function')
    throw new SessionConfigError('activity.isPageView must be a function.')
  const recordQuery = settings.recordQuery ?? false
  if (typeof recordQuery !== 'boolean')
    throw new SessionConfigError(`activity.recordQuery must be true or false; got ${String(recordQuery)}.`)
  return {
    touchMs: touchSeconds * 1000,
    recordPages: options !== false,
    recordQuery,
    ...(isPageView ? { isPageView } : {}),
  }
}

/** Same secret, or a list (a function's fresh array per request) of the same secrets in order. */
function sameSecrets(input: SecretInput, last: unknown): boolean {
  if (input === last) return true
  // A secret function may return anything (undefined when a binding is missing): checked later.
  if (!Array.isArray(input) || !Array.isArray(last) || input.length !== last.length) return false
  for (let i = 0; i < input.length; i++) if (input[i] !== last[i]) return false
  return true
}

function resolveSecret(
  secret: EdgeSessionOptions<object>['secret'],
  names: CookieNames,
): (c: Context) => Keyring | Promise<Keyring> {
  const keyringFor = createKeyringCache({ session: names.main, activity: names.activity })
  // The last input that derived, and its keyring: the same secret on the next request answers
  // synchronously, so the middleware skips an await (each costs in workerd). Any other input goes
  // through the cache and its checks.
  let lastInput: unknown
  let lastKeyring: Keyring | undefined
  const resolve = (input: SecretInput): Keyring | Promise<Keyring> => {
    if (lastKeyring !== undefined && sameSecrets(input, lastInput)) return lastKeyring
    return keyringFor(input).then((keyring) => {
      lastInput = input
      lastKeyring = keyring
      return keyring
    })
  }
  if (typeof secret === 'function') {
    // Only known per request (Workers secrets live in c.env); the cache keeps derivation to once.
    // Not async: a throw still rejects the middleware's promise, without a wrapper promise per request.
    return (c) => resolve(secret(c))
  }
  const secrets = checkSecrets(secret as SecretInput)
  return () => resolve(secrets)
}
