import type { Context } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type SessionError,
  SessionMissingError,
  SessionTooLargeError,
  createSession,
  edgeSession,
  getSession,
  memoryStore,
  updateSession,
} from '../../../src'
import type { SessionData, SessionInput } from '../../../src'
import {
  type AnySession,
  CookieJar,
  type ErrorBody,
  HOUR,
  type Loose,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  T0,
  apiCall,
  call,
  cleared,
  clearingLines,
  coreApp,
  jarWith,
  login,
  readSession,
  restoreClock,
  setCookieMap,
  tokenFrom,
  useClock,
  written,
  writtenNames,
} from '../../helpers'
import { Hono } from 'hono'

afterEach(restoreClock)

type Anything = SessionInput<Record<string, unknown>>

// Inactivity as long as the absolute lifetime, so a test can jump hours without keep-alive requests.
const LONG_IDLE = { duration: { inactivity: 8 * 60 * 60 } }

async function signedIn(extend?: Parameters<typeof coreApp>[1]) {
  const ctx = coreApp(LONG_IDLE, extend)
  const jar = new CookieJar()
  await call(ctx.app, '/login', { body: { user: { sub: 'u1' }, step: 'PROFILE', keep: 1 }, jar })
  return { ...ctx, jar }
}

describe('updateSession', () => {
  it('object form replaces user and claims', async () => {
    const { app, jar } = await signedIn()
    const res = await call(app, '/replace', { body: { user: { sub: 'u1', name: 'Ada' }, step: 'DONE' }, jar })
    expect(res.status).toBe(200)
    const { session } = await readSession(app, { jar })
    expect(session?.user).toEqual({ sub: 'u1', name: 'Ada' })
    expect(session?.step).toBe('DONE')
    // The whole session was replaced: claims not passed are gone.
    expect(session).not.toHaveProperty('keep')
  })

  it('function form receives the current session and may be async', async () => {
    let seen: unknown
    const { app, jar } = await signedIn((a) =>
      a.post('/fn', async (c) => {
        await updateSession<{ step?: string; keep?: number }>(c, async (s) => {
          seen = structuredClone(s)
          await Promise.resolve()
          return { ...s, step: `${s.step}-NEXT`, keep: (s.keep ?? 0) + 1 }
        })
        return c.json(getSession(c))
      }),
    )
    const res = await call(app, '/fn', { method: 'POST', jar })
    expect(res.status).toBe(200)
    expect(seen).toMatchObject({ user: { sub: 'u1' }, step: 'PROFILE', keep: 1 })
    const { session } = await readSession(app, { jar })
    expect(session).toMatchObject({ step: 'PROFILE-NEXT', keep: 2 })
  })

  it('internal is preserved whatever the caller passes (object form)', async () => {
    const clock = useClock(T0)
    const { app, jar } = await signedIn()
    const before = (await readSession(app, { jar })).session as AnySession
    clock.advance(2 * HOUR)
    const res = await call(app, '/replace', {
      body: {
        user: { sub: 'u1' },
        internal: { sid: 'forged', createdAt: T0 + 2 * HOUR, updatedAt: 0, expiresAt: T0 + 1000 * HOUR },
        lastPath: '/forged',
        lastVisit: 1,
      },
      jar,
    })
    expect(res.status).toBe(200)
    const after = (await readSession(app, { jar })).session as AnySession
    expect(after.internal).toEqual({ ...before.internal, updatedAt: T0 + 2 * HOUR })
    expect(after).not.toHaveProperty('lastPath')
    // The rewritten cookie lives only as long as the absolute lifetime that is left.
    expect(written(res).get('__Host-session')?.attributes['max-age']).toBe(String(6 * 60 * 60))
  })

  it('internal is preserved even when the function mutates the session it was given', async () => {
    const clock = useClock(T0)
    const { app, jar } = await signedIn((a) =>
      a.post('/mutate', async (c) => {
        await updateSession<Loose>(c, (s) => {
          const internal = s.internal as unknown as Record<string, unknown>
          internal.expiresAt = T0 + 1000 * HOUR
          internal.createdAt = Date.now()
          internal.sid = 'forged'
          return s
        })
        return c.json(getSession(c))
      }),
    )
    const before = (await readSession(app, { jar })).session as AnySession
    clock.advance(HOUR)
    const res = await call(app, '/mutate', { method: 'POST', jar })
    // Either refused or ignored; never an extended lifetime.
    const after = (await readSession(app, { jar })).session as AnySession
    expect(after.internal.sid).toBe(before.internal.sid)
    expect(after.internal.createdAt).toBe(T0)
    expect(after.internal.expiresAt).toBe(T0 + 8 * HOUR)
    const line = written(res).get('__Host-session')
    if (line) expect(Number(line.attributes['max-age'])).toBeLessThanOrEqual(7 * 60 * 60)
  })

  it('a handler mutating getSession(c).internal cannot extend the session', async () => {
    useClock(T0)
    const { app, jar } = await signedIn((a) =>
      a.post('/poke', async (c) => {
        const s = getSession(c) as AnySession
        try {
          ;(s.internal as unknown as Record<string, unknown>).expiresAt = T0 + 1000 * HOUR
        } catch {
          // frozen: fine
        }
        await updateSession<Loose>(c, (cur) => ({ ...cur, poked: true }))
        return c.json(getSession(c))
      }),
    )
    await call(app, '/poke', { method: 'POST', jar })
    const after = (await readSession(app, { jar })).session as AnySession
    expect(after.poked).toBe(true)
    expect(after.internal.expiresAt).toBe(T0 + 8 * HOUR)
  })

  it('several calls in one request: visible at once, exactly one Set-Cookie', async () => {
    const steps: unknown[] = []
    const { app, jar } = await signedIn((a) =>
      a.post('/many', async (c) => {
        type N = { n?: number; last?: boolean }
        await updateSession<N>(c, (s) => ({ ...s, n: 1 }))
        steps.push(getSession<N>(c)?.n)
        const cookieAfterFirst = c.req.header('cookie')
        await updateSession<N>(c, (s) => ({ ...s, n: (s.n ?? 0) + 1 }))
        steps.push(getSession<N>(c)?.n)
        await updateSession<N>(c, (s) => ({ ...s, n: (s.n ?? 0) + 1, last: true }))
        steps.push(getSession<N>(c)?.n)
        // Downstream sees the newest cookie value in the request's own header.
        return c.json({ cookieAfterFirst, cookieNow: c.req.header('cookie') })
      }),
    )
    const before = jar.header
    const res = await call(app, '/many', { method: 'POST', jar })
    expect(steps).toEqual([1, 2, 3])
    // One write of the session cookie for three updates (and the clearing of its unused chunk names).
    expect(writtenNames(res)).toEqual(['__Host-session'])
    expect(cleared(res)).toEqual(SESSION_CHUNKS)
    setCookieMap(res)
    const body = (await res.json()) as { cookieAfterFirst: string; cookieNow: string }
    expect(body.cookieAfterFirst).not.toBe(before)
    expect(body.cookieNow).toBe(`__Host-session=${tokenFrom(written(res))}`)
    const { session } = await readSession(app, { jar })
    expect(session).toMatchObject({ n: 3, last: true, step: 'PROFILE' })
  })

  it('throws SessionMissingError when anonymous, and writes nothing', async () => {
    let thrown: unknown
    const { app } = coreApp({}, (a) =>
      a.post('/anon', async (c) => {
        try {
          await updateSession<Loose>(c, { user: { sub: 'x' } })
        } catch (err) {
          thrown = err
        }
        return c.text('ok')
      }),
    )
    const res = await call(app, '/anon', { method: 'POST' })
    expect(thrown).toBeInstanceOf(SessionMissingError)
    expect((thrown as SessionMissingError).code).toBe('ERR_SESSION_MISSING')
    expect(res.headers.getSetCookie()).toEqual([])
    const viaRoute = await call(app, '/update', { body: { a: 1 } })
    expect(viaRoute.status).toBe(422)
    expect(((await viaRoute.json()) as ErrorBody).code).toBe('ERR_SESSION_MISSING')
  })

  class Point {
    constructor(
      readonly x: number,
      readonly y: number,
    ) {}
  }
  const cyclic = (): Record<string, unknown> => {
    const a: Record<string, unknown> = { name: 'loop' }
    a.self = a
    return a
  }
  // Two references back to the top on every level: a naive depth-limited walk is 2^depth.
  const wideCycle = (): Record<string, unknown> => {
    const a: Record<string, unknown> = {}
    a.left = a
    a.right = a
    return a
  }
  const invalid: Array<[string, (s: AnySession) => Anything, string]> = [
    ['a function', (s) => ({ ...s, fn: () => 1 }), 'fn'],
    ['a Date', (s) => ({ ...s, when: new Date(0) }), 'when'],
    ['a Map', (s) => ({ ...s, map: new Map([[1, 2]]) }), 'map'],
    ['a class instance', (s) => ({ ...s, point: new Point(1, 2) }), 'point'],
    ['NaN', (s) => ({ ...s, n: Number.NaN }), 'n'],
    ['Infinity', (s) => ({ ...s, n: Number.POSITIVE_INFINITY }), 'n'],
    ['a BigInt', (s) => ({ ...s, big: BigInt(1) }), 'big'],
    ['a cycle', (s) => ({ ...s, loop: cyclic() }), 'loop'],
    ['a wide cycle', (s) => ({ ...s, loop: wideCycle() }), 'loop'],
    ['a missing user.sub', (s) => ({ ...s, user: { name: 'x' } as never }), 'user'],
    ['an empty user.sub', (s) => ({ ...s, user: { sub: '' } }), 'user'],
    ['a missing user', (s) => ({ ...s, user: undefined as never }), 'user'],
    ['a nested Date in an array', (s) => ({ ...s, list: [1, { at: new Date(0) }] }), 'list'],
    ['an array hole', (s) => ({ ...s, list: [1, undefined, 3] }), 'list'],
  ]

  for (const [label, change, path] of invalid) {
    it(`refuses ${label} with SessionInvalidError and keeps the old session`, async () => {
      let thrown: unknown
      const { app, jar, errors } = await signedIn((a) =>
        a.post('/bad', async (c) => {
          await updateSession<Loose>(c, (s) => ({ ...s, good: 'first' }))
          try {
            await updateSession<Loose>(c, (s) => change(s as AnySession))
          } catch (err) {
            thrown = err
          }
          // The refused change is not visible; the earlier one still is.
          return c.json(getSession(c))
        }),
      )
      const res = await call(app, '/bad', { method: 'POST', jar })
      expect(errors).toEqual([])
      expect(thrown).toMatchObject({ name: 'SessionInvalidError', code: 'ERR_SESSION_INVALID' })
      const issues = (thrown as { issues: Array<{ path?: PropertyKey[] }> }).issues
      expect(issues.length).toBeGreaterThan(0)
      expect(issues.some((i) => i.path?.[0] === path)).toBe(true)
      const body = (await res.json()) as AnySession
      expect(body).toMatchObject({ user: { sub: 'u1' }, step: 'PROFILE', good: 'first' })

      // A refused update alone leaves the cookie untouched.
      const refusedAlone = await call(app, '/update', { body: { user: { name: 'no sub' } }, cookie: jar.header })
      expect(refusedAlone.status).toBe(422)
      expect(refusedAlone.headers.getSetCookie()).toEqual([])
      const { session } = await readSession(app, { jar })
      expect(session).toMatchObject({ user: { sub: 'u1' }, step: 'PROFILE', good: 'first' })
    })
  }

  it('refuses a "__proto__" key (JSON.parse makes it an own key; copying it would set a prototype)', async () => {
    const { app, jar } = await signedIn()
    const res = await app.request('/replace', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/json' },
      body: '{"user":{"sub":"u1"},"__proto__":{"role":"admin"}}',
    })
    expect(res.status).toBe(422)
    const body = (await res.json()) as ErrorBody
    expect(body.code).toBe('ERR_SESSION_INVALID')
    expect(body.issues?.some((i) => i.path?.[0] === '__proto__')).toBe(true)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('after the response is committed, updateSession throws SessionCommittedError', async () => {
    let saved: Context | undefined
    const { app, jar } = await signedIn((a) =>
      a.get('/late', (c) => {
        saved = c
        return c.text('ok')
      }),
    )
    await call(app, '/late', { jar })
    await expect(updateSession<Loose>(saved as Context, (s) => ({ ...s, late: true }))).rejects.toMatchObject({
      name: 'SessionCommittedError',
      code: 'ERR_SESSION_COMMITTED',
    })
  })
})

describe('updateSession: a session ended elsewhere (store)', () => {
  it('when the record is gone by the time of the update: SessionMissingError, no session, cookies cleared', async () => {
    useClock(T0)
    const store = memoryStore()
    const { app, jar } = await login({ store }, (a) =>
      a.post('/ended-then-update', async (c) => {
        // Another tab's sign-out lands between this request's load and its update.
        await store.delete((getSession<Loose>(c) as AnySession).internal.sid)
        try {
          await updateSession<Loose>(c, (s) => ({ ...s, step: 2 }))
        } catch (err) {
          return c.json({ code: (err as SessionError).code, session: getSession(c) }, 422)
        }
        return c.json({ code: null, session: getSession(c) })
      }),
    )
    const res = await call(app, '/ended-then-update', { method: 'POST', cookie: jar.header })
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_MISSING', session: null })
    expect(cleared(res)).toContain(SESSION)
  })
})

describe('updateSession: no change, no write', () => {
  it('the same user and claims: no Set-Cookie and updatedAt kept; a real change still writes', async () => {
    const seen: Array<SessionData<Loose>> = []
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/set/:step', async (c) => {
      const step = c.req.param('step')
      seen.push(await updateSession<Loose>(c, (s) => ({ ...s, onboardingStep: step })))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })

    const same = await app.request('/set/COMPLETED', { method: 'POST', headers: apiCall(jar.header) })
    expect(same.status).toBe(200)
    expect(same.headers.getSetCookie()).toEqual([])
    // No write; still private, no-store, as every signed-in response (cacheControl).
    expect(same.headers.get('cache-control')).toBe('private, no-store')
    expect(seen[0]?.onboardingStep).toBe('COMPLETED')
    // Minted with updatedAt = createdAt; nothing changed, so it was not moved.
    expect(seen[0]?.internal.updatedAt).toBe(seen[0]?.internal.createdAt)

    const changed = await app.request('/set/PROFILE', { method: 'POST', headers: apiCall(jar.header) })
    expect(changed.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-session=[^;]+; Max-Age=\d+;/),
      ...clearingLines(SESSION_CHUNKS),
    ])
    expect(seen[1]?.onboardingStep).toBe('PROFILE')
  })
})

