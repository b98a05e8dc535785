/**
 * Activity: which finished requests count as page views (for `lastPath` / `lastVisit`) and which
 * count as activity at all (for the rolling inactivity timeout). Only decides, from the resolved
 * `activity` settings; how often activity is written (`touchMs`) is applied by the session state.
 * @module
 */
import type { Context } from 'hono'
import type { ActivitySettings } from '../../options.js'
import { peekRequest } from '../header-merge/index.js'
import { pathAndQuery, pathOf } from '../request-url.js'

const PREFETCH = /prefetch|prerender/i

/**
 * The path of a page view to record (with its query under `recordQuery`), or `null`. Asked after
 * the handler ran, on every signed-in request; {@link isActive} is asked afterwards, only when a
 * write is due.
 *
 * @example
 * ```ts
 * const path = pageView(c, resolved.activity) // '/explore', or null for an API call
 * ```
 */
export function pageView(c: Context, settings: ActivitySettings): string | null {
  // Whatever the filter says, only a successful GET is a visit: never a redirect, an error or a
  // form post. Read from the request as it arrived: a session change earlier in this request
  // must not build its merged copy just for this.
  if (!settings.recordPages) return null
  const raw = peekRequest(c)
  if (raw.method !== 'GET' || !isSuccess(c.res.status)) return null
  const custom = settings.isPageView
  // The default filter is isPageNavigation, minus the method and status checks made above.
  if (custom ? !custom(c) : !isDocumentNavigation(raw.headers)) return null
  // A query may carry a secret (a magic link's or a password reset's token): kept only when asked for.
  return settings.recordQuery ? pathAndQuery(raw.url) : pathOf(raw.url)
}

/**
 * Whether the finished request shows the user is active (refreshes the inactivity timeout): it
 * finished well and was not a prefetch (a prefetch is the browser's guess, not the user).
 *
 * @example
 * ```ts
 * if (due && isActive(c)) await state.touch(now, due)
 * ```
 */
export function isActive(c: Context): boolean {
  if (c.res.status >= 400) return false
  const headers = peekRequest(c).headers
  const purpose = headers.get('sec-purpose') ?? headers.get('purpose') ?? headers.get('x-purpose')
  return purpose === null || !PREFETCH.test(purpose)
}

/**
 * The default page-view test: a GET the browser made as a top-level page navigation, answered with
 * a 2xx status, whatever its content type (`c.html`, `c.text`, `c.json`, a file). A navigation is
 * told by Fetch Metadata when the browser sends it (`Sec-Fetch-Mode: navigate`, and
 * `Sec-Fetch-Dest: document` when present), else by an `Accept` header that asks for `text/html`;
 * so `fetch()` / XHR calls, images, scripts, styles and frames are not page views. Prefetches,
 * redirects and errors are never recorded, whatever the test says.
 *
 * @example
 * ```ts
 * app.use(edgeSession({ secret, activity: { isPageView: (c) => isPageNavigation(c) && !c.req.path.startsWith('/admin') } }))
 * ```
 */
export function isPageNavigation(c: Context): boolean {
  const raw = peekRequest(c)
  return raw.method === 'GET' && isSuccess(c.res.status) && isDocumentNavigation(raw.headers)
}

/**
 * A stricter page-view test: {@link isPageNavigation}, and the answer is
 * HTML (`Content-Type: text/html`). Pass it as `activity.isPageView` to keep JSON or text answers
 * to a navigation out of `lastPath`.
 *
 * @example
 * ```ts
 * app.use(edgeSession({ secret, activity: { isPageView: isHtmlNavigation } }))
 * ```
 */
export function isHtmlNavigation(c: Context): boolean {
  return isPageNavigation(c) && (c.res.headers.get('content-type') ?? '').startsWith('text/html')
}

/** A top-level navigation to a document: by Fetch Metadata when sent, else by `Accept`. */
function isDocumentNavigation(headers: Headers): boolean {
  const mode = headers.get('sec-fetch-mode')
  if (mode === null) return (headers.get('accept') ?? '').includes('text/html')
  if (mode !== 'navigate') return false
  const dest = headers.get('sec-fetch-dest')
  return dest === null || dest === 'document'
}

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300
}
