/**
 * Review fixes: an update that changes nothing writes nothing; a refused update leaves the
 * request's session as it was, even when the update function mutated what it was given; a
 * sign-in whose store write fails after the old record was deleted does not go on showing it;
 * a schema validator that throws on a cookie's data is a refused cookie, not a 500.
 */
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { SessionStoreError, SessionTooLargeError, createSession, edgeSession, getSession, memoryStore, updateSession } from '../../../src'
import type { InvalidReason, SessionData, SessionStore, StandardSchemaV1 } from '../../../src'
import { SECRET, SESSION, SESSION_CHUNKS, apiCall, clearingLines, jarWith } from '../../helpers/middleware'

type Loose = Record<string, unknown>

describe('updateSession: no change, no write', () => {
  it('the same user and claims: no Set-Cookie and updatedAt kept; a real change still writes', async () => {
    const seen: Array<SessionData<Loose>> = []
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/set/:step', async (c) => {
      const step = c.req.param('step')
      seen.push(await updateSession<Loose>(c, (s) => ({ ...s, onboardingStep: step })))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })

    const same = await app.request('/set/COMPLETED', { method: 'POST', headers: apiCall(jar.header) })
    expect(same.status).toBe(200)
    expect(same.headers.getSetCookie()).toEqual([])
    // No write; still private, no-store, as every signed-in response (cacheControl).
    expect(same.headers.get('cache-control')).toBe('private, no-store')
    expect(seen[0]?.onboardingStep).toBe('COMPLETED')
    // Minted with updatedAt = createdAt; nothing changed, so it was not moved.
    expect(seen[0]?.internal.updatedAt).toBe(seen[0]?.internal.createdAt)

    const changed = await app.request('/set/PROFILE', { method: 'POST', headers: apiCall(jar.header) })
    expect(changed.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-session=[^;]+; Max-Age=\d+;/), ...clearingLines(SESSION_CHUNKS)])
    expect(seen[1]?.onboardingStep).toBe('PROFILE')
  })
})

describe('updateSession: no change, no write, whatever the member order', () => {
  it('the same claims rebuilt in another order write nothing; a nested change writes', async () => {
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/reorder', async (c) => {
      await updateSession<Loose>(c, (s) => Object.fromEntries(Object.entries(s).reverse()) as typeof s)
      return c.json({})
    })
    app.post('/nested', async (c) => {
      await updateSession<Loose>(c, (s) => ({ ...s, user: { ...s.user, name: 'Ada' } }))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const same = await app.request('/reorder', { method: 'POST', headers: apiCall(jar.header) })
    expect(same.headers.getSetCookie()).toEqual([])
    const nested = await app.request('/nested', { method: 'POST', headers: apiCall(jar.header) })
    expect(nested.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-session=[^;]+; Max-Age=\d+;/), ...clearingLines(SESSION_CHUNKS)])
  })
})

describe('a refused update leaves the request on the previous session', () => {
  it('an update function that mutates nested values, then exceeds maxBytes', async () => {
    let after: unknown
    let error: unknown
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, maxBytes: 1024 }))
    app.post('/grow', async (c) => {
      try {
        await updateSession<Loose>(c, (s) => {
          ;(s.user as Loose).name = 'x'.repeat(4000)
          return s
        })
      } catch (e) {
        error = e
      }
      after = structuredClone(getSession(c))
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/grow', { method: 'POST', headers: apiCall(jar.header) })
    expect(error).toBeInstanceOf(SessionTooLargeError)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(after).toMatchObject({ user: { sub: 'user-1' }, onboardingStep: 'PROFILE' })
    expect((after as { user: Loose }).user).not.toHaveProperty('name')
  })
})

describe('sign-in over an old session with a store whose write fails', () => {
  it('the old record is deleted first: the request shows no session and the old cookie is cleared', async () => {
    const inner = memoryStore()
    let failSet = false
    const store: SessionStore = {
      ...inner,
      get: (sid) => inner.get(sid),
      delete: (sid) => inner.delete(sid),
      set: async (sid, data, options) => {
        if (failSet) throw new Error('store down')
        return inner.set(sid, data, options)
      },
    }
    let error: unknown
    let during: unknown = 'unset'
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => {
      try {
        await createSession(c, { user: { sub: 'user-2' } })
      } catch (e) {
        error = e
      }
      during = getSession(c)
      return c.json({})
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' }, { store })
    expect(inner.size).toBe(1)
    failSet = true
    const res = await app.request('/login', { method: 'POST', headers: apiCall(jar.header) })
    expect(error).toBeInstanceOf(SessionStoreError)
    expect(inner.size).toBe(0)
    expect(during).toBeNull()
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })
})

describe('a schema validator that throws on read', () => {
  it('is a refused cookie (schema), not a 500', async () => {
    const invalid: Array<[InvalidReason, unknown]> = []
    const throwing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw new Error('validator bug')
        },
      },
    }
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, schema: throwing, onInvalid: (reason, _c, error) => void invalid.push([reason, error]) }))
    app.get('/me', (c) => c.json(getSession(c)))
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/me', { headers: apiCall(jar.header) })
    expect(res.status).toBe(200)
    expect(await res.json()).toBeNull()
    expect(invalid).toEqual([['schema', expect.objectContaining({ message: 'validator bug' })]])
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })
})
