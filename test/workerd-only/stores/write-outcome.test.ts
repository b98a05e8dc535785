/**
 * A store write that fails or times out may still land. With real Durable Object and D1 bindings
 * and injected faults, the middleware must say what happened: a write found to have landed is not
 * an error, one that did not land is `written: false` and can no longer land, and the rest is
 * `written: 'unknown'`.
 */
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  SessionStoreError,
  type SessionStore,
  createSession,
  d1Store,
  destroySession,
  durableObjectStore,
  edgeSession,
  getSession,
  kvStore,
  memoryStore,
  updateSession,
} from '../../../src'
import { type AnySession, CookieJar, SECRET, uniqueSub } from '../../helpers'

beforeAll(async () => {
  await applyD1Migrations(env.SESSION_DB, env.D1_MIGRATIONS)
})

// The store calls of a request share STORE_TIMEOUT ms; a write leaves a fifth of it (200 ms) for
// the settle that follows a failure, enough for a Durable Object or D1 call on a loaded machine.
const STORE_TIMEOUT = 1000

type Method = 'set' | 'update' | 'delete'
/**
 * - `late-answer`: the write lands at once, but answers only after the caller gave up;
 * - `late-write`: the write is on its way when the caller gives up, and arrives after the
 *   caller settled it;
 * - `fail-before`: the call fails before anything is sent.
 */
type Fault = 'late-answer' | 'late-write' | 'fail-before'

/** Settles once `signal` aborts (the middleware's timeout); without one, once the timeout has surely passed. */
function aborted(signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!signal) setTimeout(resolve, STORE_TIMEOUT + 50)
    else if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
}

/**
 * `inner` with one method faulty; `sids` collects the ids `set` was called with; `late()` waits
 * for the late writes to arrive (or be refused).
 */
function faulty(inner: SessionStore, method: Method, fault: Fault) {
  const sids: string[] = []
  const lateWrites: Array<Promise<unknown>> = []
  let settledOnce: () => void = () => {}
  const settled = new Promise<void>((resolve) => {
    settledOnce = resolve
  })
  const store: SessionStore = {
    get: (sid) => inner.get(sid),
    set: (sid, data, options) => inner.set(sid, data, options),
    delete: (sid, options) => inner.delete(sid, options),
  }
  if (inner.update) store.update = inner.update.bind(inner)
  if (inner.touch) store.touch = inner.touch.bind(inner)
  const settle = inner.settle?.bind(inner)
  if (settle)
    store.settle = async (sid, writeId) => {
      const record = await settle(sid, writeId)
      settledOnce()
      return record
    }
  const real = store[method] as (...args: unknown[]) => Promise<unknown>
  ;(store as unknown as Record<Method, (...args: unknown[]) => Promise<unknown>>)[method] = async (
    ...args: unknown[]
  ) => {
    if (method === 'set') sids.push(args[0] as string)
    if (fault === 'fail-before') throw new Error('injected: failed before writing')
    const options = args[args.length - 1] as { signal?: AbortSignal } | undefined
    if (fault === 'late-answer') {
      const result = await real(...args)
      await aborted(options?.signal)
      return result
    }
    // Already sent: the caller's abort signal cannot call it back any more.
    const late = settled.then(() => real(...args.slice(0, -1), { ...options, signal: undefined }))
    lateWrites.push(late.catch(() => undefined))
    return late
  }
  return { store, sids, late: () => Promise.all(lateWrites) }
}

interface Outcome {
  status: number
  code?: string
  written?: unknown
  session?: AnySession | null
}

function outcomeApp(store: SessionStore, storeTimeout = STORE_TIMEOUT) {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, store, storeTimeout }))
  app.onError((error, c) => {
    if (error instanceof SessionStoreError) return c.json({ code: error.code, written: error.written }, 503)
    throw error
  })
  app.post('/login', async (c) => {
    const { sub } = (await c.req.json()) as { sub: string }
    await createSession<{ n: number }>(c, { user: { sub }, n: 1 })
    return c.json({ session: getSession(c) })
  })
  app.post('/increment', async (c) => {
    await updateSession<{ n: number }>(c, (s) => ({ ...s, n: s.n + 1 }))
    return c.json({ session: getSession(c) })
  })
  app.post('/logout', async (c) => {
    await destroySession(c)
    return c.json({ session: getSession(c) })
  })
  app.get('/session', (c) => c.json({ session: getSession(c) }))
  const call = async (jar: CookieJar, path: string, body?: unknown): Promise<Outcome> => {
    const init: RequestInit =
      body === undefined && path === '/session'
        ? { headers: { cookie: jar.header } }
        : { method: 'POST', headers: { cookie: jar.header }, body: JSON.stringify(body ?? {}) }
    const res = await app.request(path, init)
    jar.apply(res)
    return { status: res.status, ...((await res.json()) as object) }
  }
  return { call }
}

// Real Durable Object and D1 bindings; the memory store settles writes the same way.
const stores: Array<[string, () => SessionStore]> = [
  ['durable-object', () => durableObjectStore(env.SESSION_DO)],
  ['d1', () => d1Store(env.SESSION_DB, { cleanupRate: 0 })],
  ['memory', () => memoryStore()],
]

