/**
 * What equal-json.test.ts, base64url.test.ts, jwe-interop.test.ts and errors.test.ts left open in
 * src/codec/frozen-json.ts, src/codec/base64url.ts and src/errors.ts (mutation audit).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, decodeWithTable, encodeWithTable } from '../../../src/codec/base64url'
import { copyJson, deepFreeze, equalJson, equalMembers } from '../../../src/codec/frozen-json'
import {
  SessionCommittedError,
  SessionConfigError,
  SessionError,
  SessionInvalidError,
  SessionMissingError,
  SessionNotMountedError,
  SessionStoreError,
  SessionTooLargeError,
  SessionUnsupportedError,
} from '../../../src/errors'

const json = fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown)

/** Every object and array reachable from `value`, `value` included. */
function containers(value: unknown, out: object[] = []): object[] {
  if (typeof value !== 'object' || value === null) return out
  out.push(value)
  for (const item of Object.values(value)) containers(item, out)
  return out
}

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

describe('equalJson / equalMembers (mutants)', () => {
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

describe('base64url (mutants)', () => {
  // The property test's alphabet has no character above U+007F: such characters, in long input
  // (the native decoder) and in short input (the table loop), at the end or inside.
  it('refuses characters outside ASCII and padding on both sides of the native threshold', () => {
    const bytes = Uint8Array.from({ length: 120 }, (_, i) => (i * 37 + 11) & 0xff)
    for (let n = 40; n <= 60; n++) {
      const text = encodeWithTable(bytes.subarray(0, n))
      expect(Array.from(decode(text) ?? []), `${text.length} chars`).toEqual(Array.from(bytes.subarray(0, n)))
      for (const bad of [`${text}=`, `${text} `, `${text.slice(0, 20)}\n${text.slice(20)}`, `${text.slice(0, -1)}\u00e9`, `\u00e9${text.slice(1)}`, `${text.slice(0, 30)}\u0100${text.slice(31)}`]) {
        expect(decode(bad), JSON.stringify(bad)).toBeUndefined()
        expect(decodeWithTable(bad), JSON.stringify(bad)).toBeUndefined()
      }
    }
  })
})

describe('errors (mutants)', () => {
  it('keeps the cause it was given', () => {
    const cause = new Error('disk on fire')
    expect(new SessionStoreError('store failed', { cause }).cause).toBe(cause)
    expect(new SessionConfigError('bad', { cause }).cause).toBe(cause)
    expect(new SessionError('x').cause).toBeUndefined()
  })

  it('SessionInvalidError: the message lists every issue, with its path when it has one', () => {
    const error = new SessionInvalidError([
      { message: 'is required', path: ['user', 'sub'] },
      { message: 'root problem', path: [] },
      { message: 'no path' },
      { message: 'deep', path: ['list', 2, Symbol('tag')] },
    ])
    expect(error.message).toBe('Invalid session data: user.sub: is required; root problem; no path; list.2.Symbol(tag): deep')
    expect(error.issues).toHaveLength(4)
  })

  it('no error class is an instance of another one (only of SessionError): instanceof branches stay apart', () => {
    const errors = [
      new SessionConfigError('x'),
      new SessionNotMountedError(),
      new SessionMissingError(),
      new SessionInvalidError([{ message: 'x' }]),
      new SessionTooLargeError(2, 1),
      new SessionCommittedError(),
      new SessionStoreError('x'),
      new SessionUnsupportedError('x'),
    ]
    for (const error of errors) {
      expect(error).toBeInstanceOf(SessionError)
      expect(Object.getPrototypeOf(Object.getPrototypeOf(error))).toBe(SessionError.prototype)
      for (const other of errors) if (other !== error) expect(error instanceof other.constructor, `${error.name} instanceof ${other.name}`).toBe(false)
    }
  })

  it('SessionNotMountedError says how to fix it', () => {
    expect(new SessionNotMountedError().message).toContain('app.use(edgeSession(')
  })
})
