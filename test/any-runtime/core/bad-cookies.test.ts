/**
 * A bad cookie is "no session": cleared, never a 500, never a console line, reported to onInvalid.
 */
import type { Context } from 'hono'
import { base64url } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { InvalidReason } from '../../../src'
import {
  ACTIVITY,
  type ConsoleSpies,
  CookieJar,
  HOUR,
  MINUTE,
  OLD_SECRET,
  SESSION,
  SESSION_CHUNKS,
  T0,
  call,
  cleared,
  coreApp,
  login,
  readSession,
  restoreClock,
  setCookieMap,
  spyConsole,
  useClock,
} from '../../helpers'

let consoleSpies: ConsoleSpies
beforeEach(() => {
  consoleSpies = spyConsole()
})
afterEach(() => {
  restoreClock()
  consoleSpies.restore()
})

/** A valid session cookie (and the activity cookie written 2 minutes later), under SECRET. */
async function validCookies(options: Parameters<typeof coreApp>[0] = {}) {
  const clock = useClock(T0)
  const { app } = coreApp(options)
  const jar = new CookieJar()
  await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
  clock.set(T0 + 2 * MINUTE)
  await readSession(app, { jar })
  const main = jar.cookies.get(SESSION) as string
  const activity = jar.cookies.get(ACTIVITY) as string
  expect(main).toBeDefined()
  expect(activity).toBeDefined()
  return { main, activity, clock }
}

/** Replaces one base64url character in the middle of segment `segment` with one of different high bits. */
function flip(token: string, segment: number): string {
  const parts = token.split('.')
  const s = parts[segment] as string
  const i = s.length >> 1
  parts[segment] = s.slice(0, i) + (s[i] === 'A' ? 'Q' : 'A') + s.slice(i + 1)
  return parts.join('.')
}

function withHeader(token: string, header: Record<string, unknown>): string {
  const parts = token.split('.')
  parts[0] = base64url.encode(JSON.stringify(header))
  return parts.join('.')
}

type Case = [
  label: string,
  cookie: (v: Awaited<ReturnType<typeof validCookies>>) => string | Promise<string>,
  reason: InvalidReason,
]

const cases: Case[] = [
  ['a tampered ciphertext byte', ({ main }) => `${SESSION}=${flip(main, 3)}`, 'undecryptable'],
  ['a tampered tag byte', ({ main }) => `${SESSION}=${flip(main, 4)}`, 'undecryptable'],
  ['a tampered IV byte', ({ main }) => `${SESSION}=${flip(main, 2)}`, 'undecryptable'],
  ['a tampered protected header (kid)', ({ main }) => `${SESSION}=${flip(main, 0)}`, 'undecryptable'],
  ['a truncated token', ({ main }) => `${SESSION}=${main.slice(0, -5)}`, 'undecryptable'],
  ['a token cut in half', ({ main }) => `${SESSION}=${main.slice(0, main.length >> 1)}`, 'undecryptable'],
  ['base64url garbage', () => `${SESSION}=${'QUFB'.repeat(40)}`, 'undecryptable'],
  ['five empty segments', () => `${SESSION}=....`, 'undecryptable'],
  ['garbage with characters no token has', () => `${SESSION}=%7B%22a%22%3A1%7D`, 'malformed'],
  [
    'a swapped enc (A128GCM) in the header',
    ({ main }) => `${SESSION}=${withHeader(main, { alg: 'dir', enc: 'A128GCM' })}`,
    'undecryptable',
  ],
  ['alg none', ({ main }) => `${SESSION}=${withHeader(main, { alg: 'none', enc: 'A256GCM' })}`, 'undecryptable'],
  [
    'a zip header',
    ({ main }) => `${SESSION}=${withHeader(main, { alg: 'dir', enc: 'A256GCM', zip: 'DEF' })}`,
    'undecryptable',
  ],
  [
    'a PBES2 header with a huge p2c',
    ({ main }) =>
      `${SESSION}=${withHeader(main, { alg: 'PBES2-HS256+A128KW', enc: 'A256GCM', p2s: 'AAAAAAAAAAAAAAAAAAAAAA', p2c: 1e9 })}`,
    'undecryptable',
  ],
  [
    'a token under a secret that is not configured (wrong key)',
    async () => {
      const { app } = coreApp({ secret: OLD_SECRET })
      const res = await call(app, '/login', { body: { user: { sub: 'u1' } } })
      return res.headers.getSetCookie()[0]?.split(';')[0] as string
    },
    'undecryptable',
  ],
  [
    'a token made for another cookie name with the same secret',
    async () => {
      const { app } = coreApp({ cookie: { name: 'other' } })
      const res = await call(app, '/login', { body: { user: { sub: 'u1' } } })
      const line = res.headers.getSetCookie()[0] as string
      expect(line.startsWith('__Host-other=')).toBe(true)
      return `${SESSION}=${line.slice('__Host-other='.length, line.indexOf(';'))}`
    },
    'undecryptable',
  ],
  ['a token sealed for the activity purpose', ({ activity }) => `${SESSION}=${activity}`, 'undecryptable'],
  ['two session cookies with the same name', ({ main }) => `${SESSION}=${main}; ${SESSION}=${main}`, 'duplicate'],
]

