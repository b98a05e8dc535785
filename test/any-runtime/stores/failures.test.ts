/**
 * A store that fails or hangs: reads fail closed ("no session", a clean response) but keep the
 * cookies for when the store answers again; writes throw SessionStoreError and leave the
 * previous data in place.
 */
import { describe, expect, it, vi } from 'vitest'
import { Hono } from 'hono'
import {
  type SessionStore,
  SessionStoreError,
  createSession,
  destroySession,
  edgeSession,
  getSession,
  isSessionUnreadable,
  memoryStore,
  updateSession,
} from '../../../src'
import {
  type AnySession,
  CookieJar,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  clearingLines,
  jarWith,
  storeApp,
  uniqueSub,
} from '../../helpers'

type Mode = 'ok' | 'throw' | 'throw-sync' | 'hang'

/** A memory store whose methods can be switched to throwing or never answering. */
function faultyStore() {
  const inner = memoryStore()
  const modes: Record<'get' | 'set' | 'update' | 'delete', Mode> = { get: 'ok', set: 'ok', update: 'ok', delete: 'ok' }
  const calls: Record<keyof typeof modes, number> = { get: 0, set: 0, update: 0, delete: 0 }
  const run = <T>(method: keyof typeof modes, call: () => Promise<T>): Promise<T> => {
    calls[method]++
    if (modes[method] === 'throw') return Promise.reject(new Error(`${method} failed`))
    // A store that throws instead of returning a rejected promise.
    if (modes[method] === 'throw-sync') throw new Error(`${method} failed at once`)
    if (modes[method] === 'hang') return new Promise<T>(() => {})
    return call()
  }
  const store: SessionStore = {
    get: (sid) => run('get', () => inner.get(sid)),
    set: (sid, data, options) => run('set', () => inner.set(sid, data, options)),
    update: (sid, change, options) => run('update', () => inner.update(sid, change, options)),
    delete: (sid) => run('delete', () => inner.delete(sid)),
  }
  return { store, inner, modes, calls }
}

function setup() {
  const faulty = faultyStore()
  const { app, invalid } = storeApp(faulty.store, { storeTimeout: 20 })
  app.post('/logout-caught', async (c) => {
    try {
      await destroySession(c)
      return c.json({ ok: true })
    } catch (error) {
      return c.json({ code: (error as { code?: string }).code }, 409)
    }
  })
  app.post('/logout-written', async (c) => {
    try {
      await destroySession(c)
      return c.json({ ok: true })
    } catch (error) {
      return c.json({ code: (error as { code?: string }).code, written: (error as { written?: unknown }).written }, 409)
    }
  })
  app.get('/unreadable', (c) => c.json({ unreadable: isSessionUnreadable(c), signedIn: getSession(c) !== null }))
  const request = (path: string, jar: CookieJar, body?: unknown) =>
    app.request(
      path,
      body === undefined
        ? { headers: { cookie: jar.header } }
        : { method: 'POST', headers: { cookie: jar.header }, body: JSON.stringify(body) },
    )
  const readSession = async (jar: CookieJar) =>
    ((await (await request('/session', jar)).json()) as { session: AnySession | null }).session
  /** Signs `sub` in through the app into `jar`; the new record's id and the sign-in response. */
  const signIn = async (jar: CookieJar, sub: string) => {
    const response = await request('/login', jar, { sub })
    const sid = ((await response.json()) as { session: AnySession }).session.internal.sid
    jar.apply(response)
    return { sid, response }
  }
  return { ...faulty, app, invalid, request, readSession, signIn }
}

