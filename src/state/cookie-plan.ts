/**
 * What a request will do with the session's cookies: the session cookie and the activity cookie
 * each stay, are cleared or are written, and what downstream handlers should see of them in the
 * request's Cookie header. Data only: `setCookieLines` and `showSessionCookies` write the headers.
 * @module
 */
import { type IncomingCookies, NO_COOKIES, type CookieNames } from '../codec/cookie-jar.js'
import type { CookieChanges } from '../codec/set-cookie.js'
import type { SessionCookieWrite } from './session-tokens.js'

type SessionPending = { kind: 'none' } | { kind: 'clear' } | SessionCookieWrite
type ActivityPending = { kind: 'none' } | { kind: 'clear' } | { kind: 'write'; token: string }

const NONE = { kind: 'none' } as const
const CLEAR = { kind: 'clear' } as const

/**
 * The cookie changes of one request.
 *
 * @example
 * ```ts
 * const plan = new CookiePlan(names)
 * plan.writeSession(write)
 * const changes = plan.changes({ now, expiresAt, seen, inactivityMs })
 * ```
 */
export class CookiePlan {
  /** What the request carried in our cookies. */
  incoming: IncomingCookies = NO_COOKIES
  #session: SessionPending = NONE
  #activity: ActivityPending = NONE
  /** The activity cookie as it came, while it belongs to the current session. */
  #activityToken: string | undefined
  /** Our cookies downstream should now see, until taken; `undefined` when unchanged. */
  #requestCookies: Array<[string, string]> | undefined

  constructor(private readonly names: CookieNames) {}

  /** Keeps the activity cookie the request carried: it opened and belongs to the session. */
  keepActivity(token: string | undefined): void {
    this.#activityToken = token
  }

  /** The activity cookie is another session's, expired or forged: cleared. */
  refuseActivity(): void {
    this.#activity = CLEAR
  }

  /** A new session: its cookie is written, and the old activity (another session id's) cleared. */
  startSession(write: SessionCookieWrite): void {
    this.#activity = CLEAR
    this.#activityToken = undefined
    this.writeSession(write)
  }

  writeSession(write: SessionCookieWrite): void {
    this.#session = write
    this.showSession(write.cookies)
  }

  writeActivity(token: string): void {
    this.#activity = { kind: 'write', token }
  }

  /** No session: both cookies cleared. */
  clearAll(): void {
    this.#session = CLEAR
    this.#activity = CLEAR
    this.#activityToken = undefined
    this.showSession([])
  }

  /** A failed request: nothing is written, the browser keeps what it had. */
  writeNothing(): void {
    this.#session = NONE
    this.#activity = NONE
  }

  /** Downstream should see `sessionCookies`, and the activity cookie unless it is being cleared. */
  showSession(sessionCookies: ReadonlyArray<[string, string]>): void {
    const visible: Array<[string, string]> = [...sessionCookies]
    if (this.#activityToken !== undefined && this.#activity.kind !== 'clear')
      visible.push([this.names.activity, this.#activityToken])
    this.#requestCookies = visible
  }

  /** Our cookies downstream should now see, when they changed since last asked. */
  takeRequestCookies(): ReadonlyArray<readonly [string, string]> | undefined {
    const cookies = this.#requestCookies
    this.#requestCookies = undefined
    return cookies
  }

  /**
   * What the response must do. A session write lives until `expiresAt`; an activity write until
   * `seen` plus `inactivityMs`, never past `expiresAt`.
   */
  changes(times: { now: number; expiresAt: number; seen: number; inactivityMs: number }): CookieChanges {
    const main = this.#session
    const activity = this.#activity
    const present = this.incoming.present
    if (main.kind !== 'write' && activity.kind !== 'write') return { session: main, activity, present }
    const { now, expiresAt } = times
    const session =
      main.kind === 'write'
        ? { kind: 'write' as const, cookies: main.cookies, maxAgeSeconds: secondsUntil(expiresAt, now) }
        : main
    if (activity.kind !== 'write') return { session, activity, present }
    const maxAgeSeconds = secondsUntil(Math.min(times.seen + times.inactivityMs, expiresAt), now)
    return { session, activity: { kind: 'write', token: activity.token, maxAgeSeconds }, present }
  }
}

function secondsUntil(end: number, now: number): number {
  return Math.max(0, Math.ceil((end - now) / 1000))
}
