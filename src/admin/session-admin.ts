/**
 * `sessionAdmin()`: a user's sessions managed with only the store, outside any request of theirs.
 * @module
 */
import { copyJson } from '../codec/frozen-json.js'
import { SessionInvalidError, SessionStoreError, SessionUnsupportedError } from '../errors.js'
import { toSessionRecord, toUpdatedFields } from '../state/validate.js'
import type { SessionStore, StoredSession, UserSessionRecord } from '../stores/types.js'
import { type RecordFields, type SessionRecord, isSessionRecord } from '../state/record.js'
import type { SessionClaims, SessionData, SessionInput } from '../types.js'
import { sessionHandle } from './handle.js'
import type { ListedSession, SessionAdmin, SessionAdminOptions, SessionAdminUpdate } from './types.js'

/** The store methods the admin API needs, all present. */
export type AdminStore = SessionStore & Required<Pick<SessionStore, 'listByUser' | 'update' | 'deleteByUser'>>

/** Thrown from inside a store's `update` to leave the record as it is (nothing written). */
const UNCHANGED = Symbol('unchanged')

/** Carries an error of the caller's update function (or its validation) through the store's `update`. */
class FromChange {
  constructor(readonly error: unknown) {}
}

/** Refuses a store the admin API cannot work with, saying why. */
export function adminStore(store: SessionStore | undefined, where: string): AdminStore {
  if (!store)
    throw new SessionUnsupportedError(
      `${where} needs a store: without one each session lives only in its browser's cookie (the cookie is the only copy), so nothing can list or change it from elsewhere. Use durableObjectStore() or d1Store().`,
    )
  if (
    typeof store.listByUser !== 'function' ||
    typeof store.update !== 'function' ||
    typeof store.deleteByUser !== 'function'
  )
    throw new SessionUnsupportedError(
      `${where} needs a store that indexes sessions by user, with atomic updates (listByUser, update, deleteByUser): Workers KV has no consistent index by user and no atomic update. Use durableObjectStore() or d1Store().`,
    )
  return store as AdminStore
}

function checkSub(sub: unknown): asserts sub is string {
  if (typeof sub !== 'string' || sub === '')
    throw new SessionInvalidError([
      { message: 'must be a non-empty string (the user.sub of the sessions)', path: ['sub'] },
    ])
}

/** A user's record as listed: checked to be a session where it enters, with its handle. */
export interface ListedRecord extends UserSessionRecord {
  readonly data: SessionRecord
  readonly id: string
}

/** The live records of a user, in sign-in order, each with its handle. */
export async function listRecords(store: AdminStore, sub: string): Promise<ListedRecord[]> {
  const now = Date.now()
  const records = await store.listByUser(sub)
  const live: Array<UserSessionRecord & { data: SessionRecord }> = []
  for (const record of records) {
    const { data } = record
    if (isSessionRecord(data) && data.internal.expiresAt > now) live.push({ ...record, data })
  }
  live.sort((a, b) => a.data.internal.createdAt - b.data.internal.createdAt)
  return Promise.all(live.map(async (record) => ({ ...record, id: await sessionHandle(record.sid) })))
}

/** What a listed session shows: never the id, never the claims (activity lives in the browser's cookie). */
export function toListed(id: string, data: SessionRecord): ListedSession {
  const { createdAt, updatedAt, expiresAt, device } = data.internal
  return { id, createdAt, updatedAt, expiresAt, ...(device ? { device: copyJson(device) } : {}) }
}

/**
 * Manage a user's sessions with only the store: from a webhook, a queue consumer, a cron trigger
 * or an admin page. Every session's next request sees what it did, with no cookie written.
 * Needs a store that indexes sessions by user: {@link durableObjectStore}, {@link d1Store}, or
 * {@link memoryStore} in tests. **Who may call what, for which user, is your app's authorization**:
 * check it before calling.
 *
 * @throws {SessionUnsupportedError} no store (cookie sessions: the cookie is the only copy), or a
 *   store without an index by user (Workers KV)
 * @example
 * ```ts
 * import { d1Store, sessionAdmin } from 'hono-edge-session'
 *
 * export default {
 *   fetch: app.fetch,
 *   // A queue consumer: no request, only env.
 *   async queue(batch, env) {
 *     const admin = sessionAdmin({ store: d1Store(env.DB) })
 *     for (const { body } of batch.messages)
 *       await admin.update(body.sub, (s) => ({ ...s, plan: body.plan })) // seen by each session's next request
 *   },
 * } satisfies ExportedHandler<Env, { sub: string; plan: string }>
 * ```
 */
