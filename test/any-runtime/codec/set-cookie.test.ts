/**
 * src/codec/set-cookie.ts: the Set-Cookie lines of a response, a pure function of what changed.
 * Checked against Hono's serializer for every line, and for which names a write or a clear touches.
 */
import fc from 'fast-check'
import { serialize } from 'hono/utils/cookie'
import { describe, expect, it } from 'vitest'
import { sessionCookieNamesWithin, splitIntoCookies } from '../../../src/codec/cookie-jar'
import { type CookieChanges, type CookieWriting, cookieLineWriter, setCookieLines } from '../../../src/codec/set-cookie'

const MAIN = '__Host-session'
const ACTIVITY = `${MAIN}-activity`
const ATTRIBUTES = { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' } as const
const WRITING: CookieWriting = {
  names: { main: MAIN, activity: ACTIVITY },
  sessionCookieNames: sessionCookieNamesWithin(MAIN, 10 * 1024),
  setCookie: cookieLineWriter(MAIN, ATTRIBUTES),
}
const NONE = { kind: 'none' } as const
const CLEAR = { kind: 'clear' } as const

function namesOf(lines: readonly string[]): string[] {
  return lines.map((line) => line.slice(0, line.indexOf('=')))
}

describe('setCookieLines', () => {
  it('writes nothing when nothing changed, whatever the browser sent', () => {
    expect(setCookieLines({ session: NONE, activity: NONE, present: new Set([MAIN, ACTIVITY]) }, WRITING)).toEqual([])
  })

  it('a clear writes nothing for cookies the browser did not send', () => {
    expect(setCookieLines({ session: CLEAR, activity: CLEAR, present: new Set() }, WRITING)).toEqual([])
    // Only an activity cookie came: it alone is cleared.
    expect(setCookieLines({ session: CLEAR, activity: CLEAR, present: new Set([ACTIVITY]) }, WRITING)).toEqual([
      serialize(ACTIVITY, '', { maxAge: 0, ...ATTRIBUTES }),
    ])
  })

  it('a session clear clears every name the session cookie can take, then the extra chunks the browser sent', () => {
    const lines = setCookieLines({ session: CLEAR, activity: NONE, present: new Set([MAIN, `${MAIN}.7`]) }, WRITING)
    expect(namesOf(lines)).toEqual([...WRITING.sessionCookieNames, `${MAIN}.7`])
    for (const line of lines) expect(line).toMatch(/; Max-Age=0;/)
  })

  it('a session write sets its cookies with their Max-Age and clears the other names, never the activity cookie', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9000 }), fc.integer({ min: 0, max: 28_800 }), (length, maxAgeSeconds) => {
        const cookies = splitIntoCookies(MAIN, 'x'.repeat(length))
        const changes: CookieChanges = {
          session: { kind: 'write', cookies, maxAgeSeconds },
          activity: NONE,
          present: new Set([ACTIVITY]),
        }
        const lines = setCookieLines(changes, WRITING)
        const written = cookies.map(([name, value]) => serialize(name, value, { maxAge: maxAgeSeconds, ...ATTRIBUTES }))
        expect(lines.slice(0, cookies.length)).toEqual(written)
        const cleared = WRITING.sessionCookieNames.filter((name) => !cookies.some(([written]) => written === name))
        expect(namesOf(lines.slice(cookies.length))).toEqual(cleared)
        expect(namesOf(lines)).not.toContain(ACTIVITY)
      }),
    )
  })

  it('an activity write is one line, after the session lines', () => {
    const changes: CookieChanges = {
      session: { kind: 'write', cookies: [[MAIN, 'token']], maxAgeSeconds: 60 },
      activity: { kind: 'write', token: 'activity-token', maxAgeSeconds: 30 },
      present: new Set(),
    }
    const lines = setCookieLines(changes, WRITING)
    expect(lines[0]).toBe(serialize(MAIN, 'token', { maxAge: 60, ...ATTRIBUTES }))
    expect(lines.at(-1)).toBe(serialize(ACTIVITY, 'activity-token', { maxAge: 30, ...ATTRIBUTES }))
    expect(namesOf(lines).filter((name) => name === ACTIVITY)).toHaveLength(1)
  })
})
