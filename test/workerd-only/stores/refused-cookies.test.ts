/**
 * A session cookie that opened (it is genuine) but was then refused still names its record: a
 * sign-in or sign-out in that request ends it, and a session refused as idle ends at once.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { Hono } from 'hono'
import {
  SessionStoreError,
  type SessionStore,
  type StandardSchemaV1,
  createSession,
  destroySession,
  edgeSession,
  getSession,
  memoryStore,
} from '../../../src'
import {
  type AnySession,
  CookieJar,
  MINUTE,
  SECRET,
  SESSION,
  countingStore,
  deferred,
  restoreClock,
  storeApp,
  uniqueSub,
  useClock,
} from '../../helpers'

function post(cookie: string, body: unknown = {}): RequestInit {
  return { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

/** A schema that refuses sessions whose `plan` is 'legacy' (a deploy that stopped accepting old data). */
const noLegacy: StandardSchemaV1 = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) =>
      (value as { plan?: string }).plan === 'legacy'
        ? { issues: [{ message: 'legacy plan', path: ['plan'] }] }
        : { value },
  },
}

async function signIn(app: ReturnType<typeof storeApp>['app'], claims: Record<string, unknown> = {}) {
  const jar = new CookieJar()
  const res = await app.request('/login', post('', { sub: uniqueSub('refused'), claims }))
  expect(res.status).toBe(200)
  jar.apply(res)
  return { jar, sid: ((await res.json()) as { session: AnySession }).session.internal.sid }
}

describe('a genuine session cookie refused after it opened', () => {
  for (const route of ['/login', '/logout'] as const) {
    it(`refused by the schema: a ${route === '/login' ? 'sign-in' : 'sign-out'} in that request still deletes the record it names`, async () => {
      const store = memoryStore()
      const before = storeApp(store)
      const { jar, sid } = await signIn(before.app, { plan: 'legacy' })
      const after = storeApp(store, { schema: noLegacy })
      const res = await after.app.request(route, post(jar.header, { sub: uniqueSub('refused') }))
      expect(res.status).toBe(200)
      expect(after.invalid).toEqual(['schema'])
      // A copy of the cookie would work again once the schema accepts it: the record must be gone.
      expect(await store.get(sid)).toBeNull()
    })
  }

  it('a page view refused by the schema deletes nothing: only an idle session is over by itself', async () => {
    const store = memoryStore()
    const { jar, sid } = await signIn(storeApp(store).app, { plan: 'legacy' })
    const after = storeApp(store, { schema: noLegacy })
    const res = await after.app.request('/session', { headers: { cookie: jar.header } })
    expect(await res.json()).toEqual({ session: null })
    expect(after.invalid).toEqual(['schema'])
    expect(await store.get(sid)).not.toBeNull()
  })

  it("a sign-out over session cookies that do not open (forged, another app's) deletes nothing", async () => {
    const { store, calls } = countingStore(memoryStore())
    const { app, invalid } = storeApp(store)
    const foreign = await signIn(storeApp(memoryStore(), { secret: 'another-secret-of-32-bytes-or-more!!' }).app)
    const cookie = `${SESSION}=forged; ${SESSION}=${foreign.jar.cookies.get(SESSION)}`
    const res = await app.request('/logout', post(cookie))
    expect(res.status).toBe(200)
    expect(invalid).toEqual(['duplicate'])
    expect(calls.delete).toBe(0)
  })
})

describe('a session refused as idle', () => {
  /** Signs in, then moves Date past the idle limit; the caller restores the timers. */
  async function idleSession(store: SessionStore) {
    const { app, invalid } = storeApp(store)
    const { jar, sid } = await signIn(app)
    useClock(Date.now()).advance(31 * MINUTE)
    return { app, invalid, jar, sid }
  }

  it('on Workers the record is deleted through waitUntil: the response does not wait for the store', async () => {
    const inner = memoryStore()
    const deleting = deferred()
    const release = deferred()
    const store: SessionStore = {
      get: (sid) => inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: async (sid) => {
        deleting.resolve()
        await release.promise
        await inner.delete(sid)
      },
    }
    try {
      const { app, invalid, jar, sid } = await idleSession(store)
      const ctx = createExecutionContext()
      const res = await app.request('/session', { headers: { cookie: jar.header } }, {}, ctx)
      // Answered while the deletion is still held.
      expect(await res.json()).toEqual({ session: null })
      expect(invalid).toEqual(['inactive'])
      await deleting.promise
      expect(await inner.get(sid)).not.toBeNull()
      release.resolve()
      await waitOnExecutionContext(ctx)
      expect(await inner.get(sid)).toBeNull()
    } finally {
      restoreClock()
    }
  })

  it('a deletion that fails changes nothing for the request: no session, the cookies cleared', async () => {
    const inner = memoryStore()
    const store: SessionStore = {
      get: (sid) => inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: () => Promise.reject(new Error('store down')),
    }
    try {
      const { app, invalid, jar } = await idleSession(store)
      const res = await app.request('/session', { headers: { cookie: jar.header } })
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ session: null })
      expect(invalid).toEqual(['inactive'])
      jar.apply(res)
      expect(jar.header).toBe('')
    } finally {
      restoreClock()
    }
  })
})

describe('ending the records of duplicate session cookies when the store fails', () => {
  for (const route of ['/login', '/logout'] as const) {
    it(`a ${route === '/login' ? 'sign-in' : 'sign-out'}: each delete carries its own write id, and the one that failed is settled by it`, async () => {
      const inner = memoryStore()
      const deletes: Array<{ sid: string; writeId?: string }> = []
      const settles: Array<{ sid: string; writeId: string }> = []
      const store: SessionStore = {
        get: (sid) => inner.get(sid),
        set: (sid, data, options) => inner.set(sid, data, options),
        delete: async (sid, options) => {
          deletes.push({ sid, writeId: options?.writeId })
          // The first record goes; the second delete fails before anything is sent.
          if (deletes.length > 1) throw new Error('injected: delete failed')
          return inner.delete(sid, options)
        },
        settle: (sid, writeId) => {
          settles.push({ sid, writeId })
          return inner.settle(sid, writeId)
        },
      }
      const app = new Hono()
      app.use(edgeSession({ secret: SECRET, store }))
      app.onError((error, c) => {
        if (error instanceof SessionStoreError) return c.json({ code: error.code, written: error.written }, 503)
        throw error
      })
      app.post('/login', async (c) => {
        await createSession(c, { user: { sub: uniqueSub('dup-fail') } })
        return c.json({ sid: getSession(c)?.internal.sid })
      })
      app.post('/logout', async (c) => {
        await destroySession(c)
        return c.body(null, 204)
      })
      const first = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
      const second = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
      const cookie = `${SESSION}=${first.cookies.get(SESSION)}; ${SESSION}=${second.cookies.get(SESSION)}`
      const res = await app.request(route, { method: 'POST', headers: { cookie } })
      expect(res.status).toBe(503)
      // One record was ended before the failure: the store was changed.
      expect(await res.json()).toEqual({ code: 'ERR_SESSION_STORE', written: true })
      expect(deletes).toHaveLength(2)
      const [gone, failed] = deletes as [{ sid: string; writeId?: string }, { sid: string; writeId?: string }]
      expect(gone.writeId).toEqual(expect.any(String))
      expect(failed.writeId).toEqual(expect.any(String))
      expect(failed.writeId).not.toBe(gone.writeId)
      expect(settles).toEqual([{ sid: failed.sid, writeId: failed.writeId }])
      expect(await inner.get(gone.sid)).toBeNull()
      expect(await inner.get(failed.sid)).not.toBeNull()
    })
  }
})
