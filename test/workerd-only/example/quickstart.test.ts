/**
 * The README's Quickstart (examples/quickstart/src/index.ts, the very file the README shows),
 * driven like a browser: every page of its flow, in workerd, with a cookie jar.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import app from '../../../examples/quickstart/src/index'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { CookieJar, SECRET } from '../../helpers'

const ORIGIN = 'http://localhost'
const env = { SESSION_SECRET: SECRET }
const START = Date.UTC(2026, 4, 1, 10, 0, 0)

/** A page navigation, as a browser sends it. */
async function visit(jar: CookieJar, path: string): Promise<Response> {
  const headers: Record<string, string> = {
    accept: 'text/html',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
  }
  if (jar.header) headers.cookie = jar.header
  const res = await app.request(path, { headers }, env)
  jar.apply(res)
  return res
}

/** A form post from the app's own pages (csrf() wants the Origin header a browser sends). */
async function post(
  jar: CookieJar,
  path: string,
  fields: Record<string, string> = {},
  origin = ORIGIN,
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', origin }
  if (jar.header) headers.cookie = jar.header
  const res = await app.request(path, { method: 'POST', headers, body: new URLSearchParams(fields).toString() }, env)
  jar.apply(res)
  return res
}

function expectRedirect(res: Response, location: string): void {
  expect(res.status).toBe(303)
  expect(res.headers.get('location')).toBe(location)
}

async function html(res: Response): Promise<string> {
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  return res.text()
}

/** The hidden `returnTo` field of a page's form, as a browser would submit it. */
function returnToField(page: string): string {
  const value = /<input type="hidden" name="returnTo" value="([^"]*)">/.exec(page)?.[1]
  expect(value).toBeDefined()
  const entities: Record<string, string> = { '&amp;': '&', '&quot;': '"', '&#39;': "'", '&lt;': '<', '&gt;': '>' }
  return value!.replace(/&(amp|quot|#39|lt|gt);/g, (entity) => entities[entity]!)
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(START)
})
afterEach(() => {
  vi.useRealTimers()
})

