import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type KVNamespaceLike, SessionConfigError, kvStore } from '../../../src'
import { describeStoreBehaviour } from '../../helpers/store-behaviour'

describeStoreBehaviour('kv', () => kvStore(env.SESSION_KV))

/** A namespace that records the options of every put. */
function recordingNamespace(): KVNamespaceLike & { puts: Array<{ key: string; expirationTtl: number }> } {
  const puts: Array<{ key: string; expirationTtl: number }> = []
  return {
    puts,
    get: (key, options) => env.SESSION_KV.get(key, options),
    put: async (key, value, options) => {
      puts.push({ key, expirationTtl: options.expirationTtl })
      await env.SESSION_KV.put(key, value, options)
    },
    delete: (key) => env.SESSION_KV.delete(key),
  }
}

const record = { user: { sub: 'kv-user' } }

describe('kvStore', () => {
  it('expires the key with the session, never sooner than the 60 s KV allows', async () => {
    const namespace = recordingNamespace()
    const store = kvStore(namespace)
    const now = Date.now()
    await store.set('long', record, { expiresAt: now + 2 * 60 * 60 * 1000, sub: 'kv-user' })
    await store.set('short', record, { expiresAt: now + 5_000, sub: 'kv-user' })
    const [long, short] = namespace.puts
    // Rounded up, and Date.now() may have moved on a little since `now`.
    expect(long?.expirationTtl).toBeGreaterThan(7190)
    expect(long?.expirationTtl).toBeLessThanOrEqual(7200)
    expect(short?.expirationTtl).toBe(60)
    // The real binding accepted both, with an expiration set.
    const listed = await env.SESSION_KV.list({ prefix: 'session:' })
    const expirations = Object.fromEntries(listed.keys.map((k) => [k.name, k.expiration]))
    expect(expirations['session:long']).toBeGreaterThan(now / 1000 + 7000)
    expect(expirations['session:short']).toBeGreaterThanOrEqual(Math.floor(now / 1000) + 60)
  })

  it('keeps JSON under the prefix, and reads anything else as no session', async () => {
    const store = kvStore(env.SESSION_KV, { prefix: 'app1:' })
    await store.set('abc', record, { expiresAt: Date.now() + 60 * 60 * 1000, sub: 'kv-user' })
    expect(JSON.parse((await env.SESSION_KV.get('app1:abc')) ?? 'null')).toEqual(record)
    expect(await kvStore(env.SESSION_KV).get('abc')).toBeNull()
    await env.SESSION_KV.put('app1:list', '[1,2]')
    expect(await store.get('list')).toBeNull()
    await store.delete('abc')
    expect(await store.get('abc')).toBeNull()
  })

  it('has no atomic update and no delete-by-user (the middleware reads then writes, and refuses sign-out-everywhere)', () => {
    const store = kvStore(env.SESSION_KV)
    expect(store.update).toBeUndefined()
    expect(store.deleteByUser).toBeUndefined()
  })

  it('gives a sign-in two minutes to reach other locations before a missing record means signed out', () => {
    expect(kvStore(env.SESSION_KV).settleMs).toBe(120_000)
  })

  it('refuses something that is not a KV binding', () => {
    expect(() => kvStore({} as KVNamespaceLike)).toThrow(SessionConfigError)
  })
})
