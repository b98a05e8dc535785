/**
 * Suite 1: read -> modify -> write of the session cookie's value, library by library, with each
 * library's documented codec and its key handling as its middleware does it. Plus the floors
 * (raw AES-256-GCM with a cached CryptoKey; JSON + base64url) and jose itself with a cached key.
 * @module
 */
import { decode as authDecode, encode as authEncode } from '@auth/core/jwt'
import { createEncryptionKey, jweDecrypt, jweEncrypt } from '@hono/session/cookies'
import { decrypt as honoSessionsDecrypt, encrypt as honoSessionsEncrypt } from 'hono-sessions'
import { sealData, unsealData } from 'iron-session'
import { EncryptJWT, jwtDecrypt } from 'jose'
import { createKeyringCache } from '../../src/codec/keyring'
import { openToken, sealToken } from '../../src/codec/token'
import * as viaJose from './token-jose'
import type { CaseFactory, Prepared } from './harness'
import { clock } from './harness'
import {
  JOSE_PINNED,
  SECRET,
  T0,
  type UserSession,
  aesKey,
  b64uDecode,
  b64uEncode,
  floorAesOpen,
  floorAesSeal,
  fromUtf8,
  joseOpen,
  joseSeal,
  userSession,
  utf8,
} from './fixtures'

const HOUR = 3600
const AUTH_SALT = '__Secure-authjs.session-token'

interface Record_ extends UserSession {
  internal: { sid: string; createdAt: number; updatedAt: number; expiresAt: number }
}

function ourRecord(): Record_ {
  return {
    ...userSession(),
    internal: { sid: 'q3Yz0J3m9oVv2xkq7b1Xcg', createdAt: T0, updatedAt: T0, expiresAt: T0 + 8 * HOUR * 1000 },
  }
}

/**
 * Cookies in turn, more than the isolate cache of src/codec/token-cache.ts holds (256), so that every
 * library, this one included, reads a cookie it has not just seen; the same for every row.
 */
const ROTATION = 600

/** ROTATION cookies made by `make`. */
async function manyCookies(make: () => Promise<string>): Promise<string[]> {
  const values: string[] = []
  for (let i = 0; i < ROTATION; i++) values.push(await make())
  return values
}

/** ROTATION independent cookies in turn, each read, changed and written back by `step`. */
async function chains(make: () => Promise<string>, step: (value: string) => Promise<string>): Promise<Prepared> {
  const values = await manyCookies(make)
  let n = 0
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) {
        const at = n++ % ROTATION
        values[at] = await step(values[at] as string)
      }
    },
    info: { cookieChars: values[0]?.length },
  }
}

/** ROTATION cookies in turn, each only read (the request that writes nothing). */
async function rotate(make: () => Promise<string>, read: (value: string) => Promise<unknown>): Promise<Prepared> {
  const values = await manyCookies(make)
  let n = 0
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) await read(values[n++ % ROTATION] as string)
    },
    info: { cookieChars: values[0]?.length },
  }
}

/** One cookie, read and written back again and again: what one browser does to one isolate. */
function chain(initial: string, step: (value: string) => Promise<string>): Prepared {
  let value = initial
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) value = await step(value)
    },
    info: { cookieChars: initial.length },
  }
}

/** One cookie, read again and again. */
function repeat(value: string, read: (value: string) => Promise<unknown>): Prepared {
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) await read(value)
    },
    info: { cookieChars: value.length },
  }
}

// --- this package ---------------------------------------------------------------------------

async function ourKeyring() {
  return createKeyringCache({ session: '__Host-session', activity: '__Host-session-activity' })(SECRET)
}

type OurPayload = { iat: number; exp: number; s: Record_ }

async function ourInitial(keyring: Awaited<ReturnType<typeof ourKeyring>>): Promise<string> {
  const record = ourRecord()
  const payload: OurPayload = { iat: T0 / 1000, exp: record.internal.expiresAt / 1000, s: record }
  return sealToken(payload, keyring.current, 'session')
}

// --- jose, the way a careful user would call it (cached CryptoKey, pinned algorithms: fixtures) --

/**
 * The exact plaintext this package seals (`{ iat, exp, s: record }`): jose and the floors carry it
 * too, so the ratios to them compare the code, not the payload. The peers carry their own format.
 */
function samePayload(): OurPayload {
  const record = ourRecord()
  return { iat: T0 / 1000, exp: record.internal.expiresAt / 1000, s: record }
}

