/**
 * equalJson / equalMembers decide whether an update changed the session (no change, no write):
 * they must agree with comparing the values' JSON with members sorted, for any JSON.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { equalJson, equalMembers } from '../../../src/codec/frozen-json'

/** JSON text with every object's members sorted: equal exactly when the values are equal as JSON. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  )
}

/** The same value with every object's members in reverse order (new objects, new arrays). */
function reordered(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reordered)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse().map(([k, v]) => [k, reordered(v)]))
}

const json = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)

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
