/**
 * The onboarding gate: a signed-in user who has not finished onboarding reaches only the
 * onboarding pages and the paths you allow. Page navigations are redirected (303) to the
 * onboarding page with a `returnTo`; every other request gets 403 JSON, which a script can act on.
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import { type GateSettings, isUnder, resolveOnboarding } from './settings.js'
import { getSessionState } from '../../state/registry.js'
import type { OnboardingOptions, SessionClaims, SessionData } from '../../types.js'
import { peekRequest } from '../header-merge/index.js'
import { pathAndQuery } from '../request-url.js'
import { normalizePath, safeRedirectPath } from './paths.js'

/**
 * Decides one request: a response that stops it, or `undefined` to let it through.
 *
 * @example
 * ```ts
 * const decide: GateDecision = createGate({ path: '/welcome' })
 * app.use('/app/*', async (c, next) => decide(c, getSession(c)) ?? next())
 * ```
 */
export type GateDecision = (c: Context, session: SessionData<object> | null) => Response | undefined

const NO_STORE = { 'Cache-Control': 'private, no-store' }
// A returnTo longer than this is dropped rather than sent (safeRedirectPath refuses it anyway).
const MAX_RETURN_TO = 2048
const UNAVAILABLE_PAGE =
  '<!doctype html><title>Try again</title><p>Your session could not be checked just now. Please reload in a moment.</p>'

/**
 * Resolves gate options once and returns the per-request decision. Throws
 * {@link SessionConfigError} for a wrong option.
 *
 * @example
 * ```ts
 * const decide = createGate({ path: '/welcome', allow: ['/help/*'] })
 * app.use(async (c, next) => decide(c, getSession(c)) ?? next())
 * ```
 */
export function createGate<Claims extends object = SessionClaims>(
  options: OnboardingOptions<Claims> = {},
): GateDecision {
  const settings = resolveOnboarding(options)
  return function onboardingGate(c, session) {
    return decideGate(c, { signedIn: session !== null, data: session }, settings)
  }
}

/** Who is asking: whether someone is signed in, and their session, read only when a path needs it. */
export interface GateSubject {
  readonly signedIn: boolean
  /**
   * The session cookie names a record the store could not read, or cannot see yet: not signed in
   * as far as this request knows, but not signed out either.
   */
  readonly unreadable?: boolean
  /** Read by the gate only when the path needs it: the session state composes its copy on first use. */
  readonly data: SessionData<object> | null
}

/**
 * The gate's decision for one request: a response that stops it, or `undefined` to let it through.
 * What {@link edgeSession}, {@link createGate} and {@link onboardingGate} ask.
 *
 * @example
 * ```ts
 * const blocked = decideGate(c, { signedIn: true, data: session }, resolveOnboarding({}))
 * ```
 */
export function decideGate(c: Context, subject: GateSubject, settings: GateSettings): Response | undefined {
  const path = c.req.path
  const { entry, entryKey, protect, loginPath } = settings
  if (!subject.signedIn) {
    if (!protect || settings.isLogin(path, c) || !protect(path, c)) return undefined
    // A store outage is no sign-out: sending the user to sign in again would not help (and on an
    // eventually consistent store could loop back here). Ask them to retry instead.
    if (subject.unreadable) return unavailable(c)
    return isNavigation(c)
      ? redirect(withReturnTo(loginPath, c))
      : Response.json({ error: 'login_required', login: loginPath }, { status: 401, headers: NO_STORE })
  }
  // Allowed paths (assets, auth, the onboarding pages below the entry) pass whether or not
  // onboarding is done: no need to look at the session (which would copy it) for them.
  const allowed = settings.allow(path, c)
  const onEntry = normalizePath(path) === entryKey
  if (allowed && !onEntry) return undefined
  if (settings.isComplete(subject.data as SessionData<object>)) {
    // Finished users have nothing to do on the entry page: send them on.
    if (!onEntry || !isNavigation(c)) return undefined
    const back = safeRedirectPath(c.req.query('returnTo'), new URL(c.req.url).origin)
    return redirect(back !== undefined && !isUnder(back.split(/[?#]/, 1)[0] as string, entryKey) ? back : settings.home)
  }
  if (allowed) return undefined
  return isNavigation(c)
    ? redirect(withReturnTo(entry, c))
    : Response.json({ error: 'onboarding_required', onboarding: entry }, { status: 403, headers: NO_STORE })
}

/**
 * The gate as a middleware of its own, for apps that mount it on some routes only. Needs
 * {@link edgeSession} earlier in the chain.
 *
 * @example
 * ```ts
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET }))
 * app.use('/app/*', onboardingGate({ path: '/app/welcome' }))
 * ```
 */
export function onboardingGate<Claims extends object = SessionClaims>(
  options: OnboardingOptions<Claims> = {},
): MiddlewareHandler {
  const settings = resolveOnboarding(options)
  return async function onboardingGateMiddleware(c, next) {
    const blocked = decideGate(c, getSessionState(c), settings)
    if (blocked) return blocked
    await next()
  }
}

/** A page navigation (GET/HEAD wanting HTML), as opposed to fetch/XHR or a form post. Fetch Metadata wins when sent. */
function isNavigation(c: Context): boolean {
  const raw = peekRequest(c)
  const method = raw.method
  if (method !== 'GET' && method !== 'HEAD') return false
  const headers = raw.headers
  const mode = headers.get('sec-fetch-mode')
  if (mode !== null) return mode === 'navigate'
  return (headers.get('accept') ?? '').includes('text/html')
}

/** `base?returnTo=<path and query of this request>`, or `base` alone when that is too long to carry. */
function withReturnTo(base: string, c: Context): string {
  const target = pathAndQuery(peekRequest(c).url)
  return target.length > MAX_RETURN_TO ? base : `${base}?returnTo=${encodeURIComponent(target)}`
}

/** 503 for a session the store could not read: a short page for navigations, JSON for the rest. */
function unavailable(c: Context): Response {
  const headers = { 'Retry-After': '1', ...NO_STORE }
  if (!isNavigation(c)) return Response.json({ error: 'session_unavailable' }, { status: 503, headers })
  return new Response(UNAVAILABLE_PAGE, {
    status: 503,
    headers: { 'Content-Type': 'text/html; charset=UTF-8', ...headers },
  })
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { Location: location, ...NO_STORE } })
}

export { safeRedirectPath }
