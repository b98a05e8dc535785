/**
 * Records die with their sessions: a session that ended idle, and a sign-in whose cookie never
 * came back, leave no record past half an idle period after the idle deadline, in the store
 * itself (Durable Object alarm, D1 expiry and cleanup, memory expiry). Workers KV keeps its
 * records until the absolute end: refreshing a KV record means rewriting a copy that may be
 * stale, which could bring back a session signed out elsewhere.
 */
import { applyD1Migrations, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  type SessionStore,
  cleanupExpiredSessions,
  createSession,
  d1Store,
  durableObjectStore,
  edgeSession,
  getSession,
  memoryStore,
} from '../../../src'
import {
  type AnySession,
  CookieJar,
  HOUR,
  MINUTE,
  SECRET,
  at,
  countingStore,
  restoreClock,
  uniqueSub,
  useClock,
} from '../../helpers'

beforeAll(async () => {
  await applyD1Migrations(env.SESSION_DB, env.D1_MIGRATIONS)
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
// Real time: a Durable Object's first call can take 150 ms (it starts), so deadlines leave room for it.
const IDLE = 600
const record = (sub: string) => ({ user: { sub } })
const sessionObject = (sid: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(`session:sid:${sid}`))
const storedKeys = (sid: string) =>
  runInDurableObject(sessionObject(sid), (_, state) => [...state.storage.kv.list()].map(([key]) => key))

const stores: Array<[string, () => SessionStore]> = [
  ['durable-object', () => durableObjectStore(env.SESSION_DO)],
  ['d1', () => d1Store(env.SESSION_DB, { cleanupRate: 0 })],
  ['memory', () => memoryStore()],
]

for (const [name, make] of stores) {
  describe(`${name}: the idle deadline in the store`, () => {
    it('a record is forgotten at its idle deadline, long before its absolute end', async () => {
      const store = make()
      const sid = uniqueSub(`${name}-idle`)
      await store.set(sid, record(sid), { expiresAt: Date.now() + HOUR, idleExpiresAt: Date.now() + IDLE, sub: sid })
      expect(await store.get(sid)).toEqual(record(sid))
      await sleep(IDLE + 100)
      expect(await store.get(sid)).toBeNull()
    })

    it('touch moves the idle deadline later (never past the absolute end), and never brings back a dead record', async () => {
      const store = make()
      const sid = uniqueSub(`${name}-touch`)
      expect(store.touch).toBeTypeOf('function')
      const expiresAt = Date.now() + 2.5 * IDLE
      await store.set(sid, record(sid), { expiresAt, idleExpiresAt: Date.now() + IDLE, sub: sid })
      await store.touch?.(sid, { expiresAt, idleExpiresAt: Date.now() + HOUR })
      await sleep(IDLE + 200)
      expect(await store.get(sid)).toEqual(record(sid))
      await sleep(1.5 * IDLE)
      expect(await store.get(sid)).toBeNull()
      await store.touch?.(sid, { expiresAt: Date.now() + HOUR, idleExpiresAt: Date.now() + HOUR })
      expect(await store.get(sid)).toBeNull()
    })
  })
}

describe('the store removes what idled out', () => {
  it('durable object: the alarm wakes at the idle deadline and deletes the record', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sid = uniqueSub('do-alarm')
    const idleExpiresAt = Date.now() + IDLE
    await store.set(sid, record(sid), { expiresAt: Date.now() + HOUR, idleExpiresAt, sub: sid })
    expect(await runInDurableObject(sessionObject(sid), (_, state) => state.storage.getAlarm())).toBe(idleExpiresAt)
    await sleep(IDLE + 100)
    await runDurableObjectAlarm(sessionObject(sid))
    expect(await storedKeys(sid)).not.toContain('record')
  })

  it('d1: cleanupExpiredSessions deletes rows past their idle deadline', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    const sid = uniqueSub('d1-sweep')
    await store.set(sid, record(sid), { expiresAt: Date.now() + HOUR, idleExpiresAt: Date.now() + IDLE, sub: sid })
    await sleep(IDLE + 100)
    await cleanupExpiredSessions(env.SESSION_DB)
    const row = await env.SESSION_DB.prepare('SELECT count(*) AS n FROM sessions WHERE sid = ?')
      .bind(sid)
      .first<{ n: number }>()
    expect(row?.n).toBe(0)
  })
})

/** An app on `store`: /login signs in, /session reads the session (an API call: activity, not a page view). */
function idleApp(store: SessionStore, duration?: { inactivity: number }) {
  const app = new Hono()
  const invalid: string[] = []
  const onInvalid = (reason: string) => void invalid.push(reason)
  app.use(
    edgeSession({
      secret: SECRET,
      store,
      onInvalid,
      ...(duration ? { duration: { absolute: 8 * 3600, ...duration } } : {}),
    }),
  )
  app.post('/login', async (c) => {
    await createSession(c, { user: { sub: 'idle-user' } })
    return c.json({ session: getSession(c) })
  })
  app.get('/session', (c) => c.json({ session: getSession(c) }))
  const login = async (jar: CookieJar) => {
    const res = await app.request('/login', { method: 'POST', headers: { cookie: jar.header } })
    return { res, sid: ((await res.json()) as { session: AnySession }).session.internal.sid }
  }
  const read = async (jar: CookieJar) => {
    const res = await app.request('/session', { headers: { cookie: jar.header } })
    jar.apply(res)
    return ((await res.json()) as { session: AnySession | null }).session
  }
  return { app, login, read, invalid }
}

