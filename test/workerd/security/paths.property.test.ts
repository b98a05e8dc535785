/**
 * Property-based: the gate's path helpers. `safeRedirectPath` must be idempotent, and what it
 * returns must pass its own check, so a target it hands on is never one it would refuse.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { safeRedirectPath } from '../../../src'
import { PROPERTY_TIMEOUT_MS, params } from './support'

// Pieces an attacker strings together: slashes, backslashes, dots and their escapes (once and
// twice encoded), hosts, schemes, queries, fragments, controls and non-ASCII.
const PIECES = [
  '/', '//', '\\', '.', '..', '%2e', '%2E', '%2E%2E', '%2f', '%2F', '%5c', '%5C', '%252e', '%252F', '%25', '%',
  'evil.example', 'a', 'explore', '?', '#', '&', '=', ':', '@', 'http:', 'javascript:', ' ', '\t', '%09', '%0a',
  '%e9', '%ff', 'é', '\u3000', ';', '%3b', '/%2e%2e/', '/%2E%2E/', '/.%2e/', '%2F%2F', '/%5C',
]
const piece = fc.oneof({ arbitrary: fc.constantFrom(...PIECES), weight: 4 }, { arbitrary: fc.string({ maxLength: 3 }), weight: 1 })
const target = fc.array(piece, { maxLength: 10 }).map((parts) => `/${parts.join('')}`)

describe('safeRedirectPath (property)', () => {
  it(
    'is idempotent, and what it returns passes its own check',
    () => {
      fc.assert(
        fc.property(fc.oneof(target, fc.string({ maxLength: 12 })), (value) => {
          const once = safeRedirectPath(value)
          if (once === undefined) return
          expect(safeRedirectPath(once), JSON.stringify(value)).toBe(once)
        }),
        params(20_000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it('the reviewed counterexample: a dot-dot spelled in escapes that resolves to //host', () => {
    expect(safeRedirectPath('/%2F%2Fevil.example')).toBeUndefined()
    expect(safeRedirectPath('/%2E%2E/%2F%2Fevil.example')).toBeUndefined()
    expect(safeRedirectPath('/a/%2e%2e/%2F%2Fevil.example')).toBeUndefined()
  })

  it('a target the URL parser lengthens past the limit is refused, not handed on longer than it accepts', () => {
    // 700 spaces become 2,100 characters of %20.
    const spaced = `/${' '.repeat(700)}x`
    expect(safeRedirectPath(spaced)).toBeUndefined()
    expect(safeRedirectPath(`/${'%20'.repeat(700)}`)).toBeUndefined()
    expect(safeRedirectPath(`/a b`)).toBe('/a%20b')
  })
})