describe('an eventually consistent store (settleMs)', () => {
  /** A memory store whose reads can be made to miss, as a location the sign-in has not reached yet. */
  function laggingStore() {
    const inner = memoryStore()
    const state = { lagging: false, settleMs: 10 ** 9 }
    const store: SessionStore = {
      get: (sid) => (state.lagging ? Promise.resolve(null) : inner.get(sid)),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: (sid) => inner.delete(sid),
      get settleMs() {
        return state.settleMs
      },
    }
    return { store, state }
  }

  it('a fresh cookie whose record is not found yet: no session, reported as store-pending, the cookie kept; found later, the session is back', async () => {
    const { store, state } = laggingStore()
    const { app, invalid } = storeApp(store)
    const jar = new CookieJar()
    const login = await app.request('/login', { method: 'POST', body: JSON.stringify({ sub: uniqueSub('lag') }) })
    jar.apply(login)
    const cookies = jar.header
    state.lagging = true
    const res = await app.request('/session', { headers: { cookie: jar.header } })
    expect(await res.json()).toEqual({ session: null })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(invalid).toEqual(['store-pending'])
    jar.apply(res)
    expect(jar.header).toBe(cookies)
    // The record may well exist: an update is a store failure, not "nobody is signed in".
    const update = await app.request('/update', { method: 'POST', headers: { cookie: jar.header }, body: '{}' })
    expect(await update.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    expect(invalid).toEqual(['store-pending', 'store-pending'])
    state.lagging = false
    const back = await app.request('/session', { headers: { cookie: jar.header } })
    expect(((await back.json()) as { session: AnySession | null }).session?.user.sub).toMatch(/^lag-/)
  })

  it('past settleMs a missing record means the session ended: refused as revoked and cleared', async () => {
    const { store, state } = laggingStore()
    const { app, invalid } = storeApp(store)
    const jar = new CookieJar()
    jar.apply(await app.request('/login', { method: 'POST', body: JSON.stringify({ sub: uniqueSub('lag') }) }))
    state.lagging = true
    // iat is in whole seconds, so any cookie is at least 0 ms old; wait past 1 ms.
    state.settleMs = 1
    await new Promise((resolve) => setTimeout(resolve, 5))
    const res = await app.request('/session', { headers: { cookie: jar.header } })
    expect(await res.json()).toEqual({ session: null })
    expect(invalid).toEqual(['revoked'])
    expect(res.headers.getSetCookie()).toEqual(clearingLines(['__Host-session', ...SESSION_CHUNKS]))
  })
})

describe('a store that hands records back in another member order', () => {
  /** Every object's members in reverse order, as a database that stores JSON its own way returns them. */
  const reordered = <T>(value: T): T =>
    value === null || typeof value !== 'object'
      ? value
      : Array.isArray(value)
        ? (value.map(reordered) as T)
        : (Object.fromEntries(
            Object.entries(value)
              .reverse()
              .map(([key, member]) => [key, reordered(member)]),
          ) as T)

  it('a sign-in whose write landed but failed to answer: found by settle, signed in, no error', async () => {
    const inner = memoryStore()
    const store: SessionStore = {
      get: async (sid) => reordered(await inner.get(sid)),
      set: async (sid, data, options) => {
        await inner.set(sid, data, options)
        throw new Error('the answer was lost')
      },
      delete: (sid, options) => inner.delete(sid, options),
      settle: async (sid, writeId) => reordered(await inner.settle(sid, writeId)),
    }
    const { app } = storeApp(store)
    const sub = uniqueSub('order')
    const res = await app.request('/login', {
      method: 'POST',
      body: JSON.stringify({ sub, claims: { plan: 'pro', prefs: { theme: 'dark', lang: 'en' } } }),
    })
    expect(res.status).toBe(200)
    const { session } = (await res.json()) as { session: AnySession }
    expect(session.user.sub).toBe(sub)
    expect(await inner.get(session.internal.sid)).not.toBeNull()
  })
})

describe('storeTimeout', () => {
  it('a read that never answers is given up after 5 000 ms by default', async () => {
    const inner = memoryStore()
    let hang = false
    const store: SessionStore = {
      get: (sid) => (hang ? new Promise(() => {}) : inner.get(sid)),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: (sid) => inner.delete(sid),
    }
    const invalid: string[] = []
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store, onInvalid: (reason) => void invalid.push(reason) }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: uniqueSub('timeout') } })
      return c.body(null, 204)
    })
    app.get('/session', (c) => c.json({ session: getSession(c) }))
    const jar = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
    hang = true
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      let answered = false
      const pending = Promise.resolve(app.request('/session', { headers: { cookie: jar.header } })).then((res) => {
        answered = true
        return res
      })
      await vi.advanceTimersByTimeAsync(4_999)
      expect(answered).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      const res = await pending
      expect(await res.json()).toEqual({ session: null })
      expect(invalid).toEqual(['store-failed'])
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('storeTimeout is one budget per request', () => {
  it('after a read that used the whole budget, a sign-out fails at once without calling the store again', async () => {
    const { modes, calls, inner, request, signIn } = setup()
    const jar = new CookieJar()
    const { sid } = await signIn(jar, uniqueSub('budget'))
    modes.get = 'hang'
    const res = await request('/logout-caught', jar, {})
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    expect(calls.delete).toBe(0)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await inner.get(sid)).not.toBeNull()
  })

  it('a store call gets only what the earlier calls of the request left', async () => {
    const inner = memoryStore()
    const slow = { get: false }
    const store: SessionStore = {
      // 3 000 ms of the 5 000 ms default, then a delete that never answers.
      get: (sid) =>
        slow.get ? new Promise((resolve) => setTimeout(() => resolve(inner.get(sid)), 3_000)) : inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: () => new Promise(() => {}),
    }
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: uniqueSub('remainder') } })
      return c.body(null, 204)
    })
    app.post('/logout', async (c) => {
      try {
        await destroySession(c)
        return c.body(null, 204)
      } catch (error) {
        return c.json({ code: (error as { code?: string }).code }, 503)
      }
    })
    const jar = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
    slow.get = true
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      let answered = false
      const pending = Promise.resolve(app.request('/logout', { method: 'POST', headers: { cookie: jar.header } })).then(
        (res) => {
          answered = true
          return res
        },
      )
      await vi.advanceTimersByTimeAsync(3_000)
      await vi.advanceTimersByTimeAsync(1_999)
      expect(answered).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      // Asserted before awaiting: a call given the whole budget again would hang the test instead.
      expect(answered).toBe(true)
      const res = await pending
      expect(res.status).toBe(503)
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('storeTimeout with a store that settles failed writes', () => {
  /**
   * A memory store whose read takes 3 000 of the 5 000 ms default and whose delete never answers;
   * `settle` answers at once, or never when `hangSettle`.
   */
  function settlingApp(hangSettle: boolean) {
    const inner = memoryStore()
    const slow = { get: false }
    const seen = { deleteAborted: false, settleCalls: 0, settledAfterAbort: false }
    const store: SessionStore = {
      get: (sid) =>
        slow.get ? new Promise((resolve) => setTimeout(() => resolve(inner.get(sid)), 3_000)) : inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: (_sid, options) =>
        new Promise(() => {
          options?.signal?.addEventListener('abort', () => {
            seen.deleteAborted = true
          })
        }),
      settle: (sid, writeId) => {
        seen.settleCalls++
        seen.settledAfterAbort = seen.deleteAborted
        return hangSettle ? new Promise(() => {}) : inner.settle(sid, writeId)
      },
    }
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: uniqueSub('reserve') } })
      return c.json({ sid: getSession(c)?.internal.sid })
    })
    app.post('/logout', async (c) => {
      try {
        await destroySession(c)
        return c.body(null, 204)
      } catch (error) {
        return c.json(
          { code: (error as { code?: string }).code, written: (error as { written?: unknown }).written },
          503,
        )
      }
    })
    return { app, inner, slow, seen }
  }

  /** Sends a sign-out under fake timers; `answeredAt(ms)` advances the clock and says whether it was answered by then. */
  async function signOutTimed(app: Hono, cookie: string) {
    let answered = false
    const pending = Promise.resolve(app.request('/logout', { method: 'POST', headers: { cookie } })).then((res) => {
      answered = true
      return res
    })
    let clock = 0
    const answeredAt = async (ms: number) => {
      await vi.advanceTimersByTimeAsync(ms - clock)
      clock = ms
      return answered
    }
    return { pending, answeredAt }
  }

  it('a write gets what is left minus a fifth of storeTimeout, and the settle that follows runs in that fifth', async () => {
    const { app, inner, slow, seen } = settlingApp(false)
    const login = await app.request('/login', { method: 'POST' })
    const { sid } = (await login.json()) as { sid: string }
    const jar = new CookieJar().apply(login)
    slow.get = true
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const { pending, answeredAt } = await signOutTimed(app, jar.header)
      // Read: 3 000 ms; delete: the 2 000 left minus the 1 000 reserve; settle: at once.
      expect(await answeredAt(3_999)).toBe(false)
      expect(seen.settleCalls).toBe(0)
      expect(await answeredAt(4_000)).toBe(true)
      const res = await pending
      expect(res.status).toBe(503)
      // The settle reached the store and found the record: the delete did not land and never will.
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE', written: false })
      expect(seen.settleCalls).toBe(1)
      // The delete was given up (aborted) before it was settled: the settle ran in what the write left.
      expect(seen.settledAfterAbort).toBe(true)
      expect(await inner.get(sid)).not.toBeNull()
    } finally {
      vi.useRealTimers()
    }
  })

  it('a write and its settle that both hang hold the request one storeTimeout in all', async () => {
    const { app, slow, seen } = settlingApp(true)
    const jar = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
    slow.get = true
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    try {
      const { pending, answeredAt } = await signOutTimed(app, jar.header)
      expect(await answeredAt(4_999)).toBe(false)
      expect(seen.settleCalls).toBe(1)
      expect(seen.settledAfterAbort).toBe(true)
      // Asserted before awaiting: a settle given a whole storeTimeout of its own would hang the test instead.
      expect(await answeredAt(5_000)).toBe(true)
      const res = await pending
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE', written: 'unknown' })
    } finally {
      vi.useRealTimers()
    }
  })

  it('a write the request has no store time left for never reaches the store, and says nothing was written', async () => {
    const { modes, calls, inner, request, signIn } = setup()
    const jar = new CookieJar()
    const { sid } = await signIn(jar, uniqueSub('spent'))
    modes.get = 'hang'
    const res = await request('/logout-written', jar, {})
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE', written: false })
    expect(calls.delete).toBe(0)
    expect(await inner.get(sid)).not.toBeNull()
  })
})

