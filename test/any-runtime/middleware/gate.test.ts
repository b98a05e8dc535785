import { Hono } from 'hono'
import { cors } from 'hono/cors'
import { describe, expect, it } from 'vitest'
import {
  SessionConfigError,
  SessionNotMountedError,
  createGate,
  edgeSession,
  getSession,
  memoryStore,
  onboardingGate,
} from '../../../src'
import type { SessionStore } from '../../../src'
import {
  CookieJar,
  METHODS,
  OLD_SECRET,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  createOnboardingApp,
  jarWith,
  navigation,
  postJson,
  setCookieNames,
  setCookieValue,
  storeApp,
  uniqueSub,
} from '../../helpers'
import type { OnboardingOptions } from '../../../src'

const ONBOARDING_REQUIRED = '{"error":"onboarding_required","onboarding":"/onboarding"}'

describe('gate: signed in, onboarding not complete', () => {
  it('redirects page navigations (303) to the onboarding page with returnTo = path + query', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const byFetchMetadata = await app.request('/explore?tab=1&q=a%20b', { headers: navigation(jar.header) })
    expect(byFetchMetadata.status).toBe(303)
    expect(byFetchMetadata.headers.get('location')).toBe(
      `/onboarding?returnTo=${encodeURIComponent('/explore?tab=1&q=a%20b')}`,
    )
    expect(byFetchMetadata.headers.get('cache-control')).toBe('private, no-store')

    // No Fetch Metadata (older browsers, curl): Accept decides.
    const byAccept = await app.request('/explore', { headers: { accept: 'text/html', cookie: jar.header } })
    expect(byAccept.status).toBe(303)
    const navigateOnly = await app.request('/explore', {
      headers: { 'sec-fetch-mode': 'navigate', cookie: jar.header },
    })
    expect(navigateOnly.status).toBe(303)
    const head = await app.request('/explore', { method: 'HEAD', headers: navigation(jar.header) })
    expect(head.status).toBe(303)
    expect(head.headers.get('location')).toBe('/onboarding?returnTo=%2Fexplore')
    expect(hits.protected).toBe(0)
  })

  it('carries a returnTo of up to 2 048 characters; a longer one is dropped, not cut', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const at = (target: string) => app.request(target, { headers: navigation(jar.header) })
    const longest = `/explore?q=${'a'.repeat(2048 - '/explore?q='.length)}`
    expect((await at(longest)).headers.get('location')).toBe(`/onboarding?returnTo=${encodeURIComponent(longest)}`)
    const tooLong = await at(`${longest}b`)
    expect(tooLong.status).toBe(303)
    expect(tooLong.headers.get('location')).toBe('/onboarding')
  })

  it('answers everything else with 403 and exactly the onboarding_required JSON', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PREFERENCES' })
    for (const method of METHODS) {
      const res = await app.request('/explore', { method, headers: apiCall(jar.header) })
      expect(res.status, method).toBe(403)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect(res.headers.get('cache-control')).toBe('private, no-store')
      if (method !== 'HEAD') expect(await res.text()).toBe(ONBOARDING_REQUIRED)
    }
    // A form post is a navigation but not a GET: 403 as well.
    const formPost = await app.request('/profile', {
      method: 'POST',
      headers: navigation(jar.header),
      body: new URLSearchParams({ displayName: 'x' }),
    })
    expect(formPost.status).toBe(403)
    // A script's fetch that happens to accept HTML: Fetch Metadata says it is not a navigation.
    const fetchHtml = await app.request('/explore', {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'cors', cookie: jar.header },
    })
    expect(fetchHtml.status).toBe(403)
    // No Accept, no Fetch Metadata: not a page.
    const bare = await app.request('/explore', { headers: { cookie: jar.header } })
    expect(bare.status).toBe(403)
    expect(hits.protected).toBe(0)
  })

  it('keeps the default allowed paths reachable', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const allowed = [
      '/onboarding',
      '/onboarding/',
      '/onboarding/profile',
      '/onboarding?returnTo=%2Fexplore',
      '/auth/session',
      '/auth/callback',
      '/static/app.js',
      '/assets/site.css',
      '/favicon.ico',
      '/robots.txt',
      '/signin',
      '/signout',
      '/callback/github',
      '/api/auth/session',
    ]
    for (const path of allowed) {
      for (const headers of [navigation(jar.header), apiCall(jar.header)]) {
        const res = await app.request(path, { headers })
        expect(res.status, path).toBe(200)
      }
    }
    for (const path of ['/login', '/logout']) {
      const res = await app.request(path, { method: 'POST', headers: apiCall(jar.header), body: '{}' })
      expect([200, 401], path).toContain(res.status)
    }
    expect(hits.paths).toEqual([])
  })

  it('accepts custom allow rules: exact string, prefix, RegExp and function', async () => {
    const { app, hits } = createOnboardingApp({
      onboarding: { allow: ['/help', '/docs/*', /^\/public\//, (path) => path === '/health'] },
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ['/help', '/help/', '/docs', '/docs/a/b', '/public/x.png', '/health']) {
      const res = await app.request(path, { headers: apiCall(jar.header) })
      expect(res.status, path).toBe(200)
    }
    expect(hits.protected).toBe(6)
    for (const path of ['/helpx', '/help/more', '/docsx', '/publicx', '/public', '/healthz', '/HEALTH']) {
      const res = await app.request(path, { headers: apiCall(jar.header) })
      expect(res.status, path).toBe(403)
    }
    expect(hits.protected).toBe(6)
  })

  it('never redirects the onboarding page itself, and every redirect lands on a page that answers', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ['/explore', '/settings/profile?x=1', '/', '//explore', '/EXPLORE']) {
      const res = await app.request(path, { headers: navigation(jar.header) })
      expect(res.status, path).toBe(303)
      const location = res.headers.get('location') ?? ''
      expect(location.startsWith('/onboarding?returnTo=')).toBe(true)
      const landed = await app.request(location, { headers: navigation(jar.header) })
      expect(landed.status, location).toBe(200)
    }
  })

  it('re-seals a rotated cookie even on the response that blocks the request', async () => {
    const { app } = createOnboardingApp()
    const old = await jarWith({ onboardingStep: 'PROFILE' }, { secret: OLD_SECRET })
    const app2 = new Hono()
    app2.use(edgeSession({ secret: [SECRET, OLD_SECRET], onboarding: {} }))
    app2.all('*', (c) => c.text('protected'))
    const res = await app2.request('/explore', { headers: navigation(old.header) })
    expect(res.status).toBe(303)
    expect(setCookieNames(res)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(setCookieValue(res, SESSION)).not.toBe(old.cookies.get(SESSION))
    // The re-sealed cookie opens with the new secret alone.
    const jar = new CookieJar().apply(res)
    const check = await app.request('/auth/session', { headers: apiCall(jar.header) })
    expect(((await check.json()) as { onboardingStep: string }).onboardingStep).toBe('PROFILE')
  })
})

