import { base64url } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type AnySession,
  CookieJar,
  HOUR,
  MINUTE,
  T0,
  call,
  cleared,
  coreApp,
  readSession,
  restoreClock,
  setCookies,
  useClock,
  written,
} from '../../helpers'
import { destroyUserSessions, getSession, memoryStore } from '../../../src'

afterEach(restoreClock)

describe('round trip', () => {
  it('create -> read -> update -> read -> destroy -> read', async () => {
    const { app, errors } = coreApp()
    const jar = new CookieJar()

    let res = await call(app, '/login', { body: { user: { sub: 'u1', name: 'Ada' }, role: 'member' }, jar })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { user: { sub: string } }).user.sub).toBe('u1')
    expect(jar.cookies.has('__Host-session')).toBe(true)

    let read = await readSession(app, { jar })
    expect(read.session).toMatchObject({ user: { sub: 'u1', name: 'Ada' }, role: 'member' })
    expect(setCookies(read.res)).toEqual([])

    res = await call(app, '/update', { body: { role: 'admin' }, jar })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { role: string }).role).toBe('admin')

    read = await readSession(app, { jar })
    expect(read.session).toMatchObject({ user: { sub: 'u1', name: 'Ada' }, role: 'admin' })

    res = await call(app, '/logout', { method: 'POST', jar })
    expect(res.status).toBe(200)
    expect(jar.cookies.size).toBe(0)
    read = await readSession(app, { jar })
    expect(read.session).toBeNull()
    expect(errors).toEqual([])
  })

  it("a handler's changes to getSession(c) stay in its request (the next one opens the same cookie from the isolate cache)", async () => {
    const { app } = coreApp({}, (a) =>
      a.get('/scribble', (c) => {
        const s = getSession(c) as AnySession & { tags: string[] }
        s.user.name = 'Mallory'
        s.tags.push('admin')
        s.role = 'owner'
        return c.json({ mine: s, again: getSession(c) })
      }),
    )
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1', name: 'Ada' }, role: 'member', tags: ['a'] }, jar })
    for (let i = 0; i < 2; i++) {
      const res = await call(app, '/scribble', { jar })
      const body = (await res.json()) as { mine: AnySession; again: AnySession }
      // Within the request, getSession(c) is one object: the handler sees what it changed.
      expect(body.again).toEqual(body.mine)
      expect(body.mine).toMatchObject({ user: { name: 'Mallory' }, role: 'owner', tags: ['a', 'admin'] })
      expect(setCookies(res)).toEqual([])
    }
    const read = await readSession(app, { jar })
    expect(read.session).toMatchObject({ user: { sub: 'u1', name: 'Ada' }, role: 'member', tags: ['a'] })
  })

  it('signing in over a session with activity clears its activity cookie in the same response', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    clock.advance(2 * MINUTE)
    await readSession(app, { jar })
    expect(jar.cookies.has('__Host-session-activity')).toBe(true)
    const again = await call(app, '/login', { body: { user: { sub: 'u2' } }, jar })
    expect(cleared(again)).toContain('__Host-session-activity')
    expect(jar.cookies.has('__Host-session-activity')).toBe(false)
    expect((await readSession(app, { jar })).session?.user.sub).toBe('u2')
  })

  it('an anonymous request has no session and gets no Set-Cookie', async () => {
    const { app } = coreApp()
    const { res, session } = await readSession(app)
    expect(session).toBeNull()
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('cache-control')).toBeNull()
    // Unrelated cookies alone do not make a session either.
    const other = await readSession(app, { cookie: 'theme=dark; __Host-sessionx=1; session=abc' })
    expect(other.session).toBeNull()
    expect(other.res.headers.getSetCookie()).toEqual([])
  })

  it('a plain read of a live session writes nothing (within the touch interval)', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    for (let i = 0; i < 3; i++) {
      clock.advance(10_000)
      const { res, session } = await readSession(app, { jar })
      expect(session?.user.sub).toBe('u1')
      expect(res.headers.getSetCookie()).toEqual([])
      // No write; still private, no-store, as every signed-in response (cacheControl).
      expect(res.headers.get('cache-control')).toBe('private, no-store')
    }
  })

  it('destroySession on an anonymous request writes nothing', async () => {
    const { app } = coreApp()
    const res = await call(app, '/logout', { method: 'POST' })
    expect(res.status).toBe(200)
    expect(res.headers.getSetCookie()).toEqual([])
  })
})

