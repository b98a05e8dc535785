/**
 * The package end to end through `app.request` on the runtime the suite runs on, imported by its
 * published names: what test/node and test/runtimes each prove, beside their own check that the
 * runtime is the one they name.
 */
import { Hono } from 'hono'
import { createSession, destroySession, edgeSession, getSession, updateSession } from 'hono-edge-session'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { expect, it } from 'vitest'
import { CookieJar, SECRET } from './app'

/**
 * Registers the end-to-end tests: sign in, read, update through the gate, sign out; and a cookie
 * minted by the testing helper opens. `runtime` names the signed-in user (`<runtime>-user`).
 *
 * @example
 * describe('runtime: Node', () => {
 *   it('runs on Node, not in workerd', () => { ... })
 *   itWorksThroughAppRequest('node')
 * })
 */
export function itWorksThroughAppRequest(runtime: string): void {
  it('signs in, reads, updates through the gate and signs out via app.request', async () => {
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, onboarding: {} }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: `${runtime}-user` }, onboardingStep: 'PROFILE' })
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
      return c.json({ cookie: c.req.header('cookie') ?? null, raw: c.req.raw.headers.has('cookie') })
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
    expect(await explore.json()).toEqual({ sub: `${runtime}-user` })

    // The session cookie was the request's only cookie: after sign-out, downstream sees none.
    const logout = await app.request('/logout', { method: 'POST', headers: { cookie: jar.header } })
    expect(await logout.json()).toEqual({ cookie: null, raw: false })
    jar.apply(logout)
    expect(jar.header).toBe('')
  })

  it('opens a cookie minted by the testing helper', async () => {
    const { cookie } = await mintSessionCookie({ secret: SECRET, data: { user: { sub: 'minted' } } })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/', (c) => c.text(getSession(c)?.user.sub ?? 'none'))
    expect(await (await app.request('/', { headers: { cookie } })).text()).toBe('minted')
  })
}
