/**
 * Shared inputs: secrets, the session every library carries, and the floors' and jose's codec calls.
 * @module
 */
import { CompactEncrypt, compactDecrypt } from 'jose'

/** One secret per library, each long enough for every library's minimum. */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz'

/** The start of simulated time: a fixed date, so every run seals the same-sized tokens. */
export const T0 = Date.UTC(2026, 0, 15, 9, 0, 0)

/** The user's data, about 280 bytes of JSON: what every library stores in its cookie. */
export interface UserSession {
  user: { sub: string; name: string; email: string }
  onboardingStep: 'PROFILE' | 'COMPLETED'
  role: string
  plan: string
  locale: string
  theme: string
  features: string[]
  counter: number
  lastPath?: string
  lastVisit?: number
}

export function userSession(step: UserSession['onboardingStep'] = 'COMPLETED'): UserSession {
  return {
    user: { sub: 'user_01HZY3K9Q4M8N2P7R5', name: 'Ada Lovelace', email: 'ada.lovelace@example.com' },
    onboardingStep: step,
    role: 'member',
    plan: 'pro-annual',
    locale: 'en-GB',
    theme: 'dark',
    features: ['beta-editor', 'new-billing', 'ai-search'],
    counter: 0,
    lastPath: '/dashboard',
    lastVisit: T0,
  }
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

type NodeBuffer = {
  from(input: string | Uint8Array, encoding?: string): Uint8Array & { toString(encoding: string): string }
}
const nodeBuffer = (globalThis as { Buffer?: NodeBuffer }).Buffer
type B64Native = Uint8Array & { toBase64?(options: { alphabet: string; omitPadding: boolean }): string }
const fromBase64 = (Uint8Array as unknown as { fromBase64?(s: string, options: { alphabet: string }): Uint8Array })
  .fromBase64

/** The fastest base64url encoder the runtime has (the floors must be floors). */
export function b64uEncode(bytes: Uint8Array): string {
  const native = bytes as B64Native
  if (native.toBase64) return native.toBase64({ alphabet: 'base64url', omitPadding: true })
  if (nodeBuffer) return nodeBuffer.from(bytes).toString('base64url')
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
}

/** The fastest base64url decoder the runtime has. */
export function b64uDecode(text: string): Uint8Array<ArrayBuffer> {
  if (fromBase64) return fromBase64(text, { alphabet: 'base64url' }) as Uint8Array<ArrayBuffer>
  if (nodeBuffer) return new Uint8Array(nodeBuffer.from(text, 'base64url'))
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>
}

export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes)
}

/**
 * An AES-256-GCM key, imported once and then reused (a "cached CryptoKey"): random, or the
 * SHA-256 of `secret` when two apps must read each other's cookies.
 */
export async function aesKey(secret?: string): Promise<CryptoKey> {
  const raw =
    secret === undefined
      ? crypto.getRandomValues(new Uint8Array(32))
      : await crypto.subtle.digest('SHA-256', utf8(secret))
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

/** The floor's sealing: JSON, AES-256-GCM with a random IV, `iv.ciphertext` in base64url. */
export async function floorAesSeal(key: CryptoKey, data: object): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, utf8(JSON.stringify(data))))
  return `${b64uEncode(iv)}.${b64uEncode(sealed)}`
}

/** The floor's opening: the reverse of {@link floorAesSeal}. */
export async function floorAesOpen<T>(key: CryptoKey, value: string): Promise<T> {
  const dot = value.indexOf('.')
  const iv = b64uDecode(value.slice(0, dot))
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, b64uDecode(value.slice(dot + 1)))
  return JSON.parse(fromUtf8(new Uint8Array(plain))) as T
}

/** jose called as a careful user would: algorithms pinned on open. */
export const JOSE_PINNED = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }

/** jose's compact JWE (dir + A256GCM) of `data` as JSON, with a cached key. */
export function joseSeal(key: CryptoKey, data: object): Promise<string> {
  return new CompactEncrypt(utf8(JSON.stringify(data)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'AbCdEfGhIjKl' })
    .encrypt(key)
}

/** The reverse of {@link joseSeal}. */
export async function joseOpen<T>(key: CryptoKey, value: string): Promise<T> {
  return JSON.parse(fromUtf8((await compactDecrypt(value, key, JOSE_PINNED)).plaintext)) as T
}

/** A deterministic PRNG (mulberry32), so every run browses the same trace. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
