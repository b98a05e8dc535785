/**
 * OpenID Connect sign-in in a real browser: the example under `wrangler dev`, pointed at an
 * oauth2-mock-server this test starts on 127.0.0.1, driven by Debian's chromium. Once with the
 * session in the cookie, once in Durable Objects. The mock provider rotates refresh tokens
 * strictly (a spent one is refused), so a refresh token lost to a race signs the user out here.
 * Screenshots go to test-artifacts/e2e/ (git-ignored).
 */
import { type Server, createServer } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { OAuth2Issuer, OAuth2Service } from 'oauth2-mock-server'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type RunningBrowser, type Tab, VIEWPORT, newTab, startBrowser } from './browser'
import { type Started, freePort, startWrangler } from './processes'

// Letters only: the mock compares the Basic-auth client id without decoding it.
const CLIENT_ID = 'exampleapp'
const CLIENT_SECRET = 'example-app-secret'
const USER = { sub: 'johndoe', name: 'Ada Lovelace', email: 'ada@example.com' }
/** The example refreshes an access token this long before it expires (REFRESH_MARGIN_MS in oidc.ts). */
const MARGIN_S = 30
/** An access-token lifetime the example treats as "about to expire" at once: no waiting for expiry. */
const EXPIRING_S = MARGIN_S - 10

/**
 * The provider's side: oauth2-mock-server plus bookkeeping through its hooks. Access tokens
 * get the lifetimes queued in `lifetimes` (then an hour); userinfo refuses tokens it did not
 * issue or that have expired; refresh tokens are single use. Served by our own http server so
 * that the token endpoint can be made slow (`tokenDelayMs`), which keeps racing requests in
 * flight together.
 */
class MockProvider {
  readonly issuer = new OAuth2Issuer()
  readonly service = new OAuth2Service(this.issuer)
  #http: Server | undefined
  /** Answer token requests this much later. */
  tokenDelayMs = 0
  /** expires_in of the next token responses, in order. */
  lifetimes: number[] = []
  /** Pad access tokens with this many characters (a large session, chunked in the cookie). */
  padding = 0
  /** Every refresh token presented, and whether it was honoured. */
  refreshes: Array<{ token: string; ok: boolean }> = []
  /** Refuse every refresh (the grant was revoked). */
  revoked = false
  /** Tamper with the next sign-in. */
  tamper: 'state' | 'nonce' | undefined
  readonly authorizeQueries: URLSearchParams[] = []
  readonly callbackUrls: string[] = []
  readonly userinfoTokens: string[] = []
  readonly endSessionQueries: URLSearchParams[] = []
  readonly issuedAccess = new Map<string, number>()
  readonly issuedIdTokens = new Set<string>()
  lastIssuedAccess: string | undefined
  #issuedRefresh = new Set<string>()
  #spentRefresh = new Set<string>()

