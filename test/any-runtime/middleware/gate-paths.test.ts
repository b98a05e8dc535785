import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { edgeSession, safeRedirectPath } from '../../../src'
import { METHODS, SECRET, apiCall, createOnboardingApp, decodeLikeAnOrigin, jarWith, navigation } from '../../helpers'
import type { OnboardingOptions } from '../../../src'
import { canonicalPath } from '../../../src/middleware/gate/paths'

/** Spellings of /explore that a router, a proxy or an origin server may treat as /explore. */
const EXPLORE_VARIANTS = [
  '/explore',
  '/explore/',
  '/explore//',
  '//explore',
  '///explore',
  '/EXPLORE',
  '/Explore/',
  '/%65xplore',
  '/%65%78%70%6c%6f%72%65',
  '/%2565xplore',
  '/explore%2F',
  '/explore%2f',
  '/explore%5C',
  '/explore/.',
  '/explore/./',
  '/./explore',
  '/x/../explore',
  '/Onboarding/../explore',
  '/onboarding/../explore',
  '/onboarding%2F..%2Fexplore',
  '/onboarding/..%2Fexplore',
  '/onboarding/..%2fexplore',
  '/onboarding/%2e%2e/explore',
  '/onboarding/%2E%2E%2Fexplore',
  '/onboarding/%252e%252e%252fexplore',
  '/onboarding/..%5Cexplore',
  '/onboarding\\..\\explore',
  '/onboarding/..\\explore',
  '/static/..%2Fexplore',
  '/static/%2e%2e%2fexplore',
  '/auth/..%2F..%2Fexplore',
  '/onboarding%2F..%2F..%2Fexplore%3Fx=1',
  // A malformed escape elsewhere in the path must not stop the rest from being decoded.
  '/static/..%2Fexplore%zz',
  '/static/%zz/..%2F..%2Fexplore',
  '/onboarding/%zz%2F..%2F..%2Fexplore',
  // Invalid UTF-8 in the same run as `../`: an origin decoding byte by byte (nginx) still sees the dots.
  '/static/%2e%2e%2f%ff/..%2fexplore',
]

describe('gate paths: a mid-onboarding user cannot reach a protected handler by any spelling', () => {
  for (const strict of [true, false]) {
    it(`blocks every variant for every method (new Hono({ strict: ${strict} }))`, async () => {
      const { app, hits } = createOnboardingApp({ strict })
      const jar = await jarWith({ onboardingStep: 'PROFILE' })
      for (const path of EXPLORE_VARIANTS) {
        for (const method of METHODS) {
          for (const headers of [navigation(jar.header), apiCall(jar.header)]) {
            const res = await app.request(path, { method, headers })
            expect([303, 403], `${method} ${path}`).toContain(res.status)
            if (res.status === 303) expect(res.headers.get('location')?.startsWith('/onboarding?returnTo=')).toBe(true)
          }
        }
      }
      expect(hits.paths).toEqual([])
    })
  }

  it('blocks variants that an allowed handler would forward to an origin that decodes paths', async () => {
    // The origin decodes and resolves the path the way many servers do (byte by byte, like nginx,
    // so a malformed escape stops nothing), and counts what reaches /explore.
    let originHits = 0
    const origin = new Hono()
    origin.all('*', (c) => {
      let path = new URL(c.req.url).pathname
      for (let i = 0; i < 3; i++)
        path = path.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
      const resolved = new URL(path.replace(/\\/g, '/').replace(/\/{2,}/g, '/'), 'http://origin').pathname.toLowerCase()
      if (resolved.replace(/\/$/, '') === '/explore') originHits++
      return c.text(resolved)
    })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, onboarding: {} }))
    // Allowed prefixes proxied as they are (a CDN-style pass-through).
    for (const prefix of ['/onboarding/*', '/static/*', '/auth/*']) app.all(prefix, (c) => origin.fetch(c.req.raw))
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of EXPLORE_VARIANTS) {
      for (const method of METHODS) {
        const res = await app.request(path, { method, headers: apiCall(jar.header) })
        expect([403], `${method} ${path}`).toContain(res.status)
      }
    }
    expect(originHits).toBe(0)
    // The allowed paths themselves still go through.
    const fine = await app.request('/static/app.js', { headers: apiCall(jar.header) })
    expect(await fine.text()).toBe('/static/app.js')
  })

  it('lets real onboarding sub-pages through, including encoded characters that stay inside them', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ['/onboarding/profile', '/onboarding/step%201', '/onboarding//profile', '/static/a%20b.js']) {
      const res = await app.request(path, { headers: navigation(jar.header) })
      expect(res.status, path).toBe(200)
    }
  })
})

