/**
 * `edgeSession()`: reads the session, enforces the onboarding gate, records activity and writes
 * the cookies, in that order, once per request.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { resolveOptions } from '../options.js'
import { attachSessionState } from '../state/registry.js'
import { SessionState } from '../state/session-state.js'
import type { EdgeSessionOptions, SessionClaims } from '../types.js'
import { createActivityTracker } from './activity/index.js'
import { createLazyGate } from './gate/index.js'
import { keepRequestBody, mergeRequestCookies } from './header-merge/index.js'

const NO_STORE = 'private, no-store'

/**
 * The session middleware. Options are checked here, once; a wrong one throws a
 * `SessionConfigError` when the app starts.
 *
 * Defaults: cookie `__Host-session` (HttpOnly, Secure, SameSite=Lax, Path=/), 8 h absolute and
 * 30 min inactivity lifetimes, activity tracking on, onboarding gate off, session in the cookie.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { edgeSession, getSession } from 'hono-edge-session'
 *
 * const app = new Hono<{ Bindings: { SESSION_SECRET: string } }>()
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, onboarding: {} }))
 * app.get('/', (c) => c.text(`Hello ${getSession(c)?.user.sub ?? 'stranger'}`))
 * ```
 */
export function edgeSession<Claims extends object = SessionClaims>(options: EdgeSessionOptions<Claims>): MiddlewareHandler {
  const resolved = resolveOptions(options as EdgeSessionOptions<object>)
  const gate = options.onboarding ? createLazyGate(options.onboarding) : undefined
  const activity = createActivityTracker(options.activity, resolved.inactivityMs)
  const { names } = resolved
  // Built once: no closure per request.
  const mergeCookies = (c: Context, cookies: ReadonlyArray<readonly [string, string]>) => mergeRequestCookies(c, names, cookies)

  return async function edgeSessionMiddleware(c, next) {
    keepRequestBody(c)
    const pending = resolved.keyring(c)
    // Derived already on every request but the first few: no await then.
    const keyring = pending instanceof Promise ? await pending : pending
    const state = new SessionState(resolved, keyring, c, mergeCookies)
    attachSessionState(c, state)
    const loading = state.load(Date.now())
    if (loading) await loading

    const blocked = gate?.(c, state)
    if (blocked) {
      // Built just above, so its headers are mutable.
      appendCookies(blocked.headers, state.commit(Date.now()))
      return blocked
    }

    await next()

    if (failed(c)) {
      // A failed request writes no cookies (see README: "When a handler throws").
      const cleanup = state.abandon()
      if (cleanup) await cleanup
      return
    }
    const now = Date.now()
    // Anonymous requests (the common case for assets and bots) have nothing to record; most
    // signed-in ones have nothing new (an API call, the same page again), checked first.
    if (state.signedIn) {
      const due = state.activityDue(now, activity.pageView(c), activity.touchMs)
      if (due && activity.isActive(c)) await state.touch(now, due)
    }
    const lines = state.commit(now)
    if (lines.length === 0) return
    try {
      appendCookies(c.res.headers, lines)
    } catch {
      // Immutable headers (a fetch() response, Response.redirect()): copy once, then write. Hono's
      // `res` setter would merge the old headers into the copy a second time; reset it first.
      const copy = new Response(c.res.body, c.res)
      appendCookies(copy.headers, lines)
      c.res = undefined
      c.res = copy
    }
  }
}

/**
 * Whether the request failed: a 5xx, or an error the handler threw that is not a deliberate
 * `HTTPException` below 500 (those are answers, like `return c.json(..., 403)`).
 */
function failed(c: Context): boolean {
  if (c.res.status >= 500) return true
  const error = c.error
  return error !== undefined && !(error instanceof HTTPException && error.status < 500)
}

/** Adds the session's Set-Cookie lines beside any the app set, and keeps the response out of shared caches. */
function appendCookies(headers: Headers, lines: readonly string[]): void {
  if (lines.length === 0) return
  for (const line of lines) headers.append('Set-Cookie', line)
  headers.set('Cache-Control', NO_STORE)
}
