import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type DurableObjectNamespaceLike, SessionConfigError, durableObjectStore } from '../../../src'
import { SessionDurableObject, durableObjectStore as fromSubpath } from 'hono-edge-session/durable-object'
import { describeStoreBehaviour } from '../../helpers/store-behaviour'
import { deferred, uniqueSub } from '../../helpers/stores'

describeStoreBehaviour('durable-object', () => durableObjectStore(env.SESSION_DO))

const HOUR = 60 * 60 * 1000
const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })
const stub = (name: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(name))
const sessionObject = (sid: string) => stub(`session:sid:${sid}`)
const userObject = (sub: string) => stub(`session:user:${sub}`)
const storedKeys = (name: string) => runInDurableObject(stub(name), (_, state) => [...state.storage.kv.list()].map(([key]) => key))

/** An object name with its id, so the wrappers below can pick objects by name. */
interface NamedId {
  name: string
  id: DurableObjectId
}

/**
 * env.SESSION_DO, but `deleteSession` goes through `deleteSession` below: a store built on it
 * shares the real objects with `durableObjectStore(env.SESSION_DO)` and only that call differs.
 */
function wrappedNamespace(
  deleteSession: (name: string, real: () => Promise<string | null>) => Promise<string | null>,
): DurableObjectNamespaceLike<NamedId> {
  return {
    idFromName: (name) => ({ name, id: env.SESSION_DO.idFromName(name) }),
    get: ({ name, id }) => {
      const real = env.SESSION_DO.get(id)
      // deleteByUser calls only deleteSession on session objects and these methods on user objects.
      return {
        deleteSession: (expiresAt?: number, owner?: string) => deleteSession(name, () => real.deleteSession(expiresAt, owner)),
        listSessions: () => real.listSessions(),
        unindexSessions: (sids: string[]) => real.unindexSessions(sids),
      }
    },
  }
}

