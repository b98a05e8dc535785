/**
 * src/codec/frozen-json.ts. equalJson / equalMembers decide whether an update changed the session
 * (no change, no write): they must agree with comparing the values' JSON with members sorted, for
 * any JSON. copyJson and deepFreeze keep the session handlers see apart from the one they change.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { copyJson, deepFreeze, equalJson, equalMembers } from '../../../src/codec/frozen-json'

/** JSON text with every object's members sorted: equal exactly when the values are equal as JSON. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : item,
  )
}

/** The same value with every object's members in reverse order (new objects, new arrays). */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .reverse()
      .map(([k, v]) => [k, reordered(v)]),
  )
}

const json = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)

/** Every object and array reachable from `value`, `value` included. */
function containers(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out
  out.push(value)
  for (const item of Object.values(value)) containers(item, out)
  return out
}

describe('equalJson', () => {
  it('agrees with sorted-member JSON equality, on random pairs and on near-copies', () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(equalJson(a, b)).toBe(canonical(a) === canonical(b))
        expect(equalJson(a, reordered(a))).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('tells apart values that differ in one place only', () => {
    const base = { user: { sub: 'u1', roles: ['a', 'b'] }, step: 'PROFILE', n: 0, ok: true, none: null }
    expect(equalJson(base, structuredClone(base))).toBe(true)
    for (const changed of [
      { ...base, n: 1 },
      { ...base, ok: false },
      { ...base, none: 0 },
      { ...base, step: 'profile' },
      { ...base, extra: 1 },
      { ...base, user: { sub: 'u1', roles: ['a'] } },
      { ...base, user: { sub: 'u1', roles: ['b', 'a'] } },
      { ...base, user: { sub: 'u1', roles: { 0: 'a', 1: 'b' } } },
      { ...base, user: { sub: 'u1' } },
    ]) {
      expect(equalJson(base, changed)).toBe(false)
      expect(equalJson(changed, base)).toBe(false)
    }
    const { none: _none, ...withoutNone } = base
    expect(equalJson(base, withoutNone)).toBe(false)
    expect(equalJson(withoutNone, base)).toBe(false)
  })

  it('equalMembers leaves out one key, on both sides', () => {
    expect(equalMembers({ a: 1, internal: { x: 1 } }, { internal: { x: 2 }, a: 1 }, 'internal')).toBe(true)
    expect(equalMembers({ a: 1, internal: 1 }, { a: 1 }, 'internal')).toBe(true)
    expect(equalMembers({ a: 1 }, { a: 1, b: 2, internal: 1 }, 'internal')).toBe(false)
    expect(equalMembers({ a: 1, b: 2 }, { a: 1, internal: 1 }, 'internal')).toBe(false)
    expect(equalMembers({ a: 1 }, { a: 1, internal: 1 }, undefined)).toBe(false)
  })
})

describe('copyJson', () => {
  it('writes undefined as JSON.stringify does: array items become null, object members are dropped', () => {
    const value = { a: undefined, b: [1, undefined, { c: undefined, d: 2 }], e: 'x' }
    const copy = copyJson(value)
    expect(copy).toStrictEqual(JSON.parse(JSON.stringify(value)))
    expect(Object.keys(copy)).toEqual(['b', 'e'])
    expect(copy.b).toStrictEqual([1, null, { d: 2 }])
    expect(Object.keys(copy.b[2] as object)).toEqual(['d'])
  })

  it('shares no object or array with its input, at any depth, and copies a frozen input into unfrozen data', () => {
    fc.assert(
      fc.property(json, (value) => {
        const original = JSON.stringify(value)
        const frozen = deepFreeze(value)
        const copy = copyJson(frozen)
        expect(copy).toStrictEqual(JSON.parse(original))
        const theirs = new Set(containers(frozen))
        for (const mine of containers(copy)) {
          expect(theirs.has(mine)).toBe(false)
          expect(Object.isFrozen(mine)).toBe(false)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('an array inside an array is a copy: changing it leaves the shared value alone', () => {
    const shared = deepFreeze({ grid: [[1, 2], [{ a: 1 }]] })
    const mine = copyJson(shared)
    ;(mine.grid[0] as number[]).push(3)
    ;(mine.grid[1]?.[0] as { a: number }).a = 2
    expect(shared).toEqual({ grid: [[1, 2], [{ a: 1 }]] })
  })
})

describe('deepFreeze', () => {
  it('returns the very value it was given, frozen at every depth, and leaves primitives alone', () => {
    const value = JSON.parse('{"a":[1,{"b":[2]}],"c":{"d":null}}') as { a: [number, { b: number[] }]; c: object }
    expect(deepFreeze(value)).toBe(value)
    for (const node of containers(value)) expect(Object.isFrozen(node)).toBe(true)
    for (const primitive of ['s', 1, true, null, undefined]) expect(deepFreeze(primitive)).toBe(primitive)
  })
})

describe('equalJson / equalMembers: last array items, own __proto__, except keys, -0', () => {
  it('compares the last item of arrays too', () => {
    expect(equalJson([1, 2], [1, 3])).toBe(false)
    expect(equalJson({ roles: ['a', 'b'] }, { roles: ['a', 'c'] })).toBe(false)
    expect(equalJson([{ a: 1 }], [{ a: 2 }])).toBe(false)
    expect(equalJson([1, [2, 3]], [1, [2, 3]])).toBe(true)
  })

  it('an own "__proto__" member (JSON.parse makes one) is not matched by the prototype of the other side', () => {
    const withProto = JSON.parse('{"__proto__":{},"a":1}') as Record<string, unknown>
    expect(equalJson(withProto, { a: 1, b: {} })).toBe(false)
    expect(equalJson({ a: 1, b: {} }, withProto)).toBe(false)
    expect(equalMembers(withProto, { a: 1, internal: 1, b: {} }, 'internal')).toBe(false)
    // Control: the same member on both sides is equal.
    expect(equalJson(withProto, JSON.parse('{"a":1,"__proto__":{}}'))).toBe(true)
  })

  it('a key left out on neither side does not excuse an extra member of the second object', () => {
    expect(equalMembers({ a: 1 }, { a: 1, b: 2 }, 'internal')).toBe(false)
    expect(equalMembers({ a: 1, internal: 1 }, { a: 1, b: 2 }, 'internal')).toBe(false)
    // An except key named like the string "undefined" is not the same as no except key.
    expect(equalMembers({ a: 1 }, { a: 1, undefined: 2 }, undefined)).toBe(false)
  })

  it('0 and -0 are equal, as they are in JSON', () => {
    expect(equalJson({ n: 0 }, { n: -0 })).toBe(true)
    expect(equalJson([-0], [0])).toBe(true)
  })
})
