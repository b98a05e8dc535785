/**
 * Property-based: the gate's path helpers. `safeRedirectPath` must be idempotent, and what it
 * returns must pass its own check, so a target it hands on is never one it would refuse; `protect`
 * and `allow` must decide every spelling the way the strictest reading of it calls for.
 */
import fc from 'fast-check'
import type { Context } from 'hono'
import { getPath } from 'hono/utils/url'
import { describe, expect, it } from 'vitest'
import { safeRedirectPath } from '../../../src'
import { compileAllowRules, compileProtectRules } from '../../../src/middleware/gate/paths'
import { PROPERTY_TIMEOUT_MS, decodeLikeAnOrigin, params } from '../../helpers'

// Pieces an attacker strings together: slashes, backslashes, dots and their escapes (once and
// twice encoded), hosts, schemes, queries, fragments, controls and non-ASCII.
const PIECES = [
  '/',
  '//',
  '\\',
  '.',
  '..',
  '%2e',
  '%2E',
  '%2E%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%252e',
  '%252F',
  '%25',
  '%',
  'evil.example',
  'a',
  'explore',
  '?',
  '#',
  '&',
  '=',
  ':',
  '@',
  'http:',
  'javascript:',
  ' ',
  '\t',
  '%09',
  '%0a',
  '%e9',
  '%ff',
  'é',
  '\u3000',
  ';',
  '%3b',
  '/%2e%2e/',
  '/%2E%2E/',
  '/.%2e/',
  '%2F%2F',
  '/%5C',
]
const piece = fc.oneof(
  { arbitrary: fc.constantFrom(...PIECES), weight: 4 },
  { arbitrary: fc.string({ maxLength: 3 }), weight: 1 },
)
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

/**
 * The readings of a path by servers behind the gate, case kept: decoded (every run of escapes
 * that is valid UTF-8), `;` parameters dropped before or after decoding, NFKC-folded, each
 * resolved by the URL parser (which also takes `%2e` for a dot). Written apart from the gate's
 * own code, with other tools, so the two can disagree.
 */
function readings(routed: string): string[] {
  const decode = decodeLikeAnOrigin
  const strip = (p: string) =>
    p
      .split('/')
      .map((segment) => segment.split(';')[0])
      .join('/')
  const resolve = (p: string) => {
    const url = new URL('http://origin')
    url.pathname = p.replace(/\\/g, '/').replace(/\/{2,}/g, '/')
    return decode(url.pathname).replace(/\/$/, '') || '/'
  }
  const fold = (p: string) => decode(p.normalize('NFKC')).normalize('NFKC')
  return [
    resolve(decode(routed)),
    resolve(decode(strip(routed))),
    resolve(strip(decode(routed))),
    resolve(fold(routed)),
    resolve(strip(fold(routed))),
  ]
}

const PATH_PIECES = [
  '/',
  ';',
  ';x',
  '..',
  '.',
  '%2e',
  '%2E%2E',
  '%2f',
  '%3b',
  '%3B',
  '％２ｅ',
  '／',
  '．．',
  '；',
  '\\',
  'explore',
  'ｅｘｐｌｏｒｅ',
  'EXPLORE',
  'static',
  'ｓｔａｔｉｃ',
  'api',
  'me',
  '%EF%BC%8F',
  '%25',
  'x',
]
const routedPath = fc.array(fc.constantFrom(...PATH_PIECES), { minLength: 1, maxLength: 8 }).map((parts) => {
  // What Hono routes: the URL parser's pathname, decoded as Hono decodes it.
  const url = `http://x/${parts.join('')}`
  return getPath(new Request(url))
})
const noContext = undefined as unknown as Context

describe('gate path rules against a separate model of servlet-style servers (property)', () => {
  const protect = compileProtectRules(['/explore', '/api/*'], 'protect')
  const allow = compileAllowRules(['/static/*'], 'allow')
  const isProtected = (p: string) => {
    const lower = p.toLowerCase()
    return lower === '/explore' || lower === '/api' || lower.startsWith('/api/')
  }

  it(
    'protect blocks every path some reading of which is protected; allow refuses every path some reading of which leaves /static',
    () => {
      fc.assert(
        fc.property(routedPath, (path) => {
          const read = readings(path)
          if (read.some(isProtected)) expect(protect(path, noContext), JSON.stringify({ path, read })).toBe(true)
          if (read.some((p) => p !== '/static' && !p.startsWith('/static/')))
            expect(allow(path, noContext), JSON.stringify({ path, read })).toBe(false)
        }),
        params(20_000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )
})