describe('bad session cookies', () => {
  for (const [label, make, reason] of cases) {
    it(`${label}: no session, cleared, no 500, no log, onInvalid("${reason}")`, async () => {
      const valid = await validCookies()
      const cookie = await make(valid)
      const seen: Array<{ reason: InvalidReason; path: string; error: unknown }> = []
      const { app, errors } = coreApp({
        onInvalid: (r: InvalidReason, c: Context, error?: unknown) => {
          seen.push({ reason: r, path: c.req.path, error })
        },
      })
      const { res, session } = await readSession(app, { cookie })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
      expect(cleared(res)).toEqual([SESSION, ...SESSION_CHUNKS])
      expect(res.headers.get('cache-control')).toBe('private, no-store')
      expect(((await res.json()) as { cookie: string | null }).cookie).toBeNull()
      expect(seen.map((s) => s.reason)).toEqual([reason])
      expect(seen[0]?.path).toBe('/session')
      expect(errors).toEqual([])
      consoleSpies.expectSilent()
    })
  }

  it('an onInvalid hook that throws cannot turn a bad cookie into a 500', async () => {
    const valid = await validCookies()
    let calls = 0
    const { app } = coreApp({
      onInvalid: () => {
        calls++
        throw new Error('hook bug')
      },
    })
    for (const [, make] of cases) {
      const { res, session } = await readSession(app, { cookie: await make(valid) })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
    }
    expect(calls).toBe(cases.length)
    consoleSpies.expectSilent()
  })

  it('without an onInvalid hook, nothing is logged either', async () => {
    const valid = await validCookies()
    const { app } = coreApp({ onInvalid: undefined })
    for (const [, make] of cases) {
      const { res, session } = await readSession(app, { cookie: await make(valid) })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
    }
    consoleSpies.expectSilent()
  })

  it('an expired token (past the absolute end) is "expired" and cleared with the activity cookie', async () => {
    const valid = await validCookies({ duration: { absolute: HOUR / 1000, inactivity: HOUR / 1000 } })
    valid.clock.set(T0 + HOUR + 1000)
    const ctx = coreApp()
    const { res, session } = await readSession(ctx.app, {
      cookie: `${SESSION}=${valid.main}; ${ACTIVITY}=${valid.activity}`,
    })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([SESSION, ACTIVITY, ...SESSION_CHUNKS])
    expect(ctx.invalid).toEqual(['expired'])
    consoleSpies.expectSilent()
  })

  it('an empty cookie of ours (what a deletion leaves in a client that sends it back) counts as absent', async () => {
    const valid = await validCookies()
    const ctx = coreApp()
    const alone = await readSession(ctx.app, { cookie: `${SESSION}=; ${ACTIVITY}=; ${SESSION}.0=""` })
    expect(alone.session).toBeNull()
    expect(alone.res.headers.getSetCookie()).toEqual([])
    // Beside a valid cookie, empty chunk names change nothing: the session reads as sent.
    const beside = await readSession(ctx.app, {
      cookie: `${SESSION}=${valid.main}; ${ACTIVITY}=${valid.activity}; ${SESSION}.0=; ${SESSION}.1=; ${SESSION}.2=`,
    })
    expect(beside.session?.user.sub).toBe('u1')
    expect(beside.res.headers.getSetCookie()).toEqual([])
    expect(ctx.invalid).toEqual([])
  })

  it('a client that sends back every Set-Cookie pair of a sign-in, deletions included, stays signed in', async () => {
    const ctx = coreApp()
    const login = await call(ctx.app, '/login', { body: { user: { sub: 'u1' } } })
    const naive = login.headers
      .getSetCookie()
      .map((line) => line.slice(0, line.indexOf(';')))
      .join('; ')
    expect(naive).toContain(`${SESSION}.0=;`)
    expect((await readSession(ctx.app, { cookie: naive })).session?.user.sub).toBe('u1')
    expect(ctx.invalid).toEqual([])
  })

  it('a leftover activity cookie without a session is cleared', async () => {
    const valid = await validCookies()
    const ctx = coreApp()
    const { res, session } = await readSession(ctx.app, { cookie: `${ACTIVITY}=${valid.activity}` })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([ACTIVITY])
  })

  it('a bad activity cookie beside a good session is cleared; the session lives on', async () => {
    const valid = await validCookies()
    const ctx = coreApp()
    const bad = flip(valid.activity, 3)
    const { res, session } = await readSession(ctx.app, { cookie: `${SESSION}=${valid.main}; ${ACTIVITY}=${bad}` })
    expect(session?.user.sub).toBe('u1')
    // Replaced: cleared, or (here, 2 minutes after sign-in) re-written with a fresh activity token.
    const line = setCookieMap(res).get(ACTIVITY)
    expect(line).toBeDefined()
    expect(line?.value).not.toBe(bad)
    expect(setCookieMap(res).has(SESSION)).toBe(false)
    consoleSpies.expectSilent()
  })

  it('the hook gets the underlying error for an undecryptable token', async () => {
    const valid = await validCookies()
    let error: unknown
    const { app } = coreApp({ onInvalid: (_r: InvalidReason, _c: Context, e?: unknown) => void (error = e) })
    await readSession(app, { cookie: `${SESSION}=${flip(valid.main, 3)}` })
    expect(error).toBeInstanceOf(Error)
  })

  it('a cookie with the session cookie name of another app (same secret, cookie.secure: false) is ignored', async () => {
    const { app: plain } = coreApp({ cookie: { secure: false } })
    const res = await call(plain, '/login', { body: { user: { sub: 'u1' } } })
    const cookie = (res.headers.getSetCookie()[0] as string).split(';')[0] as string
    expect(cookie.startsWith('session=')).toBe(true)
    const ctx = coreApp()
    const read = await readSession(ctx.app, { cookie })
    expect(read.session).toBeNull()
    expect(read.res.headers.getSetCookie()).toEqual([])
  })
})

