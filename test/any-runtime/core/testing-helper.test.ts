import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type EdgeSessionOptions, SessionConfigError, SessionInvalidError, memoryStore } from '../../../src'
import { mintSessionCookie } from '../../../src/testing'
import {
  type ConsoleSpies,
  OLD_SECRET,
  SECRET,
  SESSION_CHUNKS,
  cleared,
  coreApp,
  maxAge,
  parseSetCookie,
  readSession,
  spyConsole,
} from '../../helpers'

let consoleSpies: ConsoleSpies
beforeEach(() => {
  consoleSpies = spyConsole()
})
afterEach(() => consoleSpies.restore())

describe('mintSessionCookie', () => {
  it('mints a cookie that an app with the same secret accepts', async () => {
    const minted = await mintSessionCookie<{ role: string }>({
      secret: SECRET,
      data: { user: { sub: 'u1', name: 'Ada' }, role: 'admin' },
    })
    expect(minted.cookie).toMatch(/^__Host-session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    // The cookie, then the clearing of the chunk names it did not take.
    expect(minted.setCookie).toHaveLength(1 + SESSION_CHUNKS.length)
    expect(minted.setCookie[0]).toMatch(/^__Host-session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; Max-Age=28800;/)
    const { app } = coreApp()
    const { res, session } = await readSession(app, { cookie: minted.cookie })
    expect(session).toEqual(minted.session)
    expect(session).toMatchObject({ user: { sub: 'u1', name: 'Ada' }, role: 'admin' })
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('is refused by an app with another secret', async () => {
    const minted = await mintSessionCookie({ secret: OLD_SECRET, data: { user: { sub: 'u1' } } })
    const ctx = coreApp()
    const { res, session } = await readSession(ctx.app, { cookie: minted.cookie })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual(['__Host-session', ...SESSION_CHUNKS])
    expect(ctx.invalid).toEqual(['undecryptable'])
  })

  it('works with a secret function reading env', async () => {
    const secret = (c: { env: unknown }) => (c.env as { SESSION_SECRET: string }).SESSION_SECRET
    const minted = await mintSessionCookie({ secret, env: { SESSION_SECRET: SECRET }, data: { user: { sub: 'u1' } } })
    const viaEnv = coreApp({ secret })
    expect(
      (await readSession(viaEnv.app, { cookie: minted.cookie, env: { SESSION_SECRET: SECRET } })).session?.user.sub,
    ).toBe('u1')
    expect((await readSession(coreApp().app, { cookie: minted.cookie })).session?.user.sub).toBe('u1')
  })

  it('follows the cookie options (secure: false, name) and chunks large data', async () => {
    const plain = await mintSessionCookie({
      secret: SECRET,
      cookie: { secure: false, name: 'sid' },
      data: { user: { sub: 'u1' } },
    })
    expect(plain.cookie.startsWith('sid=')).toBe(true)
    const big = await mintSessionCookie({ secret: SECRET, data: { user: { sub: 'u1' }, pad: 'x'.repeat(5000) } })
    expect(big.cookie).toMatch(/^__Host-session\.0=[^;]+; __Host-session\.1=[^;]+$/)
    expect((await readSession(coreApp().app, { cookie: big.cookie })).session?.pad).toBe('x'.repeat(5000))
  })

  it('rejects with the real error class, without logging', async () => {
    await expect(mintSessionCookie({ secret: SECRET, data: { user: { sub: '' } } })).rejects.toBeInstanceOf(
      SessionInvalidError,
    )
    await expect(mintSessionCookie({ secret: 'short', data: { user: { sub: 'u1' } } })).rejects.toBeInstanceOf(
      SessionConfigError,
    )
    await expect(mintSessionCookie({ secret: () => 'short', data: { user: { sub: 'u1' } } })).rejects.toBeInstanceOf(
      SessionConfigError,
    )
    consoleSpies.expectSilent()
  })
})

describe("mintSessionCookie: store, duration and an app's whole options", () => {
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
    const minted = await mintSessionCookie({
      secret: SECRET,
      duration: { absolute: 3600 },
      data: { user: { sub: 'u1' } },
    })
    expect(maxAge(parseSetCookie(minted.setCookie[0] as string))).toBe(3600)
    const { expiresAt, createdAt } = minted.session.internal
    expect(createdAt).toBeGreaterThanOrEqual(before)
    expect(expiresAt - createdAt).toBe(3600 * 1000)
  })

  it("takes the app's own options object, with an onboarding gate that protects every path, and mints a session mid-onboarding", async () => {
    // The gate would answer the anonymous minting request 401 (login_required): minting must run without it.
    const appOptions: Partial<EdgeSessionOptions> = { secret: SECRET, onboarding: { protect: ['/*'] } }
    const minted = await mintSessionCookie({
      ...appOptions,
      secret: SECRET,
      data: { user: { sub: 'u1' }, onboardingStep: 'PROFILE' },
    })
    expect(minted.session).toMatchObject({ user: { sub: 'u1' }, onboardingStep: 'PROFILE' })
    expect((await readSession(coreApp().app, { cookie: minted.cookie })).session?.onboardingStep).toBe('PROFILE')
    consoleSpies.expectSilent()
  })
})