describe('gate: finished users', () => {
  it('lets a finished user through and sends them on from the onboarding page', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { home: '/home' } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const explore = await app.request('/explore', { headers: navigation(jar.header) })
    expect(explore.status).toBe(200)
    expect(hits.protected).toBe(1)

    const plain = await app.request('/onboarding', { headers: navigation(jar.header) })
    expect(plain.status).toBe(303)
    expect(plain.headers.get('location')).toBe('/home')
    const back = await app.request(`/onboarding?returnTo=${encodeURIComponent('/explore?tab=2&q=a+b')}`, {
      headers: navigation(jar.header),
    })
    expect(back.status).toBe(303)
    expect(back.headers.get('location')).toBe('/explore?tab=2&q=a+b')
    // Not a navigation (a script polling the step): no redirect.
    const poll = await app.request('/onboarding', { headers: apiCall(jar.header) })
    expect(poll.status).toBe(200)
  })

  it('sends a finished user from the onboarding page to home, "/" by default', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request('/onboarding', { headers: navigation(jar.header) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/')
  })

  it('uses isComplete when given', async () => {
    const { app, hits } = createOnboardingApp({
      onboarding: { isComplete: (s) => (s as { displayName?: string }).displayName !== undefined },
    })
    const without = await jarWith({ onboardingStep: 'COMPLETED' })
    expect((await app.request('/explore', { headers: apiCall(without.header) })).status).toBe(403)
    const withName = await jarWith({ displayName: 'Ada' })
    expect((await app.request('/explore', { headers: apiCall(withName.header) })).status).toBe(200)
    expect(hits.protected).toBe(1)
  })
})

