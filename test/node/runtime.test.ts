/**
 * Proof that the Node run is really Node (not workerd through a pool), and that the package
 * works there end to end through app.request: sign in, read, update, the gate, sign out.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createSession, destroySession, edgeSession, getSession, updateSession } from 'hono-edge-session'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { CookieJar, SECRET } from '../helpers'

describe('runtime: Node', () => {
  it('runs on Node, not in workerd', () => {
    expect(typeof process).toBe('object')
    expect(process.versions.node).toMatch(/^\d+\.\d+\.\d+$/)
    expect(process.release.name).toBe('node')
    expect(typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair).toBe('undefined')
  })

  it('signs in, reads, updates through the gate and signs out via app.request', async () => {
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, onboarding: {} }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: 'node-user' }, onboardingStep: 'PROFILE' })
      return c.body(null, 204)
    })
    app.post('/onboarding/finish', async (c) => {
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      // The handler and the request's Cookie header both see the change at once.
      return c.json({
        step: getSession<{ onboardingStep?: string }>(c)?.onboardingStep,
        cookie: c.req.header('cookie') ?? '',
      })
    })
    app.post('/logout', async (c) => {
      await destroySession(c)
      return c.body(null, 204)
    })
    app.get('/explore', (c) => c.json({ sub: getSession(c)?.user.sub ?? null }))

    const jar = new CookieJar()
    const login = await app.request('/login', { method: 'POST' })
    expect(login.status).toBe(204)
    expect(login.headers.getSetCookie()[0]).toMatch(
      /^__Host-session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    jar.apply(login)

    const gated = await app.request('/explore', { headers: { cookie: jar.header, accept: 'application/json' } })
    expect(gated.status).toBe(403)
    expect(await gated.json()).toEqual({ error: 'onboarding_required', onboarding: '/onboarding' })

    const finish = await app.request('/onboarding/finish', { method: 'POST', headers: { cookie: jar.header } })
    const body = (await finish.json()) as { step: string; cookie: string }
    expect(body.step).toBe('COMPLETED')
    jar.apply(finish)
    expect(body.cookie).toContain(`__Host-session=${jar.cookies.get('__Host-session')}`)

    const explore = await app.request('/explore', { headers: { cookie: jar.header, accept: 'application/json' } })
    expect(explore.status).toBe(200)
    expect(await explore.json()).toEqual({ sub: 'node-user' })

    jar.apply(await app.request('/logout', { method: 'POST', headers: { cookie: jar.header } }))
    expect(jar.header).toBe('')
  })

  it('opens a cookie minted by the testing helper', async () => {
    const { cookie } = await mintSessionCookie({ secret: SECRET, data: { user: { sub: 'minted' } } })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/', (c) => c.text(getSession(c)?.user.sub ?? 'none'))
    expect(await (await app.request('/', { headers: { cookie } })).text()).toBe('minted')
  })
})
