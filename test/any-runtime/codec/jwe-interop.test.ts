/**
 * The token codec is standard JWE compact (dir + A256GCM + kid): jose opens our tokens, we open
 * jose's, byte for byte the same format; and every refusal rule holds whoever made the token.
 */
import fc from 'fast-check'
import { CompactEncrypt, EncryptJWT, base64url, compactDecrypt, decodeProtectedHeader, jwtDecrypt } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Keyring, createKeyringCache } from '../../../src/codec/keyring'
import { TokenRefused, openToken, sealToken, startOpen } from '../../../src/codec/token'
import { copyJson } from '../../../src/codec/frozen-json'

const SECRET = 'interop-secret-0123456789-abcdefghijklmnop'
const OLD_SECRET = 'interop-old-secret-0123456789-abcdefghijk'
const NAMES = { session: '__Host-session', activity: '__Host-session-activity' } as const
const PINNED = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }
const NOW = Date.UTC(2026, 3, 20, 12, 0, 0)
const NOW_S = NOW / 1000
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** The key as any JOSE library would hold it: HKDF-SHA256(secret, salt = cookie name, info = purpose), derived here independently. */
async function rawKey(secret: string, purpose: 'session' | 'activity', bits = 256): Promise<Uint8Array<ArrayBuffer>> {
  const ikm = await crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveBits'])
  const info = encoder.encode(`hono-edge-session/v1 ${purpose}`)
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'HKDF', hash: 'SHA-256', salt: encoder.encode(NAMES[purpose]), info },
      ikm,
      bits,
    ),
  )
}

const payload = () => ({ iat: NOW_S, exp: NOW_S + 3600, s: { user: { sub: 'u1', name: 'Zoë ✓' }, n: [1, 2, 3] } })

/** The reason openToken refused `token` with, or 'opened'. Anything but a TokenRefused fails the test. */
async function outcome(token: string, keyring: Keyring, purpose: 'session' | 'activity' = 'session'): Promise<string> {
  try {
    await openToken(token, keyring, purpose, NOW)
    return 'opened'
  } catch (error) {
    expect(error).toBeInstanceOf(TokenRefused)
    return (error as TokenRefused).reason
  }
}

/** startOpen's answer, which must come without a throw or a rejection: the reason, or 'opened'. */
async function started(token: string, ring: Keyring = keyring): Promise<string> {
  const pending = startOpen(token, ring, 'session', NOW)
  const result = pending instanceof Promise ? await pending : pending
  return result instanceof TokenRefused ? result.reason : 'opened'
}

function joseSeal(
  body: unknown,
  header: Record<string, unknown>,
  key: Uint8Array | CryptoKey,
  options?: { crit: Record<string, boolean> },
) {
  return new CompactEncrypt(encoder.encode(typeof body === 'string' ? body : JSON.stringify(body)))
    .setProtectedHeader(header as { alg: string; enc: string })
    .encrypt(key, options)
}

let keyring: Keyring
let rotated: Keyring
let key: Uint8Array<ArrayBuffer>
let kid: string
let oldKid: string

beforeAll(async () => {
  keyring = await createKeyringCache(NAMES)(SECRET)
  rotated = await createKeyringCache(NAMES)([SECRET, OLD_SECRET])
  key = await rawKey(SECRET, 'session')
  kid = keyring.current.kid
  oldKid = (await createKeyringCache(NAMES)(OLD_SECRET)).current.kid
})

