/**
 * Refusal rules of src/codec/token.ts that jwe-interop.test.ts did not pin (mutation audit): the
 * tokens here are sealed with the real key by hand, so only the rule under test can refuse them.
 */
import { base64url } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Keyring, createKeyringCache } from '../../../src/codec/keyring'
import { TokenRefused, openToken } from '../../../src/codec/token'

const SECRET = 'interop-secret-0123456789-abcdefghijklmnop'
const NAMES = { session: '__Host-session', activity: '__Host-session-activity' } as const
const NOW = Date.UTC(2026, 3, 20, 12, 0, 0)
const NOW_S = NOW / 1000
const encoder = new TextEncoder()

async function rawKey(secret: string): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const info = encoder.encode('hono-edge-session/v1 session')
  return new Uint8Array(await crypto.subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(NAMES.session), info }, ikm, 256))
}

/** A compact JWE with an empty encrypted key, sealed with AES-256-GCM under `key` whatever `header` says. */
async function handSealed(header: object, plaintext: Uint8Array<ArrayBuffer>, key: Uint8Array<ArrayBuffer>): Promise<string> {
  const encodedHeader = base64url.encode(JSON.stringify(header))
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cryptoKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt'])
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(encodedHeader), tagLength: 128 }, cryptoKey, plaintext))
  const split = sealed.length - 16
  return `${encodedHeader}..${base64url.encode(iv)}.${base64url.encode(sealed.subarray(0, split))}.${base64url.encode(sealed.subarray(split))}`
}

async function outcome(token: string, keyring: Keyring): Promise<string> {
  try {
    await openToken(token, keyring, 'session', NOW)
    return 'opened'
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRefused)
    return (error as TokenRefused).reason
  }
}

let keyring: Keyring
let key: Uint8Array<ArrayBuffer>
let kid: string
const body = () => encoder.encode(JSON.stringify({ iat: NOW_S, exp: NOW_S + 3600, s: { user: { sub: 'u1' } } }))

beforeAll(async () => {
  keyring = await createKeyringCache(NAMES)(SECRET)
  key = await rawKey(SECRET)
  kid = keyring.current.kid
})

describe('token refusals (mutants)', () => {
  it('control: the hand-sealed token under the exact header opens', async () => {
    // Our header byte for byte, sealed outside this isolate: not in its cache, so it is decrypted.
    expect(await outcome(await handSealed({ alg: 'dir', enc: 'A256GCM', kid }, body(), key), keyring)).toBe('opened')
  })

  // A header naming another alg or enc over the real key and cipher: security/attacks.test.ts
  // ("the header allowlist itself"), through the middleware.

  it('a plaintext that is JSON but not UTF-8 inside a string is malformed (not read with U+FFFD)', async () => {
    const json = encoder.encode(`{"iat":${NOW_S},"exp":${NOW_S + 3600},"s":{"user":{"sub":"u1"},"x":"#"}}`)
    // Replace the '#' with the byte 0xFF: invalid UTF-8, still valid JSON structure once replaced.
    const bytes = new Uint8Array(json)
    bytes[bytes.indexOf(0x23)] = 0xff
    expect(await outcome(await handSealed({ alg: 'dir', enc: 'A256GCM', kid }, bytes, key), keyring)).toBe('malformed')
  })
})
