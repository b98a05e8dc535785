import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { type KVNamespaceLike, type KvStoreOptions, SessionConfigError, kvStore } from '../../../src'
import { describeStoreBehaviour, restoreClock, useClock } from '../../helpers'

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

describe('kvStore: options are checked when the app starts', () => {
  it('refuses a prefix that is not a string', () => {
    for (const prefix of [1, {}, ['a']]) {
      expect(() => kvStore(env.SESSION_KV, { prefix } as unknown as KvStoreOptions), JSON.stringify(prefix)).toThrow(
        SessionConfigError,
      )
    }
    // Control: an empty prefix is a string, and allowed.
    expect(() => kvStore(env.SESSION_KV, { prefix: '' })).not.toThrow()
  })

  it('refuses a missing binding, or one without get or without put, with the config error (not a TypeError)', () => {
    const noop = async () => undefined
    for (const [label, namespace] of [
      ['undefined', undefined],
      ['null', null],
      ['no get', { put: noop, delete: noop }],
      ['no put', { get: async () => null, delete: noop }],
    ] as const) {
      expect(() => kvStore(namespace as unknown as KVNamespaceLike), label).toThrow(SessionConfigError)
    }
  })
})

describe('kvStore: keys, values and TTLs', () => {
  afterEach(restoreClock)

  const ownRecord = { user: { sub: 'kv-mutant' } }

  /** A namespace that records every put's key and options, and stores nothing. */
  function storelessNamespace(): KVNamespaceLike & { puts: Array<{ key: string; expirationTtl: number }> } {
    const puts: Array<{ key: string; expirationTtl: number }> = []
    return {
      puts,
      get: async () => null,
      put: async (key, _value, options) => {
        puts.push({ key, expirationTtl: options.expirationTtl })
      },
      delete: async () => undefined,
    }
  }

  it('an empty prefix is used as given: keys are the bare session ids', async () => {
    const namespace = storelessNamespace()
    await kvStore(namespace, { prefix: '' }).set('bare-id', ownRecord, {
      expiresAt: Date.now() + 60 * 60 * 1000,
      sub: 'kv-mutant',
    })
    expect(namespace.puts.map((p) => p.key)).toEqual(['bare-id'])
  })

  it('reads a JSON value that is not an object (string, number, boolean) as no session', async () => {
    const store = kvStore(env.SESSION_KV, { prefix: 'kvm-scalar:' })
    for (const [id, json] of [
      ['string', '"a session?"'],
      ['number', '42'],
      ['boolean', 'true'],
      ['null', 'null'],
    ] as const) {
      await env.SESSION_KV.put(`kvm-scalar:${id}`, json)
      expect(await store.get(id), id).toBeNull()
    }
    // Control: an object under the same prefix is read back.
    await env.SESSION_KV.put('kvm-scalar:object', JSON.stringify(ownRecord))
    expect(await store.get('object')).toEqual(ownRecord)
  })

  it('rounds a part second up, so the key never expires before the session ends', async () => {
    const now = Date.UTC(2030, 0, 15, 9, 0, 0)
    useClock(now)
    const namespace = storelessNamespace()
    const store = kvStore(namespace)
    await store.set('half', ownRecord, { expiresAt: now + 3_600_500, sub: 'kv-mutant' })
    await store.set('whole', ownRecord, { expiresAt: now + 3_600_000, sub: 'kv-mutant' })
    // Just above the 60 s floor: the floor does not hide the rounding.
    await store.set('near-floor', ownRecord, { expiresAt: now + 60_001, sub: 'kv-mutant' })
    expect(namespace.puts).toEqual([
      { key: 'session:half', expirationTtl: 3601 },
      { key: 'session:whole', expirationTtl: 3600 },
      { key: 'session:near-floor', expirationTtl: 61 },
    ])
  })
})
