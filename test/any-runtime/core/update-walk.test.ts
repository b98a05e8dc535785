/**
 * The update's one walk (src/state/validate.ts `toUpdatedFields`), fixed cases beside its
 * property test (update-walk.property.test.ts): what counts as "unchanged" where a random
 * record rarely goes — a nested `internal` (only the top one is the middleware's), an object
 * with index keys in place of an array, a schema whose output differs from its input, and a
 * member the record only inherits.
 */
import { describe, expect, it } from 'vitest'
import { deepFreeze } from '../../../src/codec/frozen-json'
import type { SessionRecord } from '../../../src/state/record'
import { toUpdatedFields } from '../../../src/state/validate'
import type { StandardSchemaV1 } from '../../../src/schema'
/** A frozen stored record with these claims and `user: { sub: 'u1' }`. */
const stored = (claims: Record<string, unknown>) =>
  deepFreeze({ user: { sub: 'u1' }, ...claims, internal: { sid: 's' } }) as unknown as SessionRecord

describe('toUpdatedFields: only the top `internal` is left out', () => {
  const current = stored({ claims: { meta: { internal: 1, kept: true } } })

  it('a nested `internal` that changes is a change', () => {
    const value = { user: { sub: 'u1' }, claims: { meta: { internal: 2, kept: true } } }
    expect(toUpdatedFields(value, undefined, current)).toEqual(value)
  })

  it('a nested `internal` that is added or removed is a change', () => {
    const without = stored({ claims: { meta: { kept: true } } })
    const added = { user: { sub: 'u1' }, claims: { meta: { internal: 1, kept: true } } }
    expect(toUpdatedFields(added, undefined, without)).toEqual(added)
    const removed = { user: { sub: 'u1' }, claims: { meta: { kept: true } } }
    expect(toUpdatedFields(removed, undefined, current)).toEqual(removed)
  })

  it('the same nested `internal` is no change', () => {
    const value = { claims: { meta: { kept: true, internal: 1 } }, user: { sub: 'u1' } }
    expect(toUpdatedFields(value, undefined, current)).toBeNull()
  })
})

describe('toUpdatedFields: an array is not an object with index keys', () => {
  it('`{ 0: 1 }` over `[1]` is a change, and `[1]` over `{ 0: 1 }`', () => {
    const objectOverArray = { user: { sub: 'u1' }, a: { 0: 1 } }
    expect(toUpdatedFields(objectOverArray, undefined, stored({ a: [1] }))).toEqual(objectOverArray)
    const arrayOverObject = { user: { sub: 'u1' }, a: [1] }
    expect(toUpdatedFields(arrayOverObject, undefined, stored({ a: { 0: 1 } }))).toEqual(arrayOverObject)
  })

  it('`{}` over `[]` is a change, and `[]` over `{}`', () => {
    expect(toUpdatedFields({ user: { sub: 'u1' }, a: {} }, undefined, stored({ a: [] }))).not.toBeNull()
    expect(toUpdatedFields({ user: { sub: 'u1' }, a: [] }, undefined, stored({ a: {} }))).not.toBeNull()
  })
})

/** A schema from its `validate` (synchronous, never refusing). */
const schemaOf = (validate: (value: Record<string, unknown>) => unknown): StandardSchemaV1 => ({
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => ({ value: validate(value as Record<string, unknown>) }),
  },
})

describe('toUpdatedFields with a schema: the schema output is compared, not the input', () => {
  it('a default the schema adds is a change even when the input equals the record', async () => {
    const withDefault = schemaOf((v) => ({ v: 2, ...v }))
    const current = stored({ plan: 'pro' })
    const { internal: _internal, ...same } = current
    expect(await toUpdatedFields(same, withDefault, current)).toEqual({ v: 2, user: { sub: 'u1' }, plan: 'pro' })
    expect(await toUpdatedFields({ ...same }, withDefault, stored({ plan: 'pro', v: 2 }))).toBeNull()
  })

  it('an input the schema normalises to the record is no change', async () => {
    const upper = schemaOf((v) => (typeof v.plan === 'string' ? { ...v, plan: v.plan.toUpperCase() } : v))
    const current = stored({ plan: 'PRO' })
    expect(await toUpdatedFields({ user: { sub: 'u1' }, plan: 'pro' }, upper, current)).toBeNull()
    expect(await toUpdatedFields({ user: { sub: 'u1' }, plan: 'free' }, upper, current)).toEqual({
      user: { sub: 'u1' },
      plan: 'FREE',
    })
  })
})

describe('toUpdatedFields: members the record only inherits', () => {
  it('a member the record lacks is a change even when Object.prototype has it (a polluted prototype)', () => {
    const current = deepFreeze({ user: { sub: 'u1' }, kept: 2, internal: { sid: 's' } }) as unknown as SessionRecord
    const proto = Object.prototype as Record<string, unknown>
    proto.polluted = 1
    try {
      // Same member count as the record, `polluted` equal to the inherited value: still not the record.
      expect(toUpdatedFields({ user: { sub: 'u1' }, polluted: 1 }, undefined, current)).toEqual({
        user: { sub: 'u1' },
        polluted: 1,
      })
    } finally {
      delete proto.polluted
    }
    expect(toUpdatedFields({ kept: 2, user: { sub: 'u1' } }, undefined, current)).toBeNull()
  })
})
