/**
 * Activity: which finished requests count as page views (for `lastPath` / `lastVisit`) and which
 * count as activity at all (for the rolling inactivity timeout). Writing is throttled by the
 * session state; this module only decides.
 * @module
 */
import type { Context } from 'hono'
import { SessionConfigError } from '../../errors.js'
import type { ActivityOptions } from '../../types.js'
import { peekRequest } from '../header-merge/index.js'
import { pathAndQuery, pathOf } from '../request-url.js'

/** Resolved activity settings. */
export interface ActivityTracker {
  readonly touchMs: number
  /**
   * The path of a page view to record (with its query under `recordQuery`), or `null`. Called
   * after the handler ran, on every signed-in request; {@link ActivityTracker.isActive} is asked
   * afterwards, only when a write is due.
   */
  pageView(c: Context): string | null
  /** Whether the finished request shows the user is active (refreshes the inactivity timeout). */
  isActive(c: Context): boolean
}

const DEFAULT_TOUCH_SECONDS = 60
const PREFETCH = /prefetch|prerender/i

/**
 * Resolves `activity` options once. `false` keeps the rolling timeout but records no page views.
 * `inactivityMs` is the resolved `duration.inactivity`, which bounds `touchInterval`.
 *
 * @example
 * ```ts
 * const tracker = createActivityTracker({ touchInterval: 120, isPageView: (c) => c.req.path.startsWith('/app/') }, 30 * 60_000)
 * ```
 */
export function createActivityTracker(options: ActivityOptions | false | undefined, inactivityMs: number): ActivityTracker {
  if (options !== undefined && options !== false && (typeof options !== 'object' || options === null))
    throw new SessionConfigError('activity must be an options object, or false.')
  const settings: ActivityOptions = options || {}
  const inactivitySeconds = inactivityMs / 1000
  // Activity is recorded at most once per touchInterval: a user seen just after a write and then
  // active every few seconds is seen again only a touchInterval later, so it must leave room.
  const touchSeconds = settings.touchInterval ?? Math.min(DEFAULT_TOUCH_SECONDS, inactivitySeconds / 2)
  if (typeof touchSeconds !== 'number' || !Number.isFinite(touchSeconds) || touchSeconds < 0)
    throw new SessionConfigError(`activity.touchInterval must be a number of seconds, 0 or more; got ${String(touchSeconds)}.`)
  if (touchSeconds > inactivitySeconds / 2)
    throw new SessionConfigError(
      `activity.touchInterval must be at most half of duration.inactivity (${inactivitySeconds} s); got ${touchSeconds}. Activity is recorded at most once per touchInterval, so a longer one signs out users who are active.`,
    )
  const custom = settings.isPageView
  if (custom != null && typeof custom !== 'function') throw new SessionConfigError('activity.isPageView must be a function.')
  // The default filter is isPageNavigation, minus the method and status checks pageView makes first.
  const isPage: (c: Context, raw: Request) => boolean = custom ? (c) => custom(c) : (_c, raw) => isDocumentNavigation(raw.headers)
  const recordPages = options !== false
  const recordQuery = settings.recordQuery ?? false
  if (typeof recordQuery !== 'boolean') throw new SessionConfigError(`activity.recordQuery must be true or false; got ${String(recordQuery)}.`)
  // A query may carry a secret (a magic link's or a password reset's token): kept only when asked for.
  const pathToRecord = recordQuery ? pathAndQuery : pathOf

  return {
    touchMs: touchSeconds * 1000,
    pageView(c) {
      // Whatever the filter says, only a successful GET is a visit: never a redirect, an error or a
      // form post. Read from the request as it arrived: a session change earlier in this request
      // must not build its merged copy just for this.
      if (!recordPages) return null
      const raw = peekRequest(c)
      if (raw.method !== 'GET' || !isSuccess(c.res.status)) return null
      if (!isPage(c, raw)) return null
      return pathToRecord(raw.url)
    },
    isActive,
  }
}

/** A request that finished well and was not a prefetch (a prefetch is the browser's guess, not the user). */
function isActive(c: Context): boolean {
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
 * The stricter page-view test of earlier versions: {@link isPageNavigation}, and the answer is
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
