/**
 * Property-based: generated session values (any Unicode, lone surrogates, `;`, CRLF, `=`, quotes,
 * deep objects, extreme numbers) either round-trip exactly through
 * createSession/updateSession -> Set-Cookie -> next request -> getSession, or are refused with a
 * typed SessionInvalidError / SessionTooLargeError that leaves the previous session untouched.
 *
 * Lone surrogates: JSON.stringify escapes them (`"\ud800"`, ES2019 well-formed stringify) and
 * JSON.parse restores them, so they are plain data and must come back exactly. `-0` becomes `0`
 * in JSON; the session seen in the same request must already show `0`, or the current and the
 * next request would disagree.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SessionInvalidError, SessionTooLargeError } from '../../../src'
import { type AnySession, CookieJar, PROPERTY_TIMEOUT_MS, badSetCookieLines, inputApp, params } from '../../helpers'

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/**
 * fc.assert, with a failure report safe to send to the test runner: vitest's workerd pool
 * carries results over a WebSocket, and a lone surrogate in a message breaks the frame.
 */
async function assertProperty<T>(property: fc.IAsyncPropertyWithHooks<T>, parameters: fc.Parameters<T>): Promise<void> {
  try {
    await fc.assert(property, parameters)
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause
    const text = `${String((error as Error).message)}\n${cause instanceof Error ? cause.message : ''}`
    throw new Error(text.replace(LONE_SURROGATE, (c) => `\\u${c.charCodeAt(0).toString(16)}`))
  }
}

/** Compares through JSON (lone surrogates escaped), so a failure message stays sendable. */
function sameJson(actual: unknown, wanted: unknown): void {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(wanted))
}

type Outcome =
  | { kind: 'ok'; session: AnySession }
  | { kind: 'invalid' }
  | { kind: 'too-large' }
  | { kind: 'other'; error: unknown }

/** {@link inputApp} (no store), answering each call's outcome; every Set-Cookie line must be sound. */
function valuesApp() {
  const subject = inputApp()
  return {
    errors: subject.errors,
    read: subject.read,
    async call(path: '/login' | '/update', data: unknown, jar: CookieJar) {
      const { session, thrown, res } = await subject.call(path, data, jar)
      expect(badSetCookieLines(res)).toEqual([])
      return { outcome: outcomeOf(session, thrown), setCookie: res.headers.getSetCookie() }
    },
  }
}

function outcomeOf(session: AnySession | undefined, thrown: unknown): Outcome {
  if (thrown === undefined) return { kind: 'ok', session: session as AnySession }
  if (thrown instanceof SessionInvalidError) return { kind: 'invalid' }
  if (thrown instanceof SessionTooLargeError) return { kind: 'too-large' }
  return { kind: 'other', error: thrown }
}

const nasty = fc.constantFrom(
  ';',
  '\r\n',
  '=',
  '"',
  "'",
  '\\',
  '\u0000',
  '\u2028',
  '\ud800',
  '\udfff',
  '\udbff\udfff',
  '\ufeff',
  '%00',
  '; Domain=evil.example',
  '\r\nSet-Cookie: a=1',
  '__proto__x',
  '</script>',
)
// Any code point, plus now and then raw surrogates (paired by chance, or lone: those are refused
// as not well-formed Unicode, so they are kept rare enough for most sessions to round-trip).
const text = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 6 },
  {
    arbitrary: fc.string({
      unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
      maxLength: 4,
    }),
    weight: 1,
  },
  { arbitrary: fc.array(nasty, { maxLength: 4 }).map((parts) => parts.join('')), weight: 3 },
)
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(
    -0,
    0,
    Number.MAX_SAFE_INTEGER + 2,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -Number.MAX_VALUE,
    1e21,
    2 ** 53,
    0.1 + 0.2,
  ),
  fc.integer(),
)
/** A key JSON.stringify must escape (a quote, a backslash, U+0000-U+001F): refused on every write. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const ESCAPED_KEY = /["\\\u0000-\u001F]/
// Keys: any text; `__proto__` is left out here and tested on its own below. Now and then one with
// a quote, a backslash or a control character (refused), rarely enough for most sessions to round-trip.
const key = fc.oneof(
  { arbitrary: text.filter((k) => k !== '__proto__' && !ESCAPED_KEY.test(k)), weight: 40 },
  { arbitrary: text.filter((k) => ESCAPED_KEY.test(k)), weight: 1 },
)
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value
const deep = fc.tuple(fc.integer({ min: 1, max: 45 }), json).map(([depth, leaf]) => {
  let v: unknown = leaf
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { d: v }
  return v
})
const claims = fc.dictionary(key, fc.oneof(json, deep), { maxKeys: 6, noNullPrototype: true })
// Now and then a blob big enough to pass maxBytes (10 KiB by default) sealed, or nearly.
const blob = fc.option(
  fc.integer({ min: 2_000, max: 12_000 }).map((n) => '\u00e9x'.repeat(n / 2)),
  { freq: 5, nil: undefined },
)
const input = fc
  .record({ user: fc.record({ sub: text.filter((s) => s.length > 0), name: text }), claims, blob })
  .map(({ user, claims, blob }) => (blob === undefined ? { ...claims, user } : { ...claims, blob, user }))

/** What the next request must see: the JSON reading of `value`, without the middleware's own keys. */
function expected(value: Record<string, unknown>): Record<string, unknown> {
  const {
    internal: _i,
    lastPath: _p,
    lastVisit: _v,
    ...rest
  } = JSON.parse(JSON.stringify(value)) as Record<string, unknown>
  return rest
}

