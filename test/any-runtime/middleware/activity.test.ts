import { describe, expect, it } from 'vitest'
import { type ActivityOptions, SessionConfigError, edgeSession, isHtmlNavigation, isPageNavigation } from '../../../src'
import {
  ACTIVITY,
  CookieJar,
  MINUTE,
  SECOND,
  SECRET,
  T0,
  apiCall,
  at,
  call,
  coreApp,
  createOnboardingApp,
  jarWith,
  navigation,
  seen,
  setCookieNames,
  useFakeDate,
} from '../../helpers'

useFakeDate()

describe('activity: lastPath and lastVisit', () => {
  it('records the path of a successful GET page navigation, without its query; lastVisit is ms since the epoch', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(1234)
    const res = await app.request('/explore?token=secret-from-a-magic-link#top', { headers: navigation(jar.header) })
    expect(res.status).toBe(200)
    // Only the activity cookie: the session data is not rewritten for activity.
    expect(setCookieNames(res)).toEqual([ACTIVITY])
    jar.apply(res)
    const session = await seen(app, jar)
    expect(session).toMatchObject({ lastPath: '/explore', lastVisit: T0 + 1234 })
    expect(JSON.stringify(session)).not.toContain('secret-from-a-magic-link')
    expect(Date.now()).toBe(T0 + 1234)
  })

  it('with recordQuery, records path + query (never the fragment)', async () => {
    const { app } = createOnboardingApp({ activity: { recordQuery: true } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    jar.apply(await app.request('/explore?tab=1&q=a%20b#top', { headers: navigation(jar.header) }))
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/explore?tab=1&q=a%20b' })
  })

  it('the same path with another query is not a new page (no write) unless recordQuery', async () => {
    const plain = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    jar.apply(await plain.app.request('/explore?page=1', { headers: navigation(jar.header) }))
    at(SECOND)
    expect(
      (await plain.app.request('/explore?page=2', { headers: navigation(jar.header) })).headers.getSetCookie(),
    ).toEqual([])
    const withQuery = createOnboardingApp({ activity: { recordQuery: true } })
    expect(setCookieNames(await withQuery.app.request('/explore?page=2', { headers: navigation(jar.header) }))).toEqual(
      [ACTIVITY],
    )
  })

  it('a path longer than 1 024 characters is not recorded; past 1 024 with its query, the path alone is', async () => {
    const { app } = createOnboardingApp({ activity: { recordQuery: true } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    jar.apply(await app.request('/explore', { headers: navigation(jar.header) }))
    at(SECOND)
    const long = `/${'a'.repeat(1024)}`
    jar.apply(await app.request(long, { headers: navigation(jar.header) }))
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/explore' })
    at(2 * SECOND)
    jar.apply(await app.request(`/short?${'q'.repeat(2000)}`, { headers: navigation(jar.header) }))
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/short' })
  })

  it('does not record assets, API calls, prefetches, redirects, errors, HEAD or form posts', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(SECOND)
    jar.apply(await app.request('/explore', { headers: navigation(jar.header) }))
    // Built per round, so each round sends the cookies the jar holds then.
    const requests = (): Array<[string, RequestInit]> => [
      [
        '/static/app.js',
        { headers: { cookie: jar.header, accept: '*/*', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' } },
      ],
      ['/assets/site.css', { headers: { cookie: jar.header, accept: 'text/css,*/*;q=0.1' } }],
      ['/api/me', { headers: apiCall(jar.header) }],
      ['/pricing', { headers: navigation(jar.header, { 'sec-purpose': 'prefetch' }) }],
      ['/pricing', { headers: navigation(jar.header, { 'sec-purpose': 'prefetch;prerender' }) }],
      ['/pricing', { headers: navigation(jar.header, { purpose: 'prefetch' }) }],
      ['/pricing', { headers: navigation(jar.header, { 'sec-fetch-dest': 'iframe' }) }],
      ['/redirect-me', { headers: navigation(jar.header) }],
      ['/missing', { headers: navigation(jar.header) }],
      ['/broken', { headers: navigation(jar.header) }],
      ['/pricing', { method: 'HEAD', headers: navigation(jar.header) }],
      ['/profile', { method: 'POST', headers: navigation(jar.header), body: new URLSearchParams({ x: '1' }) }],
    ]
    for (const [i, [path, init]] of requests().entries()) {
      at(2 * SECOND + i)
      const res = await app.request(path, init)
      expect(res.headers.getSetCookie(), `${init.method ?? 'GET'} ${path}`).toEqual([])
    }
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/explore', lastVisit: T0 + SECOND })

    // Past the touch interval, the same requests refresh the session but still record no page.
    for (let i = 0; i < requests().length; i++) {
      at(10 * MINUTE + i * 2 * MINUTE)
      const [path, init] = requests()[i] as [string, RequestInit]
      const res = await app.request(path, init)
      jar.apply(res)
      const names = setCookieNames(res)
      const active = res.status < 400 && !JSON.stringify(init.headers).includes('prefetch')
      expect(names, `${path} ${res.status}`).toEqual(active ? [ACTIVITY] : [])
      expect(await seen(app, jar), path).toMatchObject({ lastPath: '/explore', lastVisit: T0 + SECOND })
    }
  })

  it('uses a custom isPageView filter, but never for redirects, errors or non-GET', async () => {
    const { app } = createOnboardingApp({ activity: { isPageView: (c) => c.req.path.startsWith('/app/') } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(SECOND)
    jar.apply(await app.request('/app/data?x=1', { headers: apiCall(jar.header) }))
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/app/data', lastVisit: T0 + SECOND })
    at(2 * SECOND)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).headers.getSetCookie()).toEqual([])

    const always = createOnboardingApp({ activity: { isPageView: () => true } }).app
    at(3 * SECOND)
    for (const [path, init] of [
      ['/redirect-me', { headers: navigation(jar.header) }],
      ['/missing', { headers: navigation(jar.header) }],
      ['/broken', { headers: navigation(jar.header) }],
      ['/app/x', { method: 'POST', headers: apiCall(jar.header) }],
    ] as Array<[string, RequestInit]>) {
      expect((await always.request(path, init)).headers.getSetCookie(), path).toEqual([])
    }
  })

  it('records nothing for anonymous requests', async () => {
    const { app } = createOnboardingApp()
    for (const path of ['/explore', '/pricing', '/onboarding']) {
      expect((await app.request(path, { headers: navigation() })).headers.getSetCookie()).toEqual([])
    }
  })

  it('activity: false records no page but keeps the rolling timeout', async () => {
    const { app } = createOnboardingApp({ activity: false })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(SECOND)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).headers.getSetCookie()).toEqual([])
    at(20 * MINUTE)
    const touch = await app.request('/explore', { headers: navigation(jar.header) })
    expect(setCookieNames(touch)).toEqual([ACTIVITY])
    jar.apply(touch)
    at(45 * MINUTE)
    const s = await seen(app, jar)
    expect(s).not.toBeNull()
    expect(s?.lastPath).toBeUndefined()
  })
})

describe('activity: the default page-view rule (a successful GET navigation, whatever it answers with)', () => {
  /** An app whose routes answer a navigation with each kind of body. */
  function answersApp() {
    return createOnboardingApp({
      routes: (a) => {
        a.get('/as-text', (c) => c.text('plain page'))
        a.get('/as-json', (c) => c.json({ page: 'json' }))
        a.get('/as-response', () => new Response('raw', { headers: { 'content-type': 'application/octet-stream' } }))
        a.get('/as-html', (c) => c.html('<p>page</p>'))
      },
    }).app
  }

  /** lastPath after one request (10 minutes in, so a write is due whatever the request is) with `init(cookie)`. */
  async function recordedAfter(
    app: ReturnType<typeof answersApp>,
    path: string,
    init: (cookie: string) => RequestInit,
  ): Promise<string | undefined> {
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(10 * MINUTE)
    jar.apply(await app.request(path, init(jar.header)))
    return (await seen(app, jar))?.lastPath
  }
  const navigating =
    (extra: Record<string, string> = {}) =>
    (cookie: string) => ({ headers: navigation(cookie, extra) })
  const sending =
    (headers: Record<string, string>, method = 'GET') =>
    (cookie: string) => ({ method, headers: { cookie, ...headers } })

  it('records a navigation answered with c.text, c.json, c.html or a plain Response', async () => {
    const app = answersApp()
    for (const path of ['/as-text', '/as-json', '/as-html', '/as-response']) {
      expect(await recordedAfter(app, path, navigating()), path).toBe(path)
    }
  })

  it('without Fetch Metadata, a request whose Accept asks for text/html is a navigation; one that does not is not', async () => {
    const app = answersApp()
    expect(await recordedAfter(app, '/as-text', sending({ accept: 'text/html,*/*;q=0.8' }))).toBe('/as-text')
    expect(await recordedAfter(app, '/as-text', sending({ accept: 'application/json' }))).toBeUndefined()
    expect(await recordedAfter(app, '/as-text', sending({}))).toBeUndefined()
  })

  it('does not record API calls (fetch/XHR), even when they accept HTML', async () => {
    const app = answersApp()
    expect(await recordedAfter(app, '/as-json', (cookie) => ({ headers: apiCall(cookie) }))).toBeUndefined()
    expect(
      await recordedAfter(app, '/as-html', (cookie) => ({ headers: apiCall(cookie, { accept: 'text/html' }) })),
    ).toBeUndefined()
    // Fetch Metadata wins over Accept: a same-origin fetch() is not a navigation.
    expect(
      await recordedAfter(app, '/as-text', sending({ accept: 'text/html', 'sec-fetch-mode': 'same-origin' })),
    ).toBeUndefined()
  })

  it('does not record assets, frames or workers loaded by a page', async () => {
    const app = answersApp()
    for (const [mode, dest] of [
      ['no-cors', 'image'],
      ['no-cors', 'script'],
      ['no-cors', 'style'],
      ['navigate', 'iframe'],
      ['same-origin', 'worker'],
    ] as const) {
      const headers = { accept: 'text/html,*/*', 'sec-fetch-mode': mode, 'sec-fetch-dest': dest }
      expect(await recordedAfter(app, '/as-response', sending(headers)), `${mode} ${dest}`).toBeUndefined()
    }
  })

  it('does not record prefetches, redirects, errors or HEAD, whatever they answer with', async () => {
    const app = answersApp()
    expect(await recordedAfter(app, '/as-text', navigating({ 'sec-purpose': 'prefetch' }))).toBeUndefined()
    expect(await recordedAfter(app, '/redirect-me', navigating())).toBeUndefined()
    expect(await recordedAfter(app, '/missing', navigating())).toBeUndefined()
    expect(await recordedAfter(app, '/broken', navigating())).toBeUndefined()
    expect(
      await recordedAfter(app, '/as-text', (cookie) => ({ method: 'HEAD', headers: navigation(cookie) })),
    ).toBeUndefined()
  })

  it('isPageNavigation answers the same rule for a custom filter', async () => {
    const answers: Array<[string, boolean]> = []
    const app = createOnboardingApp({
      routes: (a) => {
        a.use('/probe/*', async (c, next) => {
          await next()
          answers.push([c.req.path, isPageNavigation(c)])
        })
        a.get('/probe/text', (c) => c.text('x'))
        a.get('/probe/redirect', (c) => c.redirect('/', 302))
        a.post('/probe/text', (c) => c.text('x'))
      },
    }).app
    await app.request('/probe/text', { headers: navigation() })
    await app.request('/probe/text', { headers: apiCall() })
    await app.request('/probe/redirect', { headers: navigation() })
    await app.request('/probe/text', { method: 'POST', headers: navigation() })
    expect(answers).toEqual([
      ['/probe/text', true],
      ['/probe/text', false],
      ['/probe/redirect', false],
      ['/probe/text', false],
    ])
  })
})

describe('activity: throttled writes', () => {
  it('50 API calls within the touch interval set no cookie at all', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    let lines = 0
    for (let i = 1; i <= 50; i++) {
      at(i * SECOND)
      const res = await app.request(i % 2 ? '/api/me' : '/api/feed?page=2', {
        method: i % 3 ? 'GET' : 'POST',
        headers: apiCall(jar.header),
      })
      expect(res.status).toBe(200)
      lines += res.headers.getSetCookie().length
    }
    expect(lines).toBe(0)
  })

  it('a repeated page path writes nothing until the interval passes (default 60 s); a new path writes at once', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(SECOND)
    const first = await app.request('/explore', { headers: navigation(jar.header) })
    expect(setCookieNames(first)).toEqual([ACTIVITY])
    jar.apply(first)
    for (let i = 2; i <= 60; i += 5) {
      at(i * SECOND)
      expect((await app.request('/explore', { headers: navigation(jar.header) })).headers.getSetCookie()).toEqual([])
    }
    at(SECOND + 60 * SECOND - 1)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).headers.getSetCookie()).toEqual([])
    at(SECOND + 60 * SECOND)
    const due = await app.request('/explore', { headers: navigation(jar.header) })
    expect(setCookieNames(due)).toEqual([ACTIVITY])
    jar.apply(due)

    at(62 * SECOND)
    const other = await app.request('/settings', { headers: navigation(jar.header) })
    expect(setCookieNames(other)).toEqual([ACTIVITY])
    jar.apply(other)
    expect(await seen(app, jar)).toMatchObject({ lastPath: '/settings', lastVisit: T0 + 62 * SECOND })
  })

  it('honours a custom touchInterval', async () => {
    const { app } = createOnboardingApp({ activity: { touchInterval: 5 } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(5 * SECOND - 1)
    expect((await app.request('/api/me', { headers: apiCall(jar.header) })).headers.getSetCookie()).toEqual([])
    at(5 * SECOND)
    expect(setCookieNames(await app.request('/api/me', { headers: apiCall(jar.header) }))).toEqual([ACTIVITY])
  })

  it('the rolling inactivity timeout rides on those writes', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const idle = new CookieJar()
    for (const [k, v] of jar.cookies) idle.cookies.set(k, v)

    at(20 * MINUTE)
    jar.apply(await app.request('/api/me', { headers: apiCall(jar.header) }))
    at(45 * MINUTE)
    // Seen at 20 min: still inside 30 min of inactivity.
    expect(await seen(app, jar)).not.toBeNull()
    jar.apply(await app.request('/api/me', { headers: apiCall(jar.header) }))
    at(74 * MINUTE)
    expect(await seen(app, jar)).not.toBeNull()
    // A browser that never got the activity cookie was idle for 31 minutes: signed out.
    at(31 * MINUTE)
    expect(await seen(app, idle)).toBeNull()
    at(45 * MINUTE + 31 * MINUTE)
    expect(await seen(app, jar)).toBeNull()
  })
})