describe('store failures', () => {
  for (const mode of ['throw', 'throw-sync', 'hang'] as const) {
    it(`a read that fails (${mode}) means no session for that request, reported as store-failed; the cookie stays and works once the store answers`, async () => {
      const { modes, invalid, request, readSession, signIn } = setup()
      const jar = new CookieJar()
      const { sid } = await signIn(jar, uniqueSub('read'))
      const cookies = jar.header
      modes.get = mode
      const res = await request('/session', jar)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ session: null })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(res.headers.get('cache-control')).toBeNull()
      expect(invalid).toEqual(['store-failed'])
      jar.apply(res)
      expect(jar.header).toBe(cookies)
      modes.get = 'ok'
      expect((await readSession(jar))?.internal.sid).toBe(sid)
      expect(invalid).toEqual(['store-failed'])
    })

    it(`a sign-in whose write fails (${mode}) throws SessionStoreError and sets no cookie`, async () => {
      const { modes, inner, request } = setup()
      modes.set = mode
      const res = await request('/login', new CookieJar(), { sub: uniqueSub('create') })
      expect(res.status).toBe(409)
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(inner.size).toBe(0)
    })

    it(`an update whose write fails (${mode}) throws SessionStoreError and the old data stays`, async () => {
      const { modes, request, readSession } = setup()
      const jar = new CookieJar()
      jar.apply(await request('/login', jar, { sub: uniqueSub('update'), claims: { role: 'member' } }))
      modes.update = mode
      const res = await request('/update', jar, { role: 'admin' })
      expect(res.status).toBe(409)
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
      jar.apply(res)
      modes.update = 'ok'
      expect((await readSession(jar))?.role).toBe('member')
    })
  }

  for (const mode of ['throw', 'hang'] as const) {
    it(`an update while the store cannot read the session (${mode}) throws SessionStoreError, not SessionMissingError, and isSessionUnreadable(c) says so`, async () => {
      const { modes, request, readSession, signIn } = setup()
      const jar = new CookieJar()
      await signIn(jar, uniqueSub('unread-update'))
      modes.get = mode
      const res = await request('/update', jar, { role: 'admin' })
      expect(res.status).toBe(409)
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
      expect(res.headers.getSetCookie()).toEqual([])
      expect(await (await request('/unreadable', jar)).json()).toEqual({ unreadable: true, signedIn: false })
      modes.get = 'ok'
      expect(await (await request('/unreadable', jar)).json()).toEqual({ unreadable: false, signedIn: true })
      expect((await readSession(jar))?.role).toBeUndefined()
    })
  }

  it('isSessionUnreadable(c) is false when nobody is signed in, for a refused cookie, and after a sign-in over an unread one', async () => {
    const { app, modes, request, signIn } = setup()
    app.post('/login-and-check', async (c) => {
      await createSession(c, { user: { sub: uniqueSub('after-unread') } })
      return c.json({ unreadable: isSessionUnreadable(c) })
    })
    const anonymous = await request('/unreadable', new CookieJar())
    expect(await anonymous.json()).toEqual({ unreadable: false, signedIn: false })
    const forged = await app.request('/unreadable', { headers: { cookie: '__Host-session=forged' } })
    expect(await forged.json()).toEqual({ unreadable: false, signedIn: false })
    const jar = new CookieJar()
    await signIn(jar, uniqueSub('unread-then-login'))
    modes.get = 'throw'
    expect(await (await request('/login-and-check', jar, {})).json()).toEqual({ unreadable: false })
  })

  it('a sign-out while the store cannot read still deletes the record the cookie names, or keeps all for a retry when the delete fails too', async () => {
    const { modes, inner, request, readSession, signIn } = setup()
    const jar = new CookieJar()
    const { sid, response: login } = await signIn(jar, uniqueSub('logout-unread'))
    modes.get = 'throw'
    modes.delete = 'throw'
    const failed = await request('/logout-caught', jar, {})
    expect(failed.status).toBe(409)
    expect(await failed.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    expect(failed.headers.getSetCookie()).toEqual([])
    expect(await inner.get(sid)).not.toBeNull()
    modes.delete = 'ok'
    const res = await request('/logout-caught', jar, {})
    expect(res.status).toBe(200)
    const copy = new CookieJar()
    copy.apply(login)
    jar.apply(res)
    expect(jar.header).toBe('')
    expect(await inner.get(sid)).toBeNull()
    // A copy of the old cookie is refused once the store answers again.
    modes.get = 'ok'
    expect(await readSession(copy)).toBeNull()
  })

  it('a sign-in while the store cannot read deletes the record the old cookie names before writing the new one', async () => {
    const { modes, inner, request, signIn } = setup()
    const jar = new CookieJar()
    const { sid: oldSid } = await signIn(jar, uniqueSub('relogin-a'))
    modes.get = 'throw'
    const second = await request('/login', jar, { sub: uniqueSub('relogin-b') })
    expect(second.status).toBe(200)
    const newSid = ((await second.json()) as { session: AnySession }).session.internal.sid
    expect(newSid).not.toBe(oldSid)
    expect(await inner.get(oldSid)).toBeNull()
    expect(await inner.get(newSid)).not.toBeNull()
  })

  it('a sign-out whose delete fails throws SessionStoreError and keeps the session whole (cookie and record), so it can be retried', async () => {
    const { modes, inner, request, signIn } = setup()
    const jar = new CookieJar()
    const { sid } = await signIn(jar, uniqueSub('logout'))
    modes.delete = 'throw'
    const res = await request('/logout-caught', jar, {})
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    expect(res.headers.getSetCookie()).toEqual([])
    jar.apply(res)
    // Not half-ended: a cleared cookie over a live record would look signed out while a copy of
    // the cookie still works. The session stays as it was and the app can retry.
    expect(await inner.get(sid)).not.toBeNull()
    const me = await request('/session', jar)
    expect(((await me.json()) as { session: AnySession | null }).session?.internal.sid).toBe(sid)
    modes.delete = 'ok'
    jar.apply(await request('/logout-caught', jar, {}))
    expect(jar.header).toBe('')
    expect(await inner.get(sid)).toBeNull()
  })
})

