/**
 * The example's OpenID Connect routes where no real provider needs to answer: which sign-in is
 * on, a half-done configuration, callbacks refused before any call to the provider, and where a
 * sign-in may send the browser back to (against a stub provider on `fetch`). The flows with a
 * provider run in the browser against a local one (test/e2e/oidc.test.ts).
 */
import { Hono } from 'hono'
import { generateKeyPair } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import app, { type Env } from '../../../example-worker/src/app'
import { finishSignIn, startSignIn } from '../../../example-worker/src/oidc'
import { CookieJar, SECRET } from '../../helpers'
import { STUB_ISSUER, stubIdToken } from '../../helpers/oidc'

const ORIGIN = 'http://localhost'
const demoEnv: Env = { SESSION_SECRET: SECRET }
const oidcEnv: Env = {
  SESSION_SECRET: SECRET,
  OIDC_ISSUER: 'https://id.example.com',
  OIDC_CLIENT_ID: 'app',
  OIDC_CLIENT_SECRET: 'secret',
}

function get(path: string, env: Env, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'text/html',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
  }
  if (cookie) headers.cookie = cookie
  return Promise.resolve(app.request(path, { headers }, env))
}

function post(path: string, fields: Record<string, string>, env: Env): Promise<Response> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }
  return Promise.resolve(
    app.request(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() }, env),
  )
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('example: which sign-in', () => {
  it('without OIDC settings keeps the demo sign-in, and the provider routes do not exist', async () => {
    expect(await (await get('/login', demoEnv)).text()).toContain('Demo sign-in')
    expect((await post('/auth/login', {}, demoEnv)).status).toBe(404)
    expect((await get('/auth/callback?code=x&state=y', demoEnv)).status).toBe(404)
  })

  it('with a provider, /login offers it and the demo form signs nobody in', async () => {
    const page = await (await get('/login', oidcEnv)).text()
    expect(page).toContain('Continue with id.example.com')
    expect(page).not.toContain('Demo sign-in')
    const res = await post('/login', { email: 'ada@example.com' }, oidcEnv)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a half-done configuration names what is missing', async () => {
    const res = await get('/login', { SESSION_SECRET: SECRET, OIDC_ISSUER: 'https://id.example.com' })
    expect(res.status).toBe(500)
    const page = await res.text()
    expect(page).toContain('Server not configured')
    expect(page).toContain('OIDC_CLIENT_ID and OIDC_CLIENT_SECRET')
  })
})

describe('example: the OIDC callback', () => {
  it('is refused without this browser’s transaction cookie, or with a forged one, before any call to the provider', async () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch')
    for (const cookie of [
      undefined,
      '__Host-oidc-transaction=AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBB',
      '__Host-oidc-transaction=garbage',
    ]) {
      const res = await get('/auth/callback?code=x&state=y', oidcEnv, cookie)
      expect(res.status).toBe(400)
      expect(await res.text()).toContain('Sign-in did not complete')
      const jar = new CookieJar().apply(res)
      expect([...jar.cookies.keys()]).toEqual([])
      // The transaction cookie is single use: the callback always deletes it.
      expect(res.headers.getSetCookie().some((line) => /^__Host-oidc-transaction=;.*Max-Age=0/i.test(line))).toBe(true)
      expect(res.headers.get('cache-control')).toBe('private, no-store')
    }
    expect(fetchSpy).not.toHaveBeenCalled()
  })
})

const ISSUER = STUB_ISSUER
const HOSTILE = ['//evil.example', 'https://evil.example', '/\\evil.example', 'https://evil.example/explore']

/**
 * A provider on `fetch`: discovery, and a token endpoint that answers any code with tokens whose
 * ID token carries the nonce of the last authorization request (`nonce`). Returns a fresh env
 * (discovery is cached per env object).
 */
async function stubProvider(): Promise<{ env: Env; nonce: { value: string } }> {
  const { privateKey } = await generateKeyPair('RS256')
  const nonce = { value: '' }
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.pathname === '/.well-known/openid-configuration') {
      return Response.json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
      })
    }
    if (url.pathname === '/token') {
      const idToken = await stubIdToken(privateKey, nonce.value)
      return Response.json({ access_token: 'access', token_type: 'Bearer', expires_in: 3600, id_token: idToken })
    }
    return new Response('not found', { status: 404 })
  })
  return { env: { ...oidcEnv, OIDC_ISSUER: ISSUER }, nonce }
}

/** The provider's side of a redirect to it: the browser comes back to the callback with a code and the state. */
function providerAnswers(res: Response, nonce: { value: string }): string {
  const authorize = new URL(res.headers.get('location') ?? '')
  expect(authorize.origin + authorize.pathname).toBe(`${ISSUER}/authorize`)
  nonce.value = authorize.searchParams.get('nonce') ?? ''
  return `/auth/callback?code=the-code&state=${authorize.searchParams.get('state')}`
}

describe('example: where a sign-in goes back to', () => {
  // The transaction as finishSignIn reads it, returnTo unchecked: what POST /auth/login stored.
  const reader = new Hono<{ Bindings: Env }>().get('/auth/callback', async (c) => c.json(await finishSignIn(c)))
  // A sign-in started with any returnTo, as if /auth/login had not checked it.
  const unchecked = new Hono<{ Bindings: Env }>().get('/start', (c) => startSignIn(c, c.req.query('returnTo')))

  it('POST /auth/login keeps only a same-origin returnTo in the transaction', async () => {
    const { env, nonce } = await stubProvider()
    for (const [returnTo, kept] of [
      ...HOSTILE.map((h) => [h, undefined] as const),
      ['/settings', '/settings'] as const,
    ]) {
      const res = await post('/auth/login', { returnTo }, env)
      expect(res.status).toBe(303)
      const callback = providerAnswers(res, nonce)
      const signedIn = (await (
        await reader.request(callback, { headers: { cookie: new CookieJar().apply(res).header } }, env)
      ).json()) as Record<string, unknown>
      expect(signedIn.user, returnTo).toEqual({ sub: 'ada', email: 'ada@example.com' })
      expect(signedIn.returnTo, returnTo).toBe(kept)
    }
  })

  it('the callback sends the browser only to a same-origin path, whatever the transaction says', async () => {
    const { env, nonce } = await stubProvider()
    for (const [returnTo, next] of [
      ...HOSTILE.map((h) => [h, '/explore'] as const),
      ['/settings', '/settings'] as const,
    ]) {
      const started = await unchecked.request(`/start?returnTo=${encodeURIComponent(returnTo)}`, {}, env)
      const callback = providerAnswers(started, nonce)
      const res = await get(callback, env, new CookieJar().apply(started).header)
      expect(res.status, returnTo).toBe(303)
      expect(res.headers.get('location'), returnTo).toBe(next)
      // Signed in all the same: the session cookie is set.
      expect([...new CookieJar().apply(res).cookies.keys()]).toContain('__Host-session')
    }
  })
})
