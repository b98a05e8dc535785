/**
 * kvStore behaviour that kv.test.ts did not pin (mutation audit of src/stores/kv.ts).
 */
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it } from 'vitest'
import { type KVNamespaceLike, type KvStoreOptions, SessionConfigError, kvStore } from '../../../src'
import { restoreClock, useClock } from '../../helpers/core'

afterEach(restoreClock)

const record = { user: { sub: 'kv-mutant' } }

/** A namespace that records every put's key and options, and stores nothing. */
function recordingNamespace(): KVNamespaceLike & { puts: Array<{ key: string; expirationTtl: number }> } {
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

describe('kvStore (mutants)', () => {
  it('refuses a prefix that is not a string', () => {
    for (const prefix of [1, {}, ['a']]) {
      expect(() => kvStore(env.SESSION_KV, { prefix } as unknown as KvStoreOptions), JSON.stringify(prefix)).toThrow(SessionConfigError)
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

  it('an empty prefix is used as given: keys are the bare session ids', async () => {
    const namespace = recordingNamespace()
    await kvStore(namespace, { prefix: '' }).set('bare-id', record, { expiresAt: Date.now() + 60 * 60 * 1000, sub: 'kv-mutant' })
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
    await env.SESSION_KV.put('kvm-scalar:object', JSON.stringify(record))
    expect(await store.get('object')).toEqual(record)
  })

  it('rounds a part second up, so the key never expires before the session ends', async () => {
    const now = Date.UTC(2030, 0, 15, 9, 0, 0)
    useClock(now)
    const namespace = recordingNamespace()
    const store = kvStore(namespace)
    await store.set('half', record, { expiresAt: now + 3_600_500, sub: 'kv-mutant' })
    await store.set('whole', record, { expiresAt: now + 3_600_000, sub: 'kv-mutant' })
    // Just above the 60 s floor: the floor does not hide the rounding.
    await store.set('near-floor', record, { expiresAt: now + 60_001, sub: 'kv-mutant' })
    expect(namespace.puts).toEqual([
      { key: 'session:half', expirationTtl: 3601 },
      { key: 'session:whole', expirationTtl: 3600 },
      { key: 'session:near-floor', expirationTtl: 61 },
    ])
  })
})
