import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type DurableObjectNamespaceLike, SessionConfigError, durableObjectStore } from '../../../src'
import { SessionDurableObject, durableObjectStore as fromSubpath } from 'hono-edge-session/durable-object'
import { HOUR, deferred, describeStoreBehaviour, uniqueSub } from '../../helpers'
import type { SessionObjectRpc } from '../../../src/stores/durable-object-store'

describeStoreBehaviour('durable-object', () => durableObjectStore(env.SESSION_DO))

const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })
const stub = (name: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(name))
const sessionObject = (sid: string) => stub(`session:sid:${sid}`)
const userObject = (sub: string) => stub(`session:user:${sub}`)
const storedKeys = (name: string) =>
  runInDurableObject(stub(name), (_, state) => [...state.storage.kv.list()].map(([key]) => key))
const tombstoneOf = (sid: string) =>
  runInDurableObject(sessionObject(sid), (_, state) => state.storage.kv.get<number>('tombstone'))

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
        deleteSession: (expiresAt?: number, owner?: string) =>
          deleteSession(name, () => real.deleteSession(expiresAt, owner)),
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
    await expect(store.update?.('throws', () => Promise.reject(new Error('invalid')), options)).rejects.toThrow(
      'invalid',
    )
    expect(await store.get('throws')).toEqual(record(sub, { n: 1 }))
  })

  it('re-indexes a session under its new user when an update changes user.sub', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const [a, b] = [uniqueSub('from'), uniqueSub('to')]
    await store.set('moved', record(a), { expiresAt: Date.now() + HOUR, sub: a })
    await store.update?.('moved', (current) => ({ ...current, user: { sub: b } }), {
      expiresAt: Date.now() + HOUR,
      sub: a,
    })
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
    expect(
      await sessionObject('moving').replaceSession(snapshot?.version ?? -1, JSON.stringify(record(to)), to, expiresAt),
    ).toBe('ok')
    await userObject(from).unindexSessions(['moving'])
    // The move landed: `to` owns it, and the next "sign out everywhere" of `to` ends it.
    expect(await store.deleteByUser?.(to)).toBe(1)
    expect(await store.get('moving')).toBeNull()
  })

  it("ends a user's sessions in bounded chunks, so one call stays under the subrequest limit per step", async () => {
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

type Method = keyof SessionObjectRpc
type Override = (name: string, method: Method, real: () => Promise<unknown>) => Promise<unknown>

/** env.SESSION_DO with every RPC call going through `override` (which may call the real one). */
function wrapped(override: Override): DurableObjectNamespaceLike<{ name: string; id: DurableObjectId }> {
  const methods: Method[] = [
    'readSession',
    'writeSession',
    'replaceSession',
    'deleteSession',
    'indexSession',
    'listSessions',
    'unindexSessions',
  ]
  return {
    idFromName: (name) => ({ name, id: env.SESSION_DO.idFromName(name) }),
    get: ({ name, id }) => {
      const real = env.SESSION_DO.get(id) as unknown as Record<Method, (...args: unknown[]) => Promise<unknown>>
      return Object.fromEntries(
        methods.map((m) => [m, (...args: unknown[]) => override(name, m, () => real[m](...args))]),
      )
    },
  }
}

describe('durableObjectStore: options are checked when the app starts', () => {
  it('refuses a namespace missing get, and an empty name', () => {
    const half = { idFromName: () => 'id' } as unknown as Parameters<typeof durableObjectStore>[0]
    expect(() => durableObjectStore(half)).toThrow(SessionConfigError)
    expect(() => durableObjectStore(env.SESSION_DO, { name: '' })).toThrow(SessionConfigError)
  })
})

describe('durableObjectStore: update', () => {
  it('an update of a session that does not exist (never written or deleted) resolves to null', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('missing')
    const options = { expiresAt: Date.now() + HOUR, sub }
    expect(await store.update?.('update-missing', (current) => current, options)).toBeNull()
    await store.set('update-deleted', record(sub), options)
    await store.delete('update-deleted')
    expect(await store.update?.('update-deleted', (current) => current, options)).toBeNull()
  })

  it('an update aborted while `change` ran writes nothing', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('abort')
    const options = { expiresAt: Date.now() + HOUR, sub }
    await store.set('aborted', record(sub, { n: 1 }), options)
    const controller = new AbortController()
    const update = store.update?.(
      'aborted',
      (current) => {
        controller.abort(new Error('timed out'))
        return { ...current, n: 2 }
      },
      { ...options, signal: controller.signal },
    )
    await expect(update).rejects.toThrow('timed out')
    expect(await store.get('aborted')).toEqual(record(sub, { n: 1 }))
  })

  it("an update moving a session to another user takes it out of the old user's index", async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const [a, b] = [uniqueSub('leave-from'), uniqueSub('leave-to')]
    const expiresAt = Date.now() + HOUR
    await store.set('leaving', record(a), { expiresAt, sub: a })
    await store.update?.('leaving', (current) => ({ ...current, user: { sub: b } }), { expiresAt, sub: a })
    expect(await userObject(a).listSessions()).toEqual([])
    expect((await userObject(b).listSessions()).map((s) => s.sid)).toEqual(['leaving'])
  })

  it('gives up with an error after the attempt limit when every compare-and-set conflicts', async () => {
    const sub = uniqueSub('conflict')
    const options = { expiresAt: Date.now() + HOUR, sub }
    await durableObjectStore(env.SESSION_DO).set('always-conflict', record(sub), options)
    let runs = 0
    const store = durableObjectStore(
      wrapped((_, method, real) => (method === 'replaceSession' ? Promise.resolve('conflict') : real())),
    )
    await expect(store.update?.('always-conflict', (current) => (runs++, current), options)).rejects.toThrow(
      /kept changing/,
    )
    expect(runs).toBe(100)
  })
})

