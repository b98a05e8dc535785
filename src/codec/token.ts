/**
 * Seals and opens tokens: JWE compact serialization (RFC 7516), `alg: dir`, `enc: A256GCM`, with
 * a `kid` naming the secret. Standard JWE, so any JOSE library holding the derived key can read
 * it, and tokens made by one (jose's `CompactEncrypt`) open here.
 *
 * Built on WebCrypto's AES-GCM directly rather than through a general JOSE library: for this one
 * algorithm pair the format is fixed (protected header in base64url is the AAD, a 96-bit IV, the
 * 128-bit tag after the ciphertext), and a general library spends more time on header handling,
 * option checks and copies than the cipher takes (bench/NOTES.md). The cipher itself stays
 * WebCrypto's. On opening, the protected header must be byte for byte one we write,
 * `{"alg":"dir","enc":"A256GCM","kid":"<kid>"}` for a kid of the keyring: no `zip`, no `crit`, no
 * other member, and no other spelling of these three (order, whitespace, escapes, a BOM, duplicate
 * members); it is never parsed, and the key comes from the fixed keyring by `kid`. Tokens this
 * isolate sealed or opened recently open again from a bounded cache of their parsed payload
 * (`token-cache.ts`), since a browser repeats its cookies on every request.
 * @module
 */
import { decode, encode } from './base64url.js'
import { deepFreeze } from './frozen-json.js'
import type { KeyPurpose, Keyring, SecretKeys } from './keyring.js'
import { recallPayload, rememberOpened, rememberSealed } from './token-cache.js'

/** Every token carries its issue and expiry time, in seconds since the epoch like JWT's. */
export interface TokenClaims {
  iat: number
  exp: number
}

/**
 * An opened token and whether it was sealed with an older secret (then it should be re-sealed).
 * The payload is read-only: it may be the very object the isolate cache holds for this token
 * (deeply frozen from its first shared use on). Copy it (`copyJson`) before handing it to anyone who
 * may change it.
 */
export interface OpenedToken<P> {
  readonly payload: P & TokenClaims
  readonly stale: boolean
}

/** Why a token is not ours or not valid now: returned by `startOpen`, thrown by `openToken`; never leaves this package. */
export class TokenRefused extends Error {
  constructor(readonly reason: 'malformed' | 'undecryptable' | 'expired') {
    super(reason)
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
const IV_BYTES = 12
const TAG_BYTES = 16
/** base64url lengths of the 12-byte IV and the 16-byte tag: fixed, so checked before decoding. */
const IV_CHARS = 16
const TAG_CHARS = 22
// A JWE compact token of a session that fits in the cookie limits is far below this.
const MAX_TOKEN_CHARS = 64 * 1024
// Tokens issued by another edge location may carry an `iat` slightly ahead of this clock.
const CLOCK_SKEW_SECONDS = 30
const TOKEN_CHARS = /^[A-Za-z0-9_\-.]*$/

/** A secret's protected header, base64url-encoded, and its ASCII bytes (the AAD). */
interface SealedHeader {
  readonly encoded: string
  readonly aad: Uint8Array<ArrayBuffer>
}

// Per key set and per keyring, computed once: keyrings live as long as the isolate.
const sealedHeaders = new WeakMap<SecretKeys, SealedHeader>()
const knownHeaders = new WeakMap<Keyring, ReadonlyMap<string, SecretKeys>>()

function sealedHeaderOf(keys: SecretKeys): SealedHeader {
  let header = sealedHeaders.get(keys)
  if (!header) {
    // Member order as jose writes it: the same keys produce byte-identical headers either way.
    const encoded = encode(encoder.encode(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: keys.kid })))
    header = { encoded, aad: encoder.encode(encoded) as Uint8Array<ArrayBuffer> }
    sealedHeaders.set(keys, header)
  }
  return header
}

/** Our own headers, as strings: the usual token is matched here and its header is never parsed. */
function knownHeadersOf(keyring: Keyring): ReadonlyMap<string, SecretKeys> {
  let known = knownHeaders.get(keyring)
  if (!known) {
    known = new Map([...keyring.byKid.values()].map((keys) => [sealedHeaderOf(keys).encoded, keys]))
    knownHeaders.set(keyring, known)
  }
  return known
}