describe('the quoted form of a valid cookie is accepted', () => {
  it('"token" (RFC 6265 quoted value)', async () => {
    const valid = await validCookies()
    const { app } = coreApp()
    expect((await readSession(app, { cookie: `${SESSION}="${valid.main}"` })).session?.user.sub).toBe('u1')
  })
})

describe('bad activity cookies: refused beside a good session', () => {
  afterEach(restoreClock)

  it('is hidden from the handler at once (merged Cookie header), and cleared', async () => {
    useClock(T0)
    const { app, jar } = await login()
    const res = await call(app, '/session', { cookie: `${jar.header}; ${ACTIVITY}=not-a-token` })
    const body = (await res.json()) as { session: { user: { sub: string } } | null; cookie: string | null }
    expect(body.session?.user.sub).toBe('u1')
    expect(body.cookie).toBe(jar.header)
    expect(cleared(res)).toEqual([ACTIVITY])
  })

  it('is refused and cleared when the session cookie is new to the isolate too (both opened, one wait)', async () => {
    useClock(T0)
    const { jar } = await login()
    // Another app instance has other keys, so its token cache has seen neither cookie: both are decrypted.
    const fresh = coreApp()
    const res = await call(fresh.app, '/session', { cookie: `${jar.header}; ${ACTIVITY}=not-a-token` })
    const body = (await res.json()) as { session: { user: { sub: string } } | null }
    expect(body.session?.user.sub).toBe('u1')
    expect(cleared(res)).toEqual([ACTIVITY])
  })
})

/** A valid session cookie and two activity cookies of it, written 2 and 4 minutes after sign-in. */
async function cookiesWithTwoActivities() {
  const clock = useClock(T0)
  const { app } = coreApp({ activity: { touchInterval: 60 } })
  const jar = new CookieJar()
  await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
  clock.set(T0 + 2 * MINUTE)
  await readSession(app, { jar })
  const first = jar.cookies.get(ACTIVITY) as string
  clock.set(T0 + 4 * MINUTE)
  await readSession(app, { jar })
  const second = jar.cookies.get(ACTIVITY) as string
  expect(first).toBeDefined()
  expect(second).toBeDefined()
  expect(second).not.toBe(first)
  return { main: jar.cookies.get(SESSION) as string, first, second }
}

describe('bad activity cookies: duplicated', () => {
  afterEach(() => restoreClock())

  it('two activity cookies with the same name: no session, cleared, onInvalid("duplicate")', async () => {
    const { main, first, second } = await cookiesWithTwoActivities()
    const seen: InvalidReason[] = []
    const { app, errors } = coreApp({ onInvalid: (r: InvalidReason, _c: Context) => void seen.push(r) })
    for (const cookie of [
      `${SESSION}=${main}; ${ACTIVITY}=${first}; ${ACTIVITY}=${second}`,
      `${ACTIVITY}=${second}; ${SESSION}=${main}; ${ACTIVITY}=${first}`,
    ]) {
      const { res, session } = await readSession(app, { cookie })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
      expect(cleared(res)).toEqual([SESSION, ACTIVITY, ...SESSION_CHUNKS])
    }
    expect(seen).toEqual(['duplicate', 'duplicate'])
    expect(errors).toEqual([])
    // Control: one of them alone is a session.
    expect((await readSession(app, { cookie: `${SESSION}=${main}; ${ACTIVITY}=${second}` })).session?.user.sub).toBe(
      'u1',
    )
  })
})
