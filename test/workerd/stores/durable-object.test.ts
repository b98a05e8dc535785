import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { SessionConfigError, durableObjectStore } from '../../../src'
import { SessionDurableObject, durableObjectStore as fromSubpath } from 'hono-edge-session/durable-object'
import { describeStoreBehaviour } from './behaviour'
import { deferred, uniqueSub } from './support'

describeStoreBehaviour('durable-object', () => durableObjectStore(env.SESSION_DO))

const HOUR = 60 * 60 * 1000
const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })
const stub = (name: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(name))
const sessionObject = (sid: string) => stub(`session:sid:${sid}`)
const userObject = (sub: string) => stub(`session:user:${sub}`)
const storedKeys = (name: string) => runInDurableObject(stub(name), (_, state) => [...state.storage.kv.list()].map(([key]) => key))

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
