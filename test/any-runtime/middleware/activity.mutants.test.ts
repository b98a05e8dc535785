/**
 * Activity decisions that activity.test.ts and config.test.ts did not pin (mutation audit of
 * src/middleware/activity/index.ts): option checks, the default touch interval under a short
 * inactivity, which requests count as activity, and which are page views. Only Date is faked.
 */
import { describe, expect, it } from 'vitest'
import { type ActivityOptions, SessionConfigError, edgeSession, isHtmlNavigation } from '../../../src'
import { call, coreApp } from '../../helpers/core'
import { ACTIVITY, CookieJar, MINUTE, SECOND, SECRET, apiCall, at, createOnboardingApp, jarWith, navigation, seen, setCookieNames, useFakeDate } from '../../helpers/middleware'

/** The error edgeSession throws for `activity`, or undefined when it accepts it. */
function refusal(activity: unknown): unknown {
  try {
    edgeSession({ secret: SECRET, activity: activity as ActivityOptions })
  } catch (error) {
    return error
  }
  return undefined
}

useFakeDate()

describe('activity options are checked when the app starts (mutants)', () => {
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
      expect((error as Error).message, String(touchInterval)).toMatch(/activity\.touchInterval must be a number of seconds, 0 or more/)
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

describe('the default touch interval under a short inactivity (mutants)', () => {
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

describe('which finished requests count as activity (mutants)', () => {
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

describe('which successful GETs are page views (mutants)', () => {
  /** lastPath after one request to `path` by a signed-in user, with `headers` on top of the cookie. */
  async function recorded(path: string, headers: Record<string, string>, app: ReturnType<typeof createOnboardingApp>['app'] = createOnboardingApp().app): Promise<string | undefined> {
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

describe('isHtmlNavigation (mutants)', () => {
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
