/**
 * Options are checked and resolved once, when the middleware is built; a wrong option fails at
 * startup with a message that says what to change. The per-request code reads only the result.
 * @module
 */
import type { Context } from 'hono'
import { serialize } from 'hono/utils/cookie'
import { cookieBytes, splitIntoCookies, type CookieNames } from './codec/cookie-jar.js'
import { checkSecrets, createKeyringCache, type Keyring } from './codec/keyring.js'
import { SessionConfigError } from './errors.js'
import type { StandardSchemaV1 } from './schema.js'
import type { SessionStore } from './stores/types.js'
import type { EdgeSessionOptions, InvalidReason, SecretInput } from './types.js'

/** Cookie attributes every write uses. */
interface CookieAttributes {
  readonly path: '/'
  readonly httpOnly: true
  readonly secure: boolean
  readonly sameSite: 'Lax' | 'Strict' | 'None'
  readonly domain?: string
}

/** The options every request reads, resolved once. */
export interface ResolvedOptions {
  readonly names: CookieNames
  /** Every name the session cookie can take within `maxBytes`: `main`, then `main.0` ... `main.<n-1>`. */
  readonly sessionCookieNames: readonly string[]
  /** A Set-Cookie line of ours: `name=value; Max-Age=n` and the cookie attributes (Path, HttpOnly, Secure, SameSite, Domain). */
  readonly setCookie: (name: string, value: string, maxAgeSeconds: number) => string
  /** The keyring itself once derived (no await per request), a promise of it before. */
  readonly keyring: (c: Context) => Keyring | Promise<Keyring>
  readonly absoluteMs: number
  readonly inactivityMs: number
  readonly maxBytes: number
  readonly schema?: StandardSchemaV1
  readonly store?: SessionStore
  /** Record `internal.device` at sign-in (only ever `true` with a store). */
  readonly device: boolean
  readonly storeTimeoutMs: number
  readonly onInvalid?: (reason: InvalidReason, c: Context, error?: unknown) => void
  /** Mark signed-in responses `private, no-store` (`cacheControl` option). */
  readonly cacheControl: boolean
}

const DEFAULT_NAME = 'session'
const DEFAULT_ABSOLUTE_SECONDS = 8 * 60 * 60
const DEFAULT_INACTIVITY_SECONDS = 30 * 60
const DEFAULT_MAX_BYTES = 10 * 1024
const DEFAULT_STORE_TIMEOUT_MS = 5000
const MAX_COOKIE_AGE_SECONDS = 400 * 24 * 60 * 60
const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/
// The middleware adds the prefix itself (from `secure` and `domain`); one in the name is a mistake.
const PREFIXED_NAME = /^__(host|secure)-/i
// Dot-separated labels of letters, digits and inner hyphens, an optional leading dot (browsers drop it).
const HOST_NAME = /^\.?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

function positiveInteger(value: unknown, label: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > max)
    throw new SessionConfigError(`${label} must be a whole number from 1 to ${max}; got ${String(value)}.`)
  return value
}