function withoutInternal(session: AnySession): Record<string, unknown> {
  const { internal: _i, lastPath: _p, lastVisit: _v, ...rest } = session as Record<string, unknown>
  return rest
}

/**
 * Deep equality that also tells `-0` from `0` (JSON does not), with a message safe to send:
 * the same check as toStrictEqual on JSON data.
 */
function exactlyEqual(actual: unknown, wanted: unknown, path = '$'): void {
  if (typeof wanted === 'number') {
    if (!Object.is(actual, wanted))
      throw new Error(`${path}: ${String(actual)} is not ${Object.is(wanted, -0) ? '-0' : String(wanted)}`)
    return
  }
  if (typeof wanted !== 'object' || wanted === null) {
    if (actual !== wanted) throw new Error(`${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(wanted)}`)
    return
  }
  if (typeof actual !== 'object' || actual === null || Array.isArray(actual) !== Array.isArray(wanted))
    throw new Error(`${path}: ${JSON.stringify(actual)} is not ${JSON.stringify(wanted)}`)
  const keys = Object.keys(wanted)
  if (JSON.stringify(Object.keys(actual).sort()) !== JSON.stringify([...keys].sort()))
    throw new Error(`${path}: keys ${JSON.stringify(Object.keys(actual))} are not ${JSON.stringify(keys)}`)
  for (const k of keys)
    exactlyEqual(
      (actual as Record<string, unknown>)[k],
      (wanted as Record<string, unknown>)[k],
      `${path}.${JSON.stringify(k)}`,
    )
}

/** Whether any key or string in `value` holds an unpaired surrogate (refused as not well-formed). */
function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === 'string') return /[\uD800-\uDFFF]/u.test(value)
  if (typeof value !== 'object' || value === null) return false
  return Object.entries(value).some(([k, v]) => hasLoneSurrogate(k) || hasLoneSurrogate(v))
}

/** Whether any object key in `value`, at any depth, holds a quote, a backslash or a control character. */
function hasEscapedKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  return Object.entries(value).some(([k, v]) => (!Array.isArray(value) && ESCAPED_KEY.test(k)) || hasEscapedKey(v))
}

function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0
  let max = 0
  for (const v of Object.values(value)) max = Math.max(max, depthOf(v))
  return max + 1
}