describe('gate paths: protect catches every spelling for anonymous requests', () => {
  const PROTECT_VARIANTS = [
    ...EXPLORE_VARIANTS.filter((p) => !p.includes('onboarding') && !p.includes('static') && !p.includes('auth')),
    '/admin',
    '/admin/',
    '/admin/users',
    '/ADMIN/users',
    '//admin//users',
    '/%61dmin/users',
    '/admin%2Fusers',
    '/x/../admin/users',
    '/x/..%2Fadmin/users',
    '/login/..%2Fadmin',
    '/login%2F..%2Fexplore',
    '/x%zz/..%2F..%2Fadmin',
  ]

  for (const strict of [true, false]) {
    it(`redirects or refuses every variant for every method (strict: ${strict})`, async () => {
      const { app, hits } = createOnboardingApp({ strict, onboarding: { protect: ['/explore', '/admin/*', /^\/x\//] } })
      for (const path of PROTECT_VARIANTS) {
        for (const method of METHODS) {
          for (const headers of [navigation(), apiCall()]) {
            const res = await app.request(path, { method, headers })
            expect([303, 401], `${method} ${path}`).toContain(res.status)
            if (res.status === 303) expect(res.headers.get('location')?.startsWith('/login?returnTo=')).toBe(true)
          }
        }
      }
      expect(hits.paths).toEqual([])
    })
  }

  it('catches a path Hono routes under a protected prefix even when its canonical form leaves it', async () => {
    // `/admin/..%2f` routes to `/admin/*` (Hono keeps %2F encoded) while its canonical form is `/`.
    const reached: string[] = []
    const app = new Hono()
    app.use(
      edgeSession({
        secret: SECRET,
        onboarding: { protect: ['/admin/*', /^\/reports\//, (path) => path.startsWith('/billing/')] },
      }),
    )
    app.get('/admin/*', (c) => {
      reached.push(c.req.path)
      return c.text('admin')
    })
    app.all('*', (c) => {
      reached.push(c.req.path)
      return c.text('other')
    })
    const paths = [
      '/admin/..%2f',
      '/admin/..%2Fpublic',
      '/admin/x/..%2F..%2F',
      '/admin/%2e%2e%2F',
      '/ADMIN/..%2f',
      '/reports/..%2fpublic',
      '/Reports/..%2fpublic',
      '/billing/..%2fpublic',
      '/BILLING/..%2fpublic',
    ]
    for (const path of paths) {
      const res = await app.request(path, { headers: apiCall() })
      expect(res.status, path).toBe(401)
    }
    expect(reached).toEqual([])
    // Control: paths outside the protected prefixes still pass.
    expect((await app.request('/public', { headers: apiCall() })).status).toBe(200)
    expect((await app.request('/administrator', { headers: apiCall() })).status).toBe(200)
  })

  it('with protect: ["/*"], only the exact login path is exempt', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/*'] } })
    for (const path of ['/login%2F..%2Fexplore', '/login/..%2Fexplore', '/LOGIN', '//login', '/login/x']) {
      const res = await app.request(path, { headers: apiCall() })
      expect(res.status, path).toBe(401)
    }
    expect(hits.paths).toEqual([])
    const login = await app.request('/login', { method: 'POST', headers: apiCall() })
    expect(login.status).toBe(401) // the login handler's own answer: bad credentials
    expect(await login.json()).toEqual({ error: 'bad_credentials' })
  })
})

/**
 * Stands for a servlet-style origin behind a catch-all proxy: drops `;` path parameters from each
 * segment (before decoding, as Tomcat does, and after, as some proxies do), reads Unicode
 * compatibility forms as their plain letters (NFKC: `／` is `/`, `ｅ` is `e`), decodes and resolves.
 * Answers with every path it may serve.
 */
function servletReadings(url: string): string[] {
  const raw = new URL(url).pathname
  const strip = (p: string) => p.replace(/;[^/\\]*/g, '')
  const decode = decodeLikeAnOrigin
  const resolve = (p: string) =>
    new URL(p.replace(/\\/g, '/').replace(/\/{2,}/g, '/'), 'http://origin').pathname.replace(/\/$/, '').toLowerCase() ||
    '/'
  const nfkc = (p: string) => decode(p).normalize('NFKC')
  return [
    ...new Set(
      [
        resolve(decode(strip(raw))),
        resolve(strip(decode(raw))),
        resolve(nfkc(raw)),
        resolve(strip(nfkc(raw))),
        resolve(decode(raw)),
      ].map((p) => decode(p)),
    ),
  ]
}

describe("gate paths: ';' path parameters and Unicode compatibility forms", () => {
  const PROTECTED = ['/explore', '/api/me']
  const ANONYMOUS = [
    '/explore;x',
    '/explore;jsessionid=ABC',
    '/explore/;x',
    '/api;x/me',
    '/api/me;x',
    '/api;/me',
    '/explore%3Bx',
    '/ｅｘｐｌｏｒｅ',
    '/ＥＸＰＬＯＲＥ',
    '/%EF%BD%85xplore',
    '/api／me',
    '/explore；x',
    '/a;x%2F..%2Fexplore',
  ]
  const MID_ONBOARDING = [
    '/static/..;/explore',
    '/assets/..;/api/me',
    '/onboarding/..;/explore',
    '/static/／..／explore',
    '/static/..;x/explore',
    '/static/%2e%2e;/explore',
    '/static/..%3B/explore',
    '/static/．．/explore',
    '/onboarding/..；/explore',
    '/auth/..;/..;/explore',
    '/static/%EF%BC%8F..%EF%BC%8Fexplore',
  ]

  it('the servlet-style origin reads each of these spellings as a protected path', () => {
    for (const path of [...ANONYMOUS, ...MID_ONBOARDING]) {
      expect(
        servletReadings(`http://x${path}`).some((p) => PROTECTED.includes(p)),
        path,
      ).toBe(true)
    }
  })

  it('protect blocks them for anonymous requests, every method, strict on and off', async () => {
    for (const strict of [true, false]) {
      const { app, hits } = createOnboardingApp({ strict, onboarding: { protect: ['/explore', '/api/*'] } })
      for (const path of ANONYMOUS) {
        for (const method of METHODS) {
          for (const headers of [navigation(), apiCall()]) {
            const res = await app.request(path, { method, headers })
            expect([303, 401], `${method} ${path}`).toContain(res.status)
          }
        }
      }
      expect(hits.paths).toEqual([])
    }
  })

  it('allow refuses them mid-onboarding, also behind a proxy to a servlet-style origin', async () => {
    let originHits = 0
    const origin = new Hono()
    origin.all('*', (c) => {
      if (servletReadings(c.req.url).some((p) => PROTECTED.includes(p))) originHits++
      return c.text('origin')
    })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, onboarding: {} }))
    for (const prefix of ['/onboarding/*', '/static/*', '/assets/*', '/auth/*'])
      app.all(prefix, (c) => origin.fetch(c.req.raw))
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of MID_ONBOARDING) {
      for (const method of METHODS) {
        for (const headers of [navigation(jar.header), apiCall(jar.header)]) {
          const res = await app.request(path, { method, headers })
          expect([303, 403], `${method} ${path}`).toContain(res.status)
        }
      }
    }
    expect(originHits).toBe(0)
  })

  it('controls: parameters and compatibility forms that stay inside an allowed path pass, unprotected ones are not blocked', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/explore', '/api/*'] } })
    for (const path of ['/explorer;x', '/café', '/ｈｅｌｌｏ', '/docs;v=1/explore']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(200)
    }
    expect(hits.paths.length).toBe(4)
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ['/static/app.js;v=1', '/onboarding/profile;x', '/static/ﬁle.js', '/assets/ｓｉｔｅ.css']) {
      expect((await app.request(path, { headers: apiCall(mid.header) })).status, path).toBe(200)
    }
  })
})

describe('returnTo: only same-origin relative paths', () => {
  const ATTACKS = [
    '//evil.com',
    '///evil.com',
    '/\\evil.com',
    '\\\\evil.com',
    'https://evil.com',
    'http:evil.com',
    'HTTPS://evil.com/explore',
    '/%2F%2Fevil.com',
    '/%2f%2fevil.com',
    '/%252F%252Fevil.com',
    '/%5Cevil.com',
    '/%5C%5Cevil.com',
    '/%09/evil.com',
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    '\t//evil.com',
    '/\t/evil.com',
    '/\n/evil.com',
    ' /explore',
    '/explore\r\nSet-Cookie: x=1',
    '/explore%0d%0aSet-Cookie:%20x=1',
    '/a/..//evil.com',
    '/.//evil.com',
    '/x/%2e%2e//evil.com',
    // The URL parser resolves the escaped dots, leaving /%2F%2Fevil.example: refused like that spelling.
    '/%2E%2E/%2F%2Fevil.example',
    '',
    `/${'a'.repeat(3000)}`,
  ]
  // Same-origin, but back to the onboarding page: a loop.
  const LOOPS = [
    '/onboarding',
    '/onboarding?returnTo=/onboarding',
    '/onboarding/profile',
    '/ONBOARDING',
    '/onboarding/',
    '/onboarding%2F',
    '/%6fnboarding',
    '/x/../onboarding',
  ]

  it.each([...ATTACKS, ...LOOPS].map((a) => [a]))('a finished user is sent home, not to %j', async (attack) => {
    const { app } = createOnboardingApp({ onboarding: { home: '/home' } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request(`/onboarding?returnTo=${encodeURIComponent(attack)}`, {
      headers: navigation(jar.header),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/home')
  })

  it('safeRedirectPath refuses every open-redirect attempt on its own', () => {
    for (const attack of ATTACKS)
      expect(safeRedirectPath(attack, 'http://localhost'), JSON.stringify(attack)).toBeUndefined()
    for (const loop of LOOPS) expect(safeRedirectPath(loop, 'http://localhost'), loop).toBeDefined()
  })

  it('also when the attack is not percent-encoded in the query', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    for (const query of [
      'returnTo=//evil.com',
      'returnTo=/\\evil.com',
      'returnTo=https://evil.com',
      'returnTo=/%2F%2Fevil.com',
      'returnTo=%2F%2Fevil.com',
    ]) {
      const res = await app.request(`/onboarding?${query}`, { headers: navigation(jar.header) })
      expect(res.headers.get('location'), query).toBe('/')
    }
  })

  it('keeps a legitimate target with its query', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    for (const target of [
      '/explore',
      '/explore?tab=1&q=a%20b',
      '/settings/profile#name',
      '/a/./b',
      '/search?q=%2F%2Fnot-a-host',
    ]) {
      const res = await app.request(`/onboarding?returnTo=${encodeURIComponent(target)}`, {
        headers: navigation(jar.header),
      })
      const location = res.headers.get('location') ?? ''
      expect(location, target).toBe(safeRedirectPath(target))
      expect(location.startsWith('/') && !location.startsWith('//')).toBe(true)
    }
    expect(safeRedirectPath('/explore?tab=1&q=a%20b')).toBe('/explore?tab=1&q=a%20b')
    expect(safeRedirectPath('/a/./b')).toBe('/a/b')
  })

  it('round-trips: the target a blocked navigation was headed for is where the finished user lands', async () => {
    const { app } = createOnboardingApp()
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    const blocked = await app.request('/explore?tab=1', { headers: navigation(mid.header) })
    const location = blocked.headers.get('location') ?? ''
    const done = await jarWith({ onboardingStep: 'COMPLETED' })
    const landed = await app.request(location, { headers: navigation(done.header) })
    expect(landed.headers.get('location')).toBe('/explore?tab=1')
  })
})

/** An app whose every path answers 200 and records the path a handler saw. */
function protectedApp(protect: OnboardingOptions['protect']) {
  const reached: string[] = []
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, onboarding: { protect } }))
  app.all('*', (c) => {
    reached.push(c.req.path)
    return c.text('ok')
  })
  return { app, reached }
}

describe('gate paths: protect rules', () => {
  it('a RegExp or function rule catches a path whose canonical form alone matches', async () => {
    // Hono keeps %2F encoded, so the routed path is one segment; its canonical form is /reports/x.
    const { app, reached } = protectedApp([/^\/reports\//, (path: string) => path.startsWith('/billing/')])
    for (const path of ['/a%2F..%2Freports%2Fx', '/a%2F..%2Fbilling%2Fx']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a RegExp or function rule catches the lower-cased canonical form', async () => {
    // Routed '/Reports%2Fx' and its lower-cased '/reports%2fx' do not match; '/reports/x' does.
    const { app, reached } = protectedApp([/^\/reports\//, (path: string) => path.startsWith('/billing/')])
    for (const path of ['/Reports%2Fx', '/BILLING%2Fx']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a RegExp or function rule sees the path without its trailing slash (a catch-all or an origin takes /x/ for /x)', async () => {
    // strict: true (the default) keeps the slash in c.req.path; strict: false strips it before the gate.
    const { app, reached } = protectedApp([/^\/billing$/, (path: string) => path === '/reports'])
    for (const path of ['/billing/', '/reports/']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a global or sticky RegExp keeps matching on every request (no lastIndex carried over)', async () => {
    const { app, reached } = protectedApp([/^\/admin/g, /^\/ops/y])
    for (let i = 0; i < 3; i++) {
      for (const path of ['/admin', '/ops'])
        expect((await app.request(path, { headers: apiCall() })).status, `${path} #${i}`).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('string rules written with upper-case letters still match, in any case', async () => {
    const { app, reached } = protectedApp(['/Admin/*', '/Reports'])
    for (const path of ['/Admin/users', '/admin/users', '/ADMIN', '/Reports', '/reports/']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('string rules are canonical too: "/account/" protects /account, "/a//b/*" protects /a/b/x', async () => {
    const { app, reached } = protectedApp(['/account/', '/team//billing/*'])
    for (const path of ['/account', '/account/', '/team/billing', '/team/billing/x']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a malformed escape does not stop non-ASCII escapes elsewhere from being decoded', async () => {
    // Canonical form: /données/secret%zz, under the protected prefix.
    expect(canonicalPath('/x%2F..%2Fdonn%C3%A9es%2Fsecret%zz')).toBe('/données/secret%zz')
    const { app, reached } = protectedApp(['/données/*'])
    const res = await app.request('/x%2F..%2Fdonn%C3%A9es%2Fsecret%zz', { headers: apiCall() })
    expect(res.status).toBe(401)
    expect(reached).toEqual([])
  })
})

describe('gate paths: allowed prefixes cannot be left by dot segments', () => {
  // Under /static/* as Hono routes them (%2F stays encoded), but /explore once canonical.
  const ESCAPES = [
    // `.` is not a segment that `..` can remove.
    '/static/.%2F..%2Fexplore',
    // Triple encoding: an origin that decodes three times sees /static/../explore.
    '/static/%25252e%25252e%25252fexplore',
  ]

  it('blocks them for a user mid-onboarding', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ESCAPES) {
      expect((await app.request(path, { headers: apiCall(jar.header) })).status, path).toBe(403)
      const nav = await app.request(path, { headers: navigation(jar.header) })
      expect(nav.status, path).toBe(303)
    }
    // Control: a real static file still passes.
    expect((await app.request('/static/app.js', { headers: apiCall(jar.header) })).status).toBe(200)
  })

  it('canonicalPath resolves them to /explore', () => {
    for (const path of ESCAPES) expect(canonicalPath(path), path).toBe('/explore')
  })
})

describe('returnTo: escapes decoded around a malformed one', () => {
  it('refuses a target that becomes //host once decoded even when another escape in it is malformed', async () => {
    for (const attack of ['/%2F%2Fevil.com%zz', '/%5C%5Cevil.com/%E0%A4%A'])
      expect(safeRedirectPath(attack), attack).toBeUndefined()
    const { app } = createOnboardingApp({ onboarding: { home: '/home' } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request(`/onboarding?returnTo=${encodeURIComponent('/%2F%2Fevil.com%zz')}`, {
      headers: navigation(jar.header),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/home')
  })
})