/**
 * Seals `payload` (its `iat` and `exp` included) with the current secret's key for `purpose`.
 *
 * The payload is handed over: the isolate cache keeps this very object for the next open of the
 * token (and freezes it on its first shared use), so it must be plain JSON data (no undefined
 * members, as JSON.parse would build it) that the caller does not change afterwards. The session
 * state seals records it never changes in place; copying them here would cost a deep copy per write.
 *
 * @example
 * ```ts
 * const token = await sealToken({ iat: 1767225600, exp: 1767254400, sid: 'abc' }, keyring.current, 'session')
 * // 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoi...' + '..' + iv + '.' + ciphertext + '.' + tag
 * ```
 */
export async function sealToken(payload: TokenClaims & object, keys: SecretKeys, purpose: KeyPurpose): Promise<string> {
  const header = sealedHeaderOf(keys)
  const text = JSON.stringify(payload)
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: header.aad, tagLength: TAG_BYTES * 8 },
      keys[purpose],
      encoder.encode(text),
    ),
  )
  // WebCrypto appends the tag to the ciphertext; JWE carries them as two parts.
  const split = sealed.length - TAG_BYTES
  const token = `${header.encoded}..${encode(iv)}.${encode(sealed.subarray(0, split))}.${encode(sealed.subarray(split))}`
  // The browser sends it back on its next request: known already, it opens without decrypting or
  // parsing (the payload is handed over, see above).
  rememberSealed(keys, purpose, token, payload)
  return token
}

/**
 * Opens a token. The key is looked up by `kid` in the fixed keyring only; the header is
 * unverified input, so nothing is ever derived from it. Throws (or rejects with)
 * {@link TokenRefused}, nothing else.
 *
 * Answers synchronously when the token is in the isolate cache (`token-cache.ts`): a browser
 * repeats its cookies on every request, and the caller then skips an await. Otherwise a promise.
 *
 * @example
 * ```ts
 * try {
 *   const { payload, stale } = await openToken<{ sid: string }>(token, keyring, 'session', Date.now())
 * } catch (error) {
 *   // error is a TokenRefused: 'malformed' | 'undecryptable' | 'expired'
 * }
 * ```
 */
export function openToken<P extends object>(
  token: string,
  keyring: Keyring,
  purpose: KeyPurpose,
  nowMs: number,
): OpenedToken<P> | Promise<OpenedToken<P>> {
  const result = startOpen<P>(token, keyring, purpose, nowMs)
  return result instanceof Promise ? result.then(acceptedOrThrow) : acceptedOrThrow(result)
}

/**
 * {@link openToken} without throwing: the opened token, or the {@link TokenRefused} that says why
 * not, as a value (a promise that never rejects when the token must be decrypted). The decryption
 * starts before this returns, so a caller can start several and then wait once for all of them.
 *
 * @example
 * ```ts
 * const [session, activity] = await Promise.all([
 *   startOpen<SessionPayload>(sessionToken, keyring, 'session', now),
 *   startOpen<ActivityPayload>(activityToken, keyring, 'activity', now),
 * ])
 * if (session instanceof TokenRefused) refuse(session.reason)
 * ```
 */
export function startOpen<P extends object>(
  token: string,
  keyring: Keyring,
  purpose: KeyPurpose,
  nowMs: number,
): OpenResult<P> | Promise<OpenResult<P>> {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return new TokenRefused('malformed')
  const ours = ownKeysOf(token, keyring)
  // Not one of our headers byte for byte: nothing else is a header we accept.
  if (!ours) return refusalOf(token)
  const remembered = recallPayload(ours, purpose, token)
  if (remembered === undefined) return openUncached<P>(token, keyring, purpose, nowMs, ours)
  // Shared from now on: frozen (once, on its first shared use), so no caller can change it for the next.
  return checked<P>(deepFreeze(remembered), ours, keyring, nowMs)
}

/**
 * What {@link startOpen} answers: the opened token, or why it was refused.
 *
 * @example
 * ```ts
 * const result: OpenResult<SessionPayload> = await startOpen(token, keyring, 'session', now)
 * ```
 */
export type OpenResult<P> = OpenedToken<P> | TokenRefused

function acceptedOrThrow<P>(result: OpenResult<P>): OpenedToken<P> {
  if (result instanceof TokenRefused) throw result
  return result
}

/**
 * The keys of one of our own headers, byte for byte: the current secret's is checked in place,
 * without slicing or hashing the header, the others by a lookup. base64url decoding is strict
 * (one spelling per byte string), so comparing the segment compares the header's bytes.
 */