describe('createSession is always a fresh session', () => {
  it('new random sid (>= 128 bits) and createdAt, old claims gone', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'admin', secretFlag: true }, jar })
    const first = (await readSession(app, { jar })).session
    expect(first?.internal.createdAt).toBe(T0)
    expect(first?.internal.expiresAt).toBe(T0 + 8 * HOUR)
    const firstSid = first?.internal.sid as string
    expect(base64url.decode(firstSid).length).toBeGreaterThanOrEqual(16)

    clock.advance(10 * MINUTE)
    const res = await call(app, '/login', { body: { user: { sub: 'u2' } }, jar })
    const second = (await res.json()) as AnySession
    expect(second?.user).toEqual({ sub: 'u2' })
    expect(second).not.toHaveProperty('role')
    expect(second).not.toHaveProperty('secretFlag')
    expect(second?.internal.sid).not.toBe(firstSid)
    expect(base64url.decode(second?.internal.sid as string).length).toBeGreaterThanOrEqual(16)
    expect(second?.internal.createdAt).toBe(T0 + 10 * MINUTE)
    expect(second?.internal.expiresAt).toBe(T0 + 10 * MINUTE + 8 * HOUR)
    // The new cookie's lifetime starts again.
    expect(written(res).get('__Host-session')?.attributes['max-age']).toBe(String(8 * 60 * 60))

    const read = (await readSession(app, { jar })).session
    expect(read).toEqual(second)
  })

  it('session ids do not repeat', async () => {
    const { app } = coreApp()
    const sids = new Set<string>()
    for (let i = 0; i < 20; i++) {
      const res = await call(app, '/login', { body: { user: { sub: 'same' } } })
      sids.add(((await res.json()) as { internal: { sid: string } }).internal.sid)
    }
    expect(sids.size).toBe(20)
  })

  it('caller-supplied internal / lastPath / lastVisit are ignored', async () => {
    useClock(T0)
    const { app } = coreApp()
    const res = await call(app, '/login', {
      body: {
        user: { sub: 'u1' },
        internal: { sid: 'attacker', createdAt: 1, expiresAt: 9e15 },
        lastPath: '/evil',
        lastVisit: 5,
      },
    })
    const session = (await res.json()) as Record<string, unknown> & { internal: { sid: string; expiresAt: number } }
    expect(session.internal.sid).not.toBe('attacker')
    expect(session.internal.expiresAt).toBe(T0 + 8 * HOUR)
    expect(session).not.toHaveProperty('lastPath')
    expect(session).not.toHaveProperty('lastVisit')
  })
})

describe('destroyUserSessions: the user it is given', () => {
  it('ends the sessions of the user it is given, not those of the signed-in caller (an admin signing another user out)', async () => {
    const store = memoryStore()
    const { app, errors } = coreApp({ store }, (a) =>
      a.post('/end-user', async (c) => {
        const { sub } = (await c.req.json()) as { sub: string }
        return c.json({ ended: await destroyUserSessions(c, sub) })
      }),
    )
    const admin = new CookieJar()
    const alice = new CookieJar()
    const aliceOther = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'admin' } }, jar: admin })).status).toBe(200)
    expect((await call(app, '/login', { body: { user: { sub: 'alice' } }, jar: alice })).status).toBe(200)
    expect((await call(app, '/login', { body: { user: { sub: 'alice' } }, jar: aliceOther })).status).toBe(200)
    const res = await call(app, '/end-user', { body: { sub: 'alice' }, jar: admin })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ended: 2 })
    // The admin's own session is not the user's: it stays, and its cookies are left alone.
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await readSession(app, { jar: admin })).session?.user.sub).toBe('admin')
    expect((await readSession(app, { jar: alice })).session).toBeNull()
    expect((await readSession(app, { jar: aliceOther })).session).toBeNull()
    expect(errors).toEqual([])
  })
})