describe('updateSession: no change, no write, whatever the member order', () => {
  it('the same claims rebuilt in another order write nothing; a nested change writes', async () => {
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/reorder', async (c) => {
      await updateSession<Loose>(c, (s) => Object.fromEntries(Object.entries(s).reverse()) as typeof s)
      return c.json({})
    })
    app.post('/nested', async (c) => {
      await updateSession<Loose>(c, (s) => ({ ...s, user: { ...s.user, name: 'Ada' } }))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const same = await app.request('/reorder', { method: 'POST', headers: apiCall(jar.header) })
    expect(same.headers.getSetCookie()).toEqual([])
    const nested = await app.request('/nested', { method: 'POST', headers: apiCall(jar.header) })
    expect(nested.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^__Host-session=[^;]+; Max-Age=\d+;/),
      ...clearingLines(SESSION_CHUNKS),
    ])
  })
})

describe('updateSession: a refused update leaves the request on the previous session', () => {
  it('an update function that mutates nested values, then exceeds maxBytes', async () => {
    let after: unknown
    let error: unknown
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, maxBytes: 1024 }))
    app.post('/grow', async (c) => {
      try {
        await updateSession<Loose>(c, (s) => {
          ;(s.user as Loose).name = 'x'.repeat(4000)
          return s
        })
      } catch (e) {
        error = e
      }
      after = structuredClone(getSession(c))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/grow', { method: 'POST', headers: apiCall(jar.header) })
    expect(error).toBeInstanceOf(SessionTooLargeError)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(after).toMatchObject({ user: { sub: 'user-1' }, onboardingStep: 'PROFILE' })
    expect((after as { user: Loose }).user).not.toHaveProperty('name')
  })
})

