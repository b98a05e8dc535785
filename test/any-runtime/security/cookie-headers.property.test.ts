/**
 * Property-based: more than 10,000 generated Cookie headers through a Hono app with the
 * middleware. For every one: no 5xx, nothing thrown into the app, the handler runs, every
 * Set-Cookie line is one of ours with the secure attributes, and a session is accepted only if
 * the server issued exactly that session (a mutated token never decrypts to one).
 *
 * Counts are set per property (numRuns) so the whole file stays within a few seconds of CPU per
 * thousand headers; FC_SEED reproduces a failing run (fast-check prints the seed and path).
 */
import fc from 'fast-check'
import { base64url } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { splitIntoCookies } from '../../../src/codec/cookie-jar'
import {
  ACTIVITY,
  type AnySession,
  PROPERTY_TIMEOUT_MS,
  SESSION,
  badSetCookieLines,
  core,
  flipSegmentBit,
  issue,
  params,
  probeApp,
} from '../../helpers'

// Big enough for three chunks (maxBytes raised so it fits).
const CHUNKED_OPTIONS = { maxBytes: 16 * 1024 }
const probe = probeApp(CHUNKED_OPTIONS)
let sent = 0
/** Every session the server issued in this file, by its canonical JSON. */
const issued = new Set<string>()

let small: Awaited<ReturnType<typeof issue>>
let unicode: Awaited<ReturnType<typeof issue>>
let attacker: Awaited<ReturnType<typeof issue>>
let big: Awaited<ReturnType<typeof issue>>
let activityToken: string

interface Outcome {
  status: number
  session: AnySession | null
}

/** Sends one header and checks the invariants every header must keep. */
async function check(header: string): Promise<Outcome> {
  sent++
  const { res, session } = await probe.send(header)
  expect(res.status).toBe(200)
  expect(probe.errors).toEqual([])
  expect(session).not.toBeUndefined()
  expect(badSetCookieLines(res)).toEqual([])
  if (session) expect(issued.has(core(session)), 'a session the server never issued was accepted').toBe(true)
  return { status: res.status, session: session ?? null }
}

// Header values cannot hold NUL, CR or LF (the Fetch spec). Bytes above 0x7F are left to one
// named test below: workerd logs a warning for each such header, which would flood the output.
const headerChar = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0x7e }),
    fc.constantFrom(0x09, 0x3b, 0x3d, 0x22, 0x2c, 0x20, 0x7f),
    fc.integer({ min: 0x01, max: 0x1f }).filter((c) => c !== 0x0a && c !== 0x0d),
  )
  .map((c) => String.fromCharCode(c))
const headerString = (maxLength: number) => fc.string({ unit: headerChar, maxLength })
const b64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.'.split(''))

const NAME_VARIANTS = [
  SESSION,
  '__host-session',
  '__HOST-SESSION',
  '__Host-Session',
  '__hOsT-session',
  'session',
  '__Secure-session',
  ' __Host-session',
  '__Host-session ',
  '__Host-sessions',
  '__Host-session.0',
  '__Host-session.1',
  '__Host-session.01',
  '__Host-session.x',
  ACTIVITY,
  '__HOST-session-activity',
]

/** A Cookie header made of `name=value` pairs, joined with the separators browsers and attackers use. */
const pairsToHeader = (pairs: ReadonlyArray<readonly [string, string]>, separator: string) =>
  pairs.map(([n, v]) => `${n}=${v}`).join(separator)

beforeAll(async () => {
  small = await issue({ user: { sub: 'victim' }, role: 'member' }, CHUNKED_OPTIONS)
  unicode = await issue({ user: { sub: 'ü-\u{1F600}' }, note: 'a;b\r\nc="d"' }, CHUNKED_OPTIONS)
  attacker = await issue({ user: { sub: 'attacker' }, role: 'member' }, CHUNKED_OPTIONS)
  big = await issue(
    {
      user: { sub: 'big' },
      blob: 'x'.repeat(7000).replace(/x/g, (_, i: number) => String.fromCharCode(97 + (i % 26))),
    },
    CHUNKED_OPTIONS,
  )
  for (const s of [small, unicode, attacker, big]) issued.add(core(s.session))
  expect(big.cookie.split('; ').map((p) => p.slice(0, p.indexOf('=')))).toEqual([
    `${SESSION}.0`,
    `${SESSION}.1`,
    `${SESSION}.2`,
  ])
  activityToken = await activityFor(small.cookie)
})