  async start(): Promise<string> {
    const port = await freePort()
    this.issuer.url = `http://127.0.0.1:${port}`
    await this.issuer.keys.generate('RS256')
    const service = this.service
    service.on('beforeAuthorizeRedirect', (redirect: { url: URL }, req: { url?: string }) => {
      this.authorizeQueries.push(new URL(req.url ?? '', 'http://x').searchParams)
      if (this.tamper === 'state') {
        redirect.url.searchParams.set('state', 'not-the-state-this-browser-sent')
        this.tamper = undefined
      }
      this.callbackUrls.push(redirect.url.href)
    })
    service.on('beforeTokenSigning', (token: { payload: Record<string, unknown> }) => {
      if (token.payload.aud === CLIENT_ID) {
        Object.assign(token.payload, { name: USER.name, email: USER.email })
        if (this.tamper === 'nonce' && token.payload.nonce) {
          token.payload.nonce = 'not-the-nonce-this-browser-sent'
          this.tamper = undefined
        }
      } else if (this.padding > 0) token.payload.pad = 'x'.repeat(this.padding)
    })
    service.on(
      'beforeResponse',
      (response: { body: Record<string, unknown>; statusCode: number }, req: { body: Record<string, string> }) => {
        if (req.body.grant_type === 'refresh_token') {
          const token = req.body.refresh_token ?? ''
          const ok = !this.revoked && this.#issuedRefresh.has(token) && !this.#spentRefresh.has(token)
          this.refreshes.push({ token, ok })
          if (!ok) {
            response.statusCode = 400
            response.body = { error: 'invalid_grant', error_description: 'refresh token revoked or already used' }
            return
          }
          this.#spentRefresh.add(token)
        }
        const lifetime = this.lifetimes.shift() ?? 3600
        response.body.expires_in = lifetime
        this.#issuedRefresh.add(response.body.refresh_token as string)
        this.issuedIdTokens.add(response.body.id_token as string)
        this.issuedAccess.set(response.body.access_token as string, Date.now() + lifetime * 1000)
        this.lastIssuedAccess = response.body.access_token as string
      },
    )
    service.on(
      'beforeUserinfo',
      (response: { body: unknown; statusCode: number }, req: { headers: Record<string, string | undefined> }) => {
        const token = (req.headers.authorization ?? '').replace(/^Bearer /i, '')
        this.userinfoTokens.push(token)
        const expiresAt = this.issuedAccess.get(token)
        if (expiresAt === undefined || expiresAt <= Date.now()) {
          response.statusCode = 401
          response.body = { error: 'invalid_token' }
        } else response.body = { ...USER }
      },
    )
    service.on('beforePostLogoutRedirect', (_redirect: unknown, req: { url?: string }) => {
      this.endSessionQueries.push(new URL(req.url ?? '', 'http://x').searchParams)
    })
    const handler = service.requestHandler
    this.#http = createServer((req, res) => {
      if (req.method === 'POST' && req.url?.startsWith('/token') && this.tokenDelayMs > 0)
        setTimeout(() => handler(req, res), this.tokenDelayMs)
      else handler(req, res)
    })
    const http = this.#http
    await new Promise<void>((resolve, reject) => http.once('error', reject).listen(port, '127.0.0.1', resolve))
    return this.issuer.url
  }

  async stop(): Promise<void> {
    const http = this.#http
    if (!http) return
    http.closeAllConnections()
    await new Promise<void>((resolve) => http.close(() => resolve()))
  }

  reset(): void {
    this.lifetimes = []
    this.padding = 0
    this.refreshes = []
    this.revoked = false
    this.tamper = undefined
    this.tokenDelayMs = 0
  }

  get honoured(): number {
    return this.refreshes.filter((r) => r.ok).length
  }
}

const provider = new MockProvider()
let issuer: string
let chromium: RunningBrowser | undefined

beforeAll(async () => {
  try {
    issuer = await provider.start()
    chromium = await startBrowser()
  } catch (error) {
    await stopAll()
    throw error
  }
})

afterAll(stopAll)

async function stopAll(): Promise<void> {
  await chromium?.stop()
  await provider.stop()
}

const MODES = [
  { mode: 'cookie', vars: {} },
  { mode: 'durable-object', vars: { SESSION_STORE: 'durable-object' } },
] as const