describe('durableObjectStore', () => {
  it('is exported from hono-edge-session/durable-object with its class', () => {
    expect(fromSubpath).toBe(durableObjectStore)
    expect(typeof SessionDurableObject).toBe('function')
  })

  it('keeps each session in its own object and indexes it under its user', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('layout')
    await store.set('layout-1', record(sub), { expiresAt: Date.now() + HOUR, sub })
    expect(await storedKeys('session:sid:layout-1')).toEqual(expect.arrayContaining(['record']))
    expect(await userObject(sub).listSessions()).toEqual([{ sid: 'layout-1', expiresAt: expect.any(Number) }])
    await store.delete('layout-1')
    expect(await userObject(sub).listSessions()).toEqual([])
  })

  it('never writes a deleted id again, so a sign-in racing "sign out everywhere" cannot survive it', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('race')
    const options = { expiresAt: Date.now() + HOUR, sub }
    await store.set('race-live', record(sub), options)
    // A sign-in half done: indexed (first step of set), record not written yet.
    await userObject(sub).indexSession('race-pending', options.expiresAt)
    expect(await store.deleteByUser?.(sub)).toBe(1)
    await expect(store.set('race-pending', record(sub), options)).rejects.toThrow(/deleted/)
    expect(await store.get('race-pending')).toBeNull()
    await expect(store.set('race-live', record(sub), options)).rejects.toThrow(/deleted/)
    expect(await store.get('race-live')).toBeNull()
  })

  it('retries an update whose record changed while `change` ran (compare-and-set), so no write is lost', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('cas')
    const options = { expiresAt: Date.now() + HOUR, sub }
    await store.set('cas', record(sub, { n: 0 }), options)
    const hold = deferred()
    let runs = 0
    const slow = store.update?.(
      'cas',
      async (current) => {
        runs++
        if (runs === 1) await hold.promise
        return { ...current, n: (current.n as number) + 1 }
      },
      options,
    )
    await store.update?.('cas', (current) => ({ ...current, n: (current.n as number) + 10 }), options)
    hold.resolve()
    expect(await slow).toEqual(record(sub, { n: 11 }))
    expect(runs).toBe(2)
    expect(await store.get('cas')).toEqual(record(sub, { n: 11 }))
  })

  it('writes nothing when `change` throws', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('throw')
    const options = { expiresAt: Date.now() + HOUR, sub }
    await store.set('throws', record(sub, { n: 1 }), options)
    await expect(store.update?.('throws', () => Promise.reject(new Error('invalid')), options)).rejects.toThrow('invalid')
    expect(await store.get('throws')).toEqual(record(sub, { n: 1 }))
  })

  it('re-indexes a session under its new user when an update changes user.sub', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const [a, b] = [uniqueSub('from'), uniqueSub('to')]
    await store.set('moved', record(a), { expiresAt: Date.now() + HOUR, sub: a })
    await store.update?.('moved', (current) => ({ ...current, user: { sub: b } }), { expiresAt: Date.now() + HOUR, sub: a })
    expect(await store.deleteByUser?.(b)).toBe(1)
    expect(await store.get('moved')).toBeNull()
  })

  it('"sign out everywhere" leaves alone a session its index lists but that now belongs to another user', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const [owner, stale] = [uniqueSub('owner'), uniqueSub('stale')]
    await store.set('moved-away', record(owner), { expiresAt: Date.now() + HOUR, sub: owner })
    // What an update changing user.sub to `stale` leaves while under way (or after losing its race).
    await userObject(stale).indexSession('moved-away', Date.now() + HOUR)
    expect(await store.deleteByUser?.(stale)).toBe(0)
    expect(await store.get('moved-away')).toEqual(record(owner))
    // Still listed: should the move land after all, a later call must find it.
    expect((await userObject(stale).listSessions()).map((s) => s.sid)).toEqual(['moved-away'])
    expect(await store.deleteByUser?.(owner)).toBe(1)
    expect(await store.get('moved-away')).toBeNull()
  })

  it('a session whose move to a user lands after that user\'s "sign out everywhere" passed it by can still be ended', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const [from, to] = [uniqueSub('move-from'), uniqueSub('move-to')]
    const expiresAt = Date.now() + HOUR
    await store.set('moving', record(from), { expiresAt, sub: from })
    // An update giving the session to `to`, step by step as store.update does it, with
    // "sign out everywhere" of `to` between its indexing and its write.
    const snapshot = await sessionObject('moving').readSession()
    await userObject(to).indexSession('moving', expiresAt)
    expect(await store.deleteByUser?.(to)).toBe(0)
    expect(await sessionObject('moving').replaceSession(snapshot?.version ?? -1, JSON.stringify(record(to)), to, expiresAt)).toBe('ok')
    await userObject(from).unindexSessions(['moving'])
    // The move landed: `to` owns it, and the next "sign out everywhere" of `to` ends it.
    expect(await store.deleteByUser?.(to)).toBe(1)
    expect(await store.get('moving')).toBeNull()
  })

  it('ends a user\'s sessions in bounded chunks, so one call stays under the subrequest limit per step', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('many')
    const options = { expiresAt: Date.now() + HOUR, sub }
    const sids = Array.from({ length: 60 }, (_, i) => `many-${sub}-${i}`)
    await Promise.all(sids.map((sid) => store.set(sid, record(sub), options)))
    let inFlight = 0
    let most = 0
    const counted = durableObjectStore(
      wrappedNamespace(async (_, real) => {
        most = Math.max(most, ++inFlight)
        try {
          return await real()
        } finally {
          inFlight--
        }
      }),
    )
    expect(await counted.deleteByUser?.(sub)).toBe(60)
    expect(most).toBeLessThanOrEqual(50)
    expect(most).toBeGreaterThan(1)
    expect(await userObject(sub).listSessions()).toEqual([])
    expect(await Promise.all(sids.map((sid) => store.get(sid)))).toEqual(Array(60).fill(null))
    // 60 objects and 180 storage calls: seconds on a loaded two-core machine, not a timing claim.
  }, 30_000)

  it('keeps the progress of a "sign out everywhere" that failed part-way: a retry ends only the rest', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('partial')
    const options = { expiresAt: Date.now() + HOUR, sub }
    const [first, broken, last] = [`partial-1-${sub}`, `partial-2-${sub}`, `partial-3-${sub}`] as const
    for (const sid of [first, broken, last]) await store.set(sid, record(sub), options)
    const failing = new Set([`session:sid:${broken}`])
    const flaky = durableObjectStore(
      wrappedNamespace((name, real) => (failing.has(name) ? Promise.reject(new Error('object unreachable')) : real())),
    )
    await expect(flaky.deleteByUser?.(sub)).rejects.toThrow(/1 of 3/)
    expect(await userObject(sub).listSessions()).toEqual([{ sid: broken, expiresAt: options.expiresAt }])
    expect(await store.get(first)).toBeNull()
    expect(await store.get(last)).toBeNull()
    expect(await store.get(broken)).toEqual(record(sub))
    failing.clear()
    expect(await flaky.deleteByUser?.(sub)).toBe(1)
    expect(await store.get(broken)).toBeNull()
    expect(await userObject(sub).listSessions()).toEqual([])
  })

  it('refuses expired records on read, and the alarm deletes them and the index entries', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('expiry')
    await store.set('expired', record(sub), { expiresAt: Date.now() - 1, sub })
    expect(await store.get('expired')).toBeNull()
    // An alarm in the past may already have fired on its own; otherwise run it now.
    await runDurableObjectAlarm(sessionObject('expired'))
    expect(await storedKeys('session:sid:expired')).toEqual([])
    await runDurableObjectAlarm(userObject(sub))
    expect(await storedKeys(`session:user:${sub}`)).toEqual([])
  })

  it('keeps what has not expired when the alarm runs, and wakes again at its expiry', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('alive')
    const expiresAt = Date.now() + HOUR
    await store.set('alive', record(sub), { expiresAt, sub })
    expect(await runDurableObjectAlarm(sessionObject('alive'))).toBe(true)
    expect(await store.get('alive')).toEqual(record(sub))
    expect(await runInDurableObject(sessionObject('alive'), (_, state) => state.storage.getAlarm())).toBe(expiresAt)
  })

  it('uses `name` to keep apps apart in one namespace', async () => {
    const one = durableObjectStore(env.SESSION_DO, { name: 'app-one' })
    const two = durableObjectStore(env.SESSION_DO, { name: 'app-two' })
    const sub = uniqueSub('named')
    await one.set('shared-id', record(sub), { expiresAt: Date.now() + HOUR, sub })
    expect(await two.get('shared-id')).toBeNull()
    expect(await one.get('shared-id')).toEqual(record(sub))
  })

  it('refuses something that is not a namespace', () => {
    expect(() => durableObjectStore({} as Parameters<typeof durableObjectStore>[0])).toThrow(SessionConfigError)
  })
})