export function sessionAdmin<Claims extends object = SessionClaims>(
  options: SessionAdminOptions,
): SessionAdmin<Claims> {
  const store = adminStore(options?.store, 'sessionAdmin()')
  const schema = options.schema
  if (schema !== undefined && typeof schema?.['~standard']?.validate !== 'function')
    throw new SessionInvalidError([
      { message: 'must be a Standard Schema v1 validator (zod, valibot, arktype, ...)', path: ['schema'] },
    ])

  return {
    async list(sub) {
      checkSub(sub)
      return (await listRecords(store, sub)).map(({ id, data }) => toListed(id, data))
    },

    async update(sub, next: SessionAdminUpdate<Claims>) {
      checkSub(sub)
      // A whole new session fails validation once, before any session is touched.
      if (typeof next !== 'function') await toSessionRecord(next, schema)
      return updateAll(store, schema, sub, next)
    },

    async destroy(sub, id) {
      checkSub(sub)
      if (typeof id !== 'string' || id === '') return false
      const match = (await listRecords(store, sub)).find((record) => record.id === id)
      if (!match) return false
      try {
        await store.delete(match.sid)
      } catch (error) {
        throw new SessionStoreError(
          'The session store failed while ending this session; it may or may not have ended.',
          { cause: error },
        )
      }
      return true
    },

    async destroyAll(sub) {
      checkSub(sub)
      try {
        return await store.deleteByUser(sub)
      } catch (error) {
        throw new SessionStoreError(
          "The session store failed while ending this user's sessions; some may have ended, calling again ends the rest.",
          { cause: error },
        )
      }
    },
  }
}

/** `update` of {@link sessionAdmin}: each live session of `sub` changed atomically; resolves to how many changed. */
async function updateAll<Claims extends object>(
  store: AdminStore,
  schema: SessionAdminOptions['schema'],
  sub: string,
  next: SessionAdminUpdate<Claims>,
): Promise<number> {
  const sessions = await listRecords(store, sub)
  let changed = 0
  for (const { sid, data, until } of sessions) {
    const change = async (current: StoredSession): Promise<StoredSession> => {
      // Not a session (a record the store changed meanwhile): left as it is.
      if (!isSessionRecord(current)) throw UNCHANGED
      let fields: RecordFields | null
      try {
        // A deep copy: a function that changes `internal` in place changes nothing stored.
        const input =
          typeof next === 'function'
            ? await next(copyJson<Record<string, unknown>>(current) as SessionData<Claims>)
            : (next as SessionInput<Claims>)
        // `null`: the same user and claims as `current` (`internal` aside).
        fields = await toUpdatedFields(input, schema, current)
      } catch (error) {
        throw new FromChange(error)
      }
      if (fields === null) throw UNCHANGED
      // `internal` (id, creation, expiry, device) is the middleware's: kept whatever `next` returned.
      return { ...fields, internal: { ...current.internal, updatedAt: Date.now() } }
    }
    try {
      const written = await store.update(sid, change, { expiresAt: data.internal.expiresAt, idleExpiresAt: until, sub })
      // `null`: ended meanwhile (signed out); it stays ended.
      if (written !== null) changed++
    } catch (error) {
      if (error === UNCHANGED) continue
      if (error instanceof FromChange) throw error.error
      throw new SessionStoreError(
        `The session store failed while updating the sessions of this user: ${changed} of ${sessions.length} were changed before the failure, the one it failed on may or may not have been; calling update again is safe when the change is idempotent.`,
        { cause: error, written: changed > 0 ? true : 'unknown' },
      )
    }
  }
  return changed
}
