/**
 * Tools for the security suite: a probe app that records everything that must never happen, the
 * real key derived exactly like src/codec/keyring.ts (so forgeries are as strong as an attacker
 * who knows the secret could make them, and a refusal proves a check, not a wrong key), and
 * Set-Cookie checks. Runtime-neutral: WebCrypto, jose and app.request only.
 */
import { CompactEncrypt, base64url } from 'jose'
import { getSession } from '../../src'
import type { EdgeSessionOptions } from '../../src'
import { mintSessionCookie } from '../../src/testing'
import { SECRET } from './app'
import { type AnySession, recordingApp } from './core'

const encoder = new TextEncoder()
const INFO_PREFIX = 'hono-edge-session/v1 '

/** HKDF-SHA256 bits exactly as the keyring derives them: salt = cookie name, info = purpose. */
export async function deriveKeyBits(
  secret: string,
  cookieName: string,
  purpose: 'session' | 'activity',
  bits = 256,
): Promise<Uint8Array> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const out = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(cookieName), info: encoder.encode(INFO_PREFIX + purpose) },
    ikm,
    bits,
  )
  return new Uint8Array(out)
}

/** The `kid` the keyring puts in the header for `secret`. */
export async function deriveKid(secret: string): Promise<string> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const bits = await crypto.subtle.deriveBits(
    {
      name: 'HKDF',
      hash: 'SHA-256',
      salt: encoder.encode('hono-edge-session/kid'),
      info: encoder.encode(`${INFO_PREFIX}kid`),
    },
    ikm,
    72,
  )
  return base64url.encode(new Uint8Array(bits))
}

/** A cookie-mode session payload as the server seals it; every field can be overridden. */
export function sessionPayload(
  nowMs: number,
  overrides: { iat?: number; exp?: number; record?: Record<string, unknown> } = {},
) {
  const record = overrides.record ?? {
    user: { sub: 'forged-admin' },
    role: 'admin',
    internal: { sid: 'AAAAAAAAAAAAAAAAAAAAAA', createdAt: nowMs, updatedAt: nowMs, expiresAt: nowMs + 3_600_000 },
  }
  return {
    iat: overrides.iat ?? Math.floor(nowMs / 1000),
    exp: overrides.exp ?? Math.floor(nowMs / 1000) + 3600,
    s: record,
  }
}

/** Seals `payload` with jose under any header and key: the attacker's tool. */
export function sealWith(
  payload: object,
  header: Record<string, unknown> & { alg: string; enc: string },
  key: Uint8Array | CryptoKey,
): Promise<string> {
  return new CompactEncrypt(encoder.encode(JSON.stringify(payload))).setProtectedHeader(header).encrypt(key)
}

/** A compact JWE from raw parts, for headers jose would refuse to produce. */
export function rawJwe(
  header: object,
  parts: { encryptedKey?: Uint8Array; iv?: Uint8Array; ciphertext?: Uint8Array; tag?: Uint8Array } = {},
): string {
  const b = (bytes?: Uint8Array) => (bytes ? base64url.encode(bytes) : '')
  return [
    base64url.encode(encoder.encode(JSON.stringify(header))),
    b(parts.encryptedKey),
    b(parts.iv),
    b(parts.ciphertext),
    b(parts.tag),
  ].join('.')
}

/** A probe app: every path answers 200 after recording the session the handler saw. */
export function probeApp(options: Partial<EdgeSessionOptions> = {}) {
  let seen: AnySession | null | undefined
  const { app, errors, invalid } = recordingApp(options, (_err, c) => c.text('error', 500))
  app.all('*', (c) => {
    seen = getSession(c) as AnySession | null
    return c.text('ok')
  })
  return {
    app,
    errors,
    invalid,
    /** Sends one request; `session` is `undefined` when the handler never ran. */
    async send(cookie: string | null, init: RequestInit & { path?: string } = {}) {
      seen = undefined
      const headers = new Headers(init.headers)
      if (cookie !== null) headers.set('cookie', cookie)
      const res = await app.request(init.path ?? '/', { ...init, headers })
      // Set by the handler during the request (TypeScript cannot see that through the callback).
      return { res, session: seen as AnySession | null | undefined }
    },
  }
}

/** A session minted through the real middleware: its cookie header, token and the session. */
export async function issue(
  data: Record<string, unknown> & { user: { sub: string } },
  options: Partial<EdgeSessionOptions> = {},
) {
  const minted = await mintSessionCookie({ secret: SECRET, ...options, data })
  const token = minted.cookie
    .split('; ')
    .map((pair) => pair.slice(pair.indexOf('=') + 1))
    .join('')
  return { cookie: minted.cookie, token, session: minted.session as AnySession, setCookie: minted.setCookie }
}

/** The session without the activity fields, for comparing what was issued with what was accepted. */
export function core(session: AnySession): string {
  const { lastPath: _p, lastVisit: _v, ...rest } = session as Record<string, unknown>
  return JSON.stringify(rest)
}

/**
 * Every Set-Cookie line must name one of our cookies, with a base64url/JWE value and exactly
 * the secure attributes: nothing the client sent can shape a line.
 */
export const STRICT_SET_COOKIE =
  /^__Host-session(?:\.(?:0|[1-9][0-9]{0,2})|-activity)?=[A-Za-z0-9_.-]*; Max-Age=[0-9]+; Path=\/; HttpOnly; Secure; SameSite=Lax$/

/** Lines of `res` that do not match {@link STRICT_SET_COOKIE}. */
export function badSetCookieLines(res: Response): string[] {
  return res.headers.getSetCookie().filter((line) => !STRICT_SET_COOKIE.test(line))
}

/** Flips bit `bit` (mod length) of a base64url segment's bytes; an empty segment gets `extra` instead. */
export function flipSegmentBit(token: string, segment: number, bit: number, extra: Uint8Array): string {
  const parts = token.split('.')
  const bytes = base64url.decode(parts[segment] ?? '')
  if (bytes.length === 0) parts[segment] = base64url.encode(extra)
  else {
    const i = bit % (bytes.length * 8)
    bytes[i >> 3] = (bytes[i >> 3] as number) ^ (1 << (i & 7))
    parts[segment] = base64url.encode(bytes)
  }
  return parts.join('.')
}

/** fast-check run counts and seed. FC_SCALE=10 runs ten times as many cases (a deeper search than CI's).
 * FC_SEED and FC_SCALE are read from the environment on Node (`npm run test:node`); inside workerd
 * the environment is empty. Node's WebCrypto runs on a thread pool and is slower, hence a generous
 * timeout per property. */
const seed = process.env.FC_SEED === undefined ? undefined : Number(process.env.FC_SEED)
const scale = Number(process.env.FC_SCALE ?? 1)
export const PROPERTY_TIMEOUT_MS = 120_000
export const params = (runs: number) => {
  const numRuns = Math.max(1, Math.round(runs * scale))
  return seed === undefined ? { numRuns } : { numRuns, seed }
}

/**
 * Percent-decoding as a lenient origin server does it: up to three rounds (double and triple
 * encoding), each run of escapes decoded on its own, and a run that is not valid UTF-8 kept as is.
 */
export function decodeLikeAnOrigin(path: string): string {
  let out = path
  for (let i = 0; i < 3; i++)
    out = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run)
      } catch {
        return run
      }
    })
  return out
}
