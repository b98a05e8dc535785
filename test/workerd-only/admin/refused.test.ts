import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import {
  SessionConfigError,
  SessionUnsupportedError,
  destroyOtherSessions,
  edgeSession,
  kvStore,
  listSessions,
  memoryStore,
  sessionAdmin,
} from '../../../src'
import { CookieJar, SECRET, storeApp, uniqueSub } from '../../helpers'

describe('sessionAdmin: stores it cannot work with', () => {
  it('refuses cookie mode at once, saying the cookie is the only copy', () => {
    expect(() => sessionAdmin({ store: undefined })).toThrow(SessionUnsupportedError)
    expect(() => sessionAdmin({ store: undefined })).toThrow(/cookie is the only copy/)
  })

  it('refuses Workers KV at once, saying it has no index by user', () => {
    const store = kvStore(env.SESSION_KV)
    expect(() => sessionAdmin({ store })).toThrow(SessionUnsupportedError)
    expect(() => sessionAdmin({ store })).toThrow(/Workers KV has no consistent index by user/)
  })

  it('refuses a schema that is not a Standard Schema', () => {
    expect(() => sessionAdmin({ store: memoryStore(), schema: {} as never })).toThrow(/Standard Schema/)
  })

  for (const [label, store] of [
    ['cookie mode', undefined],
    ['kv', () => kvStore(env.SESSION_KV)],
  ] as const) {
    it(`${label}: the in-request helpers answer SessionUnsupportedError, and the session is kept`, async () => {
      const { app } = storeApp(store?.())
      app.get('/my-sessions', async (c) => c.json(await listSessions(c)))
      app.post('/sign-out-others', async (c) => c.json(await destroyOtherSessions(c)))
      const jar = new CookieJar()
      jar.apply(
        await app.request('/login', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ sub: uniqueSub('refused') }),
        }),
      )
      for (const res of [
        await app.request('/my-sessions', { headers: { cookie: jar.header } }),
        await app.request('/sign-out-others', { method: 'POST', headers: { cookie: jar.header } }),
      ]) {
        expect(res.status).toBe(409)
        expect(await res.json()).toEqual({ code: 'ERR_SESSION_UNSUPPORTED' })
        expect(res.headers.getSetCookie()).toEqual([])
      }
      const after = await app.request('/session', { headers: { cookie: jar.header } })
      expect(((await after.json()) as { session: unknown }).session).not.toBeNull()
    })
  }
})

describe('edgeSession device option', () => {
  it('fails at startup without a store, or when not a boolean', () => {
    expect(() => edgeSession({ secret: SECRET, device: true })).toThrow(SessionConfigError)
    expect(() => edgeSession({ secret: SECRET, device: true })).toThrow(/needs a store/)
    expect(() => edgeSession({ secret: SECRET, store: memoryStore(), device: 'yes' as never })).toThrow(
      /device must be true or false/,
    )
    expect(() => edgeSession({ secret: SECRET, store: memoryStore(), device: true })).not.toThrow()
  })
})
