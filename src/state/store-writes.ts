/**
 * The store writes of a sign-in, an update and a sign-out, each with what a failure means: after a
 * write fails or times out, the store is asked (`settle`) whether it landed, so the error says
 * whether anything was written, and a write that landed anyway is no error at all.
 * @module
 */
import { equalJson } from '../codec/frozen-json.js'
import { SessionStoreError } from '../errors.js'
import { type SessionRecord, isSessionRecord } from './record.js'
import { type StoreCalls, storeFailure, writeId } from './store-calls.js'

/** The new record's lifetimes, in ms since the epoch. */
export interface RecordDeadlines {
  readonly expiresAt: number
  readonly idleExpiresAt: number
}

/**
 * A sign-in: deletes the `previous` records, then writes `record`. The old records go first: a
 * session id must never outlive a new sign-in (session fixation). On failure it throws a
 * {@link SessionStoreError}; `written: true` when a previous record is gone (the request is then
 * signed out).
 *
 * @example
 * ```ts
 * await replaceRecords(calls, [oldSid], record, { expiresAt, idleExpiresAt })
 * ```
 */
export async function replaceRecords(
  calls: StoreCalls,
  previous: readonly string[],
  record: SessionRecord,
  deadlines: RecordDeadlines,
): Promise<void> {
  const { store } = calls
  const { sid } = record.internal
  const removeIds = previous.map(() => writeId())
  const setId = writeId()
  let previousDeleted = false
  // The delete in flight (an index into `previous`), or the new record's set.
  let step: number | 'set' = previous.length === 0 ? 'set' : 0
  const write = async (signal: AbortSignal) => {
    for (const [index, old] of previous.entries()) {
      // Given up on (timed out): no further call starts.
      signal.throwIfAborted()
      step = index
      await store.delete(old, { writeId: removeIds[index], signal })
      previousDeleted = true
    }
    step = 'set'
    signal.throwIfAborted()
    await store.set(sid, record, { ...deadlines, sub: record.user.sub, signal, writeId: setId })
  }
  const settle = async (failure: unknown) => {
    if (step !== 'set') {
      const left = await calls.settled(previous[step] as string, removeIds[step] as string)
      if (left === null) previousDeleted = true
      // An earlier delete landed: a previous session is ended whatever this one did.
      throw storeFailure(previousDeleted ? true : left === undefined ? 'unknown' : false, failure)
    }
    const stored = await calls.settled(sid, setId)
    // Landed after all: the sign-in stands, and its cookie names the record.
    if (stored && equalJson(stored, record)) return
    throw storeFailure(stored === null ? previousDeleted : 'unknown', failure)
  }
  try {
    await calls.write(write, settle)
  } catch (error) {
    // Tells the caller the old session is gone from the store, so the request stops showing it.
    throw previousDeleted ? new PreviousEnded(error) : error
  }
}

/** A failed sign-in that ended the previous session all the same: `error` is what to throw. */
export class PreviousEnded {
  constructor(readonly error: unknown) {}
}

/**
 * An update: the record `sid` changed by `change` (atomically with a store's `update`, else read
 * then written). `null` when the record is gone (ended elsewhere). On failure it throws a
 * {@link SessionStoreError} saying whether the change was written.
 *
 * @example
 * ```ts
 * const updated = await updateRecord(calls, sid, (latest) => ({ ...latest, plan: 'pro' }), deadlines)
 * ```
 */
export async function updateRecord(
  calls: StoreCalls,
  sid: string,
  change: (latest: SessionRecord) => SessionRecord | Promise<SessionRecord>,
  deadlines: RecordDeadlines,
  sub: string,
): Promise<SessionRecord | null> {
  const { store } = calls
  // What the last attempt started from and made, to tell after a failure whether it landed.
  let base: SessionRecord | undefined
  let made: SessionRecord | undefined
  const tracked = async (latest: unknown): Promise<SessionRecord> => {
    if (!isSessionRecord(latest)) throw new Error('the store returned a record that is not a session')
    base = latest
    made = undefined
    made = await change(latest)
    return made
  }
  const id = writeId()
  const write = async (signal: AbortSignal): Promise<SessionRecord | null> => {
    if (store.update) {
      const updated = await store.update(sid, tracked, { ...deadlines, sub, signal, writeId: id })
      if (updated !== null && !isSessionRecord(updated))
        throw new Error('the store returned a record that is not a session')
      return updated
    }
    const latest = await store.get(sid)
    if (latest === null) return null
    const updated = await tracked(latest)
    signal.throwIfAborted()
    // The user may have changed: a store that indexes by user files the record under the new one.
    await store.set(sid, updated, { ...deadlines, sub: updated.user.sub, signal, writeId: id })
    return updated
  }
  const settle = async (failure: unknown): Promise<SessionRecord> => {
    const stored = await calls.settled(sid, id)
    if (stored === undefined) throw storeFailure('unknown', failure)
    // Landed after all: the update stands.
    if (made !== undefined && stored !== null && equalJson(stored, made)) return made
    // Nothing was on its way, or the record is as this attempt found it: not written, and never will be.
    const unchanged = made === undefined || (stored !== null && base !== undefined && equalJson(stored, base))
    throw storeFailure(unchanged ? false : 'unknown', failure)
  }
  return calls.write(write, settle)
}

/**
 * A sign-out: deletes the records `sids`, in order. The record goes before the cookie: if it cannot
 * be deleted, the session stays whole rather than half-ended with a replayable record behind a
 * cleared cookie.
 *
 * @example
 * ```ts
 * await deleteRecords(calls, [sid])
 * ```
 */
export async function deleteRecords(calls: StoreCalls, sids: readonly string[]): Promise<void> {
  const ids = sids.map(() => writeId())
  // The delete in flight, an index into `sids`.
  let step = 0
  const write = async (signal: AbortSignal) => {
    for (const [index, sid] of sids.entries()) {
      signal.throwIfAborted()
      step = index
      await calls.store.delete(sid, { writeId: ids[index], signal })
    }
  }
  const settle = async (failure: unknown) => {
    const stored = await calls.settled(sids[step] as string, ids[step] as string)
    // The last one gone after all: the sign-out stands.
    if (stored === null && step === sids.length - 1) return
    // An earlier record is gone: something was ended, but not all of it.
    if (step > 0 || stored === null)
      throw new SessionStoreError(
        'The session store failed after ending some of the sessions this request named; the others were kept.',
        {
          cause: failure,
          written: true,
        },
      )
    throw storeFailure(stored === undefined ? 'unknown' : false, failure)
  }
  await calls.write(write, settle)
}
