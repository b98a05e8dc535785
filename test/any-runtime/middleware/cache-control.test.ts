/**
 * Cache-Control on signed-in responses: a personal page must not come back from any cache (a CDN,
 * or the browser's Back button after sign-out). Anonymous responses are the app's business.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import {
  type EdgeSessionOptions,
  SessionConfigError,
  createSession,
  destroySession,
  edgeSession,
  getSession,
} from '../../../src'
import { ACTIVITY, SECRET, apiCall, jarWith, navigation, setCookieNames } from '../../helpers'

const NO_STORE = 'private, no-store'
const CDN_HEADERS = { 'CDN-Cache-Control': 'max-age=3600', 'Cloudflare-CDN-Cache-Control': 'max-age=3600' }

/** An app whose GET /do answers with `handler`, plus sign-in and sign-out routes. */
function appWith(handler: (c: Context) => Response | Promise<Response>, options: Partial<EdgeSessionOptions> = {}) {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, ...options }))
  app.get('/do', handler)
  app.post('/login', async (c) => {
    await createSession(c, { user: { sub: 'u1' } })
    return c.json({ ok: true }, 200, { 'Cache-Control': 'public, max-age=600', ...CDN_HEADERS })
  })
  app.post('/logout', async (c) => {
    await destroySession(c)
    return new Response(null, {
      status: 303,
      headers: { Location: '/login', 'Cache-Control': 'public, max-age=600', ...CDN_HEADERS },
    })
  })
  return app
}

/** A signed-in API call that writes no cookie (within the touch interval, not a page view). */
async function signedIn(app: Hono, path = '/do'): Promise<Response> {
  const jar = await jarWith({ onboardingStep: 'COMPLETED' })
  const res = await app.request(path, { headers: apiCall(jar.header) })
  expect(res.headers.getSetCookie(), path).toEqual([])
  return res
}