for (const [name, make] of stores) {
  // Each case waits out a 1 s storeTimeout against real bindings: a bound for a loaded machine, not a timing claim.
  describe(`${name}: what a failed write reports`, { timeout: 30_000 }, () => {
    /** A browser signed in through a healthy store (n = 1), then the store made faulty. */
    async function signedIn(method: Method, fault: Fault) {
      const inner = make()
      // The default timeout: a Durable Object's first call can take over 100 ms while it starts.
      const healthy = outcomeApp(inner, 5000)
      const jar = new CookieJar()
      const login = await healthy.call(jar, '/login', { sub: uniqueSub(`${name}-${method}`) })
      const sid = login.session?.internal.sid as string
      const { store, sids, late } = faulty(inner, method, fault)
      return { inner, jar, sid, sids, late, ...outcomeApp(store) }
    }

    it('updateSession whose write landed but answered late: no error, the request and the store hold n = 2', async () => {
      const { inner, jar, sid, call } = await signedIn('update', 'late-answer')
      const res = await call(jar, '/increment')
      expect(res).toMatchObject({ status: 200, session: { n: 2 } })
      expect((await inner.get(sid))?.n).toBe(2)
    })

    it('updateSession whose write arrives after the timeout: written false, and the late write is refused (n stays 1)', async () => {
      const { inner, jar, sid, call, late } = await signedIn('update', 'late-write')
      expect(await call(jar, '/increment')).toEqual({ status: 503, code: 'ERR_SESSION_STORE', written: false })
      await late()
      expect((await inner.get(sid))?.n).toBe(1)
      expect(await call(jar, '/session')).toMatchObject({ session: { n: 1 } })
    })

    it('updateSession that fails before writing: written false, n stays 1', async () => {
      const { inner, jar, sid, call } = await signedIn('update', 'fail-before')
      expect(await call(jar, '/increment')).toEqual({ status: 503, code: 'ERR_SESSION_STORE', written: false })
      expect((await inner.get(sid))?.n).toBe(1)
    })

    it('destroySession whose delete landed but answered late: signed out, no error, the record is gone', async () => {
      const { inner, jar, sid, call } = await signedIn('delete', 'late-answer')
      expect(await call(jar, '/logout')).toEqual({ status: 200, session: null })
      expect(jar.header).toBe('')
      expect(await inner.get(sid)).toBeNull()
    })

    it('destroySession whose delete arrives after the timeout: written false, and the session stays whole', async () => {
      const { inner, jar, sid, call, late } = await signedIn('delete', 'late-write')
      expect(await call(jar, '/logout')).toEqual({ status: 503, code: 'ERR_SESSION_STORE', written: false })
      await late()
      expect(await inner.get(sid)).not.toBeNull()
      expect(await call(jar, '/session')).toMatchObject({ session: { internal: { sid } } })
    })

    it('a sign-in whose record landed but answered late: signed in, and the cookie names that record', async () => {
      const { inner, jar, sid: oldSid, sids, call } = await signedIn('set', 'late-answer')
      const res = await call(jar, '/login', { sub: uniqueSub(`${name}-relogin`) })
      expect(res.status).toBe(200)
      const newSid = res.session?.internal.sid as string
      expect(sids).toEqual([newSid])
      expect(await inner.get(oldSid)).toBeNull()
      expect(await call(jar, '/session')).toMatchObject({ session: { internal: { sid: newSid } } })
    })

    it('a sign-in whose record arrives after the timeout: the late record is refused, so none is left that no cookie names', async () => {
      const { inner, jar, sids, call, late } = await signedIn('set', 'late-write')
      // The previous record was ended first (no session id outlives a sign-in): written true, signed out.
      expect(await call(jar, '/login', { sub: uniqueSub(`${name}-relogin`) })).toEqual({
        status: 503,
        code: 'ERR_SESSION_STORE',
        written: true,
      })
      await late()
      expect(sids).toHaveLength(1)
      expect(await inner.get(sids[0] as string)).toBeNull()
    })

    it('a sign-in whose delete of the previous record answered late: written true, signed out, the previous record gone', async () => {
      const { inner, jar, sid: oldSid, call } = await signedIn('delete', 'late-answer')
      expect(await call(jar, '/login', { sub: uniqueSub(`${name}-relogin`) })).toEqual({
        status: 503,
        code: 'ERR_SESSION_STORE',
        written: true,
      })
      expect(await inner.get(oldSid)).toBeNull()
      // A 5xx writes no cookies: the next request finds no record and is signed out then.
      expect(await call(jar, '/session')).toMatchObject({ session: null })
    })

    it('a sign-in whose delete of the previous record arrives after the timeout: written false, the previous session stays whole', async () => {
      const { inner, jar, sid: oldSid, call, late } = await signedIn('delete', 'late-write')
      expect(await call(jar, '/login', { sub: uniqueSub(`${name}-relogin`) })).toEqual({
        status: 503,
        code: 'ERR_SESSION_STORE',
        written: false,
      })
      await late()
      expect(await inner.get(oldSid)).not.toBeNull()
      expect(await call(jar, '/session')).toMatchObject({ session: { internal: { sid: oldSid } } })
    })

    it('a first sign-in that fails before writing: written false, nothing stored', async () => {
      const inner = make()
      const { store, sids } = faulty(inner, 'set', 'fail-before')
      const { call } = outcomeApp(store)
      expect(await call(new CookieJar(), '/login', { sub: uniqueSub(`${name}-first`) })).toEqual({
        status: 503,
        code: 'ERR_SESSION_STORE',
        written: false,
      })
      expect(await inner.get(sids[0] as string)).toBeNull()
    })
  })
}

describe('a store that cannot settle a write', () => {
  it("reports written: 'unknown' (Workers KV: a late put may still land)", async () => {
    const { store } = faulty(kvStore(env.SESSION_KV), 'set', 'late-answer')
    const { call } = outcomeApp(store)
    expect(await call(new CookieJar(), '/login', { sub: uniqueSub('kv') })).toEqual({
      status: 503,
      code: 'ERR_SESSION_STORE',
      written: 'unknown',
    })
  })
})