/** A real activity cookie for `cookie`: a probe with no touch throttle records the request at once. */
async function activityFor(cookie: string): Promise<string> {
  const eager = probeApp({ ...CHUNKED_OPTIONS, activity: { touchInterval: 0 } })
  const res = await eager.app.request('/page', { headers: { cookie } })
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${ACTIVITY}=`))
  if (!line) throw new Error('no activity cookie was written')
  return line.slice(ACTIVITY.length + 1, line.indexOf(';'))
}

describe('generated Cookie headers', () => {
  it(
    'random bytes and strings: never a 5xx, never an exception, never a session',
    async () => {
      const header = fc.oneof(
        headerString(300),
        headerString(300).map((v) => `${SESSION}=${v}`),
        fc
          .array(fc.tuple(fc.oneof(fc.constantFrom(...NAME_VARIANTS), headerString(20)), headerString(120)), {
            maxLength: 8,
          })
          .map((p) => pairsToHeader(p, '; ')),
        fc
          .uint8Array({ maxLength: 200 })
          .map((bytes) => `${SESSION}=${base64url.encode(bytes)}.${base64url.encode(bytes)}`),
        fc
          .array(fc.uint8Array({ maxLength: 60 }), { minLength: 5, maxLength: 5 })
          .map((parts) => `${SESSION}=${parts.map((p) => base64url.encode(p)).join('.')}`),
      )
      await fc.assert(
        fc.asyncProperty(header, async (h) => {
          const { session } = await check(h)
          expect(session).toBeNull()
        }),
        params(2000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it('non-ASCII bytes in names and values: no session, no 5xx', async () => {
    for (const header of [
      `${SESSION}=\u00e9\u00ff${small.token}`,
      `${SESSION}\u00a0=${small.token}`,
      `caf\u00e9=1; ${SESSION}=${small.token}\u0085`,
    ]) {
      expect((await check(header)).session).toBeNull()
    }
  })

  it(
    'bit flips in every JWE segment of valid tokens: never a session',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('small', 'unicode', 'big'),
          fc.integer({ min: 0, max: 4 }),
          fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
          fc.uint8Array({ minLength: 1, maxLength: 48 }),
          async (which, segment, bits, extra) => {
            const token = { small, unicode, big }[which].token
            let mutated = token
            for (const bit of bits) mutated = flipSegmentBit(mutated, segment, bit, extra)
            if (mutated === token) return // an even number of flips of the same bit
            const header = pairsToHeader(splitIntoCookies(SESSION, mutated), '; ')
            expect((await check(header)).session).toBeNull()
          },
        ),
        params(3000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it(
    'truncations, insertions, deletions and segment shuffles: only the untouched token is a session',
    async () => {
      type Edit = (t: string) => string
      const edit: fc.Arbitrary<Edit> = fc.oneof(
        fc.nat().map(
          (n): Edit =>
            (t) =>
              t.slice(0, n % t.length),
        ),
        fc.nat().map(
          (n): Edit =>
            (t) =>
              t.slice(1 + (n % (t.length - 1))),
        ),
        fc.tuple(fc.nat(), b64urlChar).map(
          ([n, ch]): Edit =>
            (t) => {
              const i = n % t.length
              return t.slice(0, i) + ch + t.slice(i + 1)
            },
        ),
        fc.tuple(fc.nat(), fc.string({ unit: b64urlChar, minLength: 1, maxLength: 8 })).map(
          ([n, s]): Edit =>
            (t) => {
              const i = n % t.length
              return t.slice(0, i) + s + t.slice(i)
            },
        ),
        fc.nat().map(
          (n): Edit =>
            (t) => {
              const i = n % t.length
              return t.slice(0, i) + t.slice(i + 1)
            },
        ),
        fc.tuple(fc.nat(4), fc.nat(4)).map(
          ([a, b]): Edit =>
            (t) => {
              const parts = t.split('.')
              ;[parts[a], parts[b]] = [parts[b] as string, parts[a] as string]
              return parts.join('.')
            },
        ),
        fc.nat(4).map(
          (a): Edit =>
            (t) => {
              const parts = t.split('.')
              parts.splice(a, 0, parts[a] as string)
              return parts.join('.')
            },
        ),
        fc.constant<Edit>((t) => `${t}.`),
        fc.constant<Edit>((t) => `"${t}`),
        fc.constant<Edit>((t) => t.toUpperCase()),
      )
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('small', 'unicode', 'big'),
          fc.array(edit, { minLength: 1, maxLength: 3 }),
          async (which, edits) => {
            const original = { small, unicode, big }[which]
            const mutated = edits.reduce((t, e) => (t.length > 1 ? e(t) : t), original.token)
            const { session } = await check(pairsToHeader(splitIntoCookies(SESSION, mutated), '; '))
            // Only base64url padding bits can change without changing bytes; then it is the same session.
            if (session) expect(core(session)).toBe(core(original.session))
          },
        ),
        params(1500),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it(
    'chunk permutations, gaps, duplicates and mixes: reordering is harmless, anything else is no session',
    async () => {
      const chunks = big.cookie
        .split('; ')
        .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const)
      type Case = { pairs: Array<readonly [string, string]>; expect: 'same' | 'none' | 'same-or-none' }
      const caseArb: fc.Arbitrary<Case> = fc.oneof(
        fc.shuffledSubarray(chunks, { minLength: 3, maxLength: 3 }).map((pairs): Case => ({ pairs, expect: 'same' })),
        fc.shuffledSubarray(chunks, { minLength: 1, maxLength: 2 }).map((pairs): Case => ({ pairs, expect: 'none' })),
        fc
          .tuple(fc.shuffledSubarray(chunks, { minLength: 3, maxLength: 3 }), fc.nat(2))
          .map(([pairs, i]): Case => ({ pairs: [...pairs, chunks[i] as readonly [string, string]], expect: 'none' })),
        fc
          .tuple(fc.shuffledSubarray(chunks, { minLength: 3, maxLength: 3 }), fc.nat(2), fc.nat(2))
          .map(([pairs, a, b]): Case => {
            const names = chunks.map(([n]) => n)
            const values = chunks.map(([, v]) => v)
            ;[values[a], values[b]] = [values[b] as string, values[a] as string]
            return {
              pairs: pairs.map(([n]) => [n, values[names.indexOf(n)] as string] as const),
              expect: a === b ? 'same' : 'none',
            }
          }),
        fc
          .tuple(
            fc.shuffledSubarray(chunks, { minLength: 3, maxLength: 3 }),
            fc.constantFrom(small.token, attacker.token, 'x'),
          )
          .map(([pairs, v]): Case => ({ pairs: [...pairs, [SESSION, v]], expect: 'none' })),
        fc
          .tuple(
            fc.shuffledSubarray(chunks, { minLength: 3, maxLength: 3 }),
            fc.string({ unit: b64urlChar, maxLength: 40 }),
          )
          .map(
            ([pairs, v]): Case => ({
              pairs: [...pairs, [`${SESSION}.3`, v]],
              expect: v === '' ? 'same-or-none' : 'none',
            }),
          ),
        fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 200, max: 4000 })).map(([n, size]): Case => {
          // The same bytes, cut at other boundaries: still exactly the token the server issued.
          const pairs: Array<readonly [string, string]> = []
          for (let i = 0, offset = 0; offset < big.token.length; i++, offset += size)
            pairs.push([`${SESSION}.${i}`, big.token.slice(offset, offset + size)])
          return { pairs: n % 2 ? pairs.reverse() : pairs, expect: 'same' }
        }),
        fc
          .shuffledSubarray(chunks, { minLength: 3, maxLength: 3 })
          .map((pairs): Case => ({ pairs: pairs.map(([n, v]) => [n.replace('.', '.0'), v] as const), expect: 'none' })),
      )
      await fc.assert(
        fc.asyncProperty(caseArb, fc.constantFrom('; ', ';', ' ; ', ';; '), async (c, sep) => {
          const { session } = await check(pairsToHeader(c.pairs, sep))
          if (c.expect === 'same') expect(session && core(session)).toBe(core(big.session))
          else if (c.expect === 'none') expect(session).toBeNull()
          else if (session) expect(core(session)).toBe(core(big.session))
        }),
        params(1500),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it(
    'duplicate names, prefix case variants and planted cookies: only one exact __Host-session is a session',
    async () => {
      const values: Record<string, string> = {
        victim: small.token,
        attacker: attacker.token,
        quotedVictim: `"${small.token}"`,
        activity: activityToken,
        garbage: 'not-a-token',
        empty: '',
        truncated: small.token.slice(0, -3),
      }
      const entry = fc.tuple(fc.constantFrom(...NAME_VARIANTS), fc.constantFrom(...Object.keys(values)))
      await fc.assert(
        fc.asyncProperty(fc.array(entry, { maxLength: 6 }), fc.constantFrom('; ', ';'), async (entries, sep) => {
          const { session } = await check(
            pairsToHeader(
              entries.map(([n, k]) => [n, values[k] as string] as const),
              sep,
            ),
          )
          // An empty value is what a deletion leaves: read as absent, so it is left out here too.
          const kept = entries.filter(([, k]) => k !== 'empty')
          const ours = kept.filter(([n]) => n.trim().startsWith(SESSION) && n.trim() !== ACTIVITY)
          const exact = ours.filter(([n]) => n.trim() === SESSION)
          const activities = kept.filter(([n]) => n.trim() === ACTIVITY)
          const chunkNames = ours.filter(([n]) => /^__Host-session\.(0|[1-9][0-9]{0,2})$/.test(n.trim()))
          // Ambiguous: no session, whichever comes first.
          if (exact.length > 1) expect(session).toBeNull()
          // A case variant or a planted name never makes a session on its own.
          if (exact.length === 0 && chunkNames.length === 0) expect(session).toBeNull()
          if (session && exact.length === 1) {
            const [, key] = exact[0] as [string, string]
            expect(core(session)).toBe(core(key === 'attacker' ? attacker.session : small.session))
          }
          // One exact cookie holding a valid token and nothing ambiguous beside it: that session.
          const only = exact.length === 1 && ours.length === 1 && activities.length <= 1
          const key = exact[0]?.[1]
          if (only && (key === 'victim' || key === 'quotedVictim' || key === 'attacker')) {
            expect(session && core(session)).toBe(core(key === 'attacker' ? attacker.session : small.session))
          }
        }),
        params(2000),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it(
    'oversized values and headers: our cookies past maxBytes are no session, other big cookies cost nothing, never a 5xx',
    async () => {
      type Case = { header: string; expect: 'none' | 'small' }
      const caseArb: fc.Arbitrary<Case> = fc.oneof(
        fc.tuple(fc.integer({ min: 4096, max: 70_000 }), headerString(8)).map(
          ([n, s]): Case => ({
            header: `${SESSION}=${(s || 'A').repeat(Math.ceil(n / Math.max(1, s.length)))}`,
            expect: 'none',
          }),
        ),
        fc.integer({ min: 4, max: 1000 }).map(
          (n): Case => ({
            header: Array.from({ length: n }, (_, i) => `${SESSION}.${i}=${'A'.repeat(64)}`).join('; '),
            expect: 'none',
          }),
        ),
        fc.integer({ min: 2, max: 60 }).map(
          (n): Case => ({
            header: Array.from({ length: n }, () => `${SESSION}=${small.token}`).join('; '),
            expect: 'none',
          }),
        ),
        // A big Cookie header made of the site's other cookies: the session is still read.
        fc
          .integer({ min: 8_000, max: 100_000 })
          .map((n): Case => ({ header: `pad=${'p'.repeat(n)}; ${SESSION}=${small.token}`, expect: 'small' })),
      )
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          const { session } = await check(c.header)
          if (c.expect === 'none') expect(session).toBeNull()
          else expect(session && core(session)).toBe(core(small.session))
        }),
        params(500),
      )
    },
    PROPERTY_TIMEOUT_MS,
  )

  it('sent at least 10,000 generated headers in total', () => {
    expect(sent).toBeGreaterThanOrEqual(10_000)
  })
})
