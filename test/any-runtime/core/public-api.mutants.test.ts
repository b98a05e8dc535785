/**
 * The public session functions (src/session.ts) and the keyring cache behind `secret`
 * (src/codec/keyring.ts): behaviour the other core tests leave open (mutation audit).
 * Runtime-neutral: only `app.request` and Web Crypto.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { type EdgeSessionOptions, SessionConfigError, destroyUserSessions, edgeSession, memoryStore } from '../../../src'
import { CookieJar, OLD_SECRET, SECRET } from '../../helpers/app'
import { call, coreApp, readSession } from '../../helpers/core'

afterEach(() => {
  vi.restoreAllMocks()
})

type RotatingEnv = { S: string; S_OLD?: string }

function configMessage(secret: unknown): string {
  try {
    edgeSession({ secret } as EdgeSessionOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(SessionConfigError)
    return (err as SessionConfigError).message
  }
  throw new Error(`edgeSession({ secret: ${JSON.stringify(secret)} }) did not throw`)
}

describe('secret check messages', () => {
  it('name a lone secret "secret" (a string or a list of one) and an entry of a longer list by its index', () => {
    expect(configMessage('short')).toMatch(/^secret is shorter than 32 bytes\./)
    expect(configMessage(['short'])).toMatch(/^secret is shorter than 32 bytes\./)
    expect(configMessage([SECRET, 'short'])).toMatch(/^secret\[1\] is shorter than 32 bytes\./)
  })
})

describe('secret lists from the context (keyring cache)', () => {
  it('a cookie sealed under a secret that was removed from the list is refused, though the list kept its first secret', async () => {
    const { app, invalid } = coreApp({ secret: (c) => [(c.env as RotatingEnv).S, (c.env as RotatingEnv).S_OLD] })
    // Signed in while OLD_SECRET was the current one.
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env: { S: OLD_SECRET } })).status).toBe(200)
    const oldCookie = jar.header
    // Rotation: SECRET current, OLD_SECRET still opens.
    const rotating = { S: SECRET, S_OLD: OLD_SECRET }
    expect((await readSession(app, { cookie: oldCookie, env: rotating })).session?.user.sub).toBe('u1')
    // Rotation done: OLD_SECRET removed. The same first secret must not bring back the old list's keys.
    const { session } = await readSession(app, { cookie: oldCookie, env: { S: SECRET } })
    expect(session).toBeNull()
    expect(invalid).toEqual(['undecryptable'])
  })

  it('a key derivation that failed is tried again on the next request', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as RotatingEnv).S })
    const env = { S: SECRET }
    const deriveBits = vi.spyOn(crypto.subtle, 'deriveBits').mockRejectedValueOnce(new Error('derivation failed'))
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, env })).status).toBe(500)
    expect(errors).toHaveLength(1)
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' } }, jar, env })).status).toBe(200)
    expect(deriveBits.mock.calls.length).toBeGreaterThan(3)
    expect((await readSession(app, { jar, env })).session?.user.sub).toBe('u1')
    expect(errors).toHaveLength(1)
  })
})

describe('destroyUserSessions', () => {
  it('ends the sessions of the user it is given, not those of the signed-in caller (an admin signing another user out)', async () => {
    const store = memoryStore()
    const { app, errors } = coreApp({ store }, (a) =>
      a.post('/end-user', async (c) => {
        const { sub } = (await c.req.json()) as { sub: string }
        return c.json({ ended: await destroyUserSessions(c, sub) })
      }),
    )
    const admin = new CookieJar()
    const alice = new CookieJar()
    const aliceOther = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'admin' } }, jar: admin })).status).toBe(200)
    expect((await call(app, '/login', { body: { user: { sub: 'alice' } }, jar: alice })).status).toBe(200)
    expect((await call(app, '/login', { body: { user: { sub: 'alice' } }, jar: aliceOther })).status).toBe(200)
    const res = await call(app, '/end-user', { body: { sub: 'alice' }, jar: admin })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ended: 2 })
    // The admin's own session is not the user's: it stays, and its cookies are left alone.
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await readSession(app, { jar: admin })).session?.user.sub).toBe('admin')
    expect((await readSession(app, { jar: alice })).session).toBeNull()
    expect((await readSession(app, { jar: aliceOther })).session).toBeNull()
    expect(errors).toEqual([])
  })
})
