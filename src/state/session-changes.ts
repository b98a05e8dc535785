/**
 * What handlers change: sign-in, update, sign-out, and ending every session of a user. Each
 * checks the data, seals the cookie, writes the store (`store-writes.ts`) and then makes the
 * result the request's session; the public functions in `session.ts` call these.
 * @module
 */
import { encode as base64url } from '../codec/base64url.js'
import { SessionCommittedError, SessionMissingError, SessionStoreError, SessionUnsupportedError } from '../errors.js'
import type { SessionData, SessionDevice, SessionInput } from '../types.js'
import { idleDeadline } from './activity-record.js'
import type { RecordFields, RecordInternal, SessionRecord } from './record.js'
import type { SessionState } from './session-state.js'
import { CallerError, unwrapCallerError } from './store-calls.js'
import { PreviousEnded, deleteRecords, replaceRecords, updateRecord } from './store-writes.js'
import { toSessionRecord, toUpdatedFields } from './validate.js'

/** What `updateSession` takes: the whole new session, or a function of the current one. */
export type SessionUpdate =
  | SessionInput<object>
  | ((current: SessionData<object>) => SessionInput<object> | Promise<SessionInput<object>>)

const SESSION_ID_BYTES = 16

/**
 * Starts a new session: new id, new `createdAt`, whatever was there before is gone; `device`
 * (under the `device` option) is recorded in `internal`.
 *
 * @example
 * ```ts
 * const session = await createRecord(state, { user: { sub: 'u1' } }, Date.now())
 * ```
 */
export async function createRecord(
  state: SessionState,
  input: SessionInput<object>,
  now: number,
  device?: SessionDevice,
): Promise<SessionData<object>> {
  state.assertOpen()
  const { options } = state
  const fields = await toSessionRecord(input, options.schema)
  const calls = state.storeCalls
  const previous = calls ? await state.endableSids(now) : []
  const sid = base64url(crypto.getRandomValues(new Uint8Array(SESSION_ID_BYTES)))
  const times = { sid, createdAt: now, updatedAt: now, expiresAt: now + options.absoluteMs }
  const internal: RecordInternal = device ? { ...times, device: { ...device } } : times
  const record: SessionRecord = { ...fields, internal }
  const write = await state.sealWrite(record, now)
  // The response may have been committed while this awaited: fail loudly, never drop the change.
  state.assertOpen()
  if (calls) {
    const deadlines = {
      expiresAt: internal.expiresAt,
      idleExpiresAt: idleDeadline(now, options.inactivityMs, internal.expiresAt),
    }
    try {
      await replaceRecords(calls, previous, record, deadlines)
    } catch (error) {
      if (!(error instanceof PreviousEnded)) throw error
      // The old session is gone from the store: this request must not go on showing it.
      state.forget()
      throw error.error
    }
    if (state.committed) {
      // Written, but no cookie will name it, and the previous session is ended: gone from here too.
      state.forget()
      const deleting = state.deleteLater(sid)
      if (deleting) await deleting
      throw new SessionCommittedError()
    }
  }
  state.startSession(record, write)
  return state.data as SessionData<object>
}

/**
 * Replaces the session's user and claims; `internal` and activity are kept.
 *
 * @example
 * ```ts
 * const session = await updateCurrent(state, (s) => ({ ...s, plan: 'pro' }), Date.now())
 * ```
 */
export async function updateCurrent(
  state: SessionState,
  next: SessionUpdate,
  now: number,
): Promise<SessionData<object>> {
  state.assertOpen()
  const current = state.record
  if (!current) {
    // An outage is not a sign-out: the app must not send a signed-in user to sign in again.
    if (state.unreadable)
      throw new SessionStoreError("The session store could not read this request's session; nothing was changed.", {
        written: false,
      })
    throw new SessionMissingError()
  }
  const calls = state.storeCalls
  if (!calls) {
    let record: SessionRecord
    try {
      const changed = changedRecord(state, current, next, now, true)
      // Awaited only when something in it was asynchronous (the update function, a schema).
      record = changed instanceof Promise ? await changed : changed
    } catch (error) {
      unwrapCallerError(error)
    }
    // Same user and claims, in whatever member order (an idempotent "mark as done" on every
    // visit): no write, no Set-Cookie. `internal` moves with every update, so it is left out.
    if (record === current) return state.data as SessionData<object>
    const write = await state.sealWrite(record, now)
    state.assertOpen()
    return state.replaceRecord(record, write)
  }
  // With a store the cookie keeps the same id; only the record changes (and is written even when
  // equal: the write moves the store's idle deadline).
  const { sid, expiresAt } = current.internal
  const deadlines = { expiresAt, idleExpiresAt: idleDeadline(now, state.options.inactivityMs, expiresAt) }
  const apply = (latest: SessionRecord) => changedRecord(state, latest, next, now, false)
  const record = await updateRecord(calls, sid, apply, deadlines, current.user.sub)
  if (record === null) {
    // Ended elsewhere (sign-out in another tab): it stays ended.
    state.forget()
    throw new SessionMissingError()
  }
  return state.replaceRecord(record)
}

