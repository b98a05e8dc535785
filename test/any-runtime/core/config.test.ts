import { afterEach, describe, expect, it, vi } from 'vitest'
import { SessionConfigError, edgeSession } from '../../../src'
import type { EdgeSessionOptions, SessionStore } from '../../../src'
import { CookieJar, OLD_SECRET, SECRET, call, coreApp, kidOf, readSession, tokenFrom } from '../../helpers'

function buildError(options: unknown): SessionConfigError {
  try {
    edgeSession(options as EdgeSessionOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(SessionConfigError)
    expect((err as SessionConfigError).code).toBe('ERR_SESSION_CONFIG')
    return err as SessionConfigError
  }
  throw new Error(`edgeSession(${JSON.stringify(options)}) did not throw`)
}

const HOW = 'openssl rand -base64 32'

describe('secret validation at build time', () => {
  const bad: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no secret', {}],
    ['undefined secret', { secret: undefined }],
    ['empty string', { secret: '' }],
    ['31 ASCII bytes', { secret: 'a'.repeat(31) }],
    ['empty list', { secret: [] }],
    ['a short secret in the list', { secret: [SECRET, 'short'] }],
    ['a non-string in the list', { secret: [SECRET, 42] }],
    // biome-ignore lint/correctness/noPrecisionLoss: any number is refused; its exact value does not matter
    ['a number', { secret: 12345678901234567890 }],
  ]
  for (const [label, options] of bad) {
    it(`refuses ${label} with a message saying how to make one`, () => {
      const err = buildError(options)
      if (options !== undefined) expect(err.message).toContain(HOW)
    })
  }

  it('counts bytes, not characters: 16 two-byte characters (32 bytes) pass, 31 bytes fail', () => {
    expect(() => edgeSession({ secret: 'é'.repeat(16) })).not.toThrow()
    expect(buildError({ secret: `${'é'.repeat(15)}a` }).message).toContain(HOW)
    expect(() => edgeSession({ secret: 'a'.repeat(32) })).not.toThrow()
  })

  it('refuses the same secret listed twice', () => {
    expect(buildError({ secret: [SECRET, SECRET] }).message).toMatch(/twice/)
    expect(buildError({ secret: [SECRET, undefined, SECRET] }).message).toMatch(/twice/)
  })

  it('skips older secrets that are unset (undefined or empty), never the first', () => {
    expect(() => edgeSession({ secret: [SECRET, undefined] })).not.toThrow()
    expect(() => edgeSession({ secret: [SECRET, ''] })).not.toThrow()
    expect(buildError({ secret: [undefined, SECRET] }).message).toMatch(/secret\[0\] is missing/)
    expect(buildError({ secret: ['', SECRET] }).message).toMatch(/secret\[0\] is missing/)
  })
})

