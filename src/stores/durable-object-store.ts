/**
 * Sessions in Durable Objects: the store side, which talks to {@link SessionDurableObject}
 * (exported from `hono-edge-session/durable-object`). Kept apart from the class so the main
 * entry does not import `cloudflare:workers` and stays runtime-neutral.
 * @module
 */
import { SessionConfigError } from '../errors.js'
import { deleteUserSessions, listUserSessions } from './durable-object-users.js'
import { MAX_UPDATE_ATTEMPTS, pause, parseRecord as parse, subOf } from './internal.js'
import type { SessionStore, StoredSession, StoreWriteOptions } from './types.js'

/** A session record as the object hands it out: the JSON text and its version. */
export interface SessionSnapshot {
  readonly json: string
  readonly sub: string
  readonly version: number
  /** When the record stops being a session: its idle deadline, or its absolute end (ms). */
  readonly until: number
}

/** What a compare-and-set write found; `'refused'`: its caller settled it before it arrived. */
export type ReplaceOutcome = 'ok' | 'conflict' | 'missing' | 'refused'

/** One entry of a user's index of sessions. */
export interface IndexedSession {
  readonly sid: string
  readonly expiresAt: number
}

/**
 * The RPC methods of {@link SessionDurableObject}. An object named after a session id keeps that
 * session; an object named after a user keeps the index of that user's sessions.
 */
export interface SessionObjectRpc {
  /** Session object: the live record, or `null` (never written, expired, deleted). */
  readSession(): SessionSnapshot | null
  /**
   * Session object: create or replace; `false` when the id was deleted (ids are never revived) or
   * `writeId` was settled.
   */
  writeSession(json: string, sub: string, expiresAt: number, idleUntil?: number, writeId?: string): Promise<boolean>
  /** Session object: write only if the record is still at `version`. */
  replaceSession(
    version: number,
    json: string,
    sub: string,
    expiresAt: number,
    idleUntil?: number,
    writeId?: string,
  ): Promise<ReplaceOutcome>
  /** Session object: move the live record's idle deadline later. */
  touchSession(idleUntil: number): Promise<void>
  /** Session object: refuse the write `writeId` from now on; the record as it is now. */
  settleWrite(writeId: string): Promise<SessionSnapshot | null>
  /**
   * Session object: delete and remember the id as dead until it would have expired; returns the
   * live record's user, or `null` when there was none. With `owner`, a live record of another
   * user is left alone (its user returned, not `owner`).
   */
  deleteSession(expiresAt?: number, owner?: string, writeId?: string): Promise<string | null>
  /** User object: remember that `sid` belongs to this user. */
  indexSession(sid: string, expiresAt: number): Promise<void>
  /** User object: the user's sessions that have not expired. */
  listSessions(): IndexedSession[]
  /** User object: forget these ids. */
  unindexSessions(sids: string[]): void
}

type Remote<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never
}

/**
 * The part of a Durable Object namespace binding this store uses. Any `DurableObjectNamespace`
 * fits; the class behind it must be {@link SessionDurableObject}.
 */
export interface DurableObjectNamespaceLike<Id = unknown> {
  idFromName(name: string): Id
  get(id: Id): object
}

/** Options of {@link durableObjectStore}. */
export interface DurableObjectStoreOptions {
  /** Prefix of the object names, to keep several apps apart in one namespace. Default `'session'`. */
  name?: string
}

/**
 * Keeps sessions in Durable Objects: strongly consistent (a sign-out or a change is seen by the
 * very next request, anywhere), with atomic updates and "sign out everywhere".
 *
 * **Layout.** One object per session (named after its id) holds the record; one object per user
 * (named after `user.sub`) holds the index of that user's session ids. Every request reads only
 * its own session's object, so load spreads over as many objects as there are sessions (a Durable
 * Object serves about 1,000 requests/s) and each object lives near where its user signed in. The
 * price: sign-in and sign-out also write the user's index (one more call), and
 * `destroyUserSessions` calls every session object of that user (50 at a time). The alternative,
 * one named object for all sessions, is simpler and deletes a user's sessions in one transaction,
 * but every request of the whole app would go to that one object, in one place: about 1,000
 * requests/s in total.
 *
 * **Atomic updates.** A function cannot be sent to an object, so `update` is optimistic: read the
 * record and its version, run `change` here, write only if the version is unchanged, retry
 * otherwise (up to 100 times, with a short random pause). Concurrent `updateSession` calls are
 * never lost, but `change` may run more than once: keep it free of side effects.
 *
 * **Sign out everywhere, step by step.** Each session ended is taken out of the user's index at
 * once. When some cannot be ended (an object unreachable, the request's subrequest limit reached),
 * `destroyUserSessions` throws `SessionStoreError` after ending the others; calling it again
 * (in a new request) ends only those left, and counts only them.
 *
 * **Never revived.** A deleted session id stays dead until it would have expired, so neither an
 * in-flight update nor a sign-in racing "sign out everywhere" can bring it back. Expired records
 * are removed by the object's alarm and refused on read.
 *
 * **Idle records go.** A record carries an idle deadline besides its absolute end; the alarm
 * deletes it at the earlier one. `touch` moves the idle deadline later (the middleware does it at
 * most once per half `duration.inactivity` while the session is used), so a session that ended
 * idle, or a sign-in whose cookie never came back, loses its record soon after its idle end.
 *
 * **Writes that time out.** Each write names itself; `settle` makes the object refuse that write
 * if it arrives later, and returns the record, so the middleware can tell whether it landed.
 *
 * Needs the class exported from your Worker's entry and declared with SQLite storage:
 * ```toml
 * [[durable_objects.bindings]]
 * name = "SESSION_DO"
 * class_name = "SessionDurableObject"
 *
 * [[migrations]]
 * tag = "v1"
 * new_sqlite_classes = ["SessionDurableObject"]
 * ```
 *
 * @example
 * ```ts
 * // src/index.ts (the Worker's entry)
 * import { env } from 'cloudflare:workers'
 * import { durableObjectStore, edgeSession } from 'hono-edge-session'
 * export { SessionDurableObject } from 'hono-edge-session/durable-object'
 *
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, store: durableObjectStore(env.SESSION_DO) }))
 * app.post('/cart/add', async (c) => {
 *   await updateSession(c, (s) => ({ ...s, items: (s.items ?? 0) + 1 })) // never loses a concurrent add
 *   return c.body(null, 204)
 * })
 * ```
 */