describe('gate: anonymous requests', () => {
  it('pass by default', async () => {
    const { app, hits } = createOnboardingApp()
    expect((await app.request('/explore', { headers: navigation() })).status).toBe(200)
    expect((await app.request('/explore', { method: 'POST', headers: apiCall() })).status).toBe(200)
    expect(hits.protected).toBe(2)
  })

  it('with protect + loginPath: navigations go to login with returnTo, the rest get 401 JSON', async () => {
    const { app, hits } = createOnboardingApp({
      onboarding: { protect: ['/explore', '/admin/*'], loginPath: '/signin' },
    })
    const nav = await app.request('/admin/users?page=2', { headers: navigation() })
    expect(nav.status).toBe(303)
    expect(nav.headers.get('location')).toBe(`/signin?returnTo=${encodeURIComponent('/admin/users?page=2')}`)
    expect(nav.headers.get('cache-control')).toBe('private, no-store')
    for (const method of METHODS) {
      const res = await app.request('/explore', { method, headers: apiCall() })
      expect(res.status, method).toBe(401)
      expect(res.headers.get('cache-control'), method).toBe('private, no-store')
      if (method !== 'HEAD') expect(await res.text()).toBe('{"error":"login_required","login":"/signin"}')
    }
    expect(hits.protected).toBe(0)
    // The login page and unprotected paths stay reachable.
    expect((await app.request('/signin', { headers: navigation() })).status).toBe(200)
    expect((await app.request('/pricing', { headers: navigation() })).status).toBe(200)
    expect(hits.protected).toBe(1)
  })

  it('with protect, a signed-in user who finished passes', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/*'] } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(200)
    expect(hits.protected).toBe(1)
  })
})

describe('gate: a session the store cannot read', () => {
  /** A memory store whose reads can fail, or miss as a location the sign-in has not reached yet. */
  function switchableStore(settleMs?: number) {
    const inner = memoryStore()
    const mode = { get: 'ok' as 'ok' | 'fail' | 'miss' }
    const store: SessionStore = {
      get: (sid) =>
        mode.get === 'fail'
          ? Promise.reject(new Error('store down'))
          : mode.get === 'miss'
            ? Promise.resolve(null)
            : inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      delete: (sid) => inner.delete(sid),
      ...(settleMs === undefined ? {} : { settleMs }),
    }
    return { store, mode }
  }

  async function expectUnavailable(app: Hono, cookie: string) {
    const nav = await app.request('/private/page', { headers: navigation(cookie) })
    expect(nav.status).toBe(503)
    expect(nav.headers.get('location')).toBeNull()
    expect(nav.headers.get('retry-after')).toBe('1')
    expect(nav.headers.get('cache-control')).toBe('private, no-store')
    expect(nav.headers.get('content-type')).toMatch(/^text\/html/)
    expect(nav.headers.getSetCookie()).toEqual([])
    const api = await app.request('/private/page', { method: 'POST', headers: apiCall(cookie) })
    expect(api.status).toBe(503)
    expect(api.headers.get('retry-after')).toBe('1')
    expect(api.headers.get('cache-control')).toBe('private, no-store')
    expect(await api.text()).toBe('{"error":"session_unavailable"}')
  }

  const onboarding = { protect: ['/private/*'], loginPath: '/signin' }

  it('a store that fails the read: protected paths answer 503 with Retry-After, not a sign-in', async () => {
    const { store, mode } = switchableStore()
    const { app } = storeApp(store, { onboarding, storeTimeout: 50 })
    const jar = new CookieJar().apply(
      await app.request('/login', { method: 'POST', body: JSON.stringify({ sub: uniqueSub('gate-down') }) }),
    )
    mode.get = 'fail'
    await expectUnavailable(app, jar.header)
    // Without a session cookie it is a plain sign-out: to the login page.
    expect((await app.request('/private/page', { headers: navigation() })).status).toBe(303)
    // Unprotected paths still pass.
    expect((await app.request('/session', { headers: apiCall(jar.header) })).status).toBe(200)
  })

  it('a fresh sign-in the store cannot see yet (settleMs): 503, not back to login', async () => {
    const { store, mode } = switchableStore(10 ** 9)
    const { app, invalid } = storeApp(store, { onboarding })
    const jar = new CookieJar().apply(
      await app.request('/login', { method: 'POST', body: JSON.stringify({ sub: uniqueSub('gate-lag') }) }),
    )
    mode.get = 'miss'
    await expectUnavailable(app, jar.header)
    expect(invalid).toContain('store-pending')
    mode.get = 'ok'
    expect((await app.request('/private/page', { headers: navigation(jar.header) })).status).toBe(404)
  })
})

describe('gate: finishing onboarding', () => {
  it('the response that finishes carries the new cookie; the next request passes; same session, no re-login', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = new CookieJar()
    const login = await app.request('/login', postJson({ username: 'ada', password: 'pw-ada' }))
    expect(login.status).toBe(200)
    jar.apply(login)
    const before = (await (await app.request('/auth/session', { headers: apiCall(jar.header) })).json()) as {
      internal: { sid: string }
    }

    expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(303)
    const profile = await app.request('/onboarding/profile', postJson({ displayName: 'Ada' }, jar.header))
    expect(profile.status).toBe(200)
    jar.apply(profile)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(303)

    const finish = await app.request('/onboarding/finish', { method: 'POST', headers: apiCall(jar.header) })
    expect(finish.status).toBe(303)
    expect(finish.headers.get('location')).toBe('/explore')
    expect(setCookieNames(finish)).toEqual([SESSION, ...SESSION_CHUNKS])
    jar.apply(finish)

    const explore = await app.request('/explore', { headers: navigation(jar.header) })
    expect(explore.status).toBe(200)
    expect(hits.protected).toBe(1)
    const after = (await (await app.request('/auth/session', { headers: apiCall(jar.header) })).json()) as {
      internal: { sid: string }
      onboardingStep: string
      displayName: string
      role: string
    }
    expect(after).toMatchObject({ onboardingStep: 'COMPLETED', displayName: 'Ada', role: 'member' })
    expect(after.internal.sid).toBe(before.internal.sid)
  })
})

