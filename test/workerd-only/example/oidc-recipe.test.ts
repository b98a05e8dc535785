/**
 * The OpenID Connect recipe of docs/oidc.md (examples/oidc/src/index.ts, the very file the page
 * shows), driven in workerd against a stub provider on `fetch`: loading it does no I/O, sign-in,
 * a refused callback, returnTo, refresh, a refused refresh, and sign-out.
 */
import { generateKeyPair } from 'jose'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { CookieJar, SECRET } from '../../helpers'
import { STUB_ISSUER, stubIdToken } from '../../helpers/oidc'

const ORIGIN = 'http://localhost'
const ISSUER = STUB_ISSUER
const env = { SESSION_SECRET: SECRET, OIDC_ISSUER: ISSUER, OIDC_CLIENT_ID: 'app', OIDC_CLIENT_SECRET: 'secret' }

/** The provider's side: what it was asked, and how it answers. */
const provider = {
  calls: [] as string[],
  nonce: '',
  /** expires_in of the next token answers, then an hour. */
  lifetimes: [] as number[],
  sendRefreshToken: true,
  revoked: false,
  refreshes: [] as string[],
  /** The last tokens issued: userinfo answers only the last access token. */
  issuedAccess: '',
  issuedRefresh: '',
}

let app: { request: (path: string, init: RequestInit, env: object) => Response | Promise<Response> }
let fetchSpy: ReturnType<typeof vi.spyOn>

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256')
  let serial = 0
  fetchSpy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    provider.calls.push(url.pathname)
    if (url.pathname === '/.well-known/openid-configuration') {
      return Response.json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        userinfo_endpoint: `${ISSUER}/userinfo`,
        end_session_endpoint: `${ISSUER}/logout`,
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      })
    }
    if (url.pathname === '/token') {
      const form = new URLSearchParams(String(init?.body))
      if (form.get('grant_type') === 'refresh_token') {
        provider.refreshes.push(form.get('refresh_token') ?? '')
        if (provider.revoked) return Response.json({ error: 'invalid_grant' }, { status: 400 })
      }
      const idToken = await stubIdToken(privateKey, provider.nonce)
      serial++
      provider.issuedAccess = `access-${serial}`
      const answer: Record<string, unknown> = {
        access_token: provider.issuedAccess,
        token_type: 'Bearer',
        expires_in: provider.lifetimes.shift() ?? 3600,
        id_token: idToken,
      }
      provider.issuedRefresh = `refresh-${serial}`
      if (provider.sendRefreshToken) answer.refresh_token = provider.issuedRefresh
      return Response.json(answer)
    }
    if (url.pathname === '/userinfo') {
      const token = new Headers(init?.headers).get('authorization')?.replace(/^Bearer /, '')
      return token === provider.issuedAccess
        ? Response.json({ sub: 'ada', name: 'Ada' })
        : Response.json({ error: 'invalid_token' }, { status: 401 })
    }
    return new Response('not found', { status: 404 })
  })
  // Loading the module must not touch the network (Workers refuse I/O at module scope).
  app = (await import('../../../examples/oidc/src/index')).default
  expect(fetchSpy).not.toHaveBeenCalled()
})

afterAll(() => {
  fetchSpy.mockRestore()
})

beforeEach(() => {
  Object.assign(provider, {
    calls: [],
    nonce: '',
    lifetimes: [],
    sendRefreshToken: true,
    revoked: false,
    refreshes: [],
  })
})

async function visit(jar: CookieJar, path: string): Promise<Response> {
  const res = await app.request(path, { headers: { cookie: jar.header } }, env)
  jar.apply(res)
  return res
}

async function post(jar: CookieJar, path: string, fields: Record<string, string> = {}): Promise<Response> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN, cookie: jar.header }
  const res = await app.request(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() }, env)
  jar.apply(res)
  return res
}

/** POST /auth/login, then the provider's redirect back: the callback URL the browser would load. */
async function toProvider(jar: CookieJar, returnTo = ''): Promise<{ callback: string; authorize: URL }> {
  const res = await post(jar, '/auth/login', { returnTo })
  expect(res.status).toBe(303)
  const authorize = new URL(res.headers.get('location') ?? '')
  provider.nonce = authorize.searchParams.get('nonce') ?? ''
  return { authorize, callback: `/auth/callback?code=the-code&state=${authorize.searchParams.get('state')}` }
}