/** The error edgeSession throws for `activity`, or undefined when it accepts it. */
function refusal(activity: unknown): unknown {
  try {
    edgeSession({ secret: SECRET, activity: activity as ActivityOptions })
  } catch (error) {
    return error
  }
  return undefined
}

describe('activity: options are checked when the app starts', () => {
  it('refuses an activity value that is neither an options object nor false', () => {
    for (const activity of ['yes', 1, true, null]) {
      const error = refusal(activity)
      expect(error, String(activity)).toBeInstanceOf(SessionConfigError)
      expect((error as Error).message, String(activity)).toMatch(/activity must be an options object, or false/)
    }
    // Controls: the accepted forms.
    for (const activity of [undefined, false, {}]) expect(refusal(activity), String(activity)).toBeUndefined()
  })

  it('refuses a touchInterval that is not a finite number of seconds, 0 or more', () => {
    for (const touchInterval of ['60', Number.NaN, -1, -0.5]) {
      const error = refusal({ touchInterval })
      expect(error, String(touchInterval)).toBeInstanceOf(SessionConfigError)
      expect((error as Error).message, String(touchInterval)).toMatch(
        /activity\.touchInterval must be a number of seconds, 0 or more/,
      )
    }
    expect(refusal({ touchInterval: 0 })).toBeUndefined()
  })

  it('refuses an isPageView that is not a function', () => {
    for (const isPageView of ['/app/*', true, {}]) {
      const error = refusal({ isPageView })
      expect(error, String(isPageView)).toBeInstanceOf(SessionConfigError)
      expect((error as Error).message).toMatch(/activity\.isPageView must be a function/)
    }
    // Controls: left out, or null from plain JavaScript, means the default filter.
    for (const isPageView of [undefined, null]) expect(refusal({ isPageView }), String(isPageView)).toBeUndefined()
  })
})

