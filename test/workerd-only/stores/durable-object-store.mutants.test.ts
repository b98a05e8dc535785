/**
 * durableObjectStore behaviour that durable-object.test.ts did not pin (mutation audit of
 * src/stores/durable-object-store.ts): option checks, best-effort unindexing, the abort signal,
 * the old user's index after a move, the attempt limit, and how "sign out everywhere" stops.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type DurableObjectNamespaceLike, SessionConfigError, durableObjectStore } from '../../../src'
import type { SessionObjectRpc } from '../../../src/stores/durable-object-store'
import { uniqueSub } from '../../helpers/stores'

const HOUR = 60 * 60 * 1000
const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })
const userObject = (sub: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(`session:user:${sub}`))

type Method = keyof SessionObjectRpc
type Override = (name: string, method: Method, real: () => Promise<unknown>) => Promise<unknown>

/** env.SESSION_DO with every RPC call going through `override` (which may call the real one). */
function wrapped(override: Override): DurableObjectNamespaceLike<{ name: string; id: DurableObjectId }> {
  const methods: Method[] = ['readSession', 'writeSession', 'replaceSession', 'deleteSession', 'indexSession', 'listSessions', 'unindexSessions']
  return {
    idFromName: (name) => ({ name, id: env.SESSION_DO.idFromName(name) }),
    get: ({ name, id }) => {
      const real = env.SESSION_DO.get(id) as unknown as Record<Method, (...args: unknown[]) => Promise<unknown>>
      return Object.fromEntries(methods.map((m) => [m, (...args: unknown[]) => override(name, m, () => real[m](...args))]))
    },
  }
}

describe('durableObjectStore (mutants)', () => {
  it('refuses a namespace missing get, and an empty name', () => {
    const half = { idFromName: () => 'id' } as unknown as Parameters<typeof durableObjectStore>[0]
    expect(() => durableObjectStore(half)).toThrow(SessionConfigError)
    expect(() => durableObjectStore(env.SESSION_DO, { name: '' })).toThrow(SessionConfigError)
  })

  it('a delete succeeds when only the index cleanup fails (best effort)', async () => {
    const sub = uniqueSub('unindex-fails')
    const expiresAt = Date.now() + HOUR
    await durableObjectStore(env.SESSION_DO).set('unindex-fails', record(sub), { expiresAt, sub })
    const store = durableObjectStore(wrapped((_, method, real) => (method === 'unindexSessions' ? Promise.reject(new Error('down')) : real())))
    await expect(store.delete('unindex-fails')).resolves.toBeUndefined()
    expect(await store.get('unindex-fails')).toBeNull()
    expect(await userObject(sub).listSessions()).toEqual([{ sid: 'unindex-fails', expiresAt }])
  })

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
    const update = store.update?.('aborted', (current) => {
      controller.abort(new Error('timed out'))
      return { ...current, n: 2 }
    }, { ...options, signal: controller.signal })
    await expect(update).rejects.toThrow('timed out')
    expect(await store.get('aborted')).toEqual(record(sub, { n: 1 }))
  })

  it('an update moving a session to another user takes it out of the old user\'s index', async () => {
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
    const store = durableObjectStore(wrapped((_, method, real) => (method === 'replaceSession' ? Promise.resolve('conflict') : real())))
    await expect(store.update?.('always-conflict', (current) => (runs++, current), options)).rejects.toThrow(/kept changing/)
    expect(runs).toBe(100)
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
    const error = await store.deleteByUser?.(sub).then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/60 of 60/)
    expect(((error as Error).cause as Error).message).toBe(`unreachable session:sid:${listed[0]}`)
    expect(calls).toBe(50)
  })
})
