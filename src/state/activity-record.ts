/**
 * The activity of a signed-in session, as the state records it: when a new activity cookie is due
 * (a new page, or the last write older than `touchMs`), what it then says, and, with a store that
 * forgets idle records, moving the record's idle deadline later.
 * @module
 */
import type { ResolvedOptions } from '../options.js'
import type { RecordInternal } from './record.js'
import type { Activity, ActivityPayload } from './session-tokens.js'
import type { StoreCalls } from './store-calls.js'

// A lastPath longer than this keeps only its pathname, and is not recorded if that is too long.
const MAX_LAST_PATH = 1024

/** An activity write that is due: the page view's path, or `null` for other activity. */
export interface ActivityDue {
  readonly path: string | null
}

/**
 * Whether an activity write is due: `pageView` is the path of a page view, or `null` for any
 * other request. Due only when the path changed, the last write is older than `touchMs` or the
 * activity cookie was sealed with an older secret, so a stream of API calls writes nothing. Cheap:
 * it runs on every signed-in request, before the costlier checks of whether the request counts
 * as activity at all.
 *
 * @example
 * ```ts
 * const due = activityDue(record.internal, activity, false, Date.now(), '/explore', 60_000)
 * ```
 */
export function activityDue(
  internal: RecordInternal,
  previous: Activity | null,
  stale: boolean,
  now: number,
  pageView: string | null,
  touchMs: number,
): ActivityDue | undefined {
  const seen = Math.max(internal.updatedAt, previous?.seen ?? 0)
  const path = pageView !== null && pageView.length > MAX_LAST_PATH ? shortenPath(pageView) : pageView
  const newPath = path !== null && path !== previous?.lastPath
  if (!newPath && now - seen < touchMs && !stale) return undefined
  return { path }
}

/**
 * The activity after a due write, and the activity cookie's payload saying it.
 *
 * @example
 * ```ts
 * const { activity, payload } = nextActivity(record.internal, previous, now, due, refreshed)
 * ```
 */
export function nextActivity(
  internal: RecordInternal,
  previous: Activity | null,
  now: number,
  due: ActivityDue,
  refreshed: number | undefined,
): { activity: Activity; payload: ActivityPayload } {
  const { path } = due
  const activity: Activity = {
    lastPath: path ?? previous?.lastPath,
    lastVisit: path !== null ? now : previous?.lastVisit,
    seen: now,
    refreshed,
  }
  const payload: ActivityPayload = { sid: internal.sid, t: now }
  if (activity.lastPath !== undefined) payload.p = activity.lastPath
  if (activity.lastVisit !== undefined) payload.v = activity.lastVisit
  if (refreshed !== undefined) payload.r = refreshed
  return { activity, payload }
}

/**
 * When the store may forget a record nobody uses: half an inactivity period after the idle
 * deadline, since the store's copy is moved at most once per half period (see
 * {@link refreshIdleDeadline}), so it never ends before the session's own idle deadline. Never past
 * the absolute end.
 *
 * @example
 * ```ts
 * const idleExpiresAt = idleDeadline(Date.now(), 30 * 60_000, internal.expiresAt)
 * ```
 */
export function idleDeadline(now: number, inactivityMs: number, expiresAt: number): number {
  return Math.min(now + inactivityMs * 1.5, expiresAt)
}

/**
 * With a store that forgets idle records: moves the record's idle deadline later when the last
 * move is half an inactivity period old, so an active session costs the store one write per half
 * period, not one per request. Returns when the deadline was last moved; a failed move is tried
 * again at the next touch.
 *
 * @example
 * ```ts
 * const refreshed = await refreshIdleDeadline(calls, record.internal, activity, Date.now(), options)
 * ```
 */
export async function refreshIdleDeadline(
  calls: StoreCalls | undefined,
  internal: RecordInternal,
  previous: Activity | null,
  now: number,
  options: ResolvedOptions,
): Promise<number | undefined> {
  const store = calls?.store
  const touch = store?.touch
  if (!calls || !touch) return undefined
  const refreshed = Math.max(internal.updatedAt, previous?.refreshed ?? 0)
  if (now - refreshed < options.inactivityMs / 2) return refreshed
  const { sid, expiresAt } = internal
  try {
    await calls.call(() =>
      touch.call(store, sid, { expiresAt, idleExpiresAt: idleDeadline(now, options.inactivityMs, expiresAt) }),
    )
    return now
  } catch {
    // The record lives until its previous deadline; the next touch tries again.
    return refreshed
  }
}

function shortenPath(path: string): string | null {
  const q = path.indexOf('?')
  const pathname = q === -1 ? path : path.slice(0, q)
  return pathname.length > MAX_LAST_PATH ? null : pathname
}