describe('store timeouts abort retrying writes', () => {
  it('an update that times out never writes afterwards, even if the store would have retried', async () => {
    const inner = memoryStore()
    let releaseChange: () => void = () => {}
    const gate = new Promise<void>((resolve) => {
      releaseChange = resolve
    })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store: inner, storeTimeout: 20 }))
    app.post('/login', async (c) => {
      await createSession<{ step: number }>(c, { user: { sub: 'timeout-user' }, step: 1 })
      return c.json(getSession(c))
    })
    app.post('/slow-update', async (c) => {
      try {
        await updateSession(c, async (s) => {
          await gate // the change outlives storeTimeout
          return { ...s, step: 2 }
        })
        return c.json({ ok: true })
      } catch (error) {
        return c.json({ code: (error as { code?: string }).code }, 503)
      }
    })
    const jar = new CookieJar()
    const login = await app.request('/login', { method: 'POST' })
    const sid = ((await login.json()) as { internal: { sid: string } }).internal.sid
    jar.apply(login)
    const res = await app.request('/slow-update', { method: 'POST', headers: { cookie: jar.header } })
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE' })
    releaseChange()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect((await inner.get(sid))?.step).toBe(1)
  })
})

describe('store failures: a sign-in over an old session whose write fails', () => {
  it('the old record is deleted first: the request shows no session and the old cookie is cleared', async () => {
    const inner = memoryStore()
    let failSet = false
    const store: SessionStore = {
      ...inner,
      get: (sid) => inner.get(sid),
      delete: (sid) => inner.delete(sid),
      set: async (sid, data, options) => {
        if (failSet) throw new Error('store down')
        return inner.set(sid, data, options)
      },
    }
    let error: unknown
    let during: unknown = 'unset'
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => {
      try {
        await createSession(c, { user: { sub: 'user-2' } })
      } catch (e) {
        error = e
      }
      during = getSession(c)
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' }, { store })
    expect(inner.size).toBe(1)
    failSet = true
    const res = await app.request('/login', { method: 'POST', headers: apiCall(jar.header) })
    expect(error).toBeInstanceOf(SessionStoreError)
    expect(inner.size).toBe(0)
    expect(during).toBeNull()
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })
})
