import { setCookie } from 'hono/cookie'
import { afterEach, describe, expect, it } from 'vitest'
import { createSession } from '../../../src'
import {
  SESSION_CHUNKS,
  CookieJar,
  T0,
  call,
  cleared,
  coreApp,
  readSession,
  restoreClock,
  setCookieMap,
  useClock,
  written,
} from '../../helpers'

afterEach(restoreClock)

describe('secure defaults', () => {
  it('__Host-session, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain, Max-Age = absolute lifetime', async () => {
    const { app } = coreApp()
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } } })
    const lines = res.headers.getSetCookie()
    // The session cookie, then the clearing of every chunk name it could also take (with the same attributes).
    expect(lines).toHaveLength(4)
    expect(lines[0]).toMatch(/^__Host-session=[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+; /)
    const c = setCookieMap(res).get('__Host-session')
    expect(c?.attributes).toEqual({ 'max-age': '28800', path: '/', httponly: true, secure: true, samesite: 'Lax' })
    expect(cleared(res)).toEqual(SESSION_CHUNKS)
    for (const name of SESSION_CHUNKS)
      expect(setCookieMap(res).get(name)?.attributes).toEqual({ ...c?.attributes, 'max-age': '0' })
    expect(res.headers.get('cache-control')).toBe('private, no-store')
  })

  it('the activity cookie carries the same attributes', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    clock.set(T0 + 5 * 60_000)
    const { res } = await readSession(app, { jar })
    expect(written(res).get('__Host-session-activity')?.attributes).toEqual({
      'max-age': '1800',
      path: '/',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    })
  })

  it('cookie.secure: false -> plain name, no Secure (local http development)', async () => {
    const { app } = coreApp({ cookie: { secure: false } })
    const jar = new CookieJar()
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    const c = setCookieMap(res).get('session')
    expect(c?.attributes).toEqual({ 'max-age': '28800', path: '/', httponly: true, samesite: 'Lax' })
    expect((await readSession(app, { jar })).session?.user.sub).toBe('u1')
    // A secure app does not read the plain cookie.
    expect((await readSession(coreApp().app, { jar })).session).toBeNull()
  })

  it('cookie.domain -> __Secure- prefix with Domain', async () => {
    const { app } = coreApp({ cookie: { domain: 'example.com' } })
    const jar = new CookieJar()
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    const c = setCookieMap(res).get('__Secure-session')
    expect(c?.attributes).toEqual({
      'max-age': '28800',
      domain: 'example.com',
      path: '/',
      httponly: true,
      secure: true,
      samesite: 'Lax',
    })
    expect((await readSession(app, { jar })).session?.user.sub).toBe('u1')
    const out = await call(app, '/logout', { method: 'POST', jar })
    expect(setCookieMap(out).get('__Secure-session')?.attributes).toMatchObject({
      'max-age': '0',
      domain: 'example.com',
      secure: true,
    })
  })

  it('cookie.name and sameSite overrides', async () => {
    const { app } = coreApp({ cookie: { name: 'sid', sameSite: 'Strict' } })
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } } })
    expect(setCookieMap(res).get('__Host-sid')?.attributes.samesite).toBe('Strict')
  })
})

describe('Cache-Control: private, no-store on every response that sets or clears', () => {
  it('login, update, activity, logout, refused cookie, and plain signed-in reads; not anonymous reads', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const jar = new CookieJar()
    const cc = (res: Response) => res.headers.get('cache-control')
    expect(cc(await call(app, '/login', { body: { user: { sub: 'u1' } }, jar }))).toBe('private, no-store')
    // A signed-in read writes nothing, and is still kept out of caches (cacheControl).
    expect((await readSession(app, { jar })).res.headers.getSetCookie()).toEqual([])
    expect(cc((await readSession(app, { jar })).res)).toBe('private, no-store')
    expect(cc((await readSession(app)).res)).toBeNull()
    expect(cc(await call(app, '/update', { body: { a: 1 }, jar }))).toBe('private, no-store')
    clock.set(T0 + 2 * 60_000)
    expect(cc((await readSession(app, { jar })).res)).toBe('private, no-store')
    expect(cc(await call(app, '/logout', { method: 'POST', jar }))).toBe('private, no-store')
    const refused = (await readSession(app, { cookie: '__Host-session=garbage' })).res
    expect(cleared(refused)).toEqual(['__Host-session', ...SESSION_CHUNKS])
    expect(cc(refused)).toBe('private, no-store')
  })

  it("overrides the handler's own public Cache-Control when a cookie is written, and keeps the handler's cookies", async () => {
    const { app } = coreApp({}, (a) =>
      a.post('/cached-login', async (c) => {
        await createSession(c, { user: { sub: 'u1' } })
        setCookie(c, 'theme', 'dark', { path: '/' })
        c.header('Cache-Control', 'public, max-age=3600')
        return c.text('ok')
      }),
    )
    const res = await call(app, '/cached-login', { method: 'POST' })
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    const names = [...setCookieMap(res).keys()].sort()
    expect(names).toEqual(['__Host-session', ...SESSION_CHUNKS, 'theme'])
  })

  it('works when the handler returns a response with immutable headers (Response.redirect)', async () => {
    const { app } = coreApp({}, (a) =>
      a.post('/redirect-login', async (c) => {
        await createSession(c, { user: { sub: 'u1' } })
        return Response.redirect('https://example.com/home', 303)
      }),
    )
    const res = await call(app, '/redirect-login', { method: 'POST' })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://example.com/home')
    expect([...written(res).keys()]).toEqual(['__Host-session'])
    expect(res.headers.get('cache-control')).toBe('private, no-store')
  })
})

describe('server errors keep the session as it was', () => {
  it('a 5xx response discards pending cookie writes', async () => {
    const { app } = coreApp({}, (a) =>
      a.post('/boom', async (c) => {
        await createSession(c, { user: { sub: 'u2' } })
        throw new Error('boom')
      }),
    )
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
    const res = await call(app, '/boom', { method: 'POST', jar })
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await readSession(app, { jar })).session?.user.sub).toBe('u1')
  })
})
