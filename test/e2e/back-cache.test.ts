/**
 * Back after sign-out: a personal page must come from the server again (which now sends the user
 * to sign in), never from the browser's cache. `wrangler dev` serves the example; Debian's
 * chromium is driven by playwright-core over CDP.
 */
import type { Response as PageResponse } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Example, openExample } from './browser'

const EMAIL = 'grace@example.com'
const NAME = 'Grace Hopper'

let example: Example | undefined

beforeAll(async () => {
  example = await openExample()
})

afterAll(() => example?.stop())

/** The chain of a navigation's responses, first request first: `303 /explore -> 200 /login?...`. */
function chain(response: PageResponse | null): string[] {
  const out: string[] = []
  for (let request = response?.request() ?? null; request; request = request.redirectedFrom()) {
    const answer = request === response?.request() ? response.status() : undefined
    const target = new URL(request.url())
    out.unshift(`${answer ?? 'redirect'} ${target.pathname}${target.search}`)
  }
  return out
}

describe('Back after sign-out in chromium', () => {
  it('fetches each personal page from the server again, which sends the user to sign in', async () => {
    if (!example) throw new Error('the example is not running')
    const { page, url, where, submit } = example
    await page.goto(url('/login'))
    await page.fill('#email', EMAIL)
    await submit('main button[type=submit]', /\/onboarding\/profile/)
    await page.fill('#displayName', NAME)
    await page.selectOption('#purpose', 'study')
    await submit('main button[type=submit]', /\/onboarding\/preferences/)
    await page.selectOption('#theme', 'light')
    await page.selectOption('#digest', 'weekly')
    await submit('main button[type=submit]', /\/onboarding\/done/)

    // Two personal pages, an HTML page and a JSON answer to a navigation, each loaded twice: the
    // second load writes no cookie (same page again), so nothing but the session's own
    // Cache-Control keeps it out of the browser's cache.
    for (const [path, personal] of [
      ['/explore', NAME],
      ['/api/me', EMAIL],
    ] as const) {
      await page.goto(url(path))
      const again = await page.reload()
      const headers = (await again?.allHeaders()) ?? {}
      expect(headers['set-cookie'], path).toBeUndefined()
      expect(headers['cache-control'], path).toBe('private, no-store')
      expect(await page.textContent('body'), path).toContain(personal)
    }
    // Signs out from /explore's button (history: /explore, /api/me, /explore, /login?signedOut=1).
    await page.goto(url('/explore'))
    await submit('#logout', /\/login\?signedOut=1$/)
    expect((await page.context().cookies(url('/'))).filter((c) => c.name.startsWith('__Host-session'))).toEqual([])

    // What the browser asks the server for from now on (a page restored from a cache asks nothing).
    const asked: string[] = []
    page.on('request', (request) => {
      if (request.isNavigationRequest()) asked.push(new URL(request.url()).pathname)
    })

    // Back, three times: each personal page is asked for again, the server answers with a 303
    // to sign-in, and nothing personal is shown.
    for (const [path, returnTo] of [
      ['/explore', '%2Fexplore'],
      ['/api/me', '%2Fapi%2Fme'],
      ['/explore', '%2Fexplore'],
    ] as const) {
      // 'commit', not 'load': a page restored from the back/forward cache fires no load event.
      const back = await page.goBack({ waitUntil: 'commit' })
      expect(chain(back), path).toEqual([`redirect ${path}`, `200 /login?returnTo=${returnTo}`])
      await page.waitForLoadState('load')
      expect(where()).toBe(`/login?returnTo=${returnTo}`)
      const shown = (await page.textContent('body')) ?? ''
      expect(shown, path).not.toContain(NAME)
      expect(shown, path).not.toContain(EMAIL)
    }
    expect(asked).toEqual(['/explore', '/login', '/api/me', '/login', '/explore', '/login'])
  })
})
