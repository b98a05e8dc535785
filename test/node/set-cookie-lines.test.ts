/**
 * The Set-Cookie lines the session writes are exactly the ones Hono's serializer writes for the
 * same name, value, Max-Age and attributes (src/options.ts builds the attribute part once).
 */
import { serialize } from 'hono/utils/cookie'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/options'
import type { EdgeSessionOptions } from '../../src/types'

const SECRET = 'a-test-secret-that-is-long-enough-to-pass-1234567890'
type CookieOptions = NonNullable<EdgeSessionOptions<object>['cookie']>
/** Cookie options, and the attributes the README says they give (Path=/ and HttpOnly always). */
const COOKIES: ReadonlyArray<[CookieOptions, CookieOptions & { path: '/'; httpOnly: true }]> = [
  [{}, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }],
  [{ name: 'sid' }, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' }],
  [{ secure: false }, { path: '/', httpOnly: true, secure: false, sameSite: 'Lax' }],
  [
    { secure: false, sameSite: 'Strict' },
    { path: '/', httpOnly: true, secure: false, sameSite: 'Strict' },
  ],
  [{ sameSite: 'None' }, { path: '/', httpOnly: true, secure: true, sameSite: 'None' }],
  [{ domain: 'example.com' }, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax', domain: 'example.com' }],
  [
    { domain: 'example.com', sameSite: 'Strict', name: 'app' },
    { path: '/', httpOnly: true, secure: true, sameSite: 'Strict', domain: 'example.com' },
  ],
]
const VALUES = [
  '',
  'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiYWJjIn0..AAAAAAAAAAAAAAAA.abc-_09.BBBBBBBBBBBBBBBBBBBBBB',
]
const AGES = [0, 1, 1800, 28_800, 400 * 24 * 60 * 60]

describe('Set-Cookie lines', () => {
  it.each(COOKIES.map(([cookie, attributes]) => [JSON.stringify(cookie), cookie, attributes] as const))(
    'match Hono serialize(): %s',
    (_, cookie, attributes) => {
      const { names, setCookie } = resolveOptions({ secret: SECRET, cookie })
      for (const name of [names.main, `${names.main}.0`, `${names.main}.1`, names.activity])
        for (const value of VALUES)
          for (const maxAge of AGES)
            expect(setCookie(name, value, maxAge)).toBe(serialize(name, value, { maxAge, ...attributes }))
    },
  )
})
