/**
 * kvStore option checks that kv.test.ts did not pin (mutation audit of src/stores/kv.ts).
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { type KvStoreOptions, SessionConfigError, kvStore } from '../../../src'

describe('kvStore (mutants)', () => {
  it('refuses a prefix that is not a string', () => {
    for (const prefix of [1, {}, ["a"]]) {
      expect(() => kvStore(env.SESSION_KV, { prefix } as unknown as KvStoreOptions), JSON.stringify(prefix)).toThrow(SessionConfigError)
    }
    // Control: an empty prefix is a string, and allowed.
    expect(() => kvStore(env.SESSION_KV, { prefix: '' })).not.toThrow()
  })
})