function ownKeysOf(token: string, keyring: Keyring): SecretKeys | undefined {
  const current = sealedHeaderOf(keyring.current).encoded
  if (token.startsWith(current) && token.charCodeAt(current.length) === 46) return keyring.current
  const dot = token.indexOf('.')
  return dot > 0 ? knownHeadersOf(keyring).get(token.slice(0, dot)) : undefined
}

async function openUncached<P extends object>(
  token: string,
  keyring: Keyring,
  purpose: KeyPurpose,
  nowMs: number,
  ours: SecretKeys,
): Promise<OpenResult<P>> {
  const parts = sealedPartsOf(token, ours)
  if (!parts) return refusalOf(token)
  const { iv, aad, sealed } = parts
  let plaintext: ArrayBuffer
  try {
    plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv, additionalData: aad, tagLength: TAG_BYTES * 8 },
      ours[purpose],
      sealed,
    )
  } catch {
    return refusalOf(token)
  }
  let payload: unknown
  try {
    // Not frozen yet: many tokens are seen once (an isolate busy with many users); a hit freezes it.
    payload = JSON.parse(decoder.decode(plaintext))
  } catch {
    // Not UTF-8, or not JSON.
    return new TokenRefused('malformed')
  }
  const opened = checked<P>(payload, ours, keyring, nowMs)
  // Only tokens that open go in.
  if (!(opened instanceof TokenRefused)) rememberOpened(ours, purpose, token, payload)
  return opened
}

/**
 * Why a token that did not decrypt is refused. Cookie values are not checked on the way in (a
 * cached token needs no check), and every part is decoded strictly, so characters no token has
 * always end here: called malformed rather than undecryptable. Checked only now: the regex costs
 * per character.
 */
function refusalOf(token: string): TokenRefused {
  return new TokenRefused(TOKEN_CHARS.test(token) ? 'undecryptable' : 'malformed')
}

/** The claims every token carries, checked on every open (cached or not). */
function checked<P>(payload: unknown, keys: SecretKeys, keyring: Keyring, nowMs: number): OpenResult<P> {
  if (!isTokenPayload(payload)) return new TokenRefused('malformed')
  const now = nowMs / 1000
  if (payload.exp <= now || payload.iat > now + CLOCK_SKEW_SECONDS) return new TokenRefused('expired')
  return { payload: payload as P & TokenClaims, stale: keys !== keyring.current }
}

/** What AES-GCM needs to open a token of ours: its parts as bytes. */
interface SealedParts {
  readonly iv: Uint8Array<ArrayBuffer>
  readonly aad: Uint8Array<ArrayBuffer>
  /** The ciphertext with the tag after it, as WebCrypto takes them. */
  readonly sealed: Uint8Array<ArrayBuffer>
}

/**
 * Checks the structure and decodes the parts of a token whose header is one of ours (`keys`);
 * `undefined` when the rest cannot be one of ours.
 */
function sealedPartsOf(token: string, keys: SecretKeys): SealedParts | undefined {
  // header . (empty encrypted key) . iv . ciphertext . tag: exactly four dots, at positions
  // h, k = h + 1, i = k + 1 + IV_CHARS and c, with the tag TAG_CHARS long after the last.
  const h = token.indexOf('.')
  const k = h + 1
  const i = token.indexOf('.', k + 1)
  const c = i === -1 ? -1 : token.indexOf('.', i + 1)
  if (h <= 0 || token.charCodeAt(k) !== 46 || i !== k + 1 + IV_CHARS || c <= i + 1 || token.indexOf('.', c + 1) !== -1)
    return undefined
  if (token.length - c - 1 !== TAG_CHARS) return undefined

  const iv = decode(token.slice(k + 1, i))
  const ciphertext = decode(token.slice(i + 1, c))
  const tag = decode(token.slice(c + 1))
  if (!iv || !ciphertext || !tag) return undefined
  const sealed = new Uint8Array(ciphertext.length + TAG_BYTES)
  sealed.set(ciphertext)
  sealed.set(tag, ciphertext.length)
  return { iv, aad: sealedHeaderOf(keys).aad, sealed }
}

function isTokenPayload(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { iat, exp } = value as Record<string, unknown>
  return typeof iat === 'number' && Number.isFinite(iat) && typeof exp === 'number' && Number.isFinite(exp)
}
