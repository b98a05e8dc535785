/**
 * The suite every store that supports `sessionAdmin` passes (memory, Durable Objects, D1): real
 * browsers (cookie jars) sign in through the middleware, and code with only the store manages
 * their sessions.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  type SessionStore,
  type StoredSession,
  SessionInvalidError,
  destroyOtherSessions,
  edgeSession,
  getSession,
  listSessions,
  sessionAdmin,
  updateSession,
} from '../../../src'
import { getSessionState } from '../../../src/state/registry'
import { type AnySession, CookieJar, SECRET, storeApp, uniqueSub } from '../../helpers'

const MAIN = '__Host-session'
const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'
const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1'

function post(cookie: string, body: unknown = {}, headers: Record<string, string> = {}): RequestInit {
  return {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }
}

export function describeSessionAdmin(name: string, makeStore: () => SessionStore): void {
  function setup(options: { device?: boolean } = {}) {
    const store = makeStore()
    const { app } = storeApp(store, options)
    const admin = sessionAdmin<{ plan?: string; count?: number }>({ store })
    app.get('/my-sessions', async (c) => c.json({ sessions: await listSessions(c) }))
    app.post('/sign-out-others', async (c) => c.json({ ended: await destroyOtherSessions(c) }))
    app.post('/my-sessions/:id/end', async (c) =>
      c.json({ ended: await admin.destroy(getSession(c)?.user.sub ?? '', c.req.param('id')) }),
    )
    const login = async (sub: string, init: { agent?: string; country?: string } = {}) => {
      const jar = new CookieJar()
      const request = new Request('http://localhost/login', {
        ...post('', { sub }, init.agent ? { 'user-agent': init.agent } : {}),
        ...(init.country ? { cf: { country: init.country } } : {}),
      } as RequestInit)
      const res = await app.request(request)
      expect(res.status).toBe(200)
      jar.apply(res)
      const { session } = (await res.json()) as { session: AnySession }
      return { jar, sid: session.internal.sid }
    }
    const read = async (jar: CookieJar) => {
      const res = await app.request('/session', { headers: { cookie: jar.header } })
      return { res, session: ((await res.json()) as { session: AnySession | null }).session }
    }
    return { store, app, admin, login, read }
  }

  describe(`${name}: sessionAdmin`, () => {
    it("lists a user's three sign-ins with opaque ids, and never another user's sessions", async () => {
      const { admin, login } = setup()
      const sub = uniqueSub('list')
      const other = uniqueSub('list-other')
      const signIns = [await login(sub), await login(sub), await login(sub)]
      const stranger = await login(other)
      const listed = await admin.list(sub)
      expect(listed).toHaveLength(3)
      const ids = listed.map((s) => s.id)
      expect(new Set(ids).size).toBe(3)
      for (const s of listed) {
        expect(s.id).toMatch(/^[A-Za-z0-9_-]{22}$/)
        expect(Object.keys(s).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'updatedAt'])
        expect(s.expiresAt).toBeGreaterThan(Date.now())
      }
      // Nothing a cookie carries: neither the session id nor any cookie value holds the handle, or the other way round.
      for (const { jar, sid } of [...signIns, stranger]) {
        for (const id of ids) {
          expect(id.includes(sid) || sid.includes(id)).toBe(false)
          for (const value of jar.cookies.values()) expect(value.includes(id)).toBe(false)
        }
      }
      // Sign-in order.
      expect(listed.map((s) => s.createdAt)).toEqual([...listed.map((s) => s.createdAt)].sort((a, b) => a - b))
      const others = await admin.list(other)
      expect(others).toHaveLength(1)
      expect(ids).not.toContain(others[0]?.id)
    })

    it('lists no lastPath / lastVisit, even from a record whose claims hold them (activity lives in the cookie)', async () => {
      const { store, admin, login } = setup()
      const sub = uniqueSub('list-activity')
      const { sid } = await login(sub)
      // Written by other code with only the store (the middleware strips these keys from claims).
      const record = (await store.get(sid)) as StoredSession & { internal: { expiresAt: number } }
      const { expiresAt } = record.internal
      await store.set(sid, { ...record, lastPath: '/secret', lastVisit: 1 }, { expiresAt, sub })
      const [listed] = await admin.list(sub)
      expect(Object.keys(listed ?? {}).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'updatedAt'])
    })

    it("updates every session of the user from code with only the store: each browser's next request sees it, with no cookie written", async () => {
      const { admin, login, read } = setup()
      const sub = uniqueSub('update')
      const browsers = [await login(sub), await login(sub), await login(sub)]
      const bystander = await login(uniqueSub('update-other'))
      const before = (await read(browsers[0]!.jar)).session
      expect(await admin.update(sub, (s) => ({ ...s, plan: 'pro' }))).toBe(3)
      for (const { jar, sid } of browsers) {
        const { res, session } = await read(jar)
        expect(session?.plan).toBe('pro')
        expect(session?.internal.sid).toBe(sid)
        expect(res.headers.getSetCookie()).toEqual([])
      }
      const after = (await read(browsers[0]!.jar)).session
      expect(after?.internal.createdAt).toBe(before?.internal.createdAt)
      expect(after?.internal.expiresAt).toBe(before?.internal.expiresAt)
      expect(after?.internal.updatedAt).toBeGreaterThanOrEqual(before?.internal.updatedAt ?? Number.POSITIVE_INFINITY)
      expect((await read(bystander.jar)).session?.plan).toBeUndefined()
      // The same change again changes nothing, and says so.
      expect(await admin.update(sub, (s) => ({ ...s, plan: 'pro' }))).toBe(0)
    })

    it('keeps internal whatever the update returns, and refuses invalid data before touching any session', async () => {
      const { admin, login, read } = setup()
      const sub = uniqueSub('protected')
      const { jar } = await login(sub)
      const before = (await read(jar)).session
      const far = Date.now() + 365 * 24 * 60 * 60 * 1000
      await admin.update(sub, (s) => {
        ;(s.internal as { expiresAt: number }).expiresAt = far
        return { ...s, internal: { sid: 'forged', createdAt: 0, updatedAt: 0, expiresAt: far }, plan: 'team' }
      })
      const after = (await read(jar)).session
      expect(after?.plan).toBe('team')
      expect(after?.internal.sid).toBe(before?.internal.sid)
      expect(after?.internal.expiresAt).toBe(before?.internal.expiresAt)
      await expect(admin.update(sub, { user: { sub }, plan: (() => 'x') as never })).rejects.toBeInstanceOf(
        SessionInvalidError,
      )
      await expect(admin.update(sub, { plan: 'free' } as never)).rejects.toBeInstanceOf(SessionInvalidError)
      await expect(admin.update(sub, (s) => ({ ...s, when: new Date() }) as never)).rejects.toBeInstanceOf(
        SessionInvalidError,
      )
      expect((await read(jar)).session?.plan).toBe('team')
    })

    it('checks updates against the schema it was given', async () => {
      const store = makeStore()
      const { app } = storeApp(store)
      const schema = {
        '~standard': {
          version: 1 as const,
          vendor: 'test',
          validate: (value: unknown) => {
            const plan = (value as { plan?: unknown }).plan
            return plan === undefined || plan === 'free' || plan === 'pro'
              ? { value }
              : { issues: [{ message: 'plan must be free or pro', path: ['plan'] }] }
          },
        },
      }
      const admin = sessionAdmin({ store, schema })
      const sub = uniqueSub('schema')
      const jar = new CookieJar()
      jar.apply(await app.request('/login', post('', { sub })))
      await expect(admin.update(sub, (s) => ({ ...s, plan: 'platinum' }))).rejects.toThrow(/plan must be free or pro/)
      expect(await admin.update(sub, (s) => ({ ...s, plan: 'pro' }))).toBe(1)
    })

    it('destroys one session: only that browser is signed out', async () => {
      const { admin, login, read } = setup()
      const sub = uniqueSub('destroy')
      const [laptop, phone, tablet] = [await login(sub), await login(sub), await login(sub)]
      const listed = await admin.list(sub)
      // The second sign-in (sign-in order) is the phone.
      expect(await admin.destroy(sub, listed[1]!.id)).toBe(true)
      expect((await read(phone!.jar)).session).toBeNull()
      expect((await read(laptop!.jar)).session?.internal.sid).toBe(laptop!.sid)
      expect((await read(tablet!.jar)).session?.internal.sid).toBe(tablet!.sid)
      expect((await admin.list(sub)).map((s) => s.id)).toEqual([listed[0]!.id, listed[2]!.id])
      // Ended already: says so, ends nothing more.
      expect(await admin.destroy(sub, listed[1]!.id)).toBe(false)
    })

    it('destroyAll signs every browser of the user out, and nobody else', async () => {
      const { admin, login, read } = setup()
      const sub = uniqueSub('all')
      const browsers = [await login(sub), await login(sub), await login(sub)]
      const bystander = await login(uniqueSub('all-other'))
      expect(await admin.destroyAll(sub)).toBe(3)
      for (const { jar } of browsers) expect((await read(jar)).session).toBeNull()
      expect(await admin.list(sub)).toEqual([])
      expect((await read(bystander.jar)).session?.internal.sid).toBe(bystander.sid)
    })

    it("bad input has a clear outcome: unknown id, another user's id, a user with no sessions, an empty sub", async () => {
      const { admin, login, read } = setup()
      const sub = uniqueSub('bad')
      const other = uniqueSub('bad-other')
      const mine = await login(sub)
      const theirs = await login(other)
      const [theirId] = (await admin.list(other)).map((s) => s.id)
      expect(await admin.destroy(sub, 'no-such-session-handle')).toBe(false)
      expect(await admin.destroy(sub, '')).toBe(false)
      // Another user's session is not this user's to end, whoever asks.
      expect(await admin.destroy(sub, theirId!)).toBe(false)
      // The session id itself is not a handle: a cookie's contents cannot be used to end a session.
      expect(await admin.destroy(sub, mine.sid)).toBe(false)
      expect((await read(theirs.jar)).session?.internal.sid).toBe(theirs.sid)
      expect((await read(mine.jar)).session?.internal.sid).toBe(mine.sid)
      const nobody = uniqueSub('nobody')
      expect(await admin.list(nobody)).toEqual([])
      expect(await admin.update(nobody, (s) => ({ ...s, plan: 'pro' }))).toBe(0)
      expect(await admin.destroy(nobody, theirId!)).toBe(false)
      expect(await admin.destroyAll(nobody)).toBe(0)
      for (const call of [
        () => admin.list(''),
        () => admin.destroyAll(''),
        () => admin.update('', { user: { sub: 'x' } }),
        () => admin.destroy('', 'x'),
      ])
        await expect(call()).rejects.toBeInstanceOf(SessionInvalidError)
    })

    it("lists the signed-in user's sessions with the current one marked, and signs out everywhere else", async () => {
      const { app, login, read } = setup()
      const sub = uniqueSub('mine')
      const [laptop, phone, tablet] = [await login(sub), await login(sub), await login(sub)]
      const bystander = await login(uniqueSub('mine-other'))
      const res = await app.request('/my-sessions', { headers: { cookie: phone!.jar.header } })
      const { sessions } = (await res.json()) as { sessions: Array<{ id: string; current: boolean }> }
      expect(sessions.map((s) => s.current)).toEqual([false, true, false])
      // Sign one device out from the page (the laptop, listed first).
      const ended = await app.request(`/my-sessions/${sessions[0]!.id}/end`, post(phone!.jar.header))
      expect(await ended.json()).toEqual({ ended: true })
      expect((await read(laptop!.jar)).session).toBeNull()
      const others = await app.request('/sign-out-others', post(phone!.jar.header))
      expect(await others.json()).toEqual({ ended: 1 })
      // This one is kept, with no cookie written.
      expect(others.headers.getSetCookie()).toEqual([])
      expect((await read(phone!.jar)).session?.internal.sid).toBe(phone!.sid)
      expect((await read(tablet!.jar)).session).toBeNull()
      expect((await read(bystander.jar)).session?.internal.sid).toBe(bystander.sid)
      // Signed out: the helpers refuse clearly.
      expect((await app.request('/my-sessions')).status).toBe(409)
    })

    it('listSessions and destroyOtherSessions read the record: no copy of the session is made', async () => {
      const { store, login } = setup()
      // No gate here: it would read the session (and copy it) before the handlers run.
      const app = new Hono()
      app.use(edgeSession({ secret: SECRET, store }))
      const composed: string[] = []
      app.use(async (c, next) => {
        const state = getSessionState(c)
        const compose = state.composeFrom.bind(state)
        state.composeFrom = (record) => {
          composed.push(c.req.path)
          return compose(record)
        }
        await next()
      })
      app.get('/list', async (c) => c.json({ sessions: await listSessions(c) }))
      app.post('/others', async (c) => c.json({ ended: await destroyOtherSessions(c) }))
      const sub = uniqueSub('no-copy')
      await login(sub)
      const { jar } = await login(sub)
      const list = await app.request('/list', { headers: { cookie: jar.header } })
      expect(((await list.json()) as { sessions: unknown[] }).sessions).toHaveLength(2)
      expect(await (await app.request('/others', post(jar.header))).json()).toEqual({ ended: 1 })
      expect(composed).toEqual([])
    })

    it('records the device at sign-in only when asked, as a summary and a country', async () => {
      const plain = setup()
      const subPlain = uniqueSub('device-off')
      await plain.login(subPlain, { agent: CHROME_MAC, country: 'FR' })
      expect((await plain.admin.list(subPlain))[0]?.device).toBeUndefined()

      const { admin, login, read } = setup({ device: true })
      const sub = uniqueSub('device')
      const chrome = await login(sub, { agent: CHROME_MAC, country: 'FR' })
      await login(sub, { agent: FIREFOX_LINUX })
      await login(sub, { agent: `${SAFARI_IPHONE} <script>alert(1)</script>`, country: 'not a country' })
      await login(sub)
      expect((await admin.list(sub)).map((s) => s.device)).toEqual([
        { browser: 'Chrome on macOS', country: 'FR' },
        { browser: 'Firefox on Linux' },
        { browser: 'Safari on iOS' },
        undefined,
      ])
      // Kept through updates.
      await admin.update(sub, (s) => ({ ...s, plan: 'pro' }))
      expect((await read(chrome.jar)).session?.internal.device).toEqual({ browser: 'Chrome on macOS', country: 'FR' })
    })

    it('an out-of-band update racing 50 in-request updates of the same session loses none of them', async () => {
      const { app, admin, login, read } = setup()
      app.post('/count', async (c) => {
        await updateSession<{ count?: number }>(c, (s) => ({ ...s, count: (s.count ?? 0) + 1 }))
        return c.body(null, 204)
      })
      const sub = uniqueSub('race')
      const { jar } = await login(sub)
      const increments = Array.from({ length: 50 }, () => app.request('/count', post(jar.header)))
      const outOfBand = admin.update(sub, (s) => ({ ...s, plan: 'pro' }))
      const responses = await Promise.all(increments)
      expect(responses.map((r) => r.status)).toEqual(Array(50).fill(204))
      expect(await outOfBand).toBe(1)
      const { session } = await read(jar)
      expect(session?.count).toBe(50)
      expect(session?.plan).toBe('pro')
      expect(jar.cookies.has(MAIN)).toBe(true)
    })

    it("an update never moves a record's idle deadline earlier than a touch moved it", async () => {
      const store = makeStore()
      const sub = uniqueSub('idle')
      const now = Date.now()
      const internal = {
        sid: `idle-${crypto.randomUUID()}`,
        createdAt: now,
        updatedAt: now,
        expiresAt: now + 8 * 3600_000,
      }
      await store.set(
        internal.sid,
        { user: { sub }, internal },
        { expiresAt: internal.expiresAt, idleExpiresAt: now + 60_000, sub },
      )
      await store.touch?.(internal.sid, { expiresAt: internal.expiresAt, idleExpiresAt: now + 1_800_000 })
      await store.update?.(internal.sid, (s) => ({ ...s, plan: 'pro' }), {
        expiresAt: internal.expiresAt,
        idleExpiresAt: now + 60_000,
        sub,
      })
      const [listed] = (await store.listByUser?.(sub)) ?? []
      expect(listed?.data.plan).toBe('pro')
      expect(listed?.until).toBe(now + 1_800_000)
    })
  })
}
