/**
 * The public shapes of the session admin API.
 * @module
 */
import type { StandardSchemaV1 } from '../schema.js'
import type { SessionStore } from '../stores/types.js'
import type { SessionClaims, SessionData, SessionDevice, SessionInput } from '../types.js'

/**
 * One live session of a user, as {@link SessionAdmin.list} returns it. It has no `lastPath` /
 * `lastVisit`: activity lives in each browser's activity cookie, not in the store.
 *
 * @example
 * ```ts
 * const [first]: ListedSession[] = await admin.list('user-42')
 * console.log(first.id, new Date(first.createdAt), first.device?.browser)
 * ```
 */
export interface ListedSession {
  /**
   * Opaque handle for {@link SessionAdmin.destroy}: a one-way digest of the session id, never the
   * id itself, so showing it (a devices page, a log) gives nobody a way to use the session.
   */
  readonly id: string
  /** Sign-in time, ms since the epoch. */
  readonly createdAt: number
  /** When the session data last changed, ms since the epoch. */
  readonly updatedAt: number
  /** Absolute end, ms since the epoch. */
  readonly expiresAt: number
  /** Recorded at sign-in under the `device` option; personal data. */
  readonly device?: SessionDevice
}

/**
 * A listed session seen from inside a request: `current` marks the one that request carries.
 *
 * @example
 * ```ts
 * const sessions: CurrentUserSession[] = await listSessions(c)
 * const others = sessions.filter((s) => !s.current)
 * ```
 */
export interface CurrentUserSession extends ListedSession {
  /** Whether this is the session of the request that listed it. */
  readonly current: boolean
}

/**
 * Options of {@link sessionAdmin}.
 *
 * @example
 * ```ts
 * const options: SessionAdminOptions = { store: durableObjectStore(env.SESSION_DO), schema: SessionSchema }
 * ```
 */
export interface SessionAdminOptions {
  /** The same store the middleware uses (Durable Objects, D1 or memory). */
  store: SessionStore | undefined
  /** The same `schema` the middleware uses: `update` checks what it writes against it. */
  schema?: StandardSchemaV1
}

/**
 * What `update` writes: the new session, or a function of each current one (it may run more than
 * once per session when the store retries: keep it free of side effects).
 *
 * @example
 * ```ts
 * const upgrade: SessionAdminUpdate = (s) => ({ ...s, plan: 'pro' })
 * await admin.update(sub, upgrade)
 * ```
 */
export type SessionAdminUpdate<Claims extends object = SessionClaims> =
  | SessionInput<Claims>
  | ((current: SessionData<Claims>) => SessionInput<Claims> | Promise<SessionInput<Claims>>)

/**
 * Manage a user's sessions from code that has no request of theirs: a webhook, a queue consumer,
 * a cron trigger, an admin page. Who may call it for which user is your app's decision.
 *
 * @example
 * ```ts
 * const admin: SessionAdmin = sessionAdmin({ store: d1Store(env.DB) })
 * const [oldest] = await admin.list(sub)
 * if (oldest && !(await admin.destroy(sub, oldest.id))) console.log('already ended')
 * ```
 */
export interface SessionAdmin<Claims extends object = SessionClaims> {
  /** The user's live sessions, oldest sign-in first. An unknown user has none (`[]`). */
  list(sub: string): Promise<ListedSession[]>
  /**
   * Changes every live session of the user, each atomically (concurrent `updateSession` calls are
   * not lost), validated like `updateSession` (`internal` kept, `schema` checked); resolves to
   * how many sessions changed (a change that leaves a session as it was does not count or write).
   * Each session's next request sees the change; no cookie is written.
   */
  update(sub: string, next: SessionAdminUpdate<Claims>): Promise<number>
  /** Ends one session; `false` when `id` is not a live session of `sub` (nothing was ended). */
  destroy(sub: string, id: string): Promise<boolean>
  /** Ends every session of the user ("sign out everywhere"); resolves to how many were ended. */
  destroyAll(sub: string): Promise<number>
}