/** Resolves and checks the core options. Throws {@link SessionConfigError}. */
export function resolveOptions(options: EdgeSessionOptions<object>): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw new SessionConfigError('edgeSession() needs an options object with at least { secret }.')
  const cookie = options.cookie ?? {}
  const baseName = cookie.name ?? DEFAULT_NAME
  if (!COOKIE_NAME.test(baseName))
    throw new SessionConfigError(`cookie.name must be 1-64 letters, digits, "_" or "-"; got ${JSON.stringify(baseName)}.`)
  if (PREFIXED_NAME.test(baseName))
    throw new SessionConfigError(`cookie.name must not start with __Host- or __Secure-: the prefix is added from cookie.secure and cookie.domain; got ${JSON.stringify(baseName)}.`)
  const secure = cookie.secure ?? true
  const sameSite = cookie.sameSite ?? 'Lax'
  if (!['Lax', 'Strict', 'None'].includes(sameSite))
    throw new SessionConfigError(`cookie.sameSite must be 'Lax', 'Strict' or 'None'; got ${JSON.stringify(sameSite)}.`)
  if (sameSite === 'None' && !secure) throw new SessionConfigError("cookie.sameSite 'None' needs cookie.secure: true (browsers refuse it otherwise).")
  const domain = cookie.domain
  if (domain !== undefined && (typeof domain !== 'string' || !HOST_NAME.test(domain)))
    throw new SessionConfigError(`cookie.domain must be a plain host name; got ${JSON.stringify(domain)}.`)
  // __Host- stops sibling subdomains from planting a same-named cookie; it forbids Domain, so a
  // shared cookie falls back to __Secure-.
  const prefix = !secure ? '' : domain ? '__Secure-' : '__Host-'
  const main = prefix + baseName
  const names: CookieNames = { main, activity: `${main}-activity` }

  const absoluteSeconds = positiveInteger(options.duration?.absolute, 'duration.absolute', DEFAULT_ABSOLUTE_SECONDS, MAX_COOKIE_AGE_SECONDS)
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
  const store = options.store
  if (store !== undefined && (typeof store?.get !== 'function' || typeof store.set !== 'function' || typeof store.delete !== 'function'))
    throw new SessionConfigError('store must have get, set and delete methods (see SessionStore).')
  const settleMs = store?.settleMs
  if (settleMs !== undefined && (typeof settleMs !== 'number' || !Number.isInteger(settleMs) || settleMs < 0))
    throw new SessionConfigError(`store.settleMs must be a whole number of milliseconds, 0 or more; got ${String(settleMs)}.`)
  const device = options.device ?? false
  if (typeof device !== 'boolean') throw new SessionConfigError(`device must be true or false; got ${String(device)}.`)
  if (device && !store)
    throw new SessionConfigError('device: true needs a store: without one the session lives only in its cookie, and no page could list it.')
  if (options.onInvalid !== undefined && typeof options.onInvalid !== 'function')
    throw new SessionConfigError('onInvalid must be a function.')
  const cacheControl = options.cacheControl === undefined ? true : options.cacheControl
  if (typeof cacheControl !== 'boolean')
    throw new SessionConfigError(`cacheControl must be true or false; got ${JSON.stringify(cacheControl) ?? String(cacheControl)}.`)

  return {
    names,
    sessionCookieNames: sessionCookieNamesWithin(main, maxBytes),
    setCookie: cookieWriter(main, { path: '/', httpOnly: true, secure, sameSite, ...(domain ? { domain } : {}) }),
    keyring: resolveSecret(options.secret, names),
    absoluteMs: absoluteSeconds * 1000,
    inactivityMs: inactivitySeconds * 1000,
    maxBytes,
    schema: options.schema,
    store,
    device,
    storeTimeoutMs: positiveInteger(options.storeTimeout, 'storeTimeout', DEFAULT_STORE_TIMEOUT_MS),
    onInvalid: options.onInvalid,
    cacheControl,
  }
}

/**
 * The unchunked name and every chunk name a token within `maxBytes` can be split into. A session
 * write clears all of them that it does not set: a concurrent request may have set any of them.
 */
function sessionCookieNamesWithin(main: string, maxBytes: number): string[] {
  // The longest token that still fits splits into the most chunks; found by bisection (the size
  // of a token's cookies grows with its length), once per middleware.
  let fits = 0
  let tooLong = maxBytes
  while (tooLong - fits > 1) {
    const length = (fits + tooLong) >>> 1
    if (cookieBytes(splitIntoCookies(main, 'x'.repeat(length))) <= maxBytes) fits = length
    else tooLong = length
  }
  const longest = splitIntoCookies(main, 'x'.repeat(fits))
  return longest.length === 1 ? [main] : [main, ...longest.map(([name]) => name)]
}

/**
 * Hono's serializer writes (and checks against the prefix rules) our attributes once, here; a
 * write then only puts name, value and Max-Age in front, as Hono orders them. Names are checked
 * above and values are base64url (or empty), which Hono's encoding leaves as they are, so the
 * lines are the ones Hono would write (test/node/set-cookie-lines.test.ts), at a fraction of the
 * cost per write.
 */
function cookieWriter(main: string, attributes: CookieAttributes): ResolvedOptions['setCookie'] {
  // Every name of ours starts with `main`, so its prefix rules (__Host-, __Secure-) hold for all.
  const tail = serialize(main, '', attributes).slice(main.length + 1)
  return (name, value, maxAgeSeconds) => `${name}=${value}; Max-Age=${maxAgeSeconds}${tail}`
}

/** Same secret, or a list (a function's fresh array per request) of the same secrets in order. */
function sameSecrets(input: SecretInput, last: unknown): boolean {
  if (input === last) return true
  // A secret function may return anything (undefined when a binding is missing): checked later.
  if (!Array.isArray(input) || !Array.isArray(last) || input.length !== last.length) return false
  for (let i = 0; i < input.length; i++) if (input[i] !== last[i]) return false
  return true
}

function resolveSecret(secret: EdgeSessionOptions<object>['secret'], names: CookieNames): (c: Context) => Keyring | Promise<Keyring> {
  const keyringFor = createKeyringCache({ session: names.main, activity: names.activity })
  // The last input that derived, and its keyring: the same secret on the next request answers
  // synchronously, so the middleware skips an await (each costs in workerd). Any other input goes
  // through the cache and its checks, as before.
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