describe('activity: the default touch interval under a short inactivity', () => {
  it('is half of duration.inactivity when that is under 2 minutes: 50 s for 100 s', async () => {
    const { app } = coreApp({ duration: { inactivity: 100 } })
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })).status).toBe(200)
    at(50 * SECOND - 1)
    expect((await call(app, '/session', { jar })).headers.getSetCookie()).toEqual([])
    at(50 * SECOND)
    expect(setCookieNames(await call(app, '/session', { jar }))).toEqual([ACTIVITY])
  })
})

describe('activity: which finished requests count', () => {
  it('a 400 answer is not activity: no write once the touch interval has passed', async () => {
    const { app } = createOnboardingApp({ routes: (a) => a.get('/api/bad', (c) => c.json({ error: 'bad' }, 400)) })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(10 * MINUTE)
    const res = await app.request('/api/bad', { headers: apiCall(jar.header) })
    expect(res.status).toBe(400)
    expect(res.headers.getSetCookie()).toEqual([])
    // Control: a 399 answer is activity.
    const other = createOnboardingApp({ routes: (a) => a.get('/api/odd', (c) => c.json({}, 399 as 200)) }).app
    expect(setCookieNames(await other.request('/api/odd', { headers: apiCall(jar.header) }))).toEqual([ACTIVITY])
  })

  it('a prefetch announced by X-Purpose, or in upper case, or as a prerender, is not activity', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(10 * MINUTE)
    const cases: Array<[Record<string, string>, string[]]> = [
      [{ 'x-purpose': 'prefetch' }, []],
      [{ 'sec-purpose': 'Prefetch' }, []],
      [{ purpose: 'PREFETCH' }, []],
      [{ purpose: 'prerender' }, []],
      // Control: a purpose that is no prefetch is activity.
      [{ 'x-purpose': 'preview' }, [ACTIVITY]],
    ]
    for (const [extra, expected] of cases) {
      const res = await app.request('/pricing', { headers: navigation(jar.header, extra) })
      expect(res.status).toBe(200)
      expect(setCookieNames(res), JSON.stringify(extra)).toEqual(expected)
    }
  })
})