describe.each(MODES)('OpenID Connect sign-in, sessions in $mode', ({ mode, vars }) => {
  let wrangler: (Started & { origin: string }) | undefined
  let tab: Tab

  beforeAll(async () => {
    wrangler = await startWrangler(await freePort(), {
      name: `oidc-${mode}`,
      vars: { OIDC_ISSUER: issuer, OIDC_CLIENT_ID: CLIENT_ID, OIDC_CLIENT_SECRET: CLIENT_SECRET, ...vars },
    })
  })
  afterAll(async () => {
    await wrangler?.stop()
  })

  beforeEach(async () => {
    provider.reset()
    if (!chromium) throw new Error('chromium is not running')
    if (!wrangler) throw new Error('wrangler dev is not running')
    tab = await newTab(chromium.browser, wrangler.origin, { viewport: VIEWPORT, shotPrefix: `oidc-${mode}-` })
  })
  afterEach(async () => {
    await tab?.context.close()
  })

  async function sessionCookies(): Promise<string[]> {
    const { context, url } = tab
    return (await context.cookies(url('/'))).map((c) => c.name).filter((name) => name.startsWith('__Host-session'))
  }

  /** From /explore through the provider's sign-in to the first onboarding step. */
  async function signIn(accessLifetime = 3600): Promise<void> {
    const { page, url, where, submit } = tab
    provider.lifetimes.push(accessLifetime)
    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')
    await submit('#provider-sign-in', /\/onboarding\/profile/)
    expect(where()).toBe('/onboarding/profile?returnTo=%2Fexplore')
  }

  /** Both onboarding steps, then on to the page the gate held back (`next`). */
  async function onboard(next = '/explore'): Promise<void> {
    const { page, submit } = tab
    await page.fill('#displayName', 'Ada')
    await page.selectOption('#purpose', 'work')
    await submit('main button[type=submit]', /\/onboarding\/preferences/)
    await submit('main button[type=submit]', /\/onboarding\/done/)
    await submit('#continue', new RegExp(`${next}$`))
  }

  it('signs in through the provider with PKCE, state and nonce, then holds the user in onboarding', async () => {
    const { page, context, url, where, shot } = tab
    await page.goto(url('/login'))
    expect(await page.textContent('#provider-sign-in')).toContain(`Continue with ${new URL(issuer).host}`)
    expect(await page.locator('.demo').count()).toBe(0)
    await shot('01-sign-in')

    await signIn()
    const sent = provider.authorizeQueries.at(-1)
    expect(sent?.get('client_id')).toBe(CLIENT_ID)
    expect(sent?.get('redirect_uri')).toBe(url('/auth/callback'))
    expect(sent?.get('code_challenge_method')).toBe('S256')
    expect(sent?.get('code_challenge')).toMatch(/^[\w-]{43}$/)
    expect(sent?.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(sent?.get('nonce')).toMatch(/^[\w-]{20,}$/)
    expect(sent?.get('scope')).toBe('openid profile email')
    // The transaction cookie was used once and is gone; the session cookie is HttpOnly.
    const cookies = await context.cookies(url('/'))
    expect(cookies.map((c) => c.name)).not.toContain('__Host-oidc-transaction')
    expect(cookies.find((c) => c.name === '__Host-session')).toMatchObject({
      httpOnly: true,
      secure: true,
      sameSite: 'Lax',
    })
    expect(await page.textContent('header .notice')).toBe(USER.email)
    await shot('02-onboarding')

    // The gate holds a first sign-in in onboarding, as with the demo sign-in.
    await page.goto(url('/profile'))
    expect(where()).toBe('/onboarding/profile?returnTo=%2Fprofile')
    await onboard('/profile')
    expect(await page.textContent('#userinfo')).toContain(USER.email)
    const me = JSON.parse((await (await page.goto(url('/api/me')))?.text()) ?? '') as Record<string, unknown>
    expect(me.user).toEqual(USER)
    expect(me.onboardingStep).toBe('COMPLETED')
    expect(JSON.stringify(me)).not.toContain(provider.lastIssuedAccess)

    // The callback is single use: replayed, it is refused and the session stays as it was.
    const replay = await page.goto(provider.callbackUrls.at(-1) as string)
    expect(replay?.status()).toBe(400)
    expect(await page.textContent('h1')).toBe('Sign-in did not complete')
    await page.goto(url('/explore'))
    expect(where()).toBe('/explore')
  })

  it('refuses a callback whose state or ID-token nonce is not this browser’s', async () => {
    const { page, url, shot } = tab
    provider.tamper = 'state'
    await page.goto(url('/login'))
    await Promise.all([page.waitForURL(/\/auth\/callback/, { waitUntil: 'load' }), page.click('#provider-sign-in')])
    expect(await page.textContent('h1')).toBe('Sign-in did not complete')
    expect(await sessionCookies()).toEqual([])

    provider.tamper = 'nonce'
    await page.goto(url('/login'))
    await Promise.all([page.waitForURL(/\/auth\/callback/, { waitUntil: 'load' }), page.click('#provider-sign-in')])
    expect(await page.textContent('h1')).toBe('Sign-in did not complete')
    expect(await page.textContent('#message')).toContain('failed its checks')
    expect(await sessionCookies()).toEqual([])
    await shot('03-bad-callback')
  })

  it('refreshes an expiring access token once, before the page that uses it', async () => {
    const { page, url, shot } = tab
    // In the cookie, long tokens make the session cookie grow past 4 KB: it is chunked.
    if (mode === 'cookie') provider.padding = 3000
    await signIn(EXPIRING_S)
    await onboard()
    expect(provider.refreshes).toEqual([])

    await page.goto(url('/profile'))
    expect(await page.textContent('h1')).toBe('Your account at the provider')
    expect(await page.textContent('#userinfo')).toContain(USER.email)
    expect(provider.refreshes).toHaveLength(1)
    expect(provider.honoured).toBe(1)
    // The page used the token the refresh brought.
    expect(provider.userinfoTokens.at(-1)).toBe(provider.lastIssuedAccess)
    await shot('04-profile-refreshed')
    if (mode === 'cookie')
      expect((await sessionCookies()).filter((name) => /^__Host-session\.\d+$/.test(name)).length).toBeGreaterThan(1)

    // Fresh now: no second refresh.
    await page.reload()
    expect(await page.textContent('#userinfo')).toContain(USER.email)
    expect(provider.refreshes).toHaveLength(1)
  })

  it('serves parallel requests at expiry with one refresh, signs nobody out and keeps the rotated refresh token', async () => {
    const { page, url, where, shot } = tab
    await signIn(EXPIRING_S)
    await onboard()
    // The refresh the parallel requests cause yields a token good for a few seconds only.
    const freshFor = 8
    provider.lifetimes.push(MARGIN_S + freshFor)
    // A slow token endpoint: all six requests have read the session before the first refresh ends.
    provider.tokenDelayMs = 500
    // Six different URLs: chromium holds back concurrent GETs of one URL behind its cache lock.
    const results = await page.evaluate(() =>
      Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fetch(`/api/profile?request=${i}`, { headers: { accept: 'application/json' }, cache: 'no-store' }).then(
            async (r) => ({
              status: r.status,
              body: await r.json(),
            }),
          ),
        ),
      ),
    )
    const refreshedAt = Date.now()
    provider.tokenDelayMs = 0
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200])
    for (const r of results) expect(r.body).toMatchObject({ sub: USER.sub, email: USER.email })
    // One refresh honoured. With Durable Objects only one request asked; in the cookie each request
    // asked on its own, the provider refused the spent token, and those requests were retried
    // with the cookie the one honoured refresh wrote.
    expect(provider.honoured).toBe(1)
    if (mode === 'durable-object') expect(provider.refreshes).toHaveLength(1)
    // The race did happen: more than one request presented the same refresh token.
    else expect(provider.refreshes.length).toBeGreaterThan(1)
    await page.goto(url('/explore'))
    expect(where()).toBe('/explore')
    await shot('05-parallel')

    // The session kept the rotated refresh token: once the new access token is about to
    // expire, the next refresh presents the token the provider issued last, and is honoured.
    await sleep(Math.max(0, refreshedAt + freshFor * 1000 + 500 - Date.now()))
    const before = provider.refreshes.length
    await page.goto(url('/profile'))
    expect(await page.textContent('#userinfo')).toContain(USER.email)
    expect(provider.refreshes.slice(before)).toEqual([{ token: expect.any(String), ok: true }])
    expect(provider.honoured).toBe(2)
  })

  it('signs the user out with a clear page when the provider refuses the refresh', async () => {
    const { page, url, where, shot } = tab
    await signIn(EXPIRING_S)
    await onboard()
    provider.revoked = true
    const res = await page.goto(url('/profile'))
    expect(res?.status()).toBe(401)
    expect(await page.textContent('h1')).toBe('Signed out')
    expect(await page.textContent('#message')).toContain('Sign in again')
    expect(provider.refreshes.length).toBeGreaterThan(0)
    expect(provider.honoured).toBe(0)
    expect(await sessionCookies()).toEqual([])
    await shot('06-refresh-refused')
    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')
  })

  it('signs out through the provider’s end-session endpoint', async () => {
    const { page, context, url, where, shot, submit } = tab
    await signIn()
    await onboard()
    const before = await context.cookies(url('/'))
    await submit('#logout', /\/login\?signedOut=1$/)
    expect(await page.textContent('.notice')).toBe('You are signed out.')
    const query = provider.endSessionQueries.at(-1)
    expect(query?.get('post_logout_redirect_uri')).toBe(url('/login?signedOut=1'))
    expect(query?.get('client_id')).toBe(CLIENT_ID)
    expect(provider.issuedIdTokens.has(query?.get('id_token_hint') ?? '')).toBe(true)
    expect(await sessionCookies()).toEqual([])
    await shot('07-signed-out')
    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')

    if (mode === 'durable-object') {
      // The record is deleted: a copy of the old cookie is refused too.
      await context.addCookies(before.filter((c) => c.name.startsWith('__Host-session')))
      await page.goto(url('/explore'))
      expect(where()).toBe('/login?returnTo=%2Fexplore')
    }
  })
})
