/**
 * A user's sessions in Durable Objects: the devices page (`listByUser`) and "sign out everywhere"
 * (`deleteByUser`), both through the user's index of session ids, each entry checked against the
 * session's own object, which alone says whose it is.
 * @module
 */
import type { SessionObjects } from './durable-object-store.js'
import { parseRecord as parse } from './internal.js'
import type { UserSessionRecord } from './types.js'

/**
 * Session objects `deleteByUser` calls at once. Each call is a subrequest (1,000 per request on
 * the Free plan): working in chunks, and unindexing after each, keeps what was ended even when a
 * later call fails, so a retry has less to do instead of starting over.
 */
const DELETE_CHUNK = 50

/** A durableObjectStore's `listByUser`: the user's index, each entry checked against its record. */
export async function listUserSessions(
  { sessionObject, userObject }: SessionObjects,
  sub: string,
): Promise<UserSessionRecord[]> {
  const sessions = await userObject(sub).listSessions()
  const found: UserSessionRecord[] = []
  for (let start = 0; start < sessions.length; start += DELETE_CHUNK) {
    const snapshots = await Promise.all(
      sessions
        .slice(start, start + DELETE_CHUNK)
        .map(async ({ sid }) => ({ sid, snapshot: await sessionObject(sid).readSession() })),
    )
    // The index may still list a session that ended or moved to another user: only the record says.
    for (const { sid, snapshot } of snapshots)
      if (snapshot !== null && snapshot.sub === sub)
        found.push({ sid, data: parse(snapshot.json), until: snapshot.until })
  }
  return found
}

/** A durableObjectStore's `deleteByUser`: every session the user's index lists, in chunks. */
export async function deleteUserSessions(
  { sessionObject, userObject, unindex }: SessionObjects,
  sub: string,
): Promise<number> {
  const sessions = await userObject(sub).listSessions()
  let ended = 0
  let reached = 0
  let failure: unknown
  for (let start = 0; start < sessions.length; start += DELETE_CHUNK) {
    const results = await Promise.allSettled(
      sessions
        .slice(start, start + DELETE_CHUNK)
        .map(async ({ sid, expiresAt }) => ({ sid, owner: await sessionObject(sid).deleteSession(expiresAt, sub) })),
    )
    const done: string[] = []
    let answered = 0
    for (const result of results) {
      if (result.status === 'rejected') failure ??= result.reason
      else {
        answered++
        const { sid, owner } = result.value
        // Another user's for now: an update moving it to `sub` may still be under way, and once
        // it lands only this entry lets a later call end it. Stays listed (it expires with it).
        if (owner !== null && owner !== sub) continue
        done.push(sid)
        // `null`: already ended (or never written); only live sessions count.
        if (owner !== null) ended++
      }
    }
    reached += answered
    // Only what was ended leaves the index: a failed one stays listed for the next call.
    if (done.length > 0) await unindex(sub, done)
    // Nothing in this chunk worked (subrequest limit, outage): the next chunks would fail too.
    if (answered === 0) break
  }
  if (reached < sessions.length)
    throw new Error(
      `durableObjectStore: ${sessions.length - reached} of ${sessions.length} sessions of this user could not be ended (the others were); calling again ends the rest.`,
      { cause: failure },
    )
  return ended
}
