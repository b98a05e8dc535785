/**
 * Secrets to keys. Each secret yields one AES-256-GCM key per purpose through HKDF-SHA256, with
 * the purpose in `info` and the cookie name in `salt`, so a token sealed for one cookie or purpose
 * never opens as another (next-auth CVE-2023-48309). Derivation runs once per secret per isolate.
 * @module
 */
import { SessionConfigError } from '../errors.js'
import { encode as base64url } from './base64url.js'
import type { SecretInput } from '../types.js'

/** What a key is for. Part of the derivation: keys of different purposes are unrelated. */
export type KeyPurpose = 'session' | 'activity'

/** The keys of one secret. */
export interface SecretKeys {
  /** Names the secret in the JWE header; derived, so it reveals nothing about the secret. */
  readonly kid: string
  readonly session: CryptoKey
  readonly activity: CryptoKey
}

/** All configured secrets: the first seals, all open. */
export interface Keyring {
  readonly current: SecretKeys
  readonly byKid: ReadonlyMap<string, SecretKeys>
}

const MIN_SECRET_BYTES = 32
const INFO_PREFIX = 'hono-edge-session/v1 '
const KID_SALT = new TextEncoder().encode('hono-edge-session/kid')
const encoder = new TextEncoder()
const HOW_TO_MAKE =
  'Make one with `openssl rand -base64 32` and pass it as `secret` (on Workers: `wrangler secret put SESSION_SECRET`).'

/** Checks secrets; throws a {@link SessionConfigError} that says how to fix them. */
export function checkSecrets(input: unknown): readonly string[] {
  // Older secrets that are unset (undefined or '') are skipped: `[env.SECRET, env.SECRET_OLD]`
  // keeps working once the old one is removed. The first, which seals, must be there.
  const list: unknown[] =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input)
        ? input.filter((secret, i) => i === 0 || (secret !== undefined && secret !== ''))
        : []
  if (list.length === 0) throw new SessionConfigError(`A session secret is required. ${HOW_TO_MAKE}`)
  list.forEach((secret, i) => {
    const label = list.length > 1 ? `secret[${i}]` : 'secret'
    if (typeof secret !== 'string' || secret.length === 0)
      throw new SessionConfigError(`${label} is missing or not a string. ${HOW_TO_MAKE}`)
    if (encoder.encode(secret).length < MIN_SECRET_BYTES)
      throw new SessionConfigError(`${label} is shorter than ${MIN_SECRET_BYTES} bytes. ${HOW_TO_MAKE}`)
  })
  if (new Set(list).size !== list.length)
    throw new SessionConfigError('The same secret is listed twice: list each secret once, the current one first.')
  return list as string[]
}

async function hkdf(ikm: CryptoKey, salt: BufferSource, info: string, bits: number): Promise<ArrayBuffer> {
  return crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: encoder.encode(info) }, ikm, bits)
}

async function deriveSecretKeys(
  secret: string,
  cookieNames: Readonly<Record<KeyPurpose, string>>,
): Promise<SecretKeys> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const aesKey = async (purpose: KeyPurpose) => {
    const bits = await hkdf(ikm, encoder.encode(cookieNames[purpose]), INFO_PREFIX + purpose, 256)
    return crypto.subtle.importKey('raw', bits, 'AES-GCM', false, ['encrypt', 'decrypt'])
  }
  const [kidBits, session, activity] = await Promise.all([
    hkdf(ikm, KID_SALT, `${INFO_PREFIX}kid`, 72),
    aesKey('session'),
    aesKey('activity'),
  ])
  return { kid: base64url(new Uint8Array(kidBits)), session, activity }
}

/**
 * Builds keyrings and remembers them, so each list of secrets is derived once per isolate even
 * when the secrets come from `c.env` on every request.
 */
export function createKeyringCache(cookieNames: Readonly<Record<KeyPurpose, string>>) {
  // A handful of entries at most (one per secret list ever configured); bounded against misuse.
  const MAX_ENTRIES = 8
  const cache = new Map<string, Promise<Keyring>>()

  return function keyringFor(input: SecretInput): Promise<Keyring> {
    // A cache hit skips every check: the same input was checked when it was first seen.
    // A secret function may return anything (a missing binding is undefined): refuse it with the
    // config message, not a TypeError from `.join`.
    if (typeof input !== 'string' && !Array.isArray(input)) checkSecrets(input)
    // Entries that are not strings keep a key of their own (join() would render null and
    // undefined as ''), so an input is never taken for another that passed the checks.
    const cacheKey =
      typeof input === 'string'
        ? input
        : input.map((secret) => (typeof secret === 'string' ? secret : `\u0001${String(secret)}`)).join('\u0000')
    let keyring = cache.get(cacheKey)
    if (!keyring) {
      const secrets = checkSecrets(input)
      keyring = Promise.all(secrets.map((s) => deriveSecretKeys(s, cookieNames))).then((all) => ({
        current: all[0] as SecretKeys,
        byKid: new Map(all.map((k) => [k.kid, k])),
      }))
      if (cache.size >= MAX_ENTRIES) cache.delete(cache.keys().next().value as string)
      cache.set(cacheKey, keyring)
      // A failed derivation must not stick: the next request tries again.
      keyring.catch(() => cache.delete(cacheKey))
    }
    return keyring
  }
}
