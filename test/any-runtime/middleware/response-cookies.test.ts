import { Hono } from 'hono'
import type { Context } from 'hono'
import { setCookie } from 'hono/cookie'
import { HTTPException } from 'hono/http-exception'
import { stream } from 'hono/streaming'
import { describe, expect, it } from 'vitest'
import {
  SessionCommittedError,
  type SessionStore,
  createSession,
  destroySession,
  destroyUserSessions,
  edgeSession,
  getSession,
  memoryStore,
  updateSession,
} from '../../../src'
import {
  ACTIVITY,
  type CookieJar,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  clearingLines,
  deferred,
  jarWith,
  navigation,
  setCookieNames,
} from '../../helpers'

/** Headers that refuse every change, like those of a fetch() response on Workers. */
class ImmutableHeaders extends Headers {
  override append(): void {
    throw new TypeError("Can't modify immutable headers.")
  }
  override set(): void {
    throw new TypeError("Can't modify immutable headers.")
  }
  override delete(): void {
    throw new TypeError("Can't modify immutable headers.")
  }
}

/** A Response whose headers cannot change, carrying its own Set-Cookie. */
function immutableResponse(body: string, init: { status: number; headers: Array<[string, string]> }): Response {
  const headers = new Headers()
  for (const [k, v] of init.headers) headers.append(k, v)
  const res = new Response(body, { status: init.status, headers })
  const frozen = new ImmutableHeaders(headers)
  Object.defineProperty(res, 'headers', { value: frozen })
  return res
}

function sessionApp(handler: (c: Context) => Response | Promise<Response>, configure?: (app: Hono) => void) {
  const app = new Hono()
  configure?.(app)
  app.use(edgeSession({ secret: SECRET }))
  app.all('/do', handler)
  app.get('/session', (c) => c.json(getSession(c)))
  return app
}

async function step(app: Hono, jar: CookieJar): Promise<string | undefined> {
  const s = (await (await app.request('/session', { headers: apiCall(jar.header) })).json()) as {
    onboardingStep?: string
  } | null
  return s === null ? 'signed-out' : s.onboardingStep
}

const complete = (c: Context) => updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))