describe('quickstart app', () => {
  it('signs in, onboards, shows the last page as the user browses, and signs out', async () => {
    const jar = new CookieJar()

    // Anonymous: the home page is public and links to sign-in; explore pages go to sign-in.
    const home = await html(await visit(jar, '/'))
    expect(home).toContain('href="/login"')
    expect(home).toContain('href="/explore"')
    expectRedirect(await visit(jar, '/explore'), '/login?returnTo=%2Fexplore')
    expectRedirect(await visit(jar, '/explore/cats'), '/login?returnTo=%2Fexplore%2Fcats')
    expect(jar.header).toBe('')

    const login = await html(await visit(jar, '/login'))
    expect(login).toMatch(/<form method="post" action="\/login">/)
    expect(login).toContain('name="name"')

    // Sign in: a session cookie, then the onboarding page.
    expectRedirect(await post(jar, '/login', { name: 'Ada <b>' }), '/onboarding')
    expect([...jar.cookies.keys()]).toContain('__Host-session')

    // Mid-onboarding, the gate keeps the user on the onboarding page.
    expectRedirect(await visit(jar, '/explore'), '/onboarding?returnTo=%2Fexplore')
    const onboarding = await html(await visit(jar, '/onboarding'))
    expect(onboarding).toContain('Ada &lt;b&gt;')
    expect(onboarding).toMatch(/<form method="post" action="\/onboarding\/finish">/)

    // Finish: the next page passes the gate at once.
    expectRedirect(await post(jar, '/onboarding/finish'), '/explore')
    const first = await html(await visit(jar, '/explore'))
    expect(first).toContain('Hi Ada &lt;b&gt;')
    expect(first).toContain(`Last page: /onboarding at <time>${new Date(START).toUTCString()}</time>`)

    // Browsing: each page shows the one before, with its time.
    vi.setSystemTime(START + 65_000)
    const cats = await html(await visit(jar, '/explore/cats'))
    expect(cats).toContain('Exploring cats')
    expect(cats).toContain(`Last page: /explore at <time>${new Date(START).toUTCString()}</time>`)
    expect(cats).not.toContain('/onboarding')

    vi.setSystemTime(START + 130_000)
    const dogs = await html(await visit(jar, '/explore/dogs'))
    expect(dogs).toContain(`Last page: /explore/cats at <time>${new Date(START + 65_000).toUTCString()}</time>`)

    // Sign out: the cookies are gone, and the explore pages go to sign-in again.
    expectRedirect(await post(jar, '/logout'), '/login')
    expect(jar.header).toBe('')
    expectRedirect(await visit(jar, '/explore'), '/login?returnTo=%2Fexplore')
  })

  it('says "none yet" on the first page view of a session', async () => {
    const { cookie } = await mintSessionCookie({
      secret: SECRET,
      data: { user: { sub: 'u1', name: 'Grace' }, onboardingStep: 'COMPLETED' },
    })
    const jar = new CookieJar()
    for (const pair of cookie.split('; '))
      jar.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
    const page = await html(await visit(jar, '/explore/cats'))
    expect(page).toContain('Hi Grace')
    expect(page).toContain('Last page: none yet')
    expect(await html(await visit(jar, '/explore'))).toContain('Last page: /explore/cats')
  })

  it('refuses a form post without a same-origin Origin header (csrf)', async () => {
    const jar = new CookieJar()
    const crossSite = await post(jar, '/login', { name: 'Mallory' }, 'https://evil.example')
    expect(crossSite.status).toBe(403)
    expect(jar.header).toBe('')

    const noOrigin = await app.request(
      '/login',
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=Mallory' },
      env,
    )
    expect(noOrigin.status).toBe(403)
    expect(noOrigin.headers.getSetCookie()).toEqual([])
  })

  it('brings a signed-out visitor back to the page asked for, after sign-in and onboarding', async () => {
    const jar = new CookieJar()
    const gate = await visit(jar, '/explore/cats')
    expectRedirect(gate, '/login?returnTo=%2Fexplore%2Fcats')

    const login = await html(await visit(jar, gate.headers.get('location')!))
    const toOnboarding = await post(jar, '/login', { name: 'Ada', returnTo: returnToField(login) })
    expectRedirect(toOnboarding, '/onboarding?returnTo=%2Fexplore%2Fcats')

    const onboarding = await html(await visit(jar, toOnboarding.headers.get('location')!))
    expectRedirect(await post(jar, '/onboarding/finish', { returnTo: returnToField(onboarding) }), '/explore/cats')
    expect(await html(await visit(jar, '/explore/cats'))).toContain('Exploring cats')
  })

  it('ends on /explore, not on another site, when returnTo names one', async () => {
    for (const hostile of ['//evil.example', 'https://evil.example', '/\\evil.example', '/%2F%2Fevil.example']) {
      const jar = new CookieJar()
      const login = await html(await visit(jar, `/login?returnTo=${encodeURIComponent(hostile)}`))
      expect(returnToField(login)).toBe(hostile)
      expectRedirect(await post(jar, '/login', { name: 'Ada', returnTo: hostile }), '/onboarding')

      const onboarding = await html(await visit(jar, `/onboarding?returnTo=${encodeURIComponent(hostile)}`))
      expect(returnToField(onboarding)).toBe(hostile)
      expectRedirect(await post(jar, '/onboarding/finish', { returnTo: hostile }), '/explore')
    }
  })

  it('sends anonymous visitors of the onboarding routes to sign in', async () => {
    const jar = new CookieJar()
    expectRedirect(await visit(jar, '/onboarding'), '/login')
    expectRedirect(await post(jar, '/onboarding/finish'), '/login')
    expect(jar.header).toBe('')
  })
})