describe('generated session values', () => {
  it(
    'createSession: exact round trip through the cookie, or a typed refusal',
    async () => {
      const subject = valuesApp()
      let ok = 0
      let invalid = 0
      let tooLarge = 0
      let escapedKeys = 0
      await assertProperty(
        fc.asyncProperty(input, async (data) => {
          const jar = new CookieJar()
          const { outcome } = await subject.call('/login', data, jar)
          expect(outcome?.kind === 'other' ? outcome.error : undefined).toBeUndefined()
          const small = JSON.stringify(data).length < 1500
          if (outcome?.kind === 'ok') {
            ok++
            const next = await subject.read(jar)
            // What this request saw, what the next one sees and what was passed in agree exactly.
            exactlyEqual(next, outcome.session)
            exactlyEqual(withoutInternal(outcome.session), expected(data))
          } else {
            if (outcome?.kind === 'invalid') invalid++
            if (outcome?.kind === 'too-large') tooLarge++
            expect(jar.header).toBe('')
            // Only what the rules refuse: deeper than the limit, a lone surrogate, a key JSON must
            // escape, or more than maxBytes.
            if (outcome?.kind === 'invalid')
              expect(depthOf(data) > 30 || hasLoneSurrogate(data) || hasEscapedKey(data)).toBe(true)
            if (outcome?.kind === 'too-large') expect(small).toBe(false)
          }
          // A key JSON must escape is refused wherever it is, before the size is known.
          if (hasEscapedKey(data)) {
            escapedKeys++
            expect(outcome?.kind).toBe('invalid')
          }
          if (small && depthOf(data) <= 30 && !hasLoneSurrogate(data) && !hasEscapedKey(data))
            expect(outcome?.kind).toBe('ok')
        }),
        params(1000),
      )
      // The generators reach both sides.
      expect(ok).toBeGreaterThan(100)
      expect(invalid).toBeGreaterThan(0)
      expect(tooLarge).toBeGreaterThan(0)
      expect(escapedKeys).toBeGreaterThan(0)
      expect(subject.errors).toEqual([])
    },
    PROPERTY_TIMEOUT_MS,
  )

  it(
    'updateSession: exact round trip, or a typed refusal that keeps the previous session',
    async () => {
      const subject = valuesApp()
      await assertProperty(
        fc.asyncProperty(input, async (data) => {
          const jar = new CookieJar()
          const base = await subject.call('/login', { user: { sub: 'u1' }, step: 1 }, jar)
          expect(base.outcome?.kind).toBe('ok')
          const before = await subject.read(jar)
          const { outcome, setCookie } = await subject.call('/update', data, jar)
          expect(outcome?.kind === 'other' ? outcome.error : undefined).toBeUndefined()
          if (hasEscapedKey(data)) expect(outcome?.kind).toBe('invalid')
          const next = await subject.read(jar)
          if (outcome?.kind === 'ok') {
            exactlyEqual(next, outcome.session)
            exactlyEqual(withoutInternal(outcome.session), expected(data))
            // internal is the middleware's: same id, same creation and absolute end.
            expect({ ...next?.internal, updatedAt: 0 }).toStrictEqual({ ...before?.internal, updatedAt: 0 })
          } else {
            expect(setCookie).toEqual([])
            exactlyEqual(next, before)
          }
        }),
        params(600),
      )
      expect(subject.errors).toEqual([])
    },
    PROPERTY_TIMEOUT_MS,
  )

  it('lone surrogates in keys or values, and keys with CRLF or a quote, are refused with SessionInvalidError; surrogate pairs, CRLF and ; come back exactly', async () => {
    const subject = valuesApp()
    for (const data of [
      { user: { sub: 'a\ud800b' } },
      { user: { sub: 'u1' }, note: 'x\udc00' },
      { user: { sub: 'u1' }, 'k\ud800': 1 },
      { user: { sub: 'u1' }, deep: [{ '\udfff': 'v' }] },
      { user: { sub: 'u1' }, 'k\r\n': 1 },
      { user: { sub: 'u1' }, deep: [{ '="': 'v' }] },
    ]) {
      const refusedJar = new CookieJar()
      const refused = await subject.call('/login', data, refusedJar)
      expect(refused.outcome?.kind).toBe('invalid')
      expect(refusedJar.header).toBe('')
    }
    const jar = new CookieJar()
    const odd = 'a\ud83d\ude00b\u00e9c;\r\n="\u2028'
    // As a key, without what JSON escapes in one (CRLF, the quote): those are refused above.
    const oddKey = 'a\ud83d\ude00b\u00e9c;=\u2028'
    const data = { user: { sub: odd, [oddKey]: odd }, [oddKey]: [odd, { [oddKey]: -0 }], n: -0 }
    const { outcome } = await subject.call('/login', data, jar)
    expect(outcome?.kind).toBe('ok')
    const next = await subject.read(jar)
    sameJson(withoutInternal(next as AnySession), {
      user: { sub: odd, [oddKey]: odd },
      [oddKey]: [odd, { [oddKey]: 0 }],
      n: 0,
    })
    expect(next?.user.sub).toHaveLength(odd.length)
    expect(Object.is(next?.n, 0)).toBe(true)
    // The same request already saw what the next one sees.
    expect(outcome?.kind === 'ok' && Object.is(outcome.session.n, 0)).toBe(true)
  })

  it('values JSON cannot carry are refused with SessionInvalidError', async () => {
    const subject = valuesApp()
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic.self = cyclic
    const cases: Array<[string, unknown]> = [
      ['bigint', 10n],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['function', () => 1],
      ['symbol', Symbol('s')],
      ['Date', new Date(0)],
      ['Map', new Map()],
      ['class instance', new (class Point {})()],
      ['undefined in an array', [undefined]],
      ['cycle', cyclic],
      ['__proto__ key', JSON.parse('{"__proto__": {"admin": true}}')],
    ]
    for (const [label, value] of cases) {
      const jar = new CookieJar()
      const { outcome } = await subject.call('/login', { user: { sub: 'u1' }, value }, jar)
      expect(outcome?.kind, label).toBe('invalid')
      expect(jar.header, label).toBe('')
    }
    expect(subject.errors).toEqual([])
  })
})