describe('updateSession: what the update function returns, with and without a store', () => {
  /** An app whose `/fn/:kind` route updates the session with an update function of that kind. */
  function kindsApp(store: boolean) {
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, ...(store ? { store: memoryStore() } : {}) }))
    app.post('/login', async (c) => {
      await createSession<Loose>(c, { user: { sub: 'u1' }, plan: 'free' })
      return c.json({})
    })
    app.post('/fn/:kind', async (c) => {
      const kind = c.req.param('kind')
      const extra = { note: 'as returned' }
      const updating = updateSession<Loose>(c, (s) => {
        if (kind === 'throw') throw new Error('refused by the app')
        if (kind === 'reject') return Promise.reject(new Error('refused by the app, later'))
        // A thenable that is not a Promise is awaited as `await` would.
        if (kind === 'thenable')
          // biome-ignore lint/suspicious/noThenProperty: a thenable on purpose, to check it is awaited
          return { then: (resolve: (v: unknown) => void) => resolve({ ...s, plan: 'team' }) } as never
        // Reading `then` runs the app's getter: its error is the app's, not the store's.
        if (kind === 'then-getter')
          return Object.defineProperty({ ...s }, 'then', {
            get() {
              throw new Error('refused by the app, in a getter')
            },
          }) as never
        return { ...s, plan: 'pro', extra }
      })
      // Without a store the function runs at once and its result is copied then: the app changing
      // what it returned after the call changes nothing. (With a store it runs once the record is read.)
      if (!store) extra.note = 'changed after the call'
      try {
        await updating
      } catch (error) {
        return c.json({ error: (error as Error).message }, 400)
      }
      const { plan, extra: seen } = getSession(c) as AnySession
      return c.json({ plan, ...(seen ? { extra: seen } : {}) })
    })
    return app
  }

  for (const store of [false, true]) {
    it(`${store ? 'store' : 'cookie'}: a plain result is copied at once, a promise or thenable awaited, the app's own errors come back as thrown`, async () => {
      const app = kindsApp(store)
      const jar = new CookieJar()
      jar.apply(await app.request('/login', { method: 'POST' }))
      const run = async (kind: string) => {
        const res = await app.request(`/fn/${kind}`, { method: 'POST', headers: apiCall(jar.header) })
        jar.apply(res)
        return { status: res.status, body: await res.json() }
      }
      expect(await run('plain')).toEqual({ status: 200, body: { plan: 'pro', extra: { note: 'as returned' } } })
      expect(await run('thenable')).toEqual({ status: 200, body: { plan: 'team', extra: { note: 'as returned' } } })
      expect(await run('throw')).toEqual({ status: 400, body: { error: 'refused by the app' } })
      expect(await run('reject')).toEqual({ status: 400, body: { error: 'refused by the app, later' } })
      expect(await run('then-getter')).toEqual({ status: 400, body: { error: 'refused by the app, in a getter' } })
    })
  }
})