describe('jose opens our tokens', () => {
  it('compactDecrypt with pinned algorithms gives back the payload and the exact header', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    const { plaintext, protectedHeader } = await compactDecrypt(token, key, PINNED)
    expect(JSON.parse(decoder.decode(plaintext))).toEqual(payload())
    expect(protectedHeader).toEqual({ alg: 'dir', enc: 'A256GCM', kid })
    expect(Object.keys(protectedHeader)).toEqual(['alg', 'enc', 'kid'])
  })

  it('jwtDecrypt accepts them as JWTs with iat and exp', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    const { payload: claims } = await jwtDecrypt(token, key, {
      ...PINNED,
      requiredClaims: ['iat', 'exp'],
      currentDate: new Date(NOW),
    })
    expect(claims).toMatchObject(payload())
  })

  it('the activity purpose has its own key, which jose uses the same way', async () => {
    const token = await sealToken(payload(), keyring.current, 'activity')
    await expect(compactDecrypt(token, key, PINNED)).rejects.toThrow()
    const { plaintext } = await compactDecrypt(token, await rawKey(SECRET, 'activity'), PINNED)
    expect(JSON.parse(decoder.decode(plaintext))).toEqual(payload())
  })

  it('is byte for byte what jose writes for the same plaintext, key and IV', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    expect(token).toMatch(/^[\w-]+\.\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/)
    const { plaintext } = await compactDecrypt(token, key, PINNED)
    const iv = decodeB64url(token.split('.')[2] as string)
    const again = await new CompactEncrypt(plaintext)
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .setInitializationVector(iv)
      .encrypt(key)
    expect(again).toBe(token)
  })

  it('uses a fresh IV for every token', async () => {
    const ivs = new Set<string>()
    for (let i = 0; i < 50; i++)
      ivs.add((await sealToken(payload(), keyring.current, 'session')).split('.')[2] as string)
    expect(ivs.size).toBe(50)
  })
})

describe('we open jose-made tokens', () => {
  it('CompactEncrypt with our header', async () => {
    const token = await joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid }, key)
    const opened = await openToken(token, keyring, 'session', NOW)
    expect(opened.payload).toEqual(payload())
    expect(opened.stale).toBe(false)
  })

  it('EncryptJWT with iat and exp set by jose', async () => {
    const token = await new EncryptJWT({ sid: 'abc' })
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .setIssuedAt(NOW_S)
      .setExpirationTime(NOW_S + 60)
      .encrypt(key)
    const opened = await openToken<{ sid: string }>(token, keyring, 'session', NOW)
    expect(opened.payload).toEqual({ sid: 'abc', iat: NOW_S, exp: NOW_S + 60 })
  })

  it('the same three members in another order are refused: only the header bytes we write open', async () => {
    const token = await joseSeal(payload(), { kid, enc: 'A256GCM', alg: 'dir' }, key)
    expect(decodeProtectedHeader(token)).toEqual({ kid, enc: 'A256GCM', alg: 'dir' })
    expect(await compactDecrypt(token, key, PINNED)).toBeDefined()
    expect(await outcome(token, keyring)).toBe('undecryptable')
  })

  it('a token of an older secret opens and says it is stale', async () => {
    const token = await joseSeal(
      payload(),
      { alg: 'dir', enc: 'A256GCM', kid: oldKid },
      await rawKey(OLD_SECRET, 'session'),
    )
    const opened = await openToken(token, rotated, 'session', NOW)
    expect(opened.payload).toEqual(payload())
    expect(opened.stale).toBe(true)
    expect(await outcome(token, keyring)).toBe('undecryptable')
  })
})

