/**
 * Gate behaviour that gate.test.ts did not pin (found by a mutation audit of
 * src/middleware/gate/index.ts).
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { createGate, edgeSession, getSession } from '../../../src'
import type { OnboardingOptions } from '../../../src'
import { SECRET, apiCall, createOnboardingApp, jarWith, navigation } from '../../helpers/middleware'

/** createGate used as its JSDoc shows: a decision called with getSession(c). */
function createGateApp(options: OnboardingOptions) {
  let reached = 0
  const decide = createGate(options)
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET }))
  app.use('/app/*', async (c, next) => decide(c, getSession(c)) ?? next())
  app.all('*', (c) => {
    reached++
    return c.text('in')
  })
  return { app, reached: () => reached }
}

describe('gate (mutants): createGate with getSession(c)', () => {
  it('lets an anonymous request through (null session), and still gates a signed-in one', async () => {
    const { app, reached } = createGateApp({ path: '/app/welcome' })
    const anonymous = await app.request('/app/dashboard', { headers: navigation() })
    expect(anonymous.status).toBe(200)
    expect(reached()).toBe(1)
    const mid = await jarWith({ onboardingStep: 'PROFILE' })
    const blocked = await app.request('/app/dashboard', { headers: apiCall(mid.header) })
    expect(blocked.status).toBe(403)
    expect(reached()).toBe(1)
  })

  it('applies protect to an anonymous request (null session): 401 JSON, not the onboarding answer', async () => {
    const { app, reached } = createGateApp({ path: '/app/welcome', protect: ['/app/*'], loginPath: '/login' })
    const res = await app.request('/app/dashboard', { headers: apiCall() })
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({ error: 'login_required', login: '/login' })
    expect(reached()).toBe(0)
  })
})

describe('gate (mutants): returnTo length', () => {
  it('drops returnTo when the blocked URL is longer than a returnTo may be (2048 chars)', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const long = `/explore?q=${'a'.repeat(2100)}`
    const res = await app.request(long, { headers: navigation(jar.header) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/onboarding')
    // Control: at the limit, returnTo is kept.
    const fits = `/explore?q=${'a'.repeat(2048 - '/explore?q='.length)}`
    const kept = await app.request(fits, { headers: navigation(jar.header) })
    expect(kept.headers.get('location')).toBe(`/onboarding?returnTo=${encodeURIComponent(fits)}`)
    expect(hits.protected).toBe(0)
  })

  it('does the same for the login redirect of protect', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/explore'] } })
    const res = await app.request(`/explore?q=${'a'.repeat(2100)}`, { headers: navigation() })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/login')
    expect(hits.protected).toBe(0)
  })
})

describe('gate (mutants): the entry page in any spelling', () => {
  it('sends a finished user on from /onboarding/ and /onboarding// too, not only from /onboarding', async () => {
    const { app } = createOnboardingApp({ onboarding: { home: '/home' } })
    const done = await jarWith({ onboardingStep: 'COMPLETED' })
    for (const path of ['/onboarding', '/onboarding/', '/onboarding//']) {
      const res = await app.request(path, { headers: navigation(done.header) })
      expect(res.status, path).toBe(303)
      expect(res.headers.get('location'), path).toBe('/home')
    }
    // Control: a sub-page stays reachable for a finished user.
    expect((await app.request('/onboarding/profile', { headers: navigation(done.header) })).status).toBe(200)
  })
})
