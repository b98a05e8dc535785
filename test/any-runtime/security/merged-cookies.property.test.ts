/**
 * The header merge rewrites only the session's own cookies: every other cookie reaches downstream
 * byte for byte (around it only SP and HTAB are trimmed, as RFC 6265 and the reader do), so a
 * look-alike name such as `\u2000__Host-csrf` stays a look-alike and never becomes the real one.
 * Pairs whose name is a look-alike of ours are dropped instead (a parser that trims more than
 * RFC 6265 would take them for ours).
 */
import fc from 'fast-check'
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { parse } from 'hono/utils/cookie'
import { describe, expect, it } from 'vitest'
import { edgeSession, updateSession } from '../../../src'
import { isSessionCookieName, rewriteCookieHeader } from '../../../src/codec/cookie-jar'
import { PROPERTY_TIMEOUT_MS, SECRET, SESSION, jarWith, params, setCookieValue } from '../../helpers'

const IN_WORKERD = typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers'
const NAMES = { main: SESSION, activity: `${SESSION}-activity` }
const managed = (name: string) => isSessionCookieName(name, NAMES)
// Every character String#trim strips that is not SP or HTAB, a few look-alike-makers beside them.
const UNICODE_SPACES = [
  '\u00a0',
  '\u1680',
  '\u2000',
  '\u2003',
  '\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
  '\u000b',
  '\u000c',
  '\r',
  '\n',
]
const OWS = [' ', '\t']

/** SP and HTAB off both ends, nothing else. */
function trimOws(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && OWS.includes(text[start] as string)) start++
  while (end > start && OWS.includes(text[end - 1] as string)) end--
  return text.slice(start, end)
}

const space = fc.constantFrom(...UNICODE_SPACES)
const ows = fc.string({ unit: fc.constantFrom(...OWS), maxLength: 2 })
const baseName = fc.constantFrom(
  '__Host-csrf',
  'theme',
  'a',
  SESSION,
  `${SESSION}.0`,
  `${SESSION}-activity`,
  '__host-session',
  'x y',
)
const name = fc
  .tuple(fc.array(space, { maxLength: 2 }), baseName, fc.array(space, { maxLength: 2 }))
  .map(([before, base, after]) => `${before.join('')}${base}${after.join('')}`)
const value = fc.oneof(
  fc.constantFrom('1', 'ATTACKER', '"quoted"', 'a=b', ''),
  fc
    .string({
      unit: fc.oneof(fc.constantFrom(...UNICODE_SPACES), fc.string({ minLength: 1, maxLength: 1 })),
      maxLength: 4,
    })
    .map((v) => v.replace(/;/g, '')),
)
const pair = fc.oneof(
  fc.tuple(ows, name, value, ows).map(([a, n, v, b]) => `${a}${n}=${v}${b}`),
  fc.tuple(ows, name, ows).map(([a, n, b]) => `${a}${n}${b}`),
  ows,
)
const header = fc.array(pair, { maxLength: 8 }).map((pairs) => pairs.join(';'))

describe('merged Cookie header (property)', () => {
  it(
    'other cookies pass byte for byte, in order; only ours and look-alikes of ours are replaced',
    () => {
      fc.assert(
        fc.property(header, (original) => {
          const next: Array<[string, string]> = [[SESSION, 'NEW']]
          const merged = rewriteCookieHeader(original, managed, next)
          const expected = original
            .split(';')
            .map(trimOws)
            .filter((p) => p !== '' && !managed((p.includes('=') ? p.slice(0, p.indexOf('=')) : p).trim()))
          expect(merged).toBe([...expected, `${SESSION}=NEW`].join('; '))
          // What Hono's getCookie reads: every other cookie the same before and after.
          const before = parse(original)
          const after = parse(merged)
          for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
            if (!managed(key)) expect(after[key], JSON.stringify({ original, key })).toBe(before[key])
          }
          expect(after[SESSION]).toBe('NEW')
        }),
        params(5_000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  /** A planted look-alike before the real `__Host-csrf`, then a session change, then getCookie downstream. */
  async function csrfDownstream(lookAlike: string) {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/see', async (c) => {
      const before = getCookie(c, '__Host-csrf') ?? null
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return c.json({ before, after: getCookie(c, '__Host-csrf') ?? null, header: c.req.header('cookie') })
    })
    const planted = `${lookAlike}=ATTACKER`
    const res = await app.request('/see', { headers: { cookie: `${planted}; __Host-csrf=real; ${jar.header}` } })
    expect(res.status).toBe(200)
    const seen = (await res.json()) as { before: string | null; after: string | null; header: string }
    expect(seen.before).toBe('real')
    expect(seen.after).toBe('real')
    expect(seen.header).toBe(`${planted}; __Host-csrf=real; ${SESSION}=${setCookieValue(res, SESSION)}`)
  }

  it('a look-alike behind U+00A0 stays a look-alike after a session change (getCookie reads the real __Host-csrf)', async () => {
    await csrfDownstream('\u00a0__Host-csrf')
  })

  // Characters above U+00FF are not ByteStrings: only workerd carries them in a header.
  it.runIf(IN_WORKERD)('the same behind U+2000, U+3000 and U+FEFF', async () => {
    for (const lookAlike of ['\u2000__Host-csrf', '\u3000__Host-csrf', '\ufeff__Host-csrf', '__Host-csrf\u2000'])
      await csrfDownstream(lookAlike)
  })
})
