/**
 * The Set-Cookie lines the session writes are exactly the ones Hono's serializer writes for the
 * same name, value, Max-Age and attributes (src/options.ts builds the attribute part once).
 */
import { serialize } from 'hono/utils/cookie'
import { describe, expect, it } from 'vitest'
import { resolveOptions } from '../../src/options'
import type { EdgeSessionOptions } from '../../src/types'

const SECRET = 'a-test-secret-that-is-long-enough-to-pass-1234567890'
const COOKIES: ReadonlyArray<EdgeSessionOptions<object>['cookie']> = [
  undefined,
  { name: 'sid' },
  { secure: false },
  { secure: false, sameSite: 'Strict' },
  { sameSite: 'None' },
  { domain: 'example.com' },
  { domain: 'example.com', sameSite: 'Strict', name: 'app' },
]
const VALUES = ['', 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiYWJjIn0..AAAAAAAAAAAAAAAA.abc-_09.BBBBBBBBBBBBBBBBBBBBBB']
const AGES = [0, 1, 1800, 28_800, 400 * 24 * 60 * 60]

describe('Set-Cookie lines', () => {
  it.each(COOKIES.map((cookie) => [JSON.stringify(cookie ?? 'defaults'), cookie]))('match Hono serialize(): %s', (_, cookie) => {
    const { names, attributes, setCookie } = resolveOptions({ secret: SECRET, cookie })
    for (const name of [names.main, `${names.main}.0`, `${names.main}.1`, names.activity])
      for (const value of VALUES)
        for (const maxAge of AGES) expect(setCookie(name, value, maxAge)).toBe(serialize(name, value, { maxAge, ...attributes }))
  })
})
