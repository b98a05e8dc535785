/**
 * Bad-cookie cases that bad-cookies.test.ts did not pin (mutation audit of
 * src/codec/cookie-jar.ts): a duplicated activity cookie is as ambiguous as a duplicated session
 * cookie.
 */
import type { Context } from 'hono'
import { afterEach, describe, expect, it } from 'vitest'
import type { InvalidReason } from '../../../src'
import { CookieJar } from '../../helpers/app'
import { CHUNKS, MINUTE, T0, call, cleared, coreApp, readSession, restoreClock, useClock } from '../../helpers/core'

const MAIN = '__Host-session'
const ACTIVITY = `${MAIN}-activity`

afterEach(() => restoreClock())

/** A valid session cookie and two activity cookies of it, written 2 and 4 minutes after sign-in. */
async function cookiesWithTwoActivities() {
  const clock = useClock(T0)
  const { app } = coreApp({ activity: { touchInterval: 60 } })
  const jar = new CookieJar()
  await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
  clock.set(T0 + 2 * MINUTE)
  await readSession(app, { jar })
  const first = jar.cookies.get(ACTIVITY) as string
  clock.set(T0 + 4 * MINUTE)
  await readSession(app, { jar })
  const second = jar.cookies.get(ACTIVITY) as string
  expect(first).toBeDefined()
  expect(second).toBeDefined()
  expect(second).not.toBe(first)
  return { main: jar.cookies.get(MAIN) as string, first, second }
}

describe('bad session cookies (mutants)', () => {
  it('two activity cookies with the same name: no session, cleared, onInvalid("duplicate")', async () => {
    const { main, first, second } = await cookiesWithTwoActivities()
    const seen: InvalidReason[] = []
    const { app, errors } = coreApp({ onInvalid: (r: InvalidReason, _c: Context) => void seen.push(r) })
    for (const cookie of [`${MAIN}=${main}; ${ACTIVITY}=${first}; ${ACTIVITY}=${second}`, `${ACTIVITY}=${second}; ${MAIN}=${main}; ${ACTIVITY}=${first}`]) {
      const { res, session } = await readSession(app, { cookie })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
      expect(cleared(res)).toEqual([MAIN, ACTIVITY, ...CHUNKS])
    }
    expect(seen).toEqual(['duplicate', 'duplicate'])
    expect(errors).toEqual([])
    // Control: one of them alone is a session.
    expect((await readSession(app, { cookie: `${MAIN}=${main}; ${ACTIVITY}=${second}` })).session?.user.sub).toBe('u1')
  })
})
