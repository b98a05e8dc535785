/**
 * Lifetimes with a fake clock. The CookieJar ignores Max-Age except 0 (like a client that keeps
 * replaying its cookies), so every "ended" here is enforced by the server from the encrypted data.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  ACTIVITY,
  HOUR,
  MINUTE,
  SECOND,
  SESSION,
  SESSION_CHUNKS,
  T0,
  call,
  cleared,
  coreApp,
  login,
  maxAge,
  readSession,
  restoreClock,
  useClock,
  written,
} from '../../helpers'

afterEach(restoreClock)

describe('fake clock', () => {
  it('moves Date.now in this runtime', () => {
    const clock = useClock(T0)
    expect(Date.now()).toBe(T0)
    clock.advance(5 * MINUTE)
    expect(Date.now()).toBe(T0 + 5 * MINUTE)
    expect(Date.now()).toBe(T0 + 5 * MINUTE)
  })
})

describe('inactivity (default 30 min)', () => {
  it('ends an idle session, clears its cookies and reports "inactive"', async () => {
    const clock = useClock(T0)
    const { app, jar, invalid } = await login()
    clock.set(T0 + 30 * MINUTE + SECOND)
    const { res, session } = await readSession(app, { jar })
    expect(session).toBeNull()
    expect(cleared(res)).toContain(SESSION)
    expect(invalid).toEqual(['inactive'])
  })

  it('is still alive just before the limit', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 30 * MINUTE - SECOND)
    expect((await readSession(app, { jar })).session?.user.sub).toBe('u1')
  })

  it('counts the activity cookie when both cookies are new to the isolate (both opened, one wait)', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 20 * MINUTE)
    await readSession(app, { jar })
    clock.set(T0 + 40 * MINUTE)
    // Another app instance has other keys, so its token cache has seen neither cookie: both are decrypted.
    const fresh = coreApp()
    expect((await readSession(fresh.app, { jar: jar.copy() })).session?.user.sub).toBe('u1')
    expect(fresh.invalid).toEqual([])
  })

  it('requests within the window keep it alive through the activity cookie', async () => {
    const clock = useClock(T0)
    const { app, jar, invalid } = await login()
    // 20-minute steps: each alone is within 30 min, together far beyond it.
    for (let t = 20; t <= 180; t += 20) {
      clock.set(T0 + t * MINUTE)
      const { res, session } = await readSession(app, { jar })
      expect(session?.user.sub, `at +${t} min`).toBe('u1')
      const lines = written(res)
      // Activity never rewrites the session cookie (race safety); it writes the activity cookie.
      expect([...lines.keys()]).toEqual([ACTIVITY])
      expect(maxAge(lines.get(ACTIVITY))).toBe(30 * 60)
      expect(res.headers.get('cache-control')).toBe('private, no-store')
    }
    clock.set(T0 + 180 * MINUTE + 30 * MINUTE + SECOND)
    expect((await readSession(app, { jar })).session).toBeNull()
    expect(invalid).toEqual(['inactive'])
  })

  it('writes activity only when the touch interval (60 s) has passed', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 59 * SECOND)
    expect((await readSession(app, { jar })).res.headers.getSetCookie()).toEqual([])
    clock.set(T0 + 61 * SECOND)
    expect([...written((await readSession(app, { jar })).res).keys()]).toEqual([ACTIVITY])
    clock.set(T0 + 100 * SECOND)
    expect((await readSession(app, { jar })).res.headers.getSetCookie()).toEqual([])
    clock.set(T0 + 122 * SECOND)
    expect([...written((await readSession(app, { jar })).res).keys()]).toEqual([ACTIVITY])
  })

  it('an update counts as activity', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 25 * MINUTE)
    expect((await call(app, '/update', { body: { x: 1 }, jar })).status).toBe(200)
    clock.set(T0 + 50 * MINUTE)
    expect((await readSession(app, { jar })).session?.x).toBe(1)
  })

  it('a failed request (4xx) is not activity', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 20 * MINUTE)
    const res = await call(app, '/missing-route', { jar })
    expect(res.status).toBe(404)
    expect(res.headers.getSetCookie()).toEqual([])
    clock.set(T0 + 30 * MINUTE + SECOND)
    expect((await readSession(app, { jar })).session).toBeNull()
  })

  it('an activity cookie of another session does not keep this one alive', async () => {
    const clock = useClock(T0)
    const a = await login()
    const b = await login()
    clock.set(T0 + 20 * MINUTE)
    await readSession(b.app, { jar: b.jar })
    expect(b.jar.cookies.has(ACTIVITY)).toBe(true)
    // Session A with session B's fresh activity cookie.
    a.jar.cookies.set(ACTIVITY, b.jar.cookies.get(ACTIVITY) as string)
    clock.set(T0 + 30 * MINUTE + SECOND)
    expect((await readSession(a.app, { jar: a.jar })).session).toBeNull()
  })

  it('honours a custom inactivity', async () => {
    const clock = useClock(T0)
    const { app, jar, res } = await login({ duration: { inactivity: 5 * 60 } })
    expect(maxAge(written(res).get(SESSION))).toBe(8 * 60 * 60)
    clock.set(T0 + 4 * MINUTE)
    const touched = await readSession(app, { jar })
    expect(maxAge(written(touched.res).get(ACTIVITY))).toBe(5 * 60)
    clock.set(T0 + 9 * MINUTE - SECOND)
    expect((await readSession(app, { jar })).session).not.toBeNull()
    clock.set(T0 + 14 * MINUTE)
    expect((await readSession(app, { jar })).session).toBeNull()
  })

  it('a short inactivity shortens the default touch interval to half of it: a user active every 25 s of a 60 s window stays in', async () => {
    const clock = useClock(T0)
    const { app, jar, invalid } = await login({ duration: { inactivity: 60 } })
    for (let t = 25; t <= 5 * 60; t += 25) {
      clock.set(T0 + t * SECOND)
      expect((await readSession(app, { jar })).session, `at +${t} s`).not.toBeNull()
    }
    expect(invalid).toEqual([])
  })
})

describe('exact boundaries (the session ends at seen + inactivity, like at createdAt + absolute)', () => {
  it('without an activity cookie', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 30 * MINUTE - 1)
    expect((await readSession(app, { cookie: jar.header })).session).not.toBeNull()
    clock.set(T0 + 30 * MINUTE)
    expect((await readSession(app, { cookie: jar.header })).session).toBeNull()
  })

  it('with an activity cookie', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    clock.set(T0 + 10 * MINUTE)
    await readSession(app, { jar })
    clock.set(T0 + 40 * MINUTE - 1)
    expect((await readSession(app, { cookie: jar.header })).session).not.toBeNull()
    clock.set(T0 + 40 * MINUTE)
    expect((await readSession(app, { cookie: jar.header })).session).toBeNull()
  })

  it('times that are not whole seconds do not end the session early (inactivity)', async () => {
    const start = T0 + 700
    const clock = useClock(start)
    const { app, jar } = await login()
    clock.set(start + 10 * MINUTE)
    await readSession(app, { jar })
    clock.set(start + 40 * MINUTE - 1)
    expect((await readSession(app, { cookie: jar.header })).session).not.toBeNull()
    clock.set(start + 40 * MINUTE)
    expect((await readSession(app, { cookie: jar.header })).session).toBeNull()
  })

  it('times that are not whole seconds do not end the session early (absolute)', async () => {
    const start = T0 + 700
    const clock = useClock(start)
    const { app, jar } = await login({ duration: { absolute: 3600, inactivity: 3600 } })
    clock.set(start + HOUR - 1)
    expect((await readSession(app, { cookie: jar.header })).session).not.toBeNull()
    clock.set(start + HOUR)
    expect((await readSession(app, { cookie: jar.header })).session).toBeNull()
  })
})

describe('absolute lifetime (default 8 h)', () => {
  it('ends the session despite steady activity, and reports "expired"', async () => {
    const clock = useClock(T0)
    const { app, jar, invalid } = await login()
    for (let t = 10; t < 8 * 60; t += 10) {
      clock.set(T0 + t * MINUTE)
      expect((await readSession(app, { jar })).session, `at +${t} min`).not.toBeNull()
    }
    clock.set(T0 + 8 * HOUR - SECOND)
    expect((await readSession(app, { jar })).session).not.toBeNull()
    clock.set(T0 + 8 * HOUR)
    const { res, session } = await readSession(app, { jar })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([SESSION, ACTIVITY, ...SESSION_CHUNKS])
    expect(invalid).toEqual(['expired'])
  })

  it('updates never extend it', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    for (let t = 20; t < 8 * 60; t += 20) {
      clock.set(T0 + t * MINUTE)
      expect((await call(app, '/update', { body: { t }, jar })).status).toBe(200)
    }
    clock.set(T0 + 8 * HOUR)
    expect((await readSession(app, { jar })).session).toBeNull()
  })
})

describe('cookie Max-Age', () => {
  it('session cookie: the absolute lifetime that is left, on every write', async () => {
    const clock = useClock(T0)
    const { app, jar, res } = await login()
    expect(maxAge(written(res).get(SESSION))).toBe(8 * 60 * 60)
    for (const t of [20, 40, 60, 80, 100, 120]) {
      clock.set(T0 + t * MINUTE)
      await readSession(app, { jar })
    }
    clock.set(T0 + 2 * HOUR + 10 * MINUTE)
    const updated = await call(app, '/update', { body: { a: 1 }, jar })
    expect(maxAge(written(updated).get(SESSION))).toBe(8 * 60 * 60 - 130 * 60)
  })

  it('activity cookie: min(now + inactivity, absolute end) - now', async () => {
    const clock = useClock(T0)
    const { app, jar } = await login()
    const seen: number[] = []
    for (let t = 20; t <= 7 * 60 + 50; t += 10) {
      clock.set(T0 + t * MINUTE)
      const line = written((await readSession(app, { jar })).res).get(ACTIVITY)
      // 10 minutes apart: past the 60 s touch interval, so every step writes.
      expect(line, `at +${t} min`).toBeDefined()
      expect(maxAge(line), `at +${t} min`).toBe(Math.min(30 * 60, (8 * 60 - t) * 60))
      seen.push(maxAge(line))
    }
    // At +7h40 and +7h50 only 20 and 10 minutes of the absolute lifetime are left.
    expect(seen.slice(-3)).toEqual([30 * 60, 20 * 60, 10 * 60])
  })
})

describe('absolute lifetime: to the millisecond', () => {
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
    expect(cleared(res)).toEqual([SESSION, ACTIVITY, ...SESSION_CHUNKS])
    expect(invalid).toEqual(['expired'])
  })
})

describe('touch interval: at its boundary', () => {
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

describe('inactivity: counts from the later of the last update and the last activity write', () => {
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
    expect([...written(update).keys()]).toEqual([SESSION])
    clock.set(t + 30 * MINUTE)
    expect((await readSession(app, { jar })).session?.step).toBe(2)
    expect(invalid).toEqual([])
  })
})