describe('activity: which successful GETs are page views', () => {
  /** lastPath after one request to `path` by a signed-in user, with `headers` on top of the cookie. */
  async function recorded(
    path: string,
    headers: Record<string, string>,
    app: ReturnType<typeof createOnboardingApp>['app'] = createOnboardingApp().app,
  ): Promise<string | undefined> {
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(10 * MINUTE)
    const res = await app.request(path, { headers: { cookie: jar.header, ...headers } })
    expect(res.status, path).toBe(200)
    jar.apply(res)
    return (await seen(app, jar))?.lastPath
  }

  it('a navigation with Sec-Fetch-Mode but no Sec-Fetch-Dest is one', async () => {
    expect(await recorded('/pricing', { accept: 'text/html', 'sec-fetch-mode': 'navigate' })).toBe('/pricing')
  })

  it('a non-navigation fetch without Sec-Fetch-Dest is not one, even when it accepts and gets HTML', async () => {
    expect(await recorded('/pricing', { accept: 'text/html', 'sec-fetch-mode': 'cors' })).toBeUndefined()
  })

  it('without Fetch Metadata, a request that does not accept HTML is not one, even when it gets HTML', async () => {
    const app = createOnboardingApp({ routes: (a) => a.get('/html-anyway', (c) => c.html('<p>x</p>')) }).app
    expect(await recorded('/html-anyway', { accept: 'application/json' }, app)).toBeUndefined()
    // Control: the same request accepting HTML is one.
    expect(await recorded('/html-anyway', { accept: 'text/html' }, app)).toBe('/html-anyway')
  })

  it('a navigation answered with something else than HTML is one; isHtmlNavigation still wants text/html', async () => {
    const routes = (a: ReturnType<typeof createOnboardingApp>['app']) => {
      a.get('/report.json', (c) => c.json({ rows: [] }))
      a.get('/report.xml', (c) => c.body('<rows/>', 200, { 'content-type': 'application/xml; note="text/html"' }))
    }
    const app = createOnboardingApp({ routes }).app
    expect(await recorded('/report.json', navigation(), app)).toBe('/report.json')
    expect(await recorded('/report.xml', navigation(), app)).toBe('/report.xml')
    // The stricter rule, opted into: the media type must be text/html.
    const htmlOnly = createOnboardingApp({ routes, activity: { isPageView: isHtmlNavigation } }).app
    expect(await recorded('/report.json', navigation(), htmlOnly)).toBeUndefined()
    expect(await recorded('/report.xml', navigation(), htmlOnly)).toBeUndefined()
  })

  it('a 2xx is required: a navigation answered 300 with HTML is not one', async () => {
    const app = createOnboardingApp({ routes: (a) => a.get('/choices', (c) => c.html('<p>pick</p>', 300)) }).app
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    at(10 * MINUTE)
    const res = await app.request('/choices', { headers: navigation(jar.header) })
    expect(res.status).toBe(300)
    // Still activity (below 400): the activity cookie is written, without a page.
    expect(setCookieNames(res)).toEqual([ACTIVITY])
    jar.apply(res)
    expect((await seen(app, jar))?.lastPath).toBeUndefined()
  })
})

describe('isHtmlNavigation', () => {
  it('is true only for a successful GET navigation answered with HTML', async () => {
    const answers: boolean[] = []
    const app = createOnboardingApp({
      routes: (a) => {
        // Before the route, so it sees the finished response.
        a.use('/probe/*', async (c, next) => {
          await next()
          answers.push(isHtmlNavigation(c))
        })
        a.all('/probe/*', (c) => c.html('<p>probe</p>', Number(c.req.query('status') ?? '200') as 200))
      },
    }).app
    for (const [path, method] of [
      ['/probe/page', 'GET'],
      ['/probe/page', 'POST'],
      ['/probe/page?status=404', 'GET'],
      ['/probe/page?status=302', 'GET'],
    ] as const) {
      await app.request(path, { method, headers: navigation() })
    }
    expect(answers).toEqual([true, false, false, false])
  })
})
