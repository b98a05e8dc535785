/**
 * The example app, driven like a browser through app.request with a cookie jar: sign-in,
 * the onboarding gate, protected pages with the previous visit, /api/me, sign-out; and the
 * requests an attacker would send (forged form fields, forged cookies, cross-site posts).
 */
import { env as workerEnv } from 'cloudflare:workers'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import app, { type Env } from '../../../example-worker/src/app'
import { demoUserId } from '../../../example-worker/src/claims'
import { formatTime } from '../../../example-worker/src/views'
import { type Clock, CookieJar, SECRET, SESSION_CHUNKS, clearingLines, restoreClock, useClock } from '../../helpers'

const ORIGIN = 'http://localhost'
const env: Env = { SESSION_SECRET: SECRET }
// The same app with sessions in Durable Objects (SESSION_STORE = "durable-object" in wrangler.toml).
const durableEnv: Env = { SESSION_SECRET: SECRET, SESSION_STORE: 'durable-object', SESSION_DO: workerEnv.SESSION_DO }
// Real time, to the minute: the Durable Object store expires records by its own clock.
const START = Math.floor(Date.now() / 60_000) * 60_000

/** A page navigation, as a browser sends it. */
async function visit(jar: CookieJar, path: string, bindings: Env = env): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'text/html',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
  }
  if (jar.header) headers.cookie = jar.header
  const res = await app.request(path, { headers }, bindings)
  jar.apply(res)
  return res
}

/** A same-origin form post (or a cross-site one with `origin`). */
async function post(
  jar: CookieJar,
  path: string,
  fields: Record<string, string>,
  origin = ORIGIN,
  bindings: Env = env,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', origin }
  if (jar.header) headers.cookie = jar.header
  const res = await app.request(
    path,
    { method: 'POST', headers, body: new URLSearchParams(fields).toString() },
    bindings,
  )
  jar.apply(res)
  return res
}

/** A script's fetch (not a navigation). */
async function api(jar: CookieJar, path: string, bindings: Env = env): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', 'sec-fetch-mode': 'cors' }
  if (jar.header) headers.cookie = jar.header
  const res = await app.request(path, { headers }, bindings)
  jar.apply(res)
  return res
}

/** What the pages print for a time: `<time datetime="ISO">1 May 2026, 10:01:00 UTC</time>`. */
function timeTag(ms: number): string {
  const text = formatTime(ms)
  expect(text).toMatch(/^\d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC$/)
  return `<time datetime="${new Date(ms).toISOString()}">${text}</time>`
}

function expectRedirect(res: Response, location: string): void {
  expect(res.status).toBe(303)
  expect(res.headers.get('location')).toBe(location)
}

interface Me {
  user: { sub: string; email: string; [k: string]: unknown }
  onboardingStep: string
  profile: unknown
  preferences: unknown
  lastPath: string | null
  lastVisit: number | null
  [k: string]: unknown
}

async function me(jar: CookieJar, bindings: Env = env): Promise<Me> {
  const res = await api(jar, '/api/me', bindings)
  expect(res.status).toBe(200)
  return (await res.json()) as Me
}

async function signInAndOnboard(jar: CookieJar, email: string): Promise<void> {
  expectRedirect(await post(jar, '/login', { email }), '/explore')
  expectRedirect(
    await post(jar, '/onboarding/profile', { displayName: 'Ada Lovelace', purpose: 'study' }),
    '/onboarding/preferences',
  )
  expectRedirect(await post(jar, '/onboarding/preferences', { theme: 'dark', digest: 'never' }), '/onboarding/done')
}

let clock: Clock
beforeEach(() => {
  clock = useClock(START)
})
afterEach(restoreClock)

const STORES = [
  ['cookie', env],
  ['durable-object', durableEnv],
] as const