describe('secret as a function of the context (c.env)', () => {
  it('works with Workers bindings', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as { SESSION_SECRET: string }).SESSION_SECRET })
    const env = { SESSION_SECRET: SECRET }
    const jar = new CookieJar()
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env })
    expect(res.status).toBe(200)
    expect((await readSession(app, { jar, env })).session?.user.sub).toBe('u1')
    // Same secret as a plain string: the cookie is interchangeable.
    expect((await readSession(coreApp({ secret: SECRET }).app, { jar })).session?.user.sub).toBe('u1')
    expect(errors).toEqual([])
  })

  const badValues: Array<[string, unknown]> = [
    ['undefined (binding missing)', undefined],
    ['a short string', 'too-short'],
    ['an empty list', []],
    ['a number', 7],
  ]
  for (const [label, value] of badValues) {
    it(`fails the request with SessionConfigError when it returns ${label}`, async () => {
      const { app, errors } = coreApp({ secret: () => value as string })
      const res = await call(app, '/session')
      expect(res.status).toBe(500)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(SessionConfigError)
      expect((errors[0] as Error).message).toContain(HOW)
      expect(res.headers.getSetCookie()).toEqual([])
    })
  }

  it('the rotation recipe keeps working once the old secret is removed from the environment', async () => {
    type RotatingEnv = { SESSION_SECRET: string; SESSION_SECRET_OLD?: string }
    const { app, errors } = coreApp({
      secret: (c) => [(c.env as RotatingEnv).SESSION_SECRET, (c.env as RotatingEnv).SESSION_SECRET_OLD],
    })
    const jar = new CookieJar()
    const rotating = { SESSION_SECRET: SECRET, SESSION_SECRET_OLD: 'an-older-secret-0123456789-abcdefghij' }
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env: rotating })).status).toBe(200)
    const done = { SESSION_SECRET: SECRET }
    const { res, session } = await readSession(app, { jar, env: done })
    expect(res.status).toBe(200)
    expect(session?.user.sub).toBe('u1')
    expect(errors).toEqual([])
  })

  it('a list that is refused stays refused after a list that passed, whatever comes in between', async () => {
    // [SECRET, undefined] passes (an unset old secret); [SECRET, null] and then undefined itself do not.
    const lists: unknown[] = [[SECRET, undefined], [SECRET, null], undefined, [SECRET, undefined]]
    let i = 0
    const { app, errors } = coreApp({ secret: () => lists[i++] as string[] })
    const statuses: number[] = []
    for (let n = 0; n < lists.length; n++) statuses.push((await call(app, '/session')).status)
    expect(statuses).toEqual([200, 500, 500, 200])
    expect(errors).toHaveLength(2)
    for (const error of errors) expect(error).toBeInstanceOf(SessionConfigError)
  })

  it('a bad value does not stick: the next request with a good binding works', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as { S?: string }).S as string })
    expect((await call(app, '/session', { env: {} })).status).toBe(500)
    expect((await call(app, '/session', { env: { S: SECRET } })).status).toBe(200)
    expect(errors).toHaveLength(1)
  })
})

/** A store that keeps nothing: only its shape matters to these checks. */
const NULL_STORE = { get: async () => null, set: async () => {}, delete: async () => {} }