export function durableObjectStore<Id>(
  namespace: DurableObjectNamespaceLike<Id>,
  options: DurableObjectStoreOptions = {},
): SessionStore {
  if (typeof namespace?.idFromName !== 'function' || typeof namespace.get !== 'function')
    throw new SessionConfigError('durableObjectStore() needs a Durable Object namespace binding (env.SESSION_DO).')
  const name = options.name ?? 'session'
  if (typeof name !== 'string' || name === '')
    throw new SessionConfigError('durableObjectStore() name must be a non-empty string.')
  const objects = sessionObjects(namespace, name)
  const { sessionObject, userObject, unindex } = objects

  return {
    async get(sid) {
      const snapshot = await sessionObject(sid).readSession()
      return snapshot ? parse(snapshot.json) : null
    },

    async set(sid, data, { expiresAt, idleExpiresAt, sub, writeId }) {
      // Index first: a session that exists must always be findable by "sign out everywhere".
      await userObject(sub).indexSession(sid, expiresAt)
      if (!(await sessionObject(sid).writeSession(JSON.stringify(data), sub, expiresAt, idleExpiresAt, writeId)))
        throw new Error(
          'durableObjectStore: this session id was deleted, or this write was given up, and cannot be written.',
        )
    },

    async delete(sid, options) {
      const sub = await sessionObject(sid).deleteSession(undefined, undefined, options?.writeId)
      // The session is gone, which is what matters; the index entry goes on a best-effort basis.
      if (sub !== null) await unindex(sub, [sid])
    },

    async settle(sid, writeId) {
      const snapshot = await sessionObject(sid).settleWrite(writeId)
      return snapshot ? parse(snapshot.json) : null
    },

    async touch(sid, { idleExpiresAt }) {
      await sessionObject(sid).touchSession(idleExpiresAt)
    },

    update: (sid, change, options) => updateSession(objects, sid, change, options),
    listByUser: (sub) => listUserSessions(objects, sub),
    deleteByUser: (sub) => deleteUserSessions(objects, sub),
  }
}

/** The Durable Objects of one store: a session's, a user's index, and the index's best-effort cleanup. */
export interface SessionObjects {
  sessionObject(sid: string): Remote<SessionObjectRpc>
  userObject(sub: string): Remote<SessionObjectRpc>
  unindex(sub: string, sids: string[]): Promise<void>
}

function sessionObjects<Id>(namespace: DurableObjectNamespaceLike<Id>, name: string): SessionObjects {
  const object = (key: string) => namespace.get(namespace.idFromName(key)) as Remote<SessionObjectRpc>
  const userObject = (sub: string) => object(`${name}:user:${sub}`)
  return {
    sessionObject: (sid) => object(`${name}:sid:${sid}`),
    userObject,
    // For cleanup after the real work succeeded: a stale index entry costs a later
    // "sign out everywhere" one call to an already-ended session, and it expires with the session.
    async unindex(sub, sids) {
      try {
        await userObject(sub).unindexSessions(sids)
      } catch {
        // Best effort, see above.
      }
    },
  }
}

/** A durableObjectStore's `update`: compare-and-set on the record's version, tried again when another write came first. */
async function updateSession(
  { sessionObject, userObject, unindex }: SessionObjects,
  sid: string,
  change: Parameters<NonNullable<SessionStore['update']>>[1],
  { expiresAt, idleExpiresAt, signal, writeId }: StoreWriteOptions,
): Promise<StoredSession | null> {
  const target = sessionObject(sid)
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    if (attempt > 0) await pause(attempt)
    const snapshot = await target.readSession()
    if (snapshot === null) return null
    const next = await change(parse(snapshot.json))
    // Timed out meanwhile: the caller was told it failed, so nothing may be written now.
    signal?.throwIfAborted()
    const sub = subOf(next) ?? snapshot.sub
    if (sub !== snapshot.sub) await userObject(sub).indexSession(sid, expiresAt)
    const outcome = await target.replaceSession(
      snapshot.version,
      JSON.stringify(next),
      sub,
      expiresAt,
      idleExpiresAt,
      writeId,
    )
    if (outcome === 'ok') {
      // The session now belongs to `sub` only: "sign out everywhere" of the old user must not end it.
      if (sub !== snapshot.sub) await unindex(snapshot.sub, [sid])
      return next
    }
    if (outcome === 'missing') return null
    if (outcome === 'refused')
      throw new Error('durableObjectStore: this update was given up by its caller and not written.')
  }
  throw new Error(`durableObjectStore: the session kept changing during ${MAX_UPDATE_ATTEMPTS} update attempts.`)
}