describe.each(STORES)('example app, sessions in the %s: the whole flow', (store, bindings) => {
  it('signs in, onboards, browses with the last visit shown, and signs out', async () => {
    const jar = new CookieJar()

    // Anonymous: pages go to sign-in, scripts get 401.
    expectRedirect(await visit(jar, '/explore', bindings), '/login?returnTo=%2Fexplore')
    expectRedirect(await visit(jar, '/settings', bindings), '/login?returnTo=%2Fsettings')
    expectRedirect(await visit(jar, '/', bindings), '/login')
    expectRedirect(await visit(jar, '/onboarding/profile', bindings), '/login?returnTo=%2Fonboarding%2Fprofile')
    expectRedirect(await visit(jar, '/EXPLORE/', bindings), '/login?returnTo=%2FEXPLORE%2F')
    const anonymousApi = await api(jar, '/api/me', bindings)
    expect(anonymousApi.status).toBe(401)
    expect(await anonymousApi.json()).toEqual({ error: 'login_required', login: '/login' })

    const loginPage = await visit(jar, '/login?returnTo=%2Fexplore', bindings)
    expect(loginPage.status).toBe(200)
    const loginHtml = await loginPage.text()
    expect(loginHtml).toContain('Demo sign-in')
    expect(loginHtml).toContain('<input type="hidden" name="returnTo" value="/explore"/>')
    expect(jar.header).toBe('')

    // Sign in: one Secure, HttpOnly, SameSite=Lax __Host- cookie, kept out of shared caches.
    const login = await post(jar, '/login', { email: ' Ada@Example.com ', returnTo: '/explore' }, ORIGIN, bindings)
    expectRedirect(login, '/explore')
    const [sessionCookie, ...others] = login.headers.getSetCookie()
    // The rest only clear the chunk names the session cookie did not take.
    expect(others).toEqual(clearingLines(SESSION_CHUNKS))
    expect(sessionCookie).toMatch(/^__Host-session=[^;]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/)
    expect(login.headers.get('cache-control')).toBe('private, no-store')

    // Not onboarded: every page leads to onboarding, scripts get 403, later steps cannot be skipped.
    expectRedirect(await visit(jar, '/explore', bindings), '/onboarding?returnTo=%2Fexplore')
    expectRedirect(await visit(jar, '/settings', bindings), '/onboarding?returnTo=%2Fsettings')
    expectRedirect(await visit(jar, '/', bindings), '/onboarding?returnTo=%2F')
    expect((await api(jar, '/api/me', bindings)).status).toBe(403)
    expectRedirect(
      await visit(jar, '/onboarding?returnTo=%2Fexplore', bindings),
      '/onboarding/profile?returnTo=%2Fexplore',
    )
    expectRedirect(
      await visit(jar, '/onboarding/preferences?returnTo=%2Fexplore', bindings),
      '/onboarding/profile?returnTo=%2Fexplore',
    )
    expectRedirect(await visit(jar, '/onboarding/done', bindings), '/onboarding')
    expectRedirect(
      await post(jar, '/onboarding/preferences', { theme: 'dark', digest: 'daily' }, ORIGIN, bindings),
      '/onboarding/profile',
    )

    // Step 1: profile. A bad value re-renders the form with the error and changes nothing.
    const profilePage = await visit(jar, '/onboarding/profile?returnTo=%2Fexplore', bindings)
    expect(profilePage.status).toBe(200)
    expect(await profilePage.text()).toContain('Tell us about you')
    const invalid = await post(
      jar,
      '/onboarding/profile',
      { displayName: '<script>', purpose: 'study', returnTo: '/explore' },
      ORIGIN,
      bindings,
    )
    expect(invalid.status).toBe(400)
    expect(await invalid.text()).toContain('Display name: 1-40 letters')
    expect(invalid.headers.getSetCookie()).toEqual([])
    expectRedirect(
      await post(
        jar,
        '/onboarding/profile',
        { displayName: 'Ada  Lovelace', purpose: 'study', returnTo: '/explore' },
        ORIGIN,
        bindings,
      ),
      '/onboarding/preferences?returnTo=%2Fexplore',
    )
    // Half-way is still not done.
    expectRedirect(await visit(jar, '/explore', bindings), '/onboarding?returnTo=%2Fexplore')
    expectRedirect(await visit(jar, '/onboarding', bindings), '/onboarding/preferences')

    // Step 2: preferences, then done.
    const prefsPage = await visit(jar, '/onboarding/preferences?returnTo=%2Fexplore', bindings)
    expect(prefsPage.status).toBe(200)
    expect(await prefsPage.text()).toContain('Your preferences')
    expectRedirect(
      await post(
        jar,
        '/onboarding/preferences',
        { theme: 'dark', digest: 'weekly', returnTo: '/explore' },
        ORIGIN,
        bindings,
      ),
      '/onboarding/done?returnTo=%2Fexplore',
    )
    const done = await visit(jar, '/onboarding/done?returnTo=%2Fexplore', bindings)
    expect(done.status).toBe(200)
    const doneHtml = await done.text()
    expect(doneHtml).toContain('You&#39;re all set, Ada Lovelace!')
    expect(doneHtml).toContain('href="/explore"')

    // Onboarded: /explore opens without signing in again, and shows the previous page view.
    clock.set(START + 60_000)
    const explore = await visit(jar, '/explore', bindings)
    expect(explore.status).toBe(200)
    const exploreHtml = await explore.text()
    expect(exploreHtml).toContain('Welcome back, Ada Lovelace.')
    expect(exploreHtml).toContain('Last visited <code>/onboarding/done</code>')
    expect(exploreHtml).toContain('class="theme-dark"')
    // The entry page has nothing left to do for a finished user.
    expectRedirect(await visit(jar, '/onboarding?returnTo=%2Fsettings', bindings), '/settings')

    clock.set(START + 120_000)
    const settings = await visit(jar, '/settings', bindings)
    expect(settings.status).toBe(200)
    expect(await settings.text()).toContain(`Last visited <code>/explore</code> at ${timeTag(START + 60_000)}`)

    clock.set(START + 180_000)
    expect(await (await visit(jar, '/explore', bindings)).text()).toContain(
      `Last visited <code>/settings</code> at ${timeTag(START + 120_000)}`,
    )

    // /api/me: JSON built on the server; an API call is not a page view, so lastPath stays /explore.
    const mine = await me(jar, bindings)
    expect(mine).toEqual({
      user: { sub: await demoUserId('ada@example.com'), email: 'ada@example.com' },
      onboardingStep: 'COMPLETED',
      plan: 'free',
      profile: { displayName: 'Ada Lovelace', purpose: 'study' },
      preferences: { theme: 'dark', digest: 'weekly' },
      lastPath: '/explore',
      lastVisit: START + 180_000,
      session: { createdAt: START, expiresAt: START + 8 * 3600_000 },
    })
    expect((await me(jar, bindings)).lastPath).toBe('/explore')

    // Settings: a checked update, seen on the next page.
    expectRedirect(
      await post(
        jar,
        '/settings',
        { displayName: 'Ada', purpose: 'work', theme: 'light', digest: 'daily' },
        ORIGIN,
        bindings,
      ),
      '/settings?saved=1',
    )
    const saved = await (await visit(jar, '/settings?saved=1', bindings)).text()
    expect(saved).toContain('Saved.')
    expect(saved).toContain('value="Ada"')
    expect((await me(jar, bindings)).preferences).toEqual({ theme: 'light', digest: 'daily' })

    // Sign out: every cookie cleared, protected pages lead to sign-in again.
    const signedInCookies = jar.header
    const logout = await post(jar, '/logout', {}, ORIGIN, bindings)
    expectRedirect(logout, '/login?signedOut=1')
    expect(logout.headers.getSetCookie().every((line) => /Max-Age=0/.test(line))).toBe(true)
    expect(jar.header).toBe('')
    expect(await (await visit(jar, '/login?signedOut=1', bindings)).text()).toContain('You are signed out.')
    expectRedirect(await visit(jar, '/explore', bindings), '/login?returnTo=%2Fexplore')
    expect((await api(jar, '/api/me', bindings)).status).toBe(401)
    if (store === 'durable-object') {
      // With a store, sign-out deleted the record: a copy of the old cookie is refused too.
      const replay = await app.request('/api/me', { headers: { cookie: signedInCookies } }, bindings)
      expect(replay.status).toBe(401)
    }
  })
})

