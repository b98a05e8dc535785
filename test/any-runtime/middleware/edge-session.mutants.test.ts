/**
 * The middleware's own decisions (mutation audit of src/middleware/edge-session.ts) that
 * response-cookies.test.ts and the store suites did not pin: which thrown errors make a request
 * "failed", and that a failed sign-in's store record is gone before the response leaves.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { describe, expect, it } from 'vitest'
import { type SessionStore, createSession, edgeSession, memoryStore, updateSession } from '../../../src'
import { SECRET, apiCall, jarWith } from '../../helpers/middleware'

const complete = (c: Context) => updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))

describe('edgeSession: what counts as a failed request (mutants)', () => {
  /** An app whose handler completes onboarding, then throws an HTTPException of `status`, answered 400 by onError. */
  function throwingApp(status: 422 | 500): Hono {
    const app = new Hono()
    app.onError((error, c) => c.json({ error: error.message }, 400))
    app.use(edgeSession({ secret: SECRET }))
    app.post('/do', async (c) => {
      await complete(c)
      throw new HTTPException(status, { message: `thrown ${status}` })
    })
    return app
  }

  it('an HTTPException of status 500 is a failure even when onError answers it below 500: nothing is written', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await throwingApp(500).request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(400)
    expect(res.headers.getSetCookie()).toEqual([])

    // Control: the same answer to an HTTPException below 500 is a deliberate answer, and written.
    const ok = await throwingApp(422).request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(ok.status).toBe(400)
    expect(ok.headers.getSetCookie().length).toBeGreaterThan(0)
  })
})

describe('edgeSession: a failed sign-in with a store (mutants)', () => {
  it('deletes the orphaned record before the response is returned, not after it', async () => {
    const inner = memoryStore()
    const events: string[] = []
    const store: SessionStore = {
      get: (sid) => inner.get(sid),
      set: (sid, data, options) => inner.set(sid, data, options),
      async delete(sid) {
        // A store round trip: a macrotask later, so a response sent without waiting for it wins.
        await new Promise<void>((resolve) => setTimeout(resolve, 0))
        await inner.delete(sid)
        events.push(`deleted ${sid}`)
      },
    }
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login-then-fail', async (c) => {
      const session = await createSession(c, { user: { sub: 'u1' } })
      return c.json({ sid: session.internal.sid }, 500)
    })

    const res = await app.request('/login-then-fail', { method: 'POST', headers: apiCall() })
    events.push('response')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    const { sid } = (await res.json()) as { sid: string }
    expect(events).toEqual([`deleted ${sid}`, 'response'])
    expect(await inner.get(sid)).toBeNull()
  })
})