describe('refusals hold whoever made the token', () => {
  it('pinned algorithms: any other alg or enc is refused, even with a fitting key', async () => {
    const cases = [
      joseSeal(payload(), { alg: 'dir', enc: 'A128GCM', kid }, await rawKey(SECRET, 'session', 128)),
      joseSeal(payload(), { alg: 'dir', enc: 'A192GCM', kid }, await rawKey(SECRET, 'session', 192)),
      joseSeal(payload(), { alg: 'dir', enc: 'A256CBC-HS512', kid }, await rawKey(SECRET, 'session', 512)),
      joseSeal(payload(), { alg: 'A256KW', enc: 'A256GCM', kid }, key),
      joseSeal(payload(), { alg: 'A256GCMKW', enc: 'A256GCM', kid }, key),
      joseSeal(payload(), { alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', kid, p2c: 1000 }, encoder.encode(SECRET)),
    ]
    for (const token of await Promise.all(cases)) expect(await outcome(token, keyring)).toBe('undecryptable')
  })

  it('zip is refused, though jose would inflate it', async () => {
    const token = await joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid, zip: 'DEF' }, key)
    const inflated = await compactDecrypt(token, key, PINNED)
    expect(JSON.parse(decoder.decode(inflated.plaintext))).toEqual(payload())
    expect(await outcome(token, keyring)).toBe('undecryptable')
  })

  it('crit and any member beyond alg, enc, kid are refused', async () => {
    const cases = [
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid, crit: ['b64x'], b64x: true }, key, {
        crit: { b64x: true },
      }),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid, typ: 'JWT' }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid, cty: 'json' }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid, jku: 'https://attacker.example/jwks' }, key),
    ]
    for (const token of await Promise.all(cases)) expect(await outcome(token, keyring)).toBe('undecryptable')
  })

  it('kid: unknown, missing, not a string, or an object-prototype name is refused', async () => {
    const cases = [
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid: 'AAAAAAAAAAAA' }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM' }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid: 7 }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid: '__proto__' }, key),
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid: 'constructor' }, key),
      // The right kid with another secret's key (key substitution).
      joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid }, await rawKey(OLD_SECRET, 'session')),
    ]
    for (const token of await Promise.all(cases)) expect(await outcome(token, keyring)).toBe('undecryptable')
  })

  it('a token sealed for one purpose does not open as the other', async () => {
    expect(await outcome(await sealToken(payload(), keyring.current, 'activity'), keyring, 'session')).toBe(
      'undecryptable',
    )
    expect(await outcome(await sealToken(payload(), keyring.current, 'session'), keyring, 'activity')).toBe(
      'undecryptable',
    )
  })

  it('iat and exp are required numbers; expired and future tokens are refused', async () => {
    const header = { alg: 'dir', enc: 'A256GCM', kid }
    const cases: Array<[unknown, string]> = [
      [{ exp: NOW_S + 60 }, 'malformed'],
      [{ iat: NOW_S }, 'malformed'],
      [{ iat: NOW_S, exp: String(NOW_S + 60) }, 'malformed'],
      [{ iat: null, exp: NOW_S + 60 }, 'malformed'],
      [[NOW_S, NOW_S + 60], 'malformed'],
      ['"a string"', 'malformed'],
      ['not json', 'malformed'],
      [{ iat: NOW_S - 120, exp: NOW_S }, 'expired'],
      [{ iat: NOW_S - 120, exp: NOW_S - 1 }, 'expired'],
      [{ iat: NOW_S + 31, exp: NOW_S + 3600 }, 'expired'],
      [{ iat: NOW_S + 30, exp: NOW_S + 3600 }, 'opened'],
    ]
    for (const [body, expected] of cases) {
      const token = await joseSeal(body, header, key)
      expect(await outcome(token, keyring), JSON.stringify(body)).toBe(expected)
    }
  })

  it('a plaintext that is not UTF-8 is malformed', async () => {
    const token = await new CompactEncrypt(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .encrypt(key)
    expect(await outcome(token, keyring)).toBe('malformed')
  })

  it('structure: segments, lengths and strict base64url', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    const [h, , iv, ct, tag] = token.split('.') as [string, string, string, string, string]
    // The last character's lowest unused bit set: still in the alphabet, the same bytes to a lenient decoder.
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const lastBitsFlipped = tag.slice(0, -1) + B64URL[B64URL.indexOf(tag.slice(-1)) ^ 1]
    const cases = [
      '',
      '....',
      `${h}.AAAA.${iv}.${ct}.${tag}`, // an encrypted key with alg dir
      `${h}..${iv}.${ct}.${tag}.`, // six segments
      `${h}..${iv}.${ct}`, // four
      `${h}..${iv}..${tag}`, // no ciphertext
      `.${token}`,
      `${h}..${iv.slice(1)}.${ct}.${tag}`, // short IV
      `${h}..${iv}A.${ct}.${tag}`, // long IV
      `${h}..${iv}.${ct}.${tag.slice(1)}`, // short tag
      `${h}..${iv}.${ct}.${lastBitsFlipped}`, // non-canonical last character: the same bytes to a lenient decoder
    ]
    for (const bad of cases) expect(await outcome(bad, keyring), bad).toBe('undecryptable')
    // Characters no token has: refused before any decoding.
    const foreign = [
      `${h}..${iv}.${ct}.${tag}=`, // padding
      `${h}..${iv}.${ct.slice(0, 10)} ${ct.slice(10)}.${tag}`, // whitespace, which lenient decoders skip
      `${h}..${iv}.+${ct.slice(1)}.${tag}`, // a character of the standard base64 alphabet (always present: not left to the random ciphertext)
      `${h}=..${iv}.${ct}.${tag}`,
      `${h}..${iv}.${ct}é.${tag}`,
    ]
    for (const bad of foreign) expect(await outcome(bad, keyring), bad).toBe('malformed')
    expect(await outcome(token, keyring)).toBe('opened')
  })

  it('an oversized value or a non-string is malformed', async () => {
    expect(await outcome('A'.repeat(64 * 1024 + 1), keyring)).toBe('malformed')
    expect(await outcome(42 as unknown as string, keyring)).toBe('malformed')
  })

  it('every one-character change of a token is refused, and nothing but TokenRefused ever escapes', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.= +/%'
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: token.length - 1 }), fc.constantFrom(...chars), async (at, char) => {
        fc.pre(token[at] !== char)
        const changed = token.slice(0, at) + char + token.slice(at + 1)
        const reason = await outcome(changed, keyring)
        expect(['undecryptable', 'malformed']).toContain(reason)
        // startOpen gives the same answer as a value, never a throw or a rejection.
        expect(await started(changed)).toBe(reason)
      }),
      { numRuns: 400 },
    )
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (junk) => {
        expect(await outcome(junk, keyring)).not.toBe('opened')
      }),
      { numRuns: 200 },
    )
  })
})

