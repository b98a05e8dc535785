/**
 * `edgeSession()`: reads the session, enforces the onboarding gate, records activity and writes
 * the cookies, in that order, once per request. One way down: this middleware asks the request's
 * session state, which asks the codec and the store; what changed comes back as return values,
 * and the request's Cookie header and the response's Set-Cookie lines are written here.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { setCookieLines } from '../codec/set-cookie.js'
import { resolveOptions } from '../options.js'
import { attachSessionState } from '../state/registry.js'
import { SessionState } from '../state/session-state.js'
import type { EdgeSessionOptions, SessionClaims } from '../types.js'
import { isActive, pageView } from './activity/index.js'
import { decideGate } from './gate/index.js'
import { keepRequestBody, showSessionCookies } from './header-merge/index.js'

const NO_STORE = 'private, no-store'
// CDN directives that outrank Cache-Control at a CDN (Cloudflare reads both): never on a Set-Cookie.
const CDN_CACHE_HEADERS = ['CDN-Cache-Control', 'Cloudflare-CDN-Cache-Control'] as const

/**
 * The session middleware. Options are checked here, once; a wrong one throws a
 * `SessionConfigError` when the app starts.
 *
 * Defaults: cookie `__Host-session` (HttpOnly, Secure, SameSite=Lax, Path=/), 8 h absolute and
 * 30 min inactivity lifetimes, activity tracking on, onboarding gate off, session in the cookie,
 * `Cache-Control: private, no-store` on signed-in responses whose handler set no Cache-Control.
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
export function edgeSession<Claims extends object = SessionClaims>(
  options: EdgeSessionOptions<Claims>,
): MiddlewareHandler {
  const resolved = resolveOptions(options as EdgeSessionOptions<object>)
  const { cacheControl, onboarding, activity } = resolved

  return async function edgeSessionMiddleware(c, next) {
    keepRequestBody(c)
    const pending = resolved.keyring(c)
    // Derived already on every request but the first few: no await then.
    const keyring = pending instanceof Promise ? await pending : pending
    const state = new SessionState(resolved, keyring, c)
    attachSessionState(c, state)
    const loading = state.load(Date.now())
    if (loading) await loading
    showSessionCookies(c, state)

    const blocked = onboarding && decideGate(c, state, onboarding)
    if (blocked) {
      // Built just above, so its headers are mutable.
      appendCookies(blocked.headers, setCookieLines(state.commit(Date.now()), resolved))
      return blocked
    }

    // A signed-in response must not come back from a cache (the Back button after sign-out).
    // Set before the handler: c.text(), c.json(), c.html() and c.redirect() build their response
    // with it, at no extra cost, and a handler's own Cache-Control replaces it. A Response the
    // handler returns itself does not get it (Hono drops prepared headers then): checked below.
    const signedInAtLoad = cacheControl && state.signedIn
    if (signedInAtLoad) c.header('Cache-Control', NO_STORE)

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
      const due = state.activityDue(now, pageView(c, activity))
      if (due && isActive(c)) await state.touch(now, due)
    }
    const lines = setCookieLines(state.commit(now), resolved)
    if (lines.length === 0) {
      if (signedInAtLoad && !c.res.headers.has('cache-control')) setHeaders(c, markNoStore)
      return
    }
    setHeaders(c, (headers) => appendCookies(headers, lines))
  }
}

/**
 * Changes the finished response's headers in place; a response whose headers are immutable (a
 * fetch() response, Response.redirect()) is copied once first.
 */
function setHeaders(c: Context, change: (headers: Headers) => void): void {
  try {
    change(c.res.headers)
  } catch {
    // Hono's `res` setter would merge the old headers into the copy a second time; reset it first.
    const copy = new Response(c.res.body, c.res)
    change(copy.headers)
    c.res = undefined
    c.res = copy
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

/**
 * Adds the session's Set-Cookie lines beside any the app set, and keeps the response out of every
 * cache whatever the handler said: a cached Set-Cookie hands one user's session to the next.
 */
function appendCookies(headers: Headers, lines: readonly string[]): void {
  if (lines.length === 0) return
  for (const line of lines) headers.append('Set-Cookie', line)
  markNoStore(headers)
  for (const name of CDN_CACHE_HEADERS) headers.delete(name)
}

function markNoStore(headers: Headers): void {
  headers.set('Cache-Control', NO_STORE)
}