describe('example app: sign-in details', () => {
  it('keeps a signed-in user away from the sign-in page and honours only same-origin returnTo', async () => {
    const jar = new CookieJar()
    expectRedirect(await post(jar, '/login', { email: 'a@example.com', returnTo: '//evil.example/x' }), '/explore')
    expectRedirect(await visit(jar, '/login'), '/explore')
    await post(jar, '/logout', {})
    expectRedirect(await post(jar, '/login', { email: 'a@example.com', returnTo: 'https://evil.example/' }), '/explore')
    await post(jar, '/logout', {})
    expectRedirect(await post(jar, '/login', { email: 'a@example.com', returnTo: '/onboarding/done' }), '/explore')
    await post(jar, '/logout', {})
    expectRedirect(
      await post(jar, '/login', { email: 'a@example.com', returnTo: '/settings?tab=1' }),
      '/settings?tab=1',
    )
  })

  it('rejects a bad email without creating a session', async () => {
    const jar = new CookieJar()
    const res = await post(jar, '/login', { email: 'not-an-email' })
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('Enter an email address')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('tells the operator when SESSION_SECRET is missing', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {})
    const res = await visit(new CookieJar(), '/login', { SESSION_SECRET: '' })
    expect(res.status).toBe(500)
    expect(await res.text()).toContain('wrangler secret put SESSION_SECRET')
    expect(logged).toHaveBeenCalledWith(expect.objectContaining({ code: 'ERR_SESSION_CONFIG' }))
    logged.mockRestore()
  })
})