describe('response: one Set-Cookie per session cookie, beside everything else', () => {
  it('keeps Set-Cookie lines and headers from handlers and other middleware, and writes the session once', async () => {
    const app = new Hono()
    app.use(async (c, next) => {
      await next()
      c.header('Set-Cookie', 'outer=1; Path=/', { append: true })
      c.header('X-Outer', 'yes')
    })
    app.use(edgeSession({ secret: SECRET }))
    app.use(async (c, next) => {
      await next()
      setCookie(c, 'inner', '2')
    })
    app.post('/do', async (c) => {
      setCookie(c, 'theme', 'dark', { path: '/' })
      c.header('Set-Cookie', 'other=1; Path=/', { append: true })
      c.header('X-Custom', '1')
      await complete(c)
      await updateSession(c, (s) => ({ ...s, displayName: 'Ada' }))
      await updateSession(c, (s) => ({ ...s, displayName: 'Ada L.' }))
      return c.json({ ok: true })
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(200)
    expect(setCookieNames(res).sort()).toEqual(['inner', 'other', 'outer', 'theme', SESSION, ...SESSION_CHUNKS].sort())
    expect(res.headers.get('x-custom')).toBe('1')
    expect(res.headers.get('x-outer')).toBe('yes')
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(await res.json()).toEqual({ ok: true })
  })

  it('writes the session and activity cookies once each when a page view also changed the session', async () => {
    const app = sessionApp(async (c) => {
      await complete(c)
      await complete(c)
      return c.html('<p>done</p>')
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { headers: navigation(jar.header) })
    expect(setCookieNames(res)).toEqual([SESSION, ...SESSION_CHUNKS, ACTIVITY])
  })

  it('adds its lines to a response with immutable headers (Response.redirect), once', async () => {
    const app = sessionApp(async (c) => {
      await complete(c)
      return Response.redirect('http://localhost/explore', 302)
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(302)
    expect(res.headers.get('location')).toBe('http://localhost/explore')
    expect(setCookieNames(res)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(await step(app, jar.apply(res))).toBe('COMPLETED')
  })

  it('adds its lines to a fetched response that carries its own Set-Cookie, without duplicating or dropping any', async () => {
    const app = sessionApp(async (c) => {
      await complete(c)
      return immutableResponse('from origin', {
        status: 201,
        headers: [
          ['content-type', 'text/plain'],
          ['set-cookie', 'origin_a=1; Path=/'],
          ['set-cookie', 'origin_b=2; Path=/; HttpOnly'],
          ['x-origin', 'o'],
        ],
      })
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(201)
    expect(await res.text()).toBe('from origin')
    expect(res.headers.get('x-origin')).toBe('o')
    expect(res.headers.getSetCookie()).toEqual([
      'origin_a=1; Path=/',
      'origin_b=2; Path=/; HttpOnly',
      expect.stringMatching(/^__Host-session=[^;]/),
      ...clearingLines(SESSION_CHUNKS),
    ])
  })

  it('sets no cookie and leaves Cache-Control alone when nothing changed', async () => {
    const app = sessionApp((c) => c.json(getSession(c), 200, { 'cache-control': 'public, max-age=60' }))
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const res = await app.request('/do', { headers: apiCall(jar.header) })
    expect(res.headers.getSetCookie()).toEqual([])
    expect(res.headers.get('cache-control')).toBe('public, max-age=60')
    // A response that does set one is never cacheable by a CDN.
    const changing = sessionApp(async (c) => {
      await complete(c)
      return c.json({}, 200, { 'cache-control': 'public, max-age=60' })
    })
    const midway = await jarWith({ onboardingStep: 'PROFILE' })
    expect((await changing.request('/do', { headers: apiCall(midway.header) })).headers.get('cache-control')).toBe(
      'private, no-store',
    )
  })
})

describe('response: changes after the response is committed throw SessionCommittedError', () => {
  it('inside a streaming body', async () => {
    const caught = deferred<unknown>()
    const app = sessionApp((c) =>
      stream(c, async (s) => {
        await s.write('first ')
        try {
          await complete(c)
          caught.resolve('no error')
        } catch (error) {
          caught.resolve(error)
        }
        await s.write('second')
      }),
    )
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { headers: apiCall(jar.header) })
    expect(await res.text()).toBe('first second')
    const error = await caught.promise
    expect(error).toBeInstanceOf(SessionCommittedError)
    expect((error as SessionCommittedError).code).toBe('ERR_SESSION_COMMITTED')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await step(app, jar.apply(res))).toBe('PROFILE')
  })

  it('at the very start of a stream: the change is either in the response or an error, never silently lost', async () => {
    const outcome = deferred<unknown>()
    const app = sessionApp((c) =>
      stream(c, async (s) => {
        // Called before the handler has even returned its Response.
        complete(c).then(
          () => outcome.resolve('written'),
          (error: unknown) => outcome.resolve(error),
        )
        await s.write('body')
      }),
    )
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { headers: apiCall(jar.header) })
    await res.text()
    const result = await outcome.promise
    if (result === 'written') {
      expect(setCookieNames(res)).toEqual([SESSION])
      expect(await step(app, jar.apply(res))).toBe('COMPLETED')
    } else {
      expect(result).toBeInstanceOf(SessionCommittedError)
      expect(res.headers.getSetCookie()).toEqual([])
    }
  })

  it('after the middleware finished (a context kept for later)', async () => {
    let kept: Context | undefined
    const app = sessionApp((c) => {
      kept = c
      return c.text('ok')
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    await app.request('/do', { headers: apiCall(jar.header) })
    const c = kept as Context
    await expect(complete(c)).rejects.toBeInstanceOf(SessionCommittedError)
    await expect(createSession(c, { user: { sub: 'x' } })).rejects.toBeInstanceOf(SessionCommittedError)
    await expect(destroySession(c)).rejects.toBeInstanceOf(SessionCommittedError)
    // Reading stays possible and shows the session as it was sent.
    expect(getSession<{ onboardingStep?: string }>(c)?.onboardingStep).toBe('PROFILE')
  })
})

describe('response: a change still waiting on the store when the response is committed', () => {
  /**
   * An app on a memory store whose writes wait for `gate.release` while `gate.held`; `/change`
   * starts `change` and answers once its write has reached the store, its outcome in `outcome`.
   */
  function heldApp(change: (c: Context) => Promise<unknown>) {
    const inner = memoryStore()
    const gate = { held: false, reached: deferred(), release: deferred() }
    const wait = async () => {
      if (!gate.held) return
      gate.reached.resolve()
      await gate.release.promise
    }
    const store: SessionStore = {
      get: (sid) => inner.get(sid),
      set: async (sid, data, options) => {
        await wait()
        await inner.set(sid, data, options)
      },
      delete: async (sid, options) => {
        await wait()
        await inner.delete(sid, options)
      },
      deleteByUser: async (sub) => {
        await wait()
        return inner.deleteByUser(sub)
      },
    }
    const outcome = deferred<unknown>()
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => c.json({ sid: (await createSession(c, { user: { sub: 'u1' } })).internal.sid }))
    app.post('/change', (c) => {
      change(c).then(
        () => outcome.resolve('done'),
        (error: unknown) => outcome.resolve(error),
      )
      // Answered once the change is in the store's hands: committed while the write is in flight.
      return gate.reached.promise.then(() => c.text('answered'))
    })
    /** Signs in, holds the store, runs `/change`, then releases the store; the response, the outcome and the old sid. */
    const run = async () => {
      const login = await app.request('/login', { method: 'POST', headers: apiCall() })
      const { sid } = (await login.json()) as { sid: string }
      const cookie = login.headers
        .getSetCookie()
        .map((line) => line.split(';', 1)[0])
        .join('; ')
      gate.held = true
      const res = await app.request('/change', { method: 'POST', headers: apiCall(cookie) })
      gate.release.resolve()
      return { res, result: await outcome.promise, sid }
    }
    return { inner, run }
  }

  it('destroySession: the record is deleted, and the dropped cookie clear throws SessionCommittedError', async () => {
    const { inner, run } = heldApp((c) => destroySession(c))
    const { res, result, sid } = await run()
    expect(await res.text()).toBe('answered')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(result).toBeInstanceOf(SessionCommittedError)
    expect(await inner.get(sid)).toBeNull()
  })

  it('destroyUserSessions: the records are deleted, and the dropped cookie clear throws SessionCommittedError', async () => {
    const { inner, run } = heldApp((c) => destroyUserSessions(c, 'u1'))
    const { res, result, sid } = await run()
    expect(res.headers.getSetCookie()).toEqual([])
    expect(result).toBeInstanceOf(SessionCommittedError)
    expect(await inner.get(sid)).toBeNull()
  })

  it('createSession: throws SessionCommittedError, and the new record no cookie names is deleted again', async () => {
    let created: string | undefined
    const { inner, run } = heldApp(async (c) => {
      const pending = createSession(c, { user: { sub: 'u2' } })
      await pending.catch(() => undefined)
      created = getSession(c)?.internal.sid ?? 'forgotten'
      return pending
    })
    const { res, result, sid } = await run()
    expect(res.headers.getSetCookie()).toEqual([])
    expect(result).toBeInstanceOf(SessionCommittedError)
    // The request no longer shows a session: the previous one is ended, the new one never reached the browser.
    expect(created).toBe('forgotten')
    expect(await inner.get(sid)).toBeNull()
    expect(await inner.deleteByUser('u2')).toBe(0)
  })
})

describe('response: a handler that fails keeps the session as it was', () => {
  it('a thrown error (500 through onError): earlier changes are not written', async () => {
    let caught: unknown
    const app = sessionApp(
      async (c) => {
        await complete(c)
        throw new Error('boom')
      },
      (a) =>
        a.onError((error, c) => {
          caught = error
          return c.text('error', 500)
        }),
    )
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(500)
    expect((caught as Error).message).toBe('boom')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(await step(app, jar.apply(res))).toBe('PROFILE')
  })

  it('a thrown error that onError turns into a 4xx is still a failure: not written', async () => {
    const app = sessionApp(
      async (c) => {
        await complete(c)
        throw new RangeError('bad input')
      },
      (a) => a.onError((_, c) => c.json({ error: 'bad_input' }, 400)),
    )
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(400)
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a 5xx returned without throwing: not written; sign-in and sign-out are not written either', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    for (const change of [complete, (c: Context) => createSession(c, { user: { sub: 'other' } }), destroySession]) {
      const app = sessionApp(async (c) => {
        await change(c)
        return c.text('unavailable', 503)
      })
      const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
      expect(res.status).toBe(503)
      expect(res.headers.getSetCookie()).toEqual([])
    }
  })

  it('an HTTPException below 500 is an answer, not a crash: the changes are written', async () => {
    const app = sessionApp(async (c) => {
      await complete(c)
      throw new HTTPException(403, { message: 'not yet' })
    })
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/do', { method: 'POST', headers: apiCall(jar.header) })
    expect(res.status).toBe(403)
    expect(setCookieNames(res)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(await step(app, jar.apply(res))).toBe('COMPLETED')

    const crash = sessionApp(async (c) => {
      await complete(c)
      throw new HTTPException(502, { message: 'upstream' })
    })
    const failed = await crash.request('/do', {
      method: 'POST',
      headers: apiCall((await jarWith({ onboardingStep: 'PROFILE' })).header),
    })
    expect(failed.status).toBe(502)
    expect(failed.headers.getSetCookie()).toEqual([])
  })
})

describe('response: what counts as a failed request', () => {
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

describe('response: a failed sign-in with a store', () => {
  /** An app whose sign-in answers 500; its store's delete takes a macrotask and is logged in `events`. */
  function failingSignIn() {
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
    return { app, inner, events }
  }

  it('without waitUntil (Node, Bun, Deno): deletes the orphaned record before the response is returned', async () => {
    const { app, inner, events } = failingSignIn()
    const res = await app.request('/login-then-fail', { method: 'POST', headers: apiCall() })
    events.push('response')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    const { sid } = (await res.json()) as { sid: string }
    expect(events).toEqual([`deleted ${sid}`, 'response'])
    expect(await inner.get(sid)).toBeNull()
  })

  it('with waitUntil (Workers): the 500 does not wait for the orphan delete, which goes to waitUntil', async () => {
    const { app, inner, events } = failingSignIn()
    const waited: Promise<unknown>[] = []
    const ctx = {
      waitUntil: (promise: Promise<unknown>) => void waited.push(promise),
      passThroughOnException() {},
      props: {},
    }
    const res = await app.request('/login-then-fail', { method: 'POST', headers: apiCall() }, {}, ctx)
    events.push('response')
    expect(res.status).toBe(500)
    expect(res.headers.getSetCookie()).toEqual([])
    const { sid } = (await res.json()) as { sid: string }
    expect(waited).toHaveLength(1)
    await Promise.all(waited)
    expect(events).toEqual(['response', `deleted ${sid}`])
    expect(await inner.get(sid)).toBeNull()
  })
})