describe('other options fail at build time with clear messages', () => {
  const cases: Array<[string, Partial<EdgeSessionOptions> & Record<string, unknown>, RegExp]> = [
    ['duration.absolute 0', { duration: { absolute: 0 } }, /duration\.absolute/],
    ['duration.absolute negative', { duration: { absolute: -5 } }, /duration\.absolute/],
    ['duration.absolute fractional', { duration: { absolute: 1.5 } }, /duration\.absolute/],
    ['duration.absolute as a string', { duration: { absolute: '3600' as never } }, /duration\.absolute/],
    ['duration.absolute over 400 days', { duration: { absolute: 401 * 24 * 3600 } }, /duration\.absolute/],
    ['duration.inactivity NaN', { duration: { inactivity: Number.NaN } }, /duration\.inactivity/],
    [
      'duration.inactivity longer than absolute',
      { duration: { absolute: 600, inactivity: 601 } },
      /duration\.inactivity/,
    ],
    ['maxBytes below 1024', { maxBytes: 1000 }, /maxBytes/],
    ['maxBytes above 64 KiB', { maxBytes: 64 * 1024 + 1 }, /maxBytes/],
    ['maxBytes fractional', { maxBytes: 2048.5 }, /maxBytes/],
    ['cookie.name with a space', { cookie: { name: 'my session' } }, /cookie\.name/],
    ['cookie.name with ";"', { cookie: { name: 'a;b' } }, /cookie\.name/],
    ['cookie.name with "="', { cookie: { name: 'a=b' } }, /cookie\.name/],
    ['cookie.name empty', { cookie: { name: '' } }, /cookie\.name/],
    ['cookie.name with a dot (chunk suffixes use dots)', { cookie: { name: 'a.0' } }, /cookie\.name/],
    ['cookie.sameSite None without secure', { cookie: { sameSite: 'None', secure: false } }, /sameSite.*secure/i],
    ['cookie.sameSite lowercase typo', { cookie: { sameSite: 'lax' as never } }, /sameSite/],
    ['cookie.domain with a path', { cookie: { domain: 'example.com/x' } }, /cookie\.domain/],
    ['cookie.domain "."', { cookie: { domain: '.' } }, /cookie\.domain/],
    ['cookie.domain "-"', { cookie: { domain: '-' } }, /cookie\.domain/],
    ['cookie.domain with an empty label', { cookie: { domain: 'example..com' } }, /cookie\.domain/],
    [
      'cookie.name with the __Host- prefix (added by the middleware)',
      { cookie: { name: '__Host-session', secure: false } },
      /cookie\.name.*prefix/,
    ],
    [
      'cookie.name with the __Secure- prefix in any case',
      { cookie: { name: '__secure-session' } },
      /cookie\.name.*prefix/,
    ],
    ['schema without ~standard', { schema: { parse: () => 1 } as never }, /Standard Schema/],
    ['onInvalid not a function', { onInvalid: 'log' as never }, /onInvalid/],
    ['store.settleMs negative', { store: { ...NULL_STORE, settleMs: -1 } }, /store\.settleMs/],
    ['store.settleMs as a string', { store: { ...NULL_STORE, settleMs: '60000' as never } }, /store\.settleMs/],
    [
      'activity.touchInterval over half of the default inactivity',
      { activity: { touchInterval: 901 } },
      /touchInterval.*half.*1800 s/,
    ],
    [
      'activity.touchInterval over half of a custom inactivity',
      { duration: { inactivity: 600 }, activity: { touchInterval: 301 } },
      /touchInterval.*half.*600 s/,
    ],
    ['activity.recordQuery not a boolean', { activity: { recordQuery: 'yes' as never } }, /activity\.recordQuery/],
  ]
  for (const [label, options, message] of cases) {
    it(`refuses ${label}`, () => {
      const err = buildError({ secret: SECRET, ...options })
      expect(err.message).toMatch(message)
    })
  }

  it('accepts sensible values', () => {
    expect(() =>
      edgeSession({
        secret: SECRET,
        duration: { absolute: 3600, inactivity: 600 },
        maxBytes: 4096,
        cookie: { name: 'app_sid-1', sameSite: 'Strict', domain: 'example.com' },
      }),
    ).not.toThrow()
    expect(() => edgeSession({ secret: SECRET, cookie: { sameSite: 'None' } })).not.toThrow()
    expect(() =>
      edgeSession({ secret: SECRET, duration: { inactivity: 600 }, activity: { touchInterval: 300 } }),
    ).not.toThrow()
    // The default touch interval (60 s) yields to a short inactivity instead of refusing it.
    expect(() => edgeSession({ secret: SECRET, duration: { absolute: 60 } })).not.toThrow()
    for (const domain of ['localhost', '.example.com', 'app-1.eu.example.co.uk', 'xn--bcher-kva.example'])
      expect(() => edgeSession({ secret: SECRET, cookie: { domain } }), domain).not.toThrow()
    expect(() => edgeSession({ secret: SECRET, cookie: { name: 'host_session' } })).not.toThrow()
    // inactivity defaults to min(30 min, absolute) instead of failing.
    expect(() => edgeSession({ secret: SECRET, duration: { absolute: 600 } })).not.toThrow()
  })
})

describe('secret as a function of the context', () => {
  it('uses the secret of each request, not the first one it derived', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as { SESSION_SECRET: string }).SESSION_SECRET })
    const envA = { SESSION_SECRET: SECRET }
    const envB = { SESSION_SECRET: OLD_SECRET }
    const jarA = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'a' } }, jar: jarA, env: envA })
    const jarB = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'b' } }, jar: jarB, env: envB })
    // Each sealed with its own secret: different kids.
    const kidA = kidOf(tokenFrom(jarA.cookies) ?? '')
    const kidB = kidOf(tokenFrom(jarB.cookies) ?? '')
    expect(kidA).toBeDefined()
    expect(kidB).toBeDefined()
    expect(kidA).not.toBe(kidB)
    // Each opens only under its own secret.
    expect((await readSession(app, { jar: jarA, env: envA })).session?.user.sub).toBe('a')
    expect((await readSession(app, { jar: jarB, env: envB })).session?.user.sub).toBe('b')
    expect((await readSession(app, { cookie: jarA.header, env: envB })).session).toBeNull()
    expect((await readSession(app, { cookie: jarB.header, env: envA })).session).toBeNull()
    expect(errors).toEqual([])
  })
})