describe('cacheControl: signed-in responses are private, no-store', () => {
  it('whatever the handler answers with: c.json, c.text, c.html, c.redirect, c.body, a Response it built', async () => {
    const handlers: Array<[string, (c: Context) => Response]> = [
      ['c.json', (c) => c.json(getSession(c))],
      ['c.text', (c) => c.text('hello')],
      ['c.html', (c) => c.html('<p>hello</p>')],
      ['c.redirect', (c) => c.redirect('/elsewhere', 302)],
      ['c.body', (c) => c.body(null, 204)],
      ['new Response', () => new Response('raw', { headers: { 'content-type': 'text/plain' } })],
      ['Response.json', () => Response.json({ raw: true })],
      // Headers that cannot change: copied once to carry the header.
      ['Response.redirect', () => Response.redirect('https://example.com/elsewhere', 302)],
    ]
    for (const [label, handler] of handlers) {
      const res = await signedIn(appWith(handler))
      expect(res.headers.get('cache-control'), label).toBe(NO_STORE)
    }
  })

  it("keeps the handler's own Cache-Control, however it was set", async () => {
    const handlers: Array<[string, (c: Context) => Response]> = [
      [
        'c.header',
        (c) => {
          c.header('Cache-Control', 'private, max-age=60')
          return c.text('hello')
        },
      ],
      ['c.json headers', (c) => c.json({}, 200, { 'cache-control': 'private, max-age=60' })],
      ['new Response', () => new Response('raw', { headers: { 'Cache-Control': 'private, max-age=60' } })],
    ]
    for (const [label, handler] of handlers) {
      const res = await signedIn(appWith(handler))
      expect(res.headers.get('cache-control'), label).toBe('private, max-age=60')
    }
  })

  it("is on c.json()/c.html() responses before middleware mounted after it looks: Hono's cache() skips them", async () => {
    // Hono's cache() (Cache API) and similar middleware decide after the handler, before
    // edgeSession's own after-handler step: the mark must already be on the response they see.
    for (const [label, handler] of [
      ['c.json', (c: Context) => c.json(getSession(c))],
      ['c.html', (c: Context) => c.html('<p>hello</p>')],
    ] as const) {
      const seen: Array<string | null> = []
      const app = new Hono()
      app.use(edgeSession({ secret: SECRET }))
      app.use(async (c, next) => {
        await next()
        seen.push(c.res.headers.get('cache-control'))
      })
      app.get('/do', handler)
      await signedIn(app)
      expect(seen, label).toEqual([NO_STORE])
    }
  })

  it('leaves anonymous responses alone', async () => {
    for (const handler of [(c: Context) => c.text('hello'), () => new Response('raw')]) {
      const res = await appWith(handler).request('/do', { headers: navigation() })
      expect(res.headers.get('cache-control')).toBeNull()
    }
    const cached = await appWith((c) =>
      c.text('hello', 200, { 'Cache-Control': 'public, max-age=600', ...CDN_HEADERS }),
    ).request('/do', { headers: navigation() })
    expect(cached.headers.get('cache-control')).toBe('public, max-age=600')
    expect(cached.headers.get('cdn-cache-control')).toBe('max-age=3600')
  })

  it('a request with a refused cookie is anonymous: only the clearing response is marked', async () => {
    const app = appWith((c) => c.text('hello'))
    const res = await app.request('/do', { headers: navigation('__Host-session=forged') })
    expect(setCookieNames(res)).toContain('__Host-session')
    expect(res.headers.get('cache-control')).toBe(NO_STORE)
  })

  it("sign-in and sign-out: private, no-store over the handler's own, and no CDN cache headers", async () => {
    const app = appWith((c) => c.text('hello'))
    // Sign-in with no session before: nothing was set ahead of the handler, the finished response is changed.
    const login = await app.request('/login', { method: 'POST', headers: apiCall() })
    expect(login.headers.get('cache-control')).toBe(NO_STORE)
    expect(login.headers.get('cdn-cache-control')).toBeNull()
    expect(login.headers.get('cloudflare-cdn-cache-control')).toBeNull()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const logout = await app.request('/logout', { method: 'POST', headers: apiCall(jar.header) })
    expect(setCookieNames(logout)).toContain('__Host-session')
    expect(logout.headers.get('cache-control')).toBe(NO_STORE)
    expect(logout.headers.get('cdn-cache-control')).toBeNull()
    expect(logout.headers.get('cloudflare-cdn-cache-control')).toBeNull()
  })

  it('an activity write drops the CDN cache headers too', async () => {
    const app = appWith((c) => c.html('<p>page</p>', 200, { 'Cache-Control': 'private, max-age=60', ...CDN_HEADERS }))
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request('/do', { headers: navigation(jar.header) })
    expect(setCookieNames(res)).toEqual([ACTIVITY])
    expect(res.headers.get('cache-control')).toBe(NO_STORE)
    expect(res.headers.get('cdn-cache-control')).toBeNull()
    expect(res.headers.get('cloudflare-cdn-cache-control')).toBeNull()
  })

  it('false leaves signed-in responses that write no cookie as the handler made them; cookie writes are still no-store', async () => {
    for (const handler of [(c: Context) => c.text('hello'), () => new Response('raw')]) {
      const res = await signedIn(appWith(handler, { cacheControl: false }))
      expect(res.headers.get('cache-control')).toBeNull()
    }
    const app = appWith((c) => c.text('hello'), { cacheControl: false })
    const login = await app.request('/login', { method: 'POST', headers: apiCall() })
    expect(login.headers.get('cache-control')).toBe(NO_STORE)
    expect(login.headers.get('cdn-cache-control')).toBeNull()
  })

  it('is checked when the app starts: true or false only', () => {
    for (const value of ['no-store', 0, 1, null, {}]) {
      expect(() => edgeSession({ secret: SECRET, cacheControl: value as unknown as boolean }), String(value)).toThrow(
        SessionConfigError,
      )
      expect(() => edgeSession({ secret: SECRET, cacheControl: value as unknown as boolean })).toThrow(
        /cacheControl must be true or false/,
      )
    }
    for (const value of [true, false, undefined])
      expect(() => edgeSession({ secret: SECRET, cacheControl: value })).not.toThrow()
  })
})
