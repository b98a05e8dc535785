/** Helpers of the store tests: an app with every session route, a counting store, and gates to hold a request mid-way. */
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import {
  SessionError,
  type SessionStore,
  createSession,
  destroySession,
  destroyUserSessions,
  edgeSession,
  getSession,
  updateSession,
} from '../../src'
import type { EdgeSessionOptions, InvalidReason } from '../../src'
import { SECRET } from './app'
import type { AnySession } from './core'

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** Holds requests that reach `wait()` until `release()`; `entered` settles when the first one got there. */
export class Gate {
  #entered = deferred()
  #released = deferred()
  get entered(): Promise<void> {
    return this.#entered.promise
  }
  wait(): Promise<void> {
    this.#entered.resolve()
    return this.#released.promise
  }
  release(): void {
    this.#released.resolve()
  }
}

export interface StoreCalls {
  get: number
  set: number
  update: number
  delete: number
  deleteByUser: number
  touch: number
  settle: number
}

/** Wraps a store and counts calls; keeps the inner store's optional methods optional (KV stays without `update`). */
export function countingStore(inner: SessionStore): {
  store: SessionStore
  calls: StoreCalls
  setSubs: string[]
  writes: () => number
} {
  const calls: StoreCalls = { get: 0, set: 0, update: 0, delete: 0, deleteByUser: 0, touch: 0, settle: 0 }
  // The user each `set` was told the record belongs to (stores that index by user rely on it).
  const setSubs: string[] = []
  const store: SessionStore = {
    get: (sid) => (calls.get++, inner.get(sid)),
    set: (sid, data, options) => (calls.set++, setSubs.push(options.sub), inner.set(sid, data, options)),
    delete: (sid, options) => (calls.delete++, inner.delete(sid, options)),
  }
  const touch = inner.touch?.bind(inner)
  if (touch) store.touch = (sid, options) => (calls.touch++, touch(sid, options))
  const settle = inner.settle?.bind(inner)
  if (settle) store.settle = (sid, writeId) => (calls.settle++, settle(sid, writeId))
  const update = inner.update?.bind(inner)
  if (update) store.update = (sid, change, options) => (calls.update++, update(sid, change, options))
  const deleteByUser = inner.deleteByUser?.bind(inner)
  if (deleteByUser) store.deleteByUser = (sub) => (calls.deleteByUser++, deleteByUser(sub))
  return {
    store,
    calls,
    setSubs,
    writes: () => calls.set + calls.update + calls.delete + calls.deleteByUser + calls.touch,
  }
}

export interface StoreApp {
  app: Hono
  invalid: InvalidReason[]
  /** The gate `/slow-update` and `/slow-page` wait on; replace it per test. */
  gate: { current: Gate }
}

/**
 * An app with onboarding on (`/explore` needs `onboardingStep: 'COMPLETED'`, which `/login` sets
 * unless its body says otherwise) and the routes the behaviour suite drives. Mutations catch SessionError and answer 409 with its code, so a refused
 * change is a clean response whose cookies the middleware still writes.
 */
export function storeApp(store: SessionStore | undefined, options: Partial<EdgeSessionOptions> = {}): StoreApp {
  const invalid: InvalidReason[] = []
  const gate = { current: new Gate() }
  const app = new Hono()
  app.use(
    edgeSession({
      secret: SECRET,
      onboarding: {},
      onInvalid: (reason) => {
        invalid.push(reason)
      },
      ...(store ? { store } : {}),
      ...options,
    }),
  )
  app.onError((error, c) => {
    if (error instanceof SessionError) return c.json({ code: error.code }, 409)
    if (error instanceof HTTPException) return error.getResponse()
    throw error
  })
  app.post('/login', async (c) => {
    const body = (await c.req.json()) as { sub: string; claims?: Record<string, never> }
    await createSession(c, { user: { sub: body.sub }, onboardingStep: 'COMPLETED', ...body.claims })
    // What a handler (or a fetch to another service) after this one sees in the request.
    const downstream = await app.request('/session', { headers: { cookie: c.req.header('cookie') ?? '' } })
    return c.json({
      session: getSession(c),
      downstream: ((await downstream.json()) as { session: AnySession | null }).session,
    })
  })
  app.post('/login-then-fail', async (c) => {
    // A sign-in whose request then fails: a 5xx, so no cookie of it is written.
    const { sub } = (await c.req.json()) as { sub: string }
    const session = await createSession(c, { user: { sub }, onboardingStep: 'COMPLETED' })
    return c.json({ sid: session.internal.sid }, 500)
  })
  app.post('/update', async (c) => {
    const patch = (await c.req.json()) as Record<string, never>
    await updateSession(c, (s) => ({ ...s, ...patch }))
    return c.json({ session: getSession(c) })
  })
  app.post('/increment', async (c) => {
    await updateSession<{ count?: number }>(c, (s) => ({ ...s, count: (s.count ?? 0) + 1 }))
    return c.json({ session: getSession(c) })
  })
  app.post('/update-refused', async (c) => {
    // The app's own refusal from inside the update function: it must reach onError as thrown.
    await updateSession(c, () => {
      throw new HTTPException(403, { message: 'not allowed' })
    })
    return c.json({ session: getSession(c) })
  })
  app.post('/slow-update', async (c) => {
    await updateSession(c, async (s) => {
      await gate.current.wait()
      return { ...s, slow: true }
    })
    return c.json({ session: getSession(c) })
  })
  app.get('/slow-page', async (c) => {
    await gate.current.wait()
    return c.html('<p>slow</p>')
  })
  app.post('/onboarding/finish', async (c) => {
    await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    return c.json({ session: getSession(c) })
  })
  app.post('/logout', async (c) => {
    await destroySession(c)
    return c.json({ ok: true })
  })
  app.post('/logout-everywhere', async (c) => {
    const session = getSession(c)
    if (!session) return c.json({ error: 'signed out' }, 401)
    return c.json({ ended: await destroyUserSessions(c, session.user.sub) })
  })
  app.post('/logout-everywhere-of', async (c) => {
    // An admin ending another user's sessions: this request has no session of its own.
    const { sub } = (await c.req.json()) as { sub: string }
    return c.json({ ended: await destroyUserSessions(c, sub) })
  })
  app.get('/session', (c) => c.json({ session: getSession(c) }))
  app.get('/explore', (c) => c.html(`<p>explore ${getSession(c)?.user.sub}</p>`))
  app.get('/page/*', (c) => {
    const session = getSession(c)
    c.header('x-last-path', session?.lastPath ?? '')
    return c.html('<p>page</p>')
  })
  return { app, invalid, gate }
}

/** Headers of a browser navigation (a page view for the activity tracker and the gate). */
export const NAVIGATE = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }

/** A unique user id per test, so tests sharing a file's storage never see each other's sessions. */
export function uniqueSub(label: string): string {
  return `${label}-${crypto.randomUUID()}`
}