describe('durableObjectStore: delete and "sign out everywhere"', () => {
  it('a delete succeeds when only the index cleanup fails (best effort)', async () => {
    const sub = uniqueSub('unindex-fails')
    const expiresAt = Date.now() + HOUR
    await durableObjectStore(env.SESSION_DO).set('unindex-fails', record(sub), { expiresAt, sub })
    const store = durableObjectStore(
      wrapped((_, method, real) => (method === 'unindexSessions' ? Promise.reject(new Error('down')) : real())),
    )
    await expect(store.delete('unindex-fails')).resolves.toBeUndefined()
    expect(await store.get('unindex-fails')).toBeNull()
    expect(await userObject(sub).listSessions()).toEqual([{ sid: 'unindex-fails', expiresAt }])
  })

  it('"sign out everywhere" unindexes ids that were never written without counting them, dead until their indexed expiry', async () => {
    const store = durableObjectStore(env.SESSION_DO)
    const sub = uniqueSub('never-written')
    // Longer than the object's fallback tombstone (1 h): only the index knows this expiry.
    const expiresAt = Date.now() + 8 * HOUR
    await userObject(sub).indexSession('never-written', expiresAt)
    expect(await store.deleteByUser?.(sub)).toBe(0)
    expect(await userObject(sub).listSessions()).toEqual([])
    const object = env.SESSION_DO.get(env.SESSION_DO.idFromName('session:sid:never-written'))
    expect(await runInDurableObject(object, (_, state) => state.storage.kv.get<number>('tombstone'))).toBe(expiresAt)
  })

  it('stops after a chunk where nothing answered, and reports the first failure as the cause', async () => {
    const sub = uniqueSub('all-fail')
    const expiresAt = Date.now() + HOUR
    const sids = Array.from({ length: 60 }, (_, i) => `all-fail-${sub}-${String(i).padStart(2, '0')}`)
    await Promise.all(sids.map((sid) => userObject(sub).indexSession(sid, expiresAt)))
    const listed = (await userObject(sub).listSessions()).map((s) => s.sid)
    let calls = 0
    const store = durableObjectStore(
      wrapped((name, method, real) => {
        if (method !== 'deleteSession') return real()
        calls++
        return Promise.reject(new Error(`unreachable ${name}`))
      }),
    )
    const error = await store.deleteByUser?.(sub).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/60 of 60/)
    expect(((error as Error).cause as Error).message).toBe(`unreachable session:sid:${listed[0]}`)
    expect(calls).toBe(50)
  })
})

describe('SessionDurableObject: tombstones', () => {
  it('a second delete (sign out everywhere after a sign-out) never shortens the tombstone', async () => {
    const sub = uniqueSub('tomb')
    const expiresAt = Date.now() + 8 * HOUR
    const object = sessionObject('tomb-twice')
    expect(await object.writeSession('{"user":{"sub":"x"}}', sub, expiresAt)).toBe(true)
    await object.deleteSession(expiresAt)
    expect(await tombstoneOf('tomb-twice')).toBe(expiresAt)
    // Without an expiry (the index did not know it), and with an earlier one.
    await object.deleteSession()
    await object.deleteSession(Date.now() + HOUR)
    expect(await tombstoneOf('tomb-twice')).toBe(expiresAt)
    expect(await object.writeSession('{"user":{"sub":"x"}}', sub, expiresAt)).toBe(false)
    expect(await object.readSession()).toBeNull()
  })
})
