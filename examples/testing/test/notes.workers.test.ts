/**
 * The app in workerd, as deployed: requests go through the Worker's own fetch handler with the
 * KV namespace and Durable Object declared in wrangler.toml.
 */
import { SELF } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { durableObjectStore } from 'hono-edge-session'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { describe, expect, it } from 'vitest'
import { CookieJar, FORM, NAVIGATE } from './cookie-jar'

const BASE = 'https://example.com'

/** Sends a request through the Worker with the jar's cookies, and keeps what it sets. */
async function send(jar: CookieJar, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers)
  if (jar.header) headers.set('cookie', jar.header)
  return jar.apply(await SELF.fetch(`${BASE}${path}`, { ...init, headers, redirect: 'manual' }))
}

const post = (jar: CookieJar, path: string, fields: Record<string, string> = {}) =>
  send(jar, path, { method: 'POST', headers: FORM, body: new URLSearchParams(fields) })

describe('notes app', () => {
  it('signs in through the form, keeps notes in KV, and signs out for good', async () => {
    const jar = new CookieJar()
    const login = await post(jar, '/login', { name: 'Ada' })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/notes')
    expect(jar.header).toMatch(/^__Host-session=/) // only an encrypted session id: the data is in the Durable Object

    expect((await post(jar, '/notes', { text: 'buy milk' })).status).toBe(303)
    const page = await send(jar, '/notes', { headers: NAVIGATE })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<li>buy milk</li>')
    expect(await env.NOTES.get('notes:ada', 'json')).toEqual(['buy milk']) // the real KV binding

    const stolen = jar.header // a copy of the cookie, kept past sign-out
    expect((await post(jar, '/logout')).headers.get('location')).toBe('/login')
    expect(jar.header).toBe('')
    // With a store, sign-out deletes the record: the old cookie no longer signs anyone in.
    const replay = await SELF.fetch(`${BASE}/api/me`, { headers: { cookie: stolen } })
    expect(replay.status).toBe(401)
  })

  it('starts signed in with mintSessionCookie (same secret and store as the app)', async () => {
    await env.NOTES.put('notes:grace', JSON.stringify(['seeded in KV']))
    const { cookie } = await mintSessionCookie({
      secret: env.SESSION_SECRET,
      store: durableObjectStore(env.SESSION_DO),
      data: { user: { sub: 'grace', name: 'Grace' } },
    })
    const jar = new CookieJar().add(cookie)
    const res = await send(jar, '/notes', { headers: NAVIGATE })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).toContain('Notes of Grace')
    expect(text).toContain('<li>seeded in KV</li>')
  })

  it('refuses a form post from another site (csrf)', async () => {
    const res = await SELF.fetch(`${BASE}/login`, {
      method: 'POST',
      headers: { ...FORM, origin: 'https://evil.example' },
      body: new URLSearchParams({ name: 'Mallory' }),
    })
    expect(res.status).toBe(403)
    expect(res.headers.getSetCookie()).toEqual([])
  })
})