describe('onboardingGate() on its own', () => {
  function gatedApp() {
    const app = new Hono()
    let reached = 0
    app.use(edgeSession({ secret: SECRET }))
    app.use('/app/*', onboardingGate({ path: '/app/welcome', home: '/app/home' }))
    app.get('/app/welcome', (c) => c.html('welcome'))
    app.get('/app/*', (c) => {
      reached++
      return c.html('app')
    })
    app.get('/elsewhere', (c) => c.json(getSession(c)))
    return { app, reached: () => reached }
  }

  it('gates only where it is mounted, with its own entry path', async () => {
    const { app, reached } = gatedApp()
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    const nav = await app.request('/app/dashboard?x=1', { headers: navigation(mid.header) })
    expect(nav.status).toBe(303)
    expect(nav.headers.get('location')).toBe(`/app/welcome?returnTo=${encodeURIComponent('/app/dashboard?x=1')}`)
    const api = await app.request('/app/dashboard', { method: 'DELETE', headers: apiCall(mid.header) })
    expect(api.status).toBe(403)
    expect(await api.text()).toBe('{"error":"onboarding_required","onboarding":"/app/welcome"}')
    expect((await app.request('/app/welcome', { headers: navigation(mid.header) })).status).toBe(200)
    expect((await app.request('/elsewhere', { headers: apiCall(mid.header) })).status).toBe(200)
    expect(reached()).toBe(0)

    const done = await jarWith({ onboardingStep: 'COMPLETED' })
    expect((await app.request('/app/dashboard', { headers: navigation(done.header) })).status).toBe(200)
    const welcome = await app.request('/app/welcome', { headers: navigation(done.header) })
    expect(welcome.headers.get('location')).toBe('/app/home')
    expect(reached()).toBe(1)
  })

  it('adds the session cookies to the response it blocks with', async () => {
    const { app } = gatedApp()
    const app2 = new Hono()
    app2.use(edgeSession({ secret: [SECRET, OLD_SECRET] }))
    app2.use('/app/*', onboardingGate())
    app2.all('*', (c) => c.text('in'))
    const old = await jarWith({ onboardingStep: 'PROFILE' }, { secret: OLD_SECRET })
    const res = await app2.request('/app/x', { headers: apiCall(old.header) })
    expect(res.status).toBe(403)
    expect(setCookieNames(res)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(app).toBeDefined()
  })

  it('throws SessionNotMountedError without edgeSession', async () => {
    const bare = new Hono()
    let caught: unknown
    bare.onError((error, c) => {
      caught = error
      return c.text('error', 500)
    })
    bare.use(onboardingGate())
    bare.get('/', (c) => c.text('x'))
    expect((await bare.request('/')).status).toBe(500)
    expect(caught).toBeInstanceOf(SessionNotMountedError)
  })
})

describe('gate options are checked when the app starts', () => {
  it.each([
    [{ path: '//evil.com' }],
    [{ path: 'onboarding' }],
    [{ path: '/onboarding?x=1' }],
    [{ home: 'https://evil.com' }],
    [{ home: '/onboarding' }],
    [{ home: '/Onboarding/step' }],
    [{ loginPath: '/\\evil' }],
    [{ allow: ['relative'] }],
    [{ protect: [42 as unknown as string] }],
    [{ isComplete: 'yes' as unknown as () => boolean }],
  ])('refuses %j', (options) => {
    expect(() => createGate(options)).toThrow(SessionConfigError)
    expect(() => edgeSession({ secret: SECRET, onboarding: options })).toThrow(SessionConfigError)
  })
})

describe('gate: reads the session only where the path needs it', () => {
  it('consults isComplete for gated paths and the entry page, not for allowed ones (assets, auth)', async () => {
    const asked: string[] = []
    const { app } = createOnboardingApp({
      onboarding: {
        isComplete: (s) => {
          asked.push((s as { onboardingStep?: string }).onboardingStep ?? '')
          return (s as { onboardingStep?: string }).onboardingStep === 'COMPLETED'
        },
      },
    })
    for (const step of ['PROFILE', 'COMPLETED'] as const) {
      const jar = await jarWith({ onboardingStep: step })
      asked.length = 0
      await app.request('/assets/app.css', { headers: { cookie: jar.header } })
      await app.request('/static/logo.svg', { headers: { cookie: jar.header } })
      await app.request('/onboarding/step-2', { headers: navigation(jar.header) })
      expect(asked, step).toEqual([])
      await app.request('/explore', { headers: navigation(jar.header) })
      await app.request('/onboarding', { headers: navigation(jar.header) })
      expect(asked, step).toEqual([step, step])
    }
  })
})

describe('gate: CORS preflights', () => {
  const PREFLIGHT = {
    origin: 'https://app.example',
    'access-control-request-method': 'POST',
    'access-control-request-headers': 'content-type',
  }

  it('blocks an OPTIONS carrying Access-Control-Request-Method: any client can send it, and an app.all() handler would answer it', async () => {
    // Letting "preflights" through would run catch-alls, proxies and app.all() handlers for a
    // forged OPTIONS, signed out on a protected path or mid-onboarding with the session attached.
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/admin/*'] } })
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    expect((await app.request('/admin/users', { method: 'OPTIONS', headers: apiCall('', PREFLIGHT) })).status).toBe(401)
    expect((await app.request('/explore', { method: 'OPTIONS', headers: apiCall(mid.header, PREFLIGHT) })).status).toBe(
      403,
    )
    expect(hits.paths).toEqual([])
  })

  it('with cors() mounted before edgeSession, preflights succeed and the credentialed call is still gated', async () => {
    const reached: string[] = []
    const app = new Hono()
    app.use(cors({ origin: 'https://app.example', credentials: true }))
    app.use(edgeSession({ secret: SECRET, onboarding: { protect: ['/api/*'] } }))
    app.all('*', (c) => {
      reached.push(`${c.req.method} ${c.req.path}`)
      return c.json({ ok: true })
    })
    const preflight = await app.request('/api/x', { method: 'OPTIONS', headers: PREFLIGHT })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example')
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true')
    const anonymous = await app.request('/api/x', {
      method: 'POST',
      headers: apiCall('', { origin: 'https://app.example' }),
    })
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get('access-control-allow-origin')).toBe('https://app.example')
    const done = await jarWith({ onboardingStep: 'COMPLETED' })
    const signedIn = await app.request('/api/x', {
      method: 'POST',
      headers: apiCall(done.header, { origin: 'https://app.example' }),
    })
    expect(signedIn.status).toBe(200)
    expect(reached).toEqual(['POST /api/x'])
  })
})

describe('gate: under basePath', () => {
  it('matches full request paths: the root defaults do not cover /app/logout; passing the prefixed paths does', async () => {
    const build = (onboarding: Parameters<typeof edgeSession>[0]['onboarding']) => {
      const app = new Hono().basePath('/app')
      app.use(edgeSession({ secret: SECRET, onboarding }))
      app.post('/logout', (c) => c.json({ out: true }))
      app.get('/onboarding', (c) => c.text('onboarding'))
      return app
    }
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    const defaults = build({ path: '/app/onboarding' })
    expect((await defaults.request('/app/logout', { method: 'POST', headers: apiCall(mid.header) })).status).toBe(403)
    expect((await defaults.request('/app/onboarding', { headers: navigation(mid.header) })).status).toBe(200)
    const prefixed = build({ path: '/app/onboarding', allow: ['/app/logout'] })
    expect((await prefixed.request('/app/logout', { method: 'POST', headers: apiCall(mid.header) })).status).toBe(200)
  })
})

/** createGate used as its JSDoc shows: a decision called with getSession(c). */
function createGateApp(options: OnboardingOptions) {
  let reached = 0
  const decide = createGate(options)
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET }))
  app.use('/app/*', async (c, next) => decide(c, getSession(c)) ?? next())
  app.all('*', (c) => {
    reached++
    return c.text('in')
  })
  return { app, reached: () => reached }
}

describe('gate: createGate with getSession(c)', () => {
  it('lets an anonymous request through (null session), and still gates a signed-in one', async () => {
    const { app, reached } = createGateApp({ path: '/app/welcome' })
    const anonymous = await app.request('/app/dashboard', { headers: navigation() })
    expect(anonymous.status).toBe(200)
    expect(reached()).toBe(1)
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    const blocked = await app.request('/app/dashboard', { headers: apiCall(mid.header) })
    expect(blocked.status).toBe(403)
    expect(reached()).toBe(1)
  })

  it('applies protect to an anonymous request (null session): 401 JSON, not the onboarding answer', async () => {
    const { app, reached } = createGateApp({ path: '/app/welcome', protect: ['/app/*'], loginPath: '/login' })
    const res = await app.request('/app/dashboard', { headers: apiCall() })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'login_required', login: '/login' })
    expect(reached()).toBe(0)
  })
})

