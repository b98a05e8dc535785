/**
 * `edgeSession()`: reads the session, enforces the onboarding gate, records activity and writes
 * the cookies, in that order, once per request.
 * @module
 */
import type { MiddlewareHandler } from 'hono'
import { resolveOptions } from '../options'
import { attachSessionState } from '../state/registry'
import { SessionState } from '../state/session-state'
import type { EdgeSessionOptions, SessionClaims } from '../types'
import { createActivityTracker } from './activity'
import { createGate } from './gate'
import { mergeRequestCookies } from './header-merge'

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
  const gate = options.onboarding ? createGate(options.onboarding) : undefined
  const activity = createActivityTracker(options.activity)
  const onVisibleChange = (state: SessionState, c: Parameters<MiddlewareHandler>[0]) =>
    mergeRequestCookies(c, resolved.names, state.visibleCookies)

  return async function edgeSessionMiddleware(c, next) {
    const keyring = await resolved.keyring(c)
    const state = new SessionState(resolved, keyring, c, (s) => onVisibleChange(s, c))
    attachSessionState(c, state)
    await state.load(Date.now())

    const blocked = gate?.(c, state.data)
    if (blocked) {
      appendCookies(blocked.headers, state.commit(Date.now()))
      return blocked
    }

    await next()

    // A failed request keeps the session as it was (see README: "When a handler throws").
    if (c.error || c.res.status >= 500) {
      state.discardWrites()
      state.commit(Date.now())
      return
    }
    const now = Date.now()
    if (activity.isActive(c)) await state.touch(now, activity.pageView(c), activity.touchMs)
    const lines = state.commit(now)
    if (lines.length === 0) return
    try {
      appendCookies(c.res.headers, lines)
    } catch {
      // Headers of a fetched or otherwise immutable response: copy it once, then write.
      c.res = new Response(c.res.body, c.res)
      appendCookies(c.res.headers, lines)
    }
  }
}

/** Adds the session's Set-Cookie lines beside any the app set, and keeps the response out of shared caches. */
function appendCookies(headers: Headers, lines: readonly string[]): void {
  if (lines.length === 0) return
  for (const line of lines) headers.append('Set-Cookie', line)
  headers.set('Cache-Control', NO_STORE)
}