describe('middleware: records of sessions nobody uses (fake clock, memory store)', () => {
  afterEach(restoreClock)

  it('a session ended by the idle timeout (30 min) loses its record by 45 min, not at the absolute end (8 h)', async () => {
    useClock()
    const store = memoryStore()
    const { login, read, invalid } = idleApp(store)
    const jar = new CookieJar()
    const { res, sid } = await login(jar)
    jar.apply(res)
    at(44 * MINUTE)
    expect(await store.get(sid)).not.toBeNull()
    at(45 * MINUTE + 1)
    expect(await store.get(sid)).toBeNull()
    // The cookie coming back finds no record.
    expect(await read(jar)).toBeNull()
    expect(invalid).toEqual(['revoked'])
  })

  it('ten concurrent sign-ins from one browser: the nine records no cookie names die at the idle deadline; the one in use lives on', async () => {
    useClock()
    const store = memoryStore()
    const { login, read } = idleApp(store)
    const jar = new CookieJar()
    jar.apply((await login(jar)).res)
    const signIns = await Promise.all(Array.from({ length: 10 }, () => login(jar)))
    // The browser keeps whichever response came last.
    const kept = signIns[signIns.length - 1] as (typeof signIns)[number]
    jar.apply(kept.res)
    // The kept session is used every five minutes for two hours.
    for (let t = 5 * MINUTE; t <= 2 * HOUR; t += 5 * MINUTE) {
      at(t)
      expect((await read(jar))?.internal.sid).toBe(kept.sid)
    }
    const live = await Promise.all(signIns.map(async ({ sid }) => (await store.get(sid)) !== null))
    expect(live.filter(Boolean)).toHaveLength(1)
    expect(await store.get(kept.sid)).not.toBeNull()
  })

  it('costs one store write per half idle period of an active session: a 2 h trace of a request every 10 s', async () => {
    useClock()
    const counted = countingStore(memoryStore())
    const { login, read } = idleApp(counted.store)
    const jar = new CookieJar()
    const { res, sid } = await login(jar)
    jar.apply(res)
    let requests = 0
    for (let t = 10_000; t <= 2 * HOUR; t += 10_000) {
      at(t)
      expect((await read(jar))?.internal.sid).toBe(sid)
      requests++
    }
    // One read per request; the idle deadline moved every 15 minutes (8 times in 2 h); nothing else.
    expect({ requests, ...counted.calls }).toEqual({
      requests: 720,
      get: 720,
      set: 1,
      update: 0,
      delete: 0,
      deleteByUser: 0,
      touch: 8,
      settle: 0,
    })
    // Then the user leaves: the session ends idle at 2 h 30, the record is gone by 2 h 45.
    at(2 * HOUR + 45 * MINUTE + 1)
    expect(await counted.store.get(sid)).toBeNull()
  })
  it('a touch that fails costs the request nothing and is tried again at the next activity', async () => {
    useClock()
    const inner = memoryStore()
    let touches = 0
    const store: SessionStore = {
      get: (sid) => inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: (sid, options) => inner.delete(sid, options),
      touch: (sid, options) =>
        ++touches === 1 ? Promise.reject(new Error('injected: touch failed')) : inner.touch(sid, options),
    }
    const { login, read } = idleApp(store)
    const jar = new CookieJar()
    const { res, sid } = await login(jar)
    jar.apply(res)
    at(16 * MINUTE)
    expect((await read(jar))?.internal.sid).toBe(sid)
    expect(touches).toBe(1)
    at(17 * MINUTE)
    expect((await read(jar))?.internal.sid).toBe(sid)
    expect(touches).toBe(2)
    // Moved by the second touch: 17 min + 45 min.
    at(62 * MINUTE - 1)
    expect(await inner.get(sid)).not.toBeNull()
    at(62 * MINUTE)
    expect(await inner.get(sid)).toBeNull()
  })
})

describe('middleware: concurrent sign-ins with a real Durable Object store', () => {
  it('records of sign-ins whose cookie never came back are deleted by the alarm at the idle deadline (1 s idle: 1.5 s)', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const { login } = idleApp(store, { inactivity: 1 })
    const jar = new CookieJar()
    const sids = (await Promise.all(Array.from({ length: 10 }, () => login(jar)))).map(({ sid }) => sid)
    for (const sid of sids) expect(await store.get(sid)).not.toBeNull()
    await sleep(1600)
    for (const sid of sids) {
      await runDurableObjectAlarm(sessionObject(sid))
      expect(await storedKeys(sid)).not.toContain('record')
    }
  })
})
