import { describe, expect, it } from 'vitest'
import {
  ACTIVITY,
  T0,
  CookieJar,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  createOnboardingApp,
  deferred,
  navigation,
  postJson,
  setCookieNames,
  at,
  useFakeDate,
} from '../../helpers'

useFakeDate()

describe('race: a slow older response cannot undo a newer session change', () => {
  it('A (slow page, old cookies) finishes after B (finishes onboarding): the session stays COMPLETED', async () => {
    const started = deferred()
    const release = deferred()
    const { app, hits } = createOnboardingApp({
      slow: async () => {
        started.resolve()
        await release.promise
      },
    })
    const jar = new CookieJar().apply(await app.request('/login', postJson({ username: 'ada', password: 'pw-ada' })))
    const oldCookies = jar.header

    // A: a page load that starts before onboarding is finished, holding the old cookies.
    at(5_000)
    const pendingA = app.request('/onboarding/slow', { headers: navigation(oldCookies) })
    await started.promise

    // B: finishes onboarding while A is still running; the browser stores B's cookies first.
    at(6_000)
    const b = await app.request('/onboarding/finish', { method: 'POST', headers: apiCall(oldCookies) })
    expect(b.status).toBe(303)
    expect(setCookieNames(b)).toEqual([SESSION, ...SESSION_CHUNKS])
    jar.apply(b)

    // A completes last and its Set-Cookie lines are applied on top.
    at(7_000)
    release.resolve()
    const a = await pendingA
    expect(a.status).toBe(200)
    // A records its page view, and nothing but its page view.
    expect(setCookieNames(a)).toEqual([ACTIVITY])
    jar.apply(a)

    const seen = (await (await app.request('/auth/session', { headers: apiCall(jar.header) })).json()) as {
      onboardingStep: string
      lastPath: string
      lastVisit: number
    }
    expect(seen).toMatchObject({ onboardingStep: 'COMPLETED', lastPath: '/onboarding/slow', lastVisit: T0 + 7_000 })
    const explore = await app.request('/explore', { headers: navigation(jar.header) })
    expect(explore.status).toBe(200)
    expect(hits.protected).toBe(1)
  })

  it('also when A writes activity only because the touch interval passed (an API call)', async () => {
    const started = deferred()
    const release = deferred()
    const { app } = createOnboardingApp({
      onboarding: { allow: ['/api/poll'] },
      routes: (r) =>
        r.get('/api/poll', async (c) => {
          started.resolve()
          await release.promise
          return c.json({ ok: true })
        }),
    })
    const jar = new CookieJar().apply(await app.request('/login', postJson({ username: 'ada', password: 'pw-ada' })))
    const oldCookies = jar.header

    at(120_000)
    const pendingA = app.request('/api/poll', { headers: apiCall(oldCookies) })
    await started.promise
    const b = await app.request('/onboarding/finish', { method: 'POST', headers: apiCall(oldCookies) })
    jar.apply(b)
    release.resolve()
    const a = await pendingA
    expect(setCookieNames(a)).toEqual([ACTIVITY])
    jar.apply(a)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(200)
  })
})