describe('startOpen: the same answers as openToken, as values', () => {
  it("opens a jose-made token to the payload jose sealed, and an older secret's as stale", async () => {
    const body = payload()
    const token = await joseSeal(body, { alg: 'dir', enc: 'A256GCM', kid }, key)
    const opened = await startOpen<typeof body>(token, keyring, 'session', NOW)
    expect(opened).not.toBeInstanceOf(TokenRefused)
    expect((opened as { payload: unknown }).payload).toEqual(body)
    const old = await sealToken(payload(), (await createKeyringCache(NAMES)(OLD_SECRET)).current, 'session')
    expect(await startOpen(old, rotated, 'session', NOW)).toMatchObject({ stale: true })
  })

  it('any string: the reason openToken throws, as a value, never a throw or rejection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 300 }), async (junk) => {
        const reason = await started(junk)
        expect(['malformed', 'undecryptable']).toContain(reason)
        expect(reason).toBe(await outcome(junk, keyring))
      }),
      { numRuns: 200 },
    )
    expect(await started('A'.repeat(64 * 1024 + 1))).toBe('malformed')
    expect(await started(42 as unknown as string)).toBe('malformed')
  })
})

function decodeB64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

/**
 * A compact JWE whose protected header is exactly `headerBytes`, sealed with the real key and
 * cipher (the header's base64url as AAD, as RFC 7516 says): only a header rule can refuse it.
 */
async function sealedUnderHeaderBytes(headerBytes: Uint8Array, aesKey: Uint8Array<ArrayBuffer> = key): Promise<string> {
  const encodedHeader = b64url(headerBytes)
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cryptoKey = await crypto.subtle.importKey('raw', aesKey, 'AES-GCM', false, ['encrypt'])
  const plaintext = encoder.encode(JSON.stringify(payload()))
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(encodedHeader), tagLength: 128 },
      cryptoKey,
      plaintext,
    ),
  )
  return `${encodedHeader}..${b64url(iv)}.${b64url(sealed.subarray(0, -16))}.${b64url(sealed.subarray(-16))}`
}