/**
 * `base` changed by `next`: checked, with `internal` kept and `updatedAt` moved; `base` itself when
 * `keepEqual` and the user and claims come out equal. Synchronous unless the update function
 * returns a promise or a schema checks the result. The caller's own errors (a throwing update
 * function) come wrapped in a {@link CallerError}.
 */
function changedRecord(
  state: SessionState,
  base: SessionRecord,
  next: SessionUpdate,
  now: number,
  keepEqual: boolean,
): SessionRecord | Promise<SessionRecord> {
  if (typeof next !== 'function') return checkedRecord(state, base, next, now, keepEqual)
  // A deep copy (composeFrom): a function that mutates nested values (`s.user.name = x`) and then fails
  // validation or the size limit must not have changed the session this request goes on with.
  let input: SessionInput<object>
  try {
    const returned = next(state.composeFrom(base))
    // Awaited as `await` would, but only when it is a promise (or thenable): a sync result goes on
    // at once. Asked inside the try: a `then` getter is the caller's code too.
    if (isPromiseLike(returned))
      return Promise.resolve(returned).then(
        (settled) => checkedRecord(state, base, settled, now, keepEqual),
        (error: unknown) => {
          throw new CallerError(error)
        },
      )
    input = returned
  } catch (error) {
    // The caller's own error (an HTTPException, say): the store calls must not report it as the store's.
    throw new CallerError(error)
  }
  return checkedRecord(state, base, input, now, keepEqual)
}

/** {@link changedRecord} once the update function's result is there. */
function checkedRecord(
  state: SessionState,
  base: SessionRecord,
  input: SessionInput<object>,
  now: number,
  keepEqual: boolean,
): SessionRecord | Promise<SessionRecord> {
  const { schema } = state.options
  if (!keepEqual) return toSessionRecord(input, schema).then((fields) => withInternal(fields, base, now))
  const fields = toUpdatedFields(input, schema, base)
  if (fields instanceof Promise) return fields.then((checked) => withInternal(checked, base, now))
  return withInternal(fields, base, now)
}

/** `fields` (a fresh copy nobody else holds yet) as the record `base` becomes; `base` when `null` (unchanged). */
function withInternal(fields: RecordFields | null, base: SessionRecord, now: number): SessionRecord {
  if (fields === null) return base
  // Added in place: the copy is the walk's own, and the record is shared (token cache) only once sealed.
  const record = fields as { internal?: RecordInternal }
  record.internal = { ...base.internal, updatedAt: now }
  return record as SessionRecord
}

/** Whether an update function's result is a promise or any other thenable. */
function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

/**
 * Ends the session: clears every cookie of it and, with a store, deletes the record first.
 *
 * @example
 * ```ts
 * await endCurrent(state, Date.now())
 * ```
 */
export async function endCurrent(state: SessionState, now: number): Promise<void> {
  state.assertOpen()
  const calls = state.storeCalls
  if (calls) {
    const sids = await state.endableSids(now)
    state.assertOpen()
    if (sids.length > 0) await deleteRecords(calls, sids)
  }
  state.endSession()
  // Ended in the store, but the response went out while this waited: its cookies are not cleared.
  state.assertOpen()
}

/**
 * Ends every session of `sub` through the store; this request's too when it is theirs.
 *
 * @example
 * ```ts
 * const ended = await endUser(state, 'u1')
 * ```
 */
export async function endUser(state: SessionState, sub: string): Promise<number> {
  state.assertOpen()
  const calls = state.storeCalls
  const deleteByUser = calls?.store.deleteByUser
  if (!calls || !deleteByUser)
    throw new SessionUnsupportedError(
      calls
        ? 'This store cannot end sessions by user; use durableObjectStore() or d1Store().'
        : 'Sessions kept only in cookies cannot be ended one user at a time: use a store, or rotate the secret to end them all.',
    )
  const count = await calls.write(() => deleteByUser.call(calls.store, sub))
  if (state.record?.user.sub === sub) state.forget()
  // The response went out while this waited: the cookie clear it may need cannot reach it.
  state.assertOpen()
  return count
}
