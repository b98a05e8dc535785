/**
 * The functions handlers call: read, create, update and end the session of the current request.
 * @module
 */
import type { Context } from 'hono'
import { deviceOf } from './admin/device.js'
import { showSessionCookies } from './middleware/header-merge/index.js'
import { getSessionState } from './state/registry.js'
import { type SessionUpdate, createRecord, endCurrent, endUser, updateCurrent } from './state/session-changes.js'
import type { SessionState } from './state/session-state.js'
import type { SessionClaims, SessionData, SessionInput } from './types.js'

/**
 * Once `SessionClaims` is augmented, written claims are checked against it (or an explicit type
 * argument) instead of inferred from the argument, which would accept `onboardingStep: 'DONE'`.
 * Until then any claims are accepted, as there is nothing to check them against.
 */
type Checked<T> = [keyof SessionClaims] extends [never] ? T : NoInfer<T>

/**
 * The current session, or `null` when nobody is signed in. Shows every change made earlier in
 * this request, by the middleware or by `updateSession`.
 *
 * @example
 * ```ts
 * app.get('/me', (c) => {
 *   const session = getSession(c)
 *   return session ? c.json(session.user) : c.json({ error: 'signed_out' }, 401)
 * })
 * ```
 */
export function getSession<Claims extends object = SessionClaims>(c: Context): SessionData<Claims> | null {
  return getSessionState(c).data as SessionData<Claims> | null
}

/**
 * Signs a user in: always a brand-new session (new random id, new `createdAt`), replacing any
 * session the request had. Call it only after your own code has verified who the user is.
 *
 * @throws {SessionInvalidError} the data is not plain JSON, has a key with a quote, backslash or control
 *   character, lacks `user.sub`, or fails `schema`
 * @throws {SessionTooLargeError} the sealed session would exceed `maxBytes`
 * @throws {SessionCommittedError} the response was already sent, or went out while the store was
 *   written: this request is then signed out (the new record is deleted again)
 * @throws {SessionStoreError} the store could not write it; `err.written` says whether the previous
 *   session's record was ended (`true`: this request is then signed out)
 * @example
 * ```ts
 * app.post('/login', async (c) => {
 *   const user = await verifyPassword(await c.req.formData())
 *   await createSession(c, { user: { sub: user.id, name: user.name }, onboardingStep: 'PROFILE' })
 *   return c.redirect('/onboarding', 303)
 * })
 * ```
 */
export function createSession<Claims extends object = SessionClaims>(
  c: Context,
  data: Checked<SessionInput<Claims>>,
): Promise<SessionData<Claims>> {
  const state = getSessionState(c)
  const device = state.options.device ? deviceOf(c.req.raw) : undefined
  return shown(c, state, createRecord(state, data as SessionInput<object>, Date.now(), device)) as Promise<
    SessionData<Claims>
  >
}

/**
 * Changes the session: pass the whole new session, or a function of the current one. `internal`
 * (id, creation time, absolute expiry) is kept whatever you pass. The change is visible to
 * `getSession(c)` and to the request's Cookie header at once. Without a store, the response
 * writes the session cookie once however many times you call it (beside Max-Age=0 lines for
 * chunk names it does not use), and not at all when the user and claims come out the same
 * (`updatedAt` is then kept); with a store, only the record changes and the cookie stays. A
 * function gets a deep copy to change. Only server code decides what goes in: never copy session
 * fields from the request body.
 *
 * @throws {SessionMissingError} nobody is signed in (or the session was ended elsewhere)
 * @throws {SessionStoreError} the store could not read this request's session (see {@link isSessionUnreadable}),
 *   or could not write it: `err.written` is `false` when the old one is kept for sure, `'unknown'` when
 *   the write may still have landed (read the session again)
 * @throws {SessionInvalidError} the data is not plain JSON, has a key with a quote, backslash or control
 *   character, lacks `user.sub`, or fails `schema`
 * @throws {SessionTooLargeError} the sealed session would exceed `maxBytes`; the old one is kept
 * @throws {SessionCommittedError} the response was already sent
 * @example
 * ```ts
 * app.post('/onboarding/finish', async (c) => {
 *   await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
 *   return c.redirect('/explore', 303)
 * })
 * ```
 */
export function updateSession<Claims extends object = SessionClaims>(
  c: Context,
  next: Checked<
    SessionInput<Claims> | ((current: SessionData<Claims>) => SessionInput<Claims> | Promise<SessionInput<Claims>>)
  >,
): Promise<SessionData<Claims>> {
  const state = getSessionState(c)
  return shown(c, state, updateCurrent(state, next as SessionUpdate, Date.now())) as Promise<SessionData<Claims>>
}

/**
 * Signs out: clears the session cookie, all of its chunks and the activity cookie; with a store,
 * deletes the record so a copy of the old cookie is refused.
 *
 * @throws {SessionCommittedError} the response was already sent, or went out while the store was
 *   written: the record is deleted, but the cookies are not cleared
 * @throws {SessionStoreError} the store could not delete the record: with `err.written` `false` the
 *   session is kept whole (try again); `'unknown'`, the record may be gone already
 * @example
 * ```ts
 * app.post('/logout', async (c) => {
 *   await destroySession(c)
 *   return c.redirect('/', 303)
 * })
 * ```
 */
export function destroySession(c: Context): Promise<void> {
  const state = getSessionState(c)
  return shown(c, state, endCurrent(state, Date.now()))
}

/**
 * Whether the store could not read this request's session: it failed or timed out, or (an
 * eventually consistent store such as KV) does not show a fresh sign-in's record here yet.
 * `getSession` is then `null`, but the user may well still be signed in and the cookie is kept:
 * answer "try again" rather than sending them to sign in. Always `false` without a store.
 *
 * @example
 * ```ts
 * app.get('/account', (c) => {
 *   const session = getSession(c)
 *   if (session) return c.json(session.user)
 *   if (isSessionUnreadable(c)) return c.text('Please try again in a moment', 503)
 *   return c.redirect('/login', 303)
 * })
 * ```
 */
export function isSessionUnreadable(c: Context): boolean {
  return getSessionState(c).unreadable
}

/**
 * Ends every session of a user ("sign out everywhere", after a password change). Needs a store
 * with `deleteByUser` (the Durable Object and D1 stores); cookie-only sessions cannot be recalled
 * one by one: rotate the secret instead. Returns how many sessions were ended. When the request's
 * own session belongs to `sub`, it ends too (its cookies are cleared); call `createSession` after
 * it to keep the user signed in.
 *
 * @throws {SessionUnsupportedError} the session is kept in the cookie, or the store cannot list by user
 * @throws {SessionCommittedError} the response was already sent, or went out while the store was
 *   written: the sessions are ended, but this request's cookies are not cleared
 * @throws {SessionStoreError} the store failed
 * @example
 * ```ts
 * app.post('/account/password', async (c) => {
 *   const { user } = getSession(c)!
 *   await changePassword(user.sub, await c.req.formData())
 *   await destroyUserSessions(c, user.sub)
 *   return c.redirect('/login', 303)
 * })
 * ```
 */
export function destroyUserSessions(c: Context, sub: string): Promise<number> {
  const state = getSessionState(c)
  return shown(c, state, endUser(state, sub))
}

/**
 * `change`, once it settled (fulfilled or not) with the request's Cookie header showing the
 * session's cookies as they are now: a failed sign-in may still have ended the previous session.
 */
async function shown<T>(c: Context, state: SessionState, change: Promise<T>): Promise<T> {
  try {
    return await change
  } finally {
    showSessionCookies(c, state)
  }
}
