/**
 * Path-matching behaviour that gate-paths.test.ts did not pin (found by a mutation audit): each
 * test here fails if one rule of src/middleware/gate/paths.ts is dropped or weakened.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { edgeSession, safeRedirectPath } from '../../../src'
import type { OnboardingOptions } from '../../../src'
import { canonicalPath } from '../../../src/middleware/gate/paths'
import { SECRET, apiCall, createOnboardingApp, jarWith, navigation } from '../../helpers/middleware'

/** An app whose every path answers 200 and records the path a handler saw. */
function protectedApp(protect: OnboardingOptions['protect']) {
  const reached: string[] = []
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, onboarding: { protect } }))
  app.all('*', (c) => {
    reached.push(c.req.path)
    return c.text('ok')
  })
  return { app, reached }
}

describe('gate paths (mutants): protect rules', () => {
  it('a RegExp or function rule catches a path whose canonical form alone matches', async () => {
    // Hono keeps %2F encoded, so the routed path is one segment; its canonical form is /reports/x.
    const { app, reached } = protectedApp([/^\/reports\//, (path: string) => path.startsWith('/billing/')])
    for (const path of ['/a%2F..%2Freports%2Fx', '/a%2F..%2Fbilling%2Fx']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a RegExp or function rule catches the lower-cased canonical form', async () => {
    // Routed '/Reports%2Fx' and its lower-cased '/reports%2fx' do not match; '/reports/x' does.
    const { app, reached } = protectedApp([/^\/reports\//, (path: string) => path.startsWith('/billing/')])
    for (const path of ['/Reports%2Fx', '/BILLING%2Fx']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a RegExp or function rule sees the path without its trailing slash (a catch-all or an origin takes /x/ for /x)', async () => {
    // strict: true (the default) keeps the slash in c.req.path; strict: false strips it before the gate.
    const { app, reached } = protectedApp([/^\/billing$/, (path: string) => path === '/reports'])
    for (const path of ['/billing/', '/reports/']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a global or sticky RegExp keeps matching on every request (no lastIndex carried over)', async () => {
    const { app, reached } = protectedApp([/^\/admin/g, /^\/ops/y])
    for (let i = 0; i < 3; i++) {
      for (const path of ['/admin', '/ops']) expect((await app.request(path, { headers: apiCall() })).status, `${path} #${i}`).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('string rules written with upper-case letters still match, in any case', async () => {
    const { app, reached } = protectedApp(['/Admin/*', '/Reports'])
    for (const path of ['/Admin/users', '/admin/users', '/ADMIN', '/Reports', '/reports/']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('string rules are canonical too: "/account/" protects /account, "/a//b/*" protects /a/b/x', async () => {
    const { app, reached } = protectedApp(['/account/', '/team//billing/*'])
    for (const path of ['/account', '/account/', '/team/billing', '/team/billing/x']) {
      expect((await app.request(path, { headers: apiCall() })).status, path).toBe(401)
    }
    expect(reached).toEqual([])
  })

  it('a malformed escape does not stop non-ASCII escapes elsewhere from being decoded', async () => {
    // Canonical form: /données/secret%zz, under the protected prefix.
    expect(canonicalPath('/x%2F..%2Fdonn%C3%A9es%2Fsecret%zz')).toBe('/données/secret%zz')
    const { app, reached } = protectedApp(['/données/*'])
    const res = await app.request('/x%2F..%2Fdonn%C3%A9es%2Fsecret%zz', { headers: apiCall() })
    expect(res.status).toBe(401)
    expect(reached).toEqual([])
  })
})

describe('gate paths (mutants): allowed prefixes cannot be left by dot segments', () => {
  // Under /static/* as Hono routes them (%2F stays encoded), but /explore once canonical.
  const ESCAPES = [
    // `.` is not a segment that `..` can remove.
    '/static/.%2F..%2Fexplore',
    // Triple encoding: an origin that decodes three times sees /static/../explore.
    '/static/%25252e%25252e%25252fexplore',
  ]

  it('blocks them for a user mid-onboarding', async () => {
    const { app } = createOnboardingApp()
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const path of ESCAPES) {
      expect((await app.request(path, { headers: apiCall(jar.header) })).status, path).toBe(403)
      const nav = await app.request(path, { headers: navigation(jar.header) })
      expect(nav.status, path).toBe(303)
    }
    // Control: a real static file still passes.
    expect((await app.request('/static/app.js', { headers: apiCall(jar.header) })).status).toBe(200)
  })

  it('canonicalPath resolves them to /explore', () => {
    for (const path of ESCAPES) expect(canonicalPath(path), path).toBe('/explore')
  })
})

describe('returnTo (mutants)', () => {
  it('refuses a target that becomes //host once decoded even when another escape in it is malformed', async () => {
    for (const attack of ['/%2F%2Fevil.com%zz', '/%5C%5Cevil.com/%E0%A4%A']) expect(safeRedirectPath(attack), attack).toBeUndefined()
    const { app } = createOnboardingApp({ onboarding: { home: '/home' } })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request(`/onboarding?returnTo=${encodeURIComponent('/%2F%2Fevil.com%zz')}`, { headers: navigation(jar.header) })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/home')
  })
})
