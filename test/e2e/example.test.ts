/**
 * The example in a real browser: `wrangler dev` serving example-worker, Debian's chromium driven
 * by playwright-core. One screenshot per step goes to test-artifacts/e2e/ (git-ignored).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Example, VIEWPORT, openExample } from './browser'

let example: Example | undefined

beforeAll(async () => {
  example = await openExample({ viewport: VIEWPORT })
})

afterAll(() => example?.stop())

describe('example app in chromium', () => {
  it('signs in, is held in onboarding until done, browses, and signs out', async () => {
    if (!example) throw new Error('the example is not running')
    const { page, url, where, shot, submit } = example
    // An anonymous visit lands on the demo sign-in page.
    await page.goto(url('/'))
    expect(where()).toBe('/login')
    expect(await page.textContent('.demo')).toContain('Demo sign-in')
    await shot('01-sign-in')

    await page.fill('#email', 'ada@example.com')
    await submit('main button[type=submit]', /\/onboarding\/profile/)

    // Trying /explore before finishing onboarding lands on onboarding, remembering where to go.
    await page.goto(url('/explore'))
    expect(where()).toBe('/onboarding/profile?returnTo=%2Fexplore')
    expect(await page.textContent('h1')).toBe('Tell us about you')
    await shot('02-onboarding-profile')

    await page.fill('#displayName', 'Ada Lovelace')
    await page.selectOption('#purpose', 'study')
    await submit('main button[type=submit]', /\/onboarding\/preferences/)
    expect(where()).toBe('/onboarding/preferences?returnTo=%2Fexplore')
    // Still gated half-way.
    await page.goto(url('/settings'))
    expect(where()).toBe('/onboarding/preferences?returnTo=%2Fsettings')
    await page.goto(url('/onboarding/preferences?returnTo=%2Fexplore'))
    await shot('03-onboarding-preferences')

    await page.selectOption('#theme', 'light')
    await page.selectOption('#digest', 'weekly')
    await submit('main button[type=submit]', /\/onboarding\/done/)
    expect(await page.textContent('h1')).toBe("You're all set, Ada Lovelace!")
    await shot('04-onboarding-done')

    // Finished: /explore opens without signing in again.
    await submit('#continue', /\/explore$/)
    expect(where()).toBe('/explore')
    expect(await page.textContent('h1')).toBe('Explore')
    expect(await page.textContent('#last-visit')).toContain('Last visited /onboarding/done at ')
    await shot('05-explore')

    // The session cookie exists, but scripts cannot read it.
    const cookies = await page.context().cookies(url('/'))
    const session = cookies.find((c) => c.name === '__Host-session')
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' })
    expect(cookies.find((c) => c.name === '__Host-session-activity')).toMatchObject({ httpOnly: true })
    expect(await page.evaluate(() => document.cookie)).toBe('')

    // Each page shows the page viewed before it.
    await page.goto(url('/settings'))
    expect(await page.textContent('#last-visit')).toMatch(
      /^Last visited \/explore at \d{1,2} \w{3} \d{4}, \d\d:\d\d:\d\d UTC$/,
    )
    await shot('06-settings-last-visit')
    await page.goto(url('/explore'))
    expect(await page.textContent('#last-visit')).toMatch(/^Last visited \/settings at /)
    await shot('07-explore-last-visit')

    await page.goto(url('/api/me'))
    const me = JSON.parse((await page.textContent('body')) ?? '') as {
      user: { email: string }
      onboardingStep: string
      lastPath: string
    }
    expect(me.user.email).toBe('ada@example.com')
    expect(me.onboardingStep).toBe('COMPLETED')
    expect(me.lastPath).toBe('/explore')
    await shot('08-api-me')

    // Sign out, then /explore asks for a sign-in again.
    await page.goto(url('/explore'))
    await submit('#logout', /\/login\?signedOut=1$/)
    expect(await page.textContent('.notice')).toBe('You are signed out.')
    expect((await page.context().cookies(url('/'))).filter((c) => c.name.startsWith('__Host-session'))).toEqual([])
    await shot('09-signed-out')

    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')
    await shot('10-explore-after-sign-out')
  })
})
