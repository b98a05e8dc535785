/**
 * The example's OpenID Connect routes where no provider needs to answer: which sign-in is on,
 * a half-done configuration, and callbacks refused before any call to the provider. The flows
 * with a provider run in the browser against a local one (test/e2e/oidc.test.ts).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import app, { type Env } from '../../../example-worker/src/app'
import { CookieJar, SECRET } from '../../helpers'

const ORIGIN = 'http://localhost'
const demoEnv: Env = { SESSION_SECRET: SECRET }
const oidcEnv: Env = { SESSION_SECRET: SECRET, OIDC_ISSUER: 'https://id.example.com', OIDC_CLIENT_ID: 'app', OIDC_CLIENT_SECRET: 'secret' }

function get(path: string, env: Env, cookie?: string): Promise<Response> {
  const headers: Record<string, string> = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
  if (cookie) headers.cookie = cookie
  return Promise.resolve(app.request(path, { headers }, env))
}

function post(path: string, fields: Record<string, string>, env: Env): Promise<Response> {
  const headers = { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }
  return Promise.resolve(app.request(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() }, env))
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
    for (const cookie of [undefined, '__Host-oidc-transaction=AAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBB', '__Host-oidc-transaction=garbage']) {
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
