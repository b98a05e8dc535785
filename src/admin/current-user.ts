/**
 * The signed-in user's own sessions, from inside their request: a devices page.
 * @module
 */
import type { Context } from 'hono'
import { SessionMissingError, SessionStoreError } from '../errors.js'
import { getSessionState } from '../state/registry.js'
import { type AdminStore, adminStore, listRecords, toListed } from './session-admin.js'
import type { CurrentUserSession } from './types.js'

/** The signed-in user and session id (read from the record: no copy of the session), and the store. */
function signedIn(c: Context, where: string): { sub: string; sid: string; store: AdminStore } {
  const state = getSessionState(c)
  const store = adminStore(state.options.store, where)
  const record = state.record
  if (!record) throw new SessionMissingError()
  return { sub: record.user.sub, sid: record.internal.sid, store }
}

/**
 * The signed-in user's live sessions, oldest sign-in first, with `current: true` on the one this
 * request carries. Each `id` is an opaque handle (never the session id): pass it to
 * `sessionAdmin(...).destroy(user.sub, id)` to sign that device out.
 *
 * @throws {SessionMissingError} nobody is signed in
 * @throws {SessionUnsupportedError} no store, or a store without an index by user (KV)
 * @example
 * ```ts
 * app.get('/settings/sessions', async (c) => {
 *   const sessions = await listSessions(c)
 *   return c.json(sessions.map((s) => ({ id: s.id, since: s.createdAt, device: s.device, thisOne: s.current })))
 * })
 * ```
 */
export async function listSessions(c: Context): Promise<CurrentUserSession[]> {
  const { sub, sid: current, store } = signedIn(c, 'listSessions()')
  const records = await listRecords(store, sub)
  return records.map(({ id, sid, data }) => ({ ...toListed(id, data), current: sid === current }))
}

/**
 * "Sign out everywhere else": ends every other session of the signed-in user and keeps this one
 * (no cookie written). Resolves to how many were ended.
 *
 * @throws {SessionMissingError} nobody is signed in
 * @throws {SessionUnsupportedError} no store, or a store without an index by user (KV)
 * @throws {SessionStoreError} the store failed for some of them (`written: true` when others ended); calling again ends the rest
 * @example
 * ```ts
 * app.post('/settings/sessions/sign-out-others', async (c) => {
 *   await destroyOtherSessions(c)
 *   return c.redirect('/settings', 303)
 * })
 * ```
 */
export async function destroyOtherSessions(c: Context): Promise<number> {
  const { sub, sid: current, store } = signedIn(c, 'destroyOtherSessions()')
  const others = (await listRecords(store, sub)).filter(({ sid }) => sid !== current)
  const results = await Promise.allSettled(others.map(({ sid }) => store.delete(sid)))
  const ended = results.filter((result) => result.status === 'fulfilled').length
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
  if (failed)
    throw new SessionStoreError(
      `The session store failed while ending the other sessions: ${ended} of ${others.length} ended; calling again ends the rest.`,
      { cause: failed.reason, written: ended > 0 ? true : 'unknown' },
    )
  return ended
}