async function signIn(jar: CookieJar, accessLifetime = 3600): Promise<void> {
  provider.lifetimes.push(accessLifetime)
  const { callback } = await toProvider(jar, '/profile')
  const res = await visit(jar, callback)
  expect(res.headers.get('location')).toBe('/profile')
}

describe('docs/oidc.md recipe', () => {
  it('signs in with PKCE, state and nonce, then goes back to the page asked for', async () => {
    const jar = new CookieJar()
    expect((await visit(jar, '/profile')).headers.get('location')).toBe('/login?returnTo=/profile')
    expect(await (await visit(jar, '/login?returnTo=/profile')).text()).toContain('name="returnTo" value="/profile"')
    const { authorize, callback } = await toProvider(jar, '/profile')
    expect(authorize.origin + authorize.pathname).toBe(`${ISSUER}/authorize`)
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
    expect(authorize.searchParams.get('scope')).toBe('openid profile email offline_access')
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${ORIGIN}/auth/callback`)
    expect([...jar.cookies.keys()]).toEqual(['__Host-oidc-tx'])

    const res = await visit(jar, callback)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/profile')
    expect([...jar.cookies.keys()]).toEqual(['__Host-session'])
    const page = await visit(jar, '/profile')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('Hello Ada')
    // Discovery ran once for the isolate, on first use.
    expect(provider.calls.filter((p) => p.startsWith('/.well-known')).length).toBeLessThanOrEqual(1)
    // Replayed, the callback finds no transaction: 400.
    expect((await visit(new CookieJar(), callback)).status).toBe(400)
  })

  it('answers 400, signing nobody in, to a callback whose state is not this browser’s', async () => {
    const jar = new CookieJar()
    await toProvider(jar)
    const res = await visit(jar, '/auth/callback?code=the-code&state=someone-else')
    expect(res.status).toBe(400)
    expect([...jar.cookies.keys()]).toEqual([])
    expect(provider.calls).not.toContain('/token')
  })

  it('sends the browser back only to a same-origin path', async () => {
    for (const returnTo of ['//evil.example', 'https://evil.example', '/\\evil.example']) {
      const jar = new CookieJar()
      expect(await (await visit(jar, `/login?returnTo=${encodeURIComponent(returnTo)}`)).text()).toContain(
        'name="returnTo" value=""',
      )
      const { callback } = await toProvider(jar, returnTo)
      expect((await visit(jar, callback)).headers.get('location'), returnTo).toBe('/profile')
    }
  })

  it('refreshes an expiring access token once and keeps the new one', async () => {
    const jar = new CookieJar()
    await signIn(jar, 10) // inside the 30 s margin: refreshed on next use
    const first = provider.issuedRefresh
    const page = await visit(jar, '/profile')
    // 200: userinfo took the access token the refresh brought.
    expect(page.status).toBe(200)
    expect(provider.refreshes).toEqual([first])
    expect(await (await visit(jar, '/profile')).text()).toContain('Hello Ada')
    expect(provider.refreshes).toEqual([first])
  })

  it('shows "Signed out" (401), not a 500, when the refresh is refused or there is no refresh token', async () => {
    for (const trouble of ['revoked', 'no refresh token'] as const) {
      const jar = new CookieJar()
      provider.sendRefreshToken = trouble !== 'no refresh token'
      await signIn(jar, 10)
      provider.revoked = trouble === 'revoked'
      const page = await visit(jar, '/profile')
      expect(page.status, trouble).toBe(401)
      expect(await page.text()).toContain('Signed out')
      expect([...jar.cookies.keys()], trouble).toEqual([])
    }
  })

  it('signs out through the provider’s end-session endpoint', async () => {
    const jar = new CookieJar()
    await signIn(jar)
    const res = await post(jar, '/logout')
    const to = new URL(res.headers.get('location') ?? '')
    expect(to.origin + to.pathname).toBe(`${ISSUER}/logout`)
    expect(to.searchParams.get('id_token_hint')).toMatch(/^ey/)
    expect(to.searchParams.get('post_logout_redirect_uri')).toBe(`${ORIGIN}/login`)
    expect([...jar.cookies.keys()]).toEqual([])
  })
})