describe('gate: returnTo length', () => {
  it('drops returnTo when the blocked URL is longer than a returnTo may be (2048 chars)', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const long = `/explore?q=${'a'.repeat(2100)}`
    const res = await app.request(long, { headers: navigation(jar.header) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/onboarding')
    // Control: at the limit, returnTo is kept.
    const fits = `/explore?q=${'a'.repeat(2048 - '/explore?q='.length)}`
    const kept = await app.request(fits, { headers: navigation(jar.header) })
    expect(kept.headers.get('location')).toBe(`/onboarding?returnTo=${encodeURIComponent(fits)}`)
    expect(hits.protected).toBe(0)
  })

  it('does the same for the login redirect of protect', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/explore'] } })
    const res = await app.request(`/explore?q=${'a'.repeat(2100)}`, { headers: navigation() })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login')
    expect(hits.protected).toBe(0)
  })
})

describe('gate: the entry page in any spelling', () => {
  it('sends a finished user on from /onboarding/ and /onboarding// too, not only from /onboarding', async () => {
    const { app } = createOnboardingApp({ onboarding: { home: '/home' } })
    const done = await jarWith({ onboardingStep: 'COMPLETED' })
    for (const path of ['/onboarding', '/onboarding/', '/onboarding//']) {
      const res = await app.request(path, { headers: navigation(done.header) })
      expect(res.status, path).toBe(303)
      expect(res.headers.get('location'), path).toBe('/home')
    }
    // Control: a sub-page stays reachable for a finished user.
    expect((await app.request('/onboarding/profile', { headers: navigation(done.header) })).status).toBe(200)
  })
})