describe('store', () => {
  const get: SessionStore['get'] = async () => null
  const set: SessionStore['set'] = async () => {}
  const del: SessionStore['delete'] = async () => {}
  for (const [label, store] of [
    ['without set', { get, delete: del }],
    ['without delete', { get, set }],
    ['with set not a function', { get, set: 'x', delete: del }],
  ] as const) {
    it(`refuses a store ${label} when the app starts`, () => {
      expect(() => edgeSession({ secret: SECRET, store } as unknown as EdgeSessionOptions)).toThrow(SessionConfigError)
      expect(() => edgeSession({ secret: SECRET, store } as unknown as EdgeSessionOptions)).toThrow(
        /store must have get, set and delete/,
      )
    })
  }
})

describe('storeTimeout', () => {
  for (const storeTimeout of [0, -1, 1.5, '5000', Number.NaN]) {
    it(`refuses storeTimeout ${JSON.stringify(storeTimeout) ?? String(storeTimeout)} when the app starts`, () => {
      expect(() => edgeSession({ secret: SECRET, storeTimeout } as unknown as EdgeSessionOptions)).toThrow(
        /storeTimeout must be a whole number/,
      )
    })
  }
})

type RotatingEnv = { S: string; S_OLD?: string }

function configMessage(secret: unknown): string {
  try {
    edgeSession({ secret } as EdgeSessionOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(SessionConfigError)
    return (err as SessionConfigError).message
  }
  throw new Error(`edgeSession({ secret: ${JSON.stringify(secret)} }) did not throw`)
}

describe('secret validation: messages name the entry', () => {
  it('name a lone secret "secret" (a string or a list of one) and an entry of a longer list by its index', () => {
    expect(configMessage('short')).toMatch(/^secret is shorter than 32 bytes\./)
    expect(configMessage(['short'])).toMatch(/^secret is shorter than 32 bytes\./)
    expect(configMessage([SECRET, 'short'])).toMatch(/^secret\[1\] is shorter than 32 bytes\./)
  })
})

describe('secret as a function of the context: the keyring cache', () => {
  afterEach(() => {
    vi.restoreAllMocks()
  })

  it('a cookie sealed under a secret that was removed from the list is refused, though the list kept its first secret', async () => {
    const { app, invalid } = coreApp({ secret: (c) => [(c.env as RotatingEnv).S, (c.env as RotatingEnv).S_OLD] })
    // Signed in while OLD_SECRET was the current one.
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env: { S: OLD_SECRET } })).status).toBe(200)
    const oldCookie = jar.header
    // Rotation: SECRET current, OLD_SECRET still opens.
    const rotating = { S: SECRET, S_OLD: OLD_SECRET }
    expect((await readSession(app, { cookie: oldCookie, env: rotating })).session?.user.sub).toBe('u1')
    // Rotation done: OLD_SECRET removed. The same first secret must not bring back the old list's keys.
    const { session } = await readSession(app, { cookie: oldCookie, env: { S: SECRET } })
    expect(session).toBeNull()
    expect(invalid).toEqual(['undecryptable'])
  })

  it('a key derivation that failed is tried again on the next request', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as RotatingEnv).S })
    const env = { S: SECRET }
    const deriveBits = vi.spyOn(crypto.subtle, 'deriveBits').mockRejectedValueOnce(new Error('derivation failed'))
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, env })).status).toBe(500)
    expect(errors).toHaveLength(1)
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env })).status).toBe(200)
    expect(deriveBits.mock.calls.length).toBeGreaterThan(3)
    expect((await readSession(app, { jar, env })).session?.user.sub).toBe('u1')
    expect(errors).toHaveLength(1)
  })
})
