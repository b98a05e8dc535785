/**
 * Option handling that config.test.ts did not pin (mutation audit of src/options.ts).
 */
import { describe, expect, it } from 'vitest'
import { SessionConfigError, edgeSession } from '../../../src'
import type { EdgeSessionOptions, SessionStore } from '../../../src'
import { CookieJar, OLD_SECRET, SECRET } from '../../helpers/app'
import { call, coreApp, kidOf, readSession, tokenFrom } from '../../helpers/core'

describe('secret as a function of the context (mutants)', () => {
  it('uses the secret of each request, not the first one it derived', async () => {
    const { app, errors } = coreApp({ secret: (c) => (c.env as { SESSION_SECRET: string }).SESSION_SECRET })
    const envA = { SESSION_SECRET: SECRET }
    const envB = { SESSION_SECRET: OLD_SECRET }
    const jarA = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'a' } }, jar: jarA, env: envA })
    const jarB = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'b' } }, jar: jarB, env: envB })
    // Each sealed with its own secret: different kids.
    const kidA = kidOf(tokenFrom(jarA.cookies) ?? '')
    const kidB = kidOf(tokenFrom(jarB.cookies) ?? '')
    expect(kidA).toBeDefined()
    expect(kidB).toBeDefined()
    expect(kidA).not.toBe(kidB)
    // Each opens only under its own secret.
    expect((await readSession(app, { jar: jarA, env: envA })).session?.user.sub).toBe('a')
    expect((await readSession(app, { jar: jarB, env: envB })).session?.user.sub).toBe('b')
    expect((await readSession(app, { cookie: jarA.header, env: envB })).session).toBeNull()
    expect((await readSession(app, { cookie: jarB.header, env: envA })).session).toBeNull()
    expect(errors).toEqual([])
  })
})

describe('store option (mutants)', () => {
  const get: SessionStore['get'] = async () => null
  const set: SessionStore['set'] = async () => {}
  const del: SessionStore['delete'] = async () => {}
  for (const [label, store] of [
    ['without set', { get, delete: del }],
    ['without delete', { get, set }],
    ['with set not a function', { get, set: 'x', delete: del }],
  ] as const) {
    it(`refuses a store ${label} when the app starts`, () => {
      expect(() => edgeSession({ secret: SECRET, store } as unknown as EdgeSessionOptions)).toThrow(SessionConfigError)
      expect(() => edgeSession({ secret: SECRET, store } as unknown as EdgeSessionOptions)).toThrow(/store must have get, set and delete/)
    })
  }
})

describe('storeTimeout (mutants)', () => {
  for (const storeTimeout of [0, -1, 1.5, '5000', Number.NaN]) {
    it(`refuses storeTimeout ${JSON.stringify(storeTimeout) ?? String(storeTimeout)} when the app starts`, () => {
      expect(() => edgeSession({ secret: SECRET, storeTimeout } as unknown as EdgeSessionOptions)).toThrow(/storeTimeout must be a whole number/)
    })
  }
})