export const codecCases: Record<string, CaseFactory> = {
  async 'floor-json'() {
    clock.set(T0)
    return chains(
      async () => b64uEncode(utf8(JSON.stringify(samePayload()))),
      async (value) => {
        const data = JSON.parse(fromUtf8(b64uDecode(value))) as OurPayload
        data.s.counter++
        return b64uEncode(utf8(JSON.stringify(data)))
      },
    )
  },

  async 'floor-aes'() {
    clock.set(T0)
    const key = await aesKey()
    return chains(
      () => floorAesSeal(key, samePayload()),
      async (value) => {
        const data = await floorAesOpen<OurPayload>(key, value)
        data.s.counter++
        return floorAesSeal(key, data)
      },
    )
  },

  async 'floor-aes-open'() {
    clock.set(T0)
    const key = await aesKey()
    return rotate(
      () => floorAesSeal(key, samePayload()),
      (value) => floorAesOpen(key, value),
    )
  },

  async 'jose-compact'() {
    clock.set(T0)
    const key = await aesKey()
    return chains(
      () => joseSeal(key, samePayload()),
      async (value) => {
        const data = await joseOpen<OurPayload>(key, value)
        data.s.counter++
        return joseSeal(key, data)
      },
    )
  },

  async 'jose-compact-open'() {
    clock.set(T0)
    const key = await aesKey()
    return rotate(
      () => joseSeal(key, samePayload()),
      (value) => joseOpen(key, value),
    )
  },

  async 'jose-jwt'() {
    clock.set(T0)
    const key = await aesKey()
    const seal = (s: OurPayload['s']) =>
      new EncryptJWT({ s })
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: 'AbCdEfGhIjKl' })
        .setIssuedAt(T0 / 1000)
        .setExpirationTime(T0 / 1000 + 8 * HOUR)
        .encrypt(key)
    return chains(
      () => seal(samePayload().s),
      async (value) => {
        const { payload } = await jwtDecrypt<Pick<OurPayload, 's'>>(value, key, {
          ...JOSE_PINNED,
          requiredClaims: ['iat', 'exp'],
        })
        return seal({ ...payload.s, counter: payload.s.counter + 1 })
      },
    )
  },

  async 'edge-session'() {
    clock.set(T0)
    const keyring = await ourKeyring()
    return chains(
      () => ourInitial(keyring),
      async (value) => {
        const { payload } = await openToken<OurPayload>(value, keyring, 'session', clock.now())
        const next: OurPayload = {
          iat: Math.floor(clock.now() / 1000),
          exp: payload.exp,
          s: { ...payload.s, counter: payload.s.counter + 1 },
        }
        return sealToken(next, keyring.current, 'session')
      },
    )
  },

  async 'edge-session-cached'() {
    // One session: the token it sealed comes straight back, and the isolate cache answers the read.
    clock.set(T0)
    const keyring = await ourKeyring()
    return chain(await ourInitial(keyring), async (value) => {
      const { payload } = await openToken<OurPayload>(value, keyring, 'session', clock.now())
      const next: OurPayload = {
        iat: Math.floor(clock.now() / 1000),
        exp: payload.exp,
        s: { ...payload.s, counter: payload.s.counter + 1 },
      }
      return sealToken(next, keyring.current, 'session')
    })
  },

  async 'edge-session-open'() {
    clock.set(T0)
    const keyring = await ourKeyring()
    return rotate(
      () => ourInitial(keyring),
      async (value) => openToken<OurPayload>(value, keyring, 'session', clock.now()),
    )
  },

  async 'edge-session-open-cached'() {
    // The same token again and again, as one browser sends it: the isolate cache answers.
    clock.set(T0)
    const keyring = await ourKeyring()
    return repeat(await ourInitial(keyring), async (value) =>
      openToken<OurPayload>(value, keyring, 'session', clock.now()),
    )
  },

  async 'edge-session-jose'() {
    // The same calls through the jose-based codec this package used before (bench/src/token-jose.ts).
    clock.set(T0)
    const keyring = await ourKeyring()
    return chains(
      () => ourInitial(keyring),
      async (value) => {
        const { payload } = await viaJose.openToken<OurPayload>(value, keyring, 'session', clock.now())
        const next: OurPayload = {
          iat: Math.floor(clock.now() / 1000),
          exp: payload.exp,
          s: { ...payload.s, counter: payload.s.counter + 1 },
        }
        return viaJose.sealToken(next, keyring.current, 'session')
      },
    )
  },

  async 'edge-session-jose-open'() {
    clock.set(T0)
    const keyring = await ourKeyring()
    return rotate(
      () => ourInitial(keyring),
      (value) => viaJose.openToken<OurPayload>(value, keyring, 'session', clock.now()),
    )
  },

  async 'hono-session'() {
    // As useSession() does: the HKDF'd key bytes are cached per middleware, jose imports them per call.
    clock.set(T0)
    const key = await createEncryptionKey(SECRET)
    const duration = { absolute: 8 * HOUR, inactivity: HOUR / 2 }
    return chains(
      async () => (await jweEncrypt({ sid: 'sid-1', ...userSession() }, key, duration)).jwe,
      async (value) => {
        const { payload } = await jweDecrypt(value, key, { requiredClaims: ['sid'] })
        if (!payload) throw new Error('@hono/session refused its own cookie')
        const next = { ...payload, counter: (payload.counter as number) + 1 }
        return (await jweEncrypt(next, key, duration)).jwe
      },
    )
  },

  async 'hono-sessions'() {
    // CookieStore: the whole cache object, JSON-encoded, sealed with iron-webcrypto.
    clock.set(T0)
    const cache = {
      _data: { user: { value: userSession(), flash: false } },
      _expire: null,
      _delete: false,
      _accessed: new Date().toISOString(),
    }
    return chains(
      () => honoSessionsEncrypt(SECRET, JSON.stringify(cache)),
      async (value) => {
        const data = JSON.parse((await honoSessionsDecrypt(SECRET, value)) as string) as typeof cache
        data._data.user.value.counter++
        data._accessed = new Date().toISOString()
        return honoSessionsEncrypt(SECRET, JSON.stringify(data))
      },
    )
  },

  async 'iron-session'() {
    clock.set(T0)
    const options = { password: SECRET, ttl: 8 * HOUR }
    return chains(
      () => sealData(userSession(), options),
      async (value) => {
        const data = await unsealData<UserSession>(value, options)
        data.counter++
        return sealData(data, options)
      },
    )
  },

  async authjs() {
    clock.set(T0)
    const params = { secret: SECRET, salt: AUTH_SALT }
    return chains(
      () => authEncode({ ...params, token: { ...userSession() }, maxAge: 8 * HOUR }),
      async (value) => {
        const token = await authDecode({ ...params, token: value })
        if (!token) throw new Error('Auth.js refused its own token')
        return authEncode({ ...params, token: { ...token, counter: (token.counter as number) + 1 }, maxAge: 8 * HOUR })
      },
    )
  },
}
