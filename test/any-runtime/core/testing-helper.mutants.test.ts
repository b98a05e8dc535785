/**
 * mintSessionCookie options that testing-helper.test.ts did not pin (mutation audit of
 * src/testing/index.ts): the store and duration options reach the real middleware, and an app's
 * whole options object (onboarding included) can be passed as is.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type EdgeSessionOptions, memoryStore } from '../../../src'
import { mintSessionCookie } from '../../../src/testing'
import { SECRET } from '../../helpers/app'
import { type ConsoleSpies, coreApp, maxAge, parseSetCookie, readSession, spyConsole } from '../../helpers/core'

let consoleSpies: ConsoleSpies
beforeEach(() => {
  consoleSpies = spyConsole()
})
afterEach(() => consoleSpies.restore())

describe('mintSessionCookie (mutants)', () => {
  it('writes the session to the store option, so an app with the same store accepts the cookie', async () => {
    const store = memoryStore()
    const minted = await mintSessionCookie({ secret: SECRET, store, data: { user: { sub: 'u1' } } })
    expect(store.size).toBe(1)
    const { session } = await readSession(coreApp({ store }).app, { cookie: minted.cookie })
    expect(session?.user.sub).toBe('u1')
    expect(session).toEqual(minted.session)
    // The cookie only points at the record: with the record gone, nobody is signed in.
    const { session: elsewhere } = await readSession(coreApp({ store: memoryStore() }).app, { cookie: minted.cookie })
    expect(elsewhere).toBeNull()
  })

  it('follows the duration option: cookie lifetime and expiresAt', async () => {
    const before = Date.now()
    const minted = await mintSessionCookie({ secret: SECRET, duration: { absolute: 3600 }, data: { user: { sub: 'u1' } } })
    expect(maxAge(parseSetCookie(minted.setCookie[0] as string))).toBe(3600)
    const { expiresAt, createdAt } = minted.session.internal
    expect(createdAt).toBeGreaterThanOrEqual(before)
    expect(expiresAt - createdAt).toBe(3600 * 1000)
  })

  it("takes the app's own options object, with an onboarding gate that protects every path, and mints a session mid-onboarding", async () => {
    // The gate would answer the anonymous minting request 401 (login_required): minting must run without it.
    const appOptions: Partial<EdgeSessionOptions> = { secret: SECRET, onboarding: { protect: ['/*'] } }
    const minted = await mintSessionCookie({ ...appOptions, secret: SECRET, data: { user: { sub: 'u1' }, onboardingStep: 'PROFILE' } })
    expect(minted.session).toMatchObject({ user: { sub: 'u1' }, onboardingStep: 'PROFILE' })
    expect((await readSession(coreApp().app, { cookie: minted.cookie })).session?.onboardingStep).toBe('PROFILE')
    consoleSpies.expectSilent()
  })
})