describe('example app: what the browser sends cannot set the session', () => {
  it('ignores forged claims in every form', async () => {
    const jar = new CookieJar()
    const forged = {
      onboardingStep: 'COMPLETED',
      role: 'admin',
      sub: 'admin',
      'user[sub]': 'admin',
      'user.sub': 'admin',
      user: '{"sub":"admin"}',
      internal: '{"expiresAt":99999999999999}',
      lastPath: '/admin',
      billingPlan: 'pro',
      plan: 'pro',
    }
    expectRedirect(await post(jar, '/login', { email: 'eve@example.com', ...forged }), '/explore')
    // Still at the first step: the forged onboardingStep did nothing.
    expectRedirect(await visit(jar, '/explore'), '/onboarding?returnTo=%2Fexplore')
    expectRedirect(
      await post(jar, '/onboarding/profile', { displayName: 'Eve', purpose: 'work', ...forged }),
      '/onboarding/preferences',
    )
    expectRedirect(await visit(jar, '/explore'), '/onboarding?returnTo=%2Fexplore')
    expectRedirect(
      await post(jar, '/onboarding/preferences', {
        theme: 'light',
        digest: 'never',
        ...forged,
        profile: '{"displayName":"Mallory"}',
        onboardingStep: 'PROFILE',
      }),
      '/onboarding/done',
    )
    expectRedirect(
      await post(jar, '/settings', {
        displayName: 'Eve',
        purpose: 'work',
        theme: 'light',
        digest: 'never',
        ...forged,
        onboardingStep: 'PROFILE',
      }),
      '/settings?saved=1',
    )

    const mine = await me(jar)
    expect(mine.user).toEqual({ sub: await demoUserId('eve@example.com'), email: 'eve@example.com' })
    expect(mine.onboardingStep).toBe('COMPLETED')
    expect(mine.profile).toEqual({ displayName: 'Eve', purpose: 'work' })
    expect(mine).not.toHaveProperty('role')
    // Only the billing webhook sets the plan.
    expect(mine.plan).toBe('free')
    expect(mine.session).toEqual({ createdAt: START, expiresAt: START + 8 * 3600_000 })
    expect(mine.lastPath).not.toBe('/admin')
  })

  it('refuses values outside the whitelist', async () => {
    const jar = new CookieJar()
    await post(jar, '/login', { email: 'eve@example.com' })
    await post(jar, '/onboarding/profile', { displayName: 'Eve', purpose: 'work' })
    const res = await post(jar, '/onboarding/preferences', { theme: 'hacker', digest: 'never' })
    expect(res.status).toBe(400)
    expect(res.headers.getSetCookie()).toEqual([])
    expectRedirect(await visit(jar, '/explore'), '/onboarding?returnTo=%2Fexplore')
  })

  it('treats a cookie the client made up, or one sealed with another secret, as no session', async () => {
    const jar = new CookieJar()
    jar.cookies.set('__Host-session', 'eyJvbmJvYXJkaW5nU3RlcCI6IkNPTVBMRVRFRCJ9')
    const garbage = await visit(jar, '/explore')
    expectRedirect(garbage, '/login?returnTo=%2Fexplore')
    expect(garbage.headers.getSetCookie()).toEqual(clearingLines(['__Host-session', ...SESSION_CHUNKS]))

    const { cookie } = await mintSessionCookie({
      secret: 'attacker-secret-0123456789-abcdefghijkl',
      data: { user: { sub: 'admin' }, onboardingStep: 'COMPLETED' },
    })
    const res = await app.request('/api/me', { headers: { cookie } }, env)
    expect(res.status).toBe(401)
  })

  it('accepts a session sealed with the app secret (so the refusal above is about the secret)', async () => {
    const { cookie } = await mintSessionCookie({
      secret: SECRET,
      data: { user: { sub: 'u1', email: 'u1@example.com' }, onboardingStep: 'COMPLETED' },
    })
    const res = await app.request('/api/me', { headers: { cookie } }, env)
    expect(res.status).toBe(200)
    expect(((await res.json()) as Me).user.sub).toBe('u1')
  })

  it('refuses cross-site form posts (sign-in and sign-out)', async () => {
    const jar = new CookieJar()
    const login = await post(jar, '/login', { email: 'victim@example.com' }, 'https://evil.example')
    expect(login.status).toBe(403)
    expect(login.headers.getSetCookie()).toEqual([])

    await signInAndOnboard(jar, 'victim@example.com')
    const before = jar.header
    const logout = await post(jar, '/logout', {}, 'https://evil.example')
    expect(logout.status).toBe(403)
    expect(jar.header).toBe(before)
    expect((await me(jar)).user.email).toBe('victim@example.com')
  })
})
