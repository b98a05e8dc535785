/**
 * The isolate's cache of tokens it sealed or opened recently, with their parsed payload: a browser
 * sends the same cookie on every request until it changes, and a hit skips the decoding, the
 * decryption and the parsing. Found by the token's tag, and a hit only when the whole token
 * matches: it means exactly this string was sealed here or authenticated under these keys. The
 * token codec still checks claims and expiry on every call; key sets live and go with their keyring.
 *
 * Two generations: a token goes into the young map; a full young map becomes the old one and the
 * old one is dropped whole; a hit in the old map moves the token back into the young one. So a
 * token that keeps coming back stays, one seen once leaves after at most 2 x GENERATION newer
 * ones, and no call walks the map or does bookkeeping per hit. Bounded in entries and in size
 * (single-cookie tokens only): at most about 2 x GENERATION x 7 KB per key set and purpose.
 * @module
 */
import type { KeyPurpose, SecretKeys } from './keyring.js'

const GENERATION = 128
const CACHED_TOKEN_CHARS = 4096
/** base64url length of a token's last part, its 16-byte authentication tag: the cache key. */
const TAG_CHARS = 22

interface Remembered {
  /** The whole token, as a string of its own: a hit must match it exactly. */
  readonly token: string
  /** The payload as JSON.parse builds it from the plaintext; deeply frozen by the codec from its first hit on. */
  readonly payload: unknown
}

interface TokenCache {
  young: Map<string, Remembered>
  old: Map<string, Remembered>
}

/** Keyed by the token's tag: short to hash, unlike the whole token. */
const caches = new WeakMap<SecretKeys, Record<KeyPurpose, TokenCache>>()

function cacheOf(keys: SecretKeys, purpose: KeyPurpose): TokenCache {
  let byPurpose = caches.get(keys)
  if (!byPurpose) {
    byPurpose = { session: { young: new Map(), old: new Map() }, activity: { young: new Map(), old: new Map() } }
    caches.set(keys, byPurpose)
  }
  return byPurpose[purpose]
}

/**
 * The payload remembered for exactly `token` under `keys` and `purpose`, or `undefined`.
 *
 * @example
 * ```ts
 * const payload = recallPayload(keys, 'session', token)
 * if (payload === undefined) // decrypt and parse it
 * ```
 */
export function recallPayload(keys: SecretKeys, purpose: KeyPurpose, token: string): unknown {
  const cache = cacheOf(keys, purpose)
  const tag = token.slice(-TAG_CHARS)
  let hit = cache.young.get(tag)
  if (!hit) {
    hit = cache.old.get(tag)
    // Keyed again by a slice of its own token: `tag` may be a view of the request's Cookie header.
    if (hit) keep(cache, hit.token.slice(-TAG_CHARS), hit)
  }
  // The tag only finds the entry; the whole token must match, or it is a different token.
  return hit !== undefined && hit.token === token ? hit.payload : undefined
}

/**
 * Remembers a token this isolate just sealed: its payload object is kept as it is, so the caller
 * hands it over and never changes it.
 *
 * @example
 * ```ts
 * rememberSealed(keys, 'session', token, payload)
 * ```
 */
export function rememberSealed(keys: SecretKeys, purpose: KeyPurpose, token: string, payload: unknown): void {
  remember(cacheOf(keys, purpose), token, payload)
}

/**
 * Remembers a token that just opened, as a copy: a token sliced out of a Cookie header can be a
 * view of the whole header, which the cache must not keep alive.
 *
 * @example
 * ```ts
 * rememberOpened(keys, 'activity', token, JSON.parse(plaintext))
 * ```
 */
export function rememberOpened(keys: SecretKeys, purpose: KeyPurpose, token: string, payload: unknown): void {
  remember(cacheOf(keys, purpose), copyOf(token), payload)
}

function remember(cache: TokenCache, token: string, payload: unknown): void {
  if (token.length > CACHED_TOKEN_CHARS) return
  const tag = token.slice(-TAG_CHARS)
  if (!cache.young.has(tag)) keep(cache, tag, { token, payload })
}

function keep(cache: TokenCache, tag: string, entry: Remembered): void {
  if (cache.young.size >= GENERATION) {
    cache.old = cache.young
    cache.young = new Map()
  }
  cache.young.set(tag, entry)
}

/**
 * A copy of a string that shares no memory with it. Appending makes a rope, and slicing it makes
 * the engine flatten the rope into a new string first (V8), so the result refers to that copy, not
 * to the header; an engine that shares differently still returns an equal string.
 */
function copyOf(ascii: string): string {
  return `${ascii} `.slice(0, -1)
}