function b64url(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

describe('the exact header: only the bytes we write open', () => {
  const exact = () => `{"alg":"dir","enc":"A256GCM","kid":"${kid}"}`

  it('control: the exact bytes, sealed by hand or by jose from { alg, enc, kid }, open', async () => {
    expect(await outcome(await sealedUnderHeaderBytes(encoder.encode(exact())), keyring)).toBe('opened')
    const jose = await joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid }, key)
    expect(decoder.decode(decodeB64url(jose.split('.')[0] as string))).toBe(exact())
    expect(await outcome(jose, keyring)).toBe('opened')
    // An older secret's header, in the same form, under its own key.
    const old = `{"alg":"dir","enc":"A256GCM","kid":"${oldKid}"}`
    expect(
      await outcome(await sealedUnderHeaderBytes(encoder.encode(old), await rawKey(OLD_SECRET, 'session')), rotated),
    ).toBe('opened')
  })

  // Each one means { alg: 'dir', enc: 'A256GCM', kid } to JSON.parse (the last of duplicates wins),
  // and each was accepted while the reader parsed the header.
  const variants: Array<[string, () => Uint8Array]> = [
    [
      'a duplicate alg, "none" first',
      () => encoder.encode(`{"alg":"none","enc":"A256GCM","kid":"${kid}","alg":"dir"}`),
    ],
    [
      'a duplicate alg, "dir" first and last',
      () => encoder.encode(`{"alg":"dir","alg":"dir","enc":"A256GCM","kid":"${kid}"}`),
    ],
    ['a duplicate enc', () => encoder.encode(`{"alg":"dir","enc":"A128CBC-HS256","enc":"A256GCM","kid":"${kid}"}`)],
    [
      'a duplicate kid, an unknown one first',
      () => encoder.encode(`{"alg":"dir","enc":"A256GCM","kid":"AAAAAAAAAAAA","kid":"${kid}"}`),
    ],
    ['a UTF-8 byte order mark before the object', () => new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode(exact())])],
    ['an escaped member name', () => encoder.encode(`{"\\u0061lg":"dir","enc":"A256GCM","kid":"${kid}"}`)],
    ['an escaped value', () => encoder.encode(`{"alg":"\\u0064ir","enc":"A256GCM","kid":"${kid}"}`)],
    ['the members in another order', () => encoder.encode(`{"enc":"A256GCM","alg":"dir","kid":"${kid}"}`)],
    ['whitespace between tokens', () => encoder.encode(`{"alg": "dir", "enc": "A256GCM", "kid": "${kid}"}`)],
    ['a trailing newline', () => encoder.encode(`${exact()}\n`)],
    ['leading whitespace', () => encoder.encode(` ${exact()}`)],
  ]

  it.each(variants)('refuses %s', async (_label, bytes) => {
    const header = bytes()
    // What a JSON reader makes of it: the very header we write, so only a byte comparison refuses it.
    expect(JSON.parse(new TextDecoder().decode(header))).toEqual({ alg: 'dir', enc: 'A256GCM', kid })
    expect(await outcome(await sealedUnderHeaderBytes(header), keyring)).toBe('undecryptable')
  })

  it('refuses the exact bytes in a non-canonical base64url spelling (the AAD is the spelling, not the bytes)', async () => {
    const token = await sealedUnderHeaderBytes(encoder.encode(exact()))
    const [h, ...rest] = token.split('.')
    const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    const header = h as string
    // 50 bytes: 67 characters, the last carrying 2 unused bits.
    expect(header.length % 4).toBe(3)
    const spelled = header.slice(0, -1) + B64URL[B64URL.indexOf(header.slice(-1)) ^ 1]
    expect(await outcome([spelled, ...rest].join('.'), keyring)).toBe('undecryptable')
  })
})

