/**
 * Boundaries and paths of src/state/session-state.ts that the other core tests leave open
 * (mutation audit 8). Fake clock: only Date is faked.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { type SessionError, getSession, memoryStore, updateSession } from '../../../src'
import { CookieJar, OLD_SECRET, SECRET } from '../../helpers/app'
import { type AnySession, CHUNKS, HOUR, type Loose, MINUTE, T0, call, cleared, coreApp, kidOf, readSession, restoreClock, tokenFrom, useClock, written } from '../../helpers/core'

const ACTIVITY = '__Host-session-activity'
const MAIN = '__Host-session'

afterEach(restoreClock)

async function login(options: Parameters<typeof coreApp>[0] = {}, extend?: Parameters<typeof coreApp>[1]) {
  const ctx = coreApp(options, extend)
  const jar = new CookieJar()
  const res = await call(ctx.app, '/login', { body: { user: { sub: 'u1' } }, jar })
  expect(res.status).toBe(200)
  return { ...ctx, jar, res }
}

describe('absolute lifetime, to the millisecond', () => {
  it('ends exactly at expiresAt when the sign-in was not on a whole second (the token exp is rounded up)', async () => {
    // Half a second past T0: the token's exp (whole seconds, rounded up) outlives expiresAt by 500 ms,
    // so only the record's own ms-precise check can end the session at expiresAt.
    const start = T0 + 500
    const clock = useClock(start)
    const { app, jar, invalid } = await login()
    for (let t = 10; t < 8 * 60; t += 10) {
      clock.set(start + t * MINUTE)
      expect((await readSession(app, { jar })).session, `at +${t} min`).not.toBeNull()
    }
    clock.set(start + 8 * HOUR - 1)
    expect((await readSession(app, { jar })).session).not.toBeNull()
    clock.set(start + 8 * HOUR)
    const { res, session } = await readSession(app, { jar })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([MAIN, ACTIVITY, ...CHUNKS])
    expect(invalid).toEqual(['expired'])
  })
})

describe('touch interval, at its boundary', () => {
  it('writes activity once exactly the touch interval (60 s) has passed, not a millisecond later', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 60_000 - 1)
    expect((await readSession(app, { jar })).res.headers.getSetCookie()).toEqual([])
    clock.set(T0 + 60_000)
    const { res } = await readSession(app, { jar })
    expect(res.headers.getSetCookie().map((l) => l.split('=')[0])).toEqual([ACTIVITY])
  })
})

describe('a refused activity cookie beside a good session', () => {
  it('is hidden from the handler at once (merged Cookie header), and cleared', async () => {
    useClock(T0)
    const { app, jar } = await login()
    const res = await call(app, '/session', { cookie: `${jar.header}; ${ACTIVITY}=not-a-token` })
    const body = (await res.json()) as { session: { user: { sub: string } } | null; cookie: string | null }
    expect(body.session?.user.sub).toBe('u1')
    expect(body.cookie).toBe(jar.header)
    expect(cleared(res)).toEqual([ACTIVITY])
  })
})

describe('an update of a session ended elsewhere (store)', () => {
  it('when the record is gone by the time of the update: SessionMissingError, no session, cookies cleared', async () => {
    useClock(T0)
    const store = memoryStore()
    const { app, jar } = await login({ store }, (a) =>
      a.post('/ended-then-update', async (c) => {
        // Another tab's sign-out lands between this request's load and its update.
        await store.delete((getSession<Loose>(c) as AnySession).internal.sid)
        try {
          await updateSession<Loose>(c, (s) => ({ ...s, step: 2 }))
        } catch (err) {
          return c.json({ code: (err as SessionError).code, session: getSession(c) }, 422)
        }
        return c.json({ code: null, session: getSession(c) })
      }),
    )
    const res = await call(app, '/ended-then-update', { method: 'POST', cookie: jar.header })
    expect(res.status).toBe(422)
    expect(await res.json()).toEqual({ code: 'ERR_SESSION_MISSING', session: null })
    expect(cleared(res)).toContain(MAIN)
  })
})

describe('an activity cookie sealed under an older secret', () => {
  it('is re-sealed under the current secret at the next request, even within the touch interval', async () => {
    const clock = useClock(T0)
    const old = coreApp({ secret: OLD_SECRET })
    const jar = new CookieJar()
    expect((await call(old.app, '/login', { body: { user: { sub: 'u1' } }, jar })).status).toBe(200)
    clock.set(T0 + 61_000)
    expect([...written((await readSession(old.app, { jar })).res).keys()]).toEqual([ACTIVITY])
    const oldActivityKid = kidOf(jar.cookies.get(ACTIVITY) as string)

    const rotated = coreApp({ secret: [SECRET, OLD_SECRET] })
    // One second after the last activity write: only the stale key makes it due.
    clock.set(T0 + 62_000)
    const { res, session } = await readSession(rotated.app, { jar })
    expect(session?.user.sub).toBe('u1')
    const lines = written(res)
    expect([...lines.keys()].sort()).toEqual([MAIN, ACTIVITY].sort())
    const mainKid = kidOf(tokenFrom(lines) as string)
    expect(kidOf(lines.get(ACTIVITY)?.value as string)).toBe(mainKid)
    expect(mainKid).not.toBe(oldActivityKid)
  })
})

describe('inactivity counts from the later of the last update and the last activity write', () => {
  it('an update newer than the activity cookie keeps the session alive once activity time + 30 min is reached', async () => {
    const clock = useClock(T0)
    const { app, jar, invalid } = await login()
    // Not on a whole second: the activity token's exp (rounded up) outlives t + 30 min by 500 ms,
    // so in that window the activity cookie still opens and only its t could end the session.
    const t = T0 + 61_500
    clock.set(t)
    expect([...written((await readSession(app, { jar })).res).keys()]).toEqual([ACTIVITY])
    // Within the touch interval: the update rewrites the session cookie (updatedAt) but not the activity cookie.
    clock.set(T0 + 90_000)
    const update = await call(app, '/update', { body: { step: 2 }, jar })
    expect(update.status).toBe(200)
    expect([...written(update).keys()]).toEqual([MAIN])
    clock.set(t + 30 * MINUTE)
    expect((await readSession(app, { jar })).session?.step).toBe(2)
    expect(invalid).toEqual([])
  })
})