describe('the isolate cache of opened tokens changes nothing but speed', () => {
  it('checks expiry on every call, cached or not', async () => {
    const token = await sealToken({ iat: NOW_S, exp: NOW_S + 60 }, keyring.current, 'session')
    expect((await openToken(token, keyring, 'session', NOW)).payload.exp).toBe(NOW_S + 60)
    expect((await openToken(token, keyring, 'session', NOW)).payload.exp).toBe(NOW_S + 60)
    // A cached token is answered synchronously, so the refusal is a throw rather than a rejection.
    expect(() => openToken(token, keyring, 'session', NOW + 61_000)).toThrow(
      expect.objectContaining({ reason: 'expired' }),
    )
    expect(() => openToken(token, keyring, 'session', NOW - 3_600_000)).toThrow(
      expect.objectContaining({ reason: 'expired' }),
    )
  })

  it('shares one deeply frozen payload: no caller can change it for the next', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    const first = await openToken<ReturnType<typeof payload>>(token, keyring, 'session', NOW)
    expect(Object.isFrozen(first.payload)).toBe(true)
    expect(Object.isFrozen(first.payload.s.user)).toBe(true)
    expect(() => {
      first.payload.s.user.sub = 'attacker'
    }).toThrow(TypeError)
    expect(() => first.payload.s.n.push(4)).toThrow(TypeError)
    const second = await openToken<ReturnType<typeof payload>>(token, keyring, 'session', NOW)
    expect(second.payload).toEqual(payload())
    // A token new to the isolate (decrypted) is frozen from its first shared use on.
    const fresh = await joseSeal(payload(), { alg: 'dir', enc: 'A256GCM', kid }, key)
    await openToken(fresh, keyring, 'session', NOW)
    const again = openToken<ReturnType<typeof payload>>(fresh, keyring, 'session', NOW)
    expect(again).not.toBeInstanceOf(Promise)
    expect(Object.isFrozen((again as Awaited<typeof again>).payload.s.user)).toBe(true)
    expect((again as Awaited<typeof again>).payload).toEqual(payload())
    // A token sealed here is cached as the very payload it was sealed from (handed over, see
    // sealToken), frozen from its first shared use on: equal to what decrypting it would give.
    const handed = payload()
    const sealed = await sealToken(handed, keyring.current, 'session')
    const reopened = openToken<ReturnType<typeof payload>>(sealed, keyring, 'session', NOW)
    expect(reopened).not.toBeInstanceOf(Promise)
    expect((reopened as Awaited<typeof reopened>).payload).toBe(handed)
    expect(Object.isFrozen(handed.s.user)).toBe(true)
    const decrypted = await openToken<ReturnType<typeof payload>>(
      sealed,
      await createKeyringCache(NAMES)(SECRET),
      'session',
      NOW,
    )
    expect(decrypted.payload).toEqual(handed)
  })

  it('copyJson gives copies equal to what JSON.parse builds, own "__proto__" keys included', async () => {
    const text = '{"iat":0,"exp":0,"s":{"__proto__":{"admin":true},"2":[1,{"a":null}],"b":-0,"a":"x"}}'
    const claims = Object.assign(JSON.parse(text) as object, { iat: NOW_S, exp: NOW_S + 60 })
    const token = await sealToken(claims, keyring.current, 'session')
    for (let i = 0; i < 3; i++) {
      const { payload: shared } = await openToken<{ s: Record<string, unknown> }>(token, keyring, 'session', NOW)
      const opened = copyJson(shared)
      expect(JSON.stringify(opened)).toBe(JSON.stringify(claims))
      expect(Object.getPrototypeOf(opened.s)).toBe(Object.prototype)
      expect(Object.keys(opened.s)).toEqual(['2', '__proto__', 'b', 'a'])
      expect((opened.s as { admin?: unknown }).admin).toBeUndefined()
      // Changes to one caller's copy never reach the next one.
      ;(opened.s['2'] as unknown[]).push('changed')
      opened.s.a = 'changed'
    }
  })

  it('is per keyring and per purpose', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    await openToken(token, keyring, 'session', NOW)
    const other = await createKeyringCache(NAMES)(OLD_SECRET)
    expect(await outcome(token, other)).toBe('undecryptable')
    expect(await outcome(token, keyring, 'activity')).toBe('undecryptable')
    // A rotated keyring (another object) opens it too, and knows it is current there.
    expect((await openToken(token, rotated, 'session', NOW)).stale).toBe(false)
  })

  it('keeps the stale flag of a token opened with an older secret', async () => {
    const token = await joseSeal(
      payload(),
      { alg: 'dir', enc: 'A256GCM', kid: oldKid },
      await rawKey(OLD_SECRET, 'session'),
    )
    expect((await openToken(token, rotated, 'session', NOW)).stale).toBe(true)
    expect((await openToken(token, rotated, 'session', NOW)).stale).toBe(true)
  })

  it('stays correct past its size: the oldest go, every token still opens', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 300 }, (_, i) => sealToken(Object.assign(payload(), { i }), keyring.current, 'session')),
    )
    for (const token of tokens) await openToken(token, keyring, 'session', NOW)
    for (const [i, token] of tokens.entries())
      expect((await openToken<{ i: number }>(token, keyring, 'session', NOW)).payload.i).toBe(i)
  })

  it('answers a token it knows without a promise; a token that only shares its tag is decrypted, and refused', async () => {
    const token = await sealToken(payload(), keyring.current, 'session')
    expect(openToken(token, keyring, 'session', NOW)).not.toBeInstanceOf(Promise)
    // Same tag (the cache's lookup key), one other ciphertext character: must not be taken for the cached one.
    const at = token.lastIndexOf('.') - 5
    const twin = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1)
    expect(twin.slice(-22)).toBe(token.slice(-22))
    const opening = openToken(twin, keyring, 'session', NOW)
    expect(opening).toBeInstanceOf(Promise)
    await expect(opening).rejects.toMatchObject({ reason: 'undecryptable' })
    // And the twin's refusal did not disturb the cached token.
    expect(openToken(token, keyring, 'session', NOW)).not.toBeInstanceOf(Promise)
  })

  it('keeps the tokens in use when full: a token hit once per 100 newer ones survives 1,000 of them', async () => {
    const kept = await sealToken(Object.assign(payload(), { i: -1 }), keyring.current, 'session')
    const idle = await sealToken(Object.assign(payload(), { i: -2 }), keyring.current, 'session')
    for (let i = 0; i < 1000; i++) {
      await sealToken(Object.assign(payload(), { i }), keyring.current, 'session')
      // The browser that keeps coming back, now and then.
      if (i % 100 === 99) expect(openToken(kept, keyring, 'session', NOW), String(i)).not.toBeInstanceOf(Promise)
    }
    const reopened = openToken<{ i: number }>(idle, keyring, 'session', NOW)
    expect(reopened).toBeInstanceOf(Promise)
    expect((await reopened).payload.i).toBe(-2)
  })

  it('a refused token is refused again (refusals are not cached as successes)', async () => {
    const token = await joseSeal({ iat: NOW_S }, { alg: 'dir', enc: 'A256GCM', kid }, key)
    expect(await outcome(token, keyring)).toBe('malformed')
    expect(await outcome(token, keyring)).toBe('malformed')
  })
})

/** A compact JWE with an empty encrypted key, sealed with AES-256-GCM under `key` whatever `header` says. */
async function handSealed(
  header: object,
  plaintext: Uint8Array<ArrayBuffer>,
  key: Uint8Array<ArrayBuffer>,
): Promise<string> {
  const encodedHeader = base64url.encode(JSON.stringify(header))
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const cryptoKey = await crypto.subtle.importKey('raw', key, 'AES-GCM', false, ['encrypt'])
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: encoder.encode(encodedHeader), tagLength: 128 },
      cryptoKey,
      plaintext,
    ),
  )
  const split = sealed.length - 16
  return `${encodedHeader}..${base64url.encode(iv)}.${base64url.encode(sealed.subarray(0, split))}.${base64url.encode(sealed.subarray(split))}`
}

const body = () => encoder.encode(JSON.stringify({ iat: NOW_S, exp: NOW_S + 3600, s: { user: { sub: 'u1' } } }))

describe('refusals of tokens sealed by hand with the real key: only the rule under test refuses', () => {
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
