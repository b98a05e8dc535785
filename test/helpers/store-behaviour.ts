/**
 * The behavioural suite every session store passes, and the cookie-only mode too (no store):
 * write it once, run it per store (`describeStoreBehaviour('kv', () => kvStore(env.SESSION_KV))`).
 * Tests that only make sense with a store, an atomic `update` or `deleteByUser` are registered
 * for the stores that have them; what a store lacks is asserted instead (KV: unsupported error).
 */
import { describe, expect, it } from 'vitest'
import type { SessionStore } from '../../src'
import { CookieJar } from './app'
import { MINUTE, restoreClock, useClock } from './clock'
import { ACTIVITY, SESSION, SESSION_CHUNKS } from './middleware'
import type { AnySession } from './core'
import { Gate, NAVIGATE, countingStore, storeApp, uniqueSub } from './stores'

function post(cookie: string, body: unknown = {}): RequestInit & { method: string } {
  return { method: 'POST', headers: { cookie, 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

function names(res: Response): string[] {
  return res.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')))
}

export function describeStoreBehaviour(name: string, makeStore?: () => SessionStore): void {
  const probe = makeStore?.()
  const atomic = typeof probe?.update === 'function'
  const byUser = typeof probe?.deleteByUser === 'function'

  function setup() {
    const inner = makeStore?.()
    const counted = inner ? countingStore(inner) : undefined
    const { app, invalid, gate } = storeApp(counted?.store)
    const login = async (jar: CookieJar, sub: string, claims: Record<string, unknown> = {}) => {
      const res = await app.request('/login', post(jar.header, { sub, claims }))
      expect(res.status).toBe(200)
      jar.apply(res)
      return { res, body: (await res.json()) as { session: AnySession; downstream: AnySession | null } }
    }
    const session = async (cookie: string) => {
      const res = await app.request('/session', { headers: { cookie } })
      return { res, session: ((await res.json()) as { session: AnySession | null }).session }
    }
    return { app, invalid, gate, inner, counted, login, session }
  }

  describe(`${name}: behaviour`, () => {
    it('signs in: the same request and a downstream fetch see the session at once', async () => {
      const { inner, counted, login, session } = setup()
      const jar = new CookieJar()
      const sub = uniqueSub('round-trip')
      const { res, body } = await login(jar, sub)
      expect(body.session.user.sub).toBe(sub)
      // The downstream request carried only the merged Cookie header: it read the new session (from the store when there is one).
      expect(body.downstream?.user.sub).toBe(sub)
      expect(body.downstream?.internal.sid).toBe(body.session.internal.sid)
      expect(names(res)).toEqual([SESSION, ...SESSION_CHUNKS])
      if (inner) {
        expect(counted?.calls.set).toBe(1)
        expect((await inner.get(body.session.internal.sid))?.user).toEqual({ sub })
      }
      const next = await session(jar.header)
      expect(next.session?.user.sub).toBe(sub)
      expect(next.res.headers.getSetCookie()).toEqual([])
    })

    it('updates: seen by the same request and the next one', async () => {
      const { app, inner, login, session } = setup()
      const jar = new CookieJar()
      const { body } = await login(jar, uniqueSub('update'))
      const sid = body.session.internal.sid
      const res = await app.request('/update', post(jar.header, { role: 'admin' }))
      expect(res.status).toBe(200)
      expect(((await res.json()) as { session: AnySession }).session.role).toBe('admin')
      // With a store the cookie holds only the id, which does not change: nothing to rewrite.
      expect(names(res)).toEqual(inner ? [] : [SESSION, ...SESSION_CHUNKS])
      jar.apply(res)
      const next = await session(jar.header)
      expect(next.session?.role).toBe('admin')
      expect(next.session?.internal.sid).toBe(sid)
      if (inner) expect((await inner.get(sid))?.role).toBe('admin')
    })

    it('an error the update function throws reaches the app as it was thrown, and the session stays as it was', async () => {
      const { app, inner, counted, login, session } = setup()
      const jar = new CookieJar()
      const { body } = await login(jar, uniqueSub('refused'), { role: 'member' })
      const writesBefore = counted && { set: counted.calls.set, delete: counted.calls.delete }
      const res = await app.request('/update-refused', post(jar.header))
      expect(res.status).toBe(403)
      expect(await res.text()).toBe('not allowed')
      expect(res.headers.getSetCookie()).toEqual([])
      const next = await session(jar.header)
      expect(next.session?.role).toBe('member')
      expect(next.session?.internal).toEqual(body.session.internal)
      // An atomic update does call the store's `update`, but nothing is set or deleted.
      if (counted) expect({ set: counted.calls.set, delete: counted.calls.delete }).toEqual(writesBefore)
      if (inner) expect((await inner.get(body.session.internal.sid))?.role).toBe('member')
    })

    it('keeps the onboarding gate: redirected until the server marks it done, then let through', async () => {
      const { app, login } = setup()
      const jar = new CookieJar()
      await login(jar, uniqueSub('gate'), { onboardingStep: 'PROFILE' })
      let res = await app.request('/explore', { headers: { ...NAVIGATE, cookie: jar.header } })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/onboarding?returnTo=%2Fexplore')
      res = await app.request('/api/explore', { headers: { cookie: jar.header } })
      expect(res.status).toBe(403)
      res = await app.request('/onboarding/finish', post(jar.header))
      expect(((await res.json()) as { session: AnySession }).session.onboardingStep).toBe('COMPLETED')
      jar.apply(res)
      res = await app.request('/explore', { headers: { ...NAVIGATE, cookie: jar.header } })
      expect(res.status).toBe(200)
    })

    it('records activity in the activity cookie only: page views never write the store', async () => {
      const { app, counted, login } = setup()
      const jar = new CookieJar()
      await login(jar, uniqueSub('activity'))
      const writesAfterLogin = counted?.writes()
      let res = await app.request('/page/a', { headers: { ...NAVIGATE, cookie: jar.header } })
      expect(names(res)).toEqual([ACTIVITY])
      jar.apply(res)
      res = await app.request('/page/b?x=1', { headers: { ...NAVIGATE, cookie: jar.header } })
      expect(res.headers.get('x-last-path')).toBe('/page/a')
      expect(names(res)).toEqual([ACTIVITY])
      jar.apply(res)
      res = await app.request('/page/c', { headers: { ...NAVIGATE, cookie: jar.header } })
      // The pathname only: a query may carry a token (activity.recordQuery keeps it).
      expect(res.headers.get('x-last-path')).toBe('/page/b')
      if (counted) {
        expect(counted.writes()).toBe(writesAfterLogin)
        expect(counted.calls.get).toBeGreaterThanOrEqual(3)
      }
    })

    it('signs in again with a new id; the old id is gone', async () => {
      const { inner, invalid, login, session } = setup()
      const jar = new CookieJar()
      const first = await login(jar, uniqueSub('fixation'))
      const firstCookie = jar.header
      const second = await login(jar, uniqueSub('fixation'))
      expect(second.body.session.internal.sid).not.toBe(first.body.session.internal.sid)
      expect((await session(jar.header)).session?.internal.sid).toBe(second.body.session.internal.sid)
      if (inner) {
        expect(await inner.get(first.body.session.internal.sid)).toBeNull()
        const replay = await session(firstCookie)
        expect(replay.session).toBeNull()
        expect(invalid).toContain('revoked')
      }
    })

    it('a sign-in in a request that fails writes no cookie and leaves no record behind', async () => {
      const { app, inner, login, session } = setup()
      const jar = new CookieJar()
      const { body } = await login(jar, uniqueSub('failed-sign-in'))
      const res = await app.request('/login-then-fail', post(jar.header, { sub: uniqueSub('failed-sign-in') }))
      expect(res.status).toBe(500)
      expect(res.headers.getSetCookie()).toEqual([])
      const { sid } = (await res.json()) as { sid: string }
      expect(sid).not.toBe(body.session.internal.sid)
      if (inner) {
        // No cookie will ever name the new record: it is deleted again.
        expect(await inner.get(sid)).toBeNull()
        // The sign-in ended the previous session before writing (a session id never outlives a sign-in).
        expect(await inner.get(body.session.internal.sid)).toBeNull()
        expect((await session(jar.header)).session).toBeNull()
      } else {
        // Only cookies: the browser keeps the session it had.
        expect((await session(jar.header)).session?.internal.sid).toBe(body.session.internal.sid)
      }
    })

    if (probe) {
      it('signs out: the record is deleted and a replayed cookie is refused', async () => {
        const { app, inner, invalid, login, session } = setup()
        const jar = new CookieJar()
        const { body } = await login(jar, uniqueSub('logout'))
        const stolen = jar.header
        const res = await app.request('/logout', post(jar.header))
        jar.apply(res)
        expect(jar.header).toBe('')
        expect(await inner?.get(body.session.internal.sid)).toBeNull()
        const replay = await session(stolen)
        expect(replay.session).toBeNull()
        expect(replay.res.status).toBe(200)
        expect(names(replay.res)).toEqual([SESSION, ...SESSION_CHUNKS])
        expect(replay.res.headers.getSetCookie().every((line) => line.includes('=; Max-Age=0;'))).toBe(true)
        expect(invalid).toEqual(['revoked'])
      })
    }

    if (probe) {
      for (const action of ['page', 'sign-out'] as const) {
        it(`a session refused as idle is over: the victim's ${action} after the idle limit ends a stolen copy kept active`, async () => {
          const { app, inner, invalid, login, session } = setup()
          const victim = new CookieJar()
          const { body } = await login(victim, uniqueSub('idle'))
          const sid = body.session.internal.sid
          // The attacker's copy: the session cookie alone, then its own activity cookie.
          const attacker = new CookieJar()
          attacker.cookies.set(SESSION, victim.cookies.get(SESSION) ?? '')
          // Date only, from the real time: the store's own expiry checks must agree with ours.
          const start = Date.now()
          const clock = useClock(start)
          try {
            for (const minute of [10, 20, 29]) {
              clock.set(start + minute * MINUTE)
              const res = await app.request(`/page/${minute}`, { headers: { ...NAVIGATE, cookie: attacker.header } })
              expect(res.status).toBe(200)
              attacker.apply(res)
            }
            clock.set(start + 31 * MINUTE)
            expect((await session(attacker.header)).session?.internal.sid).toBe(sid)
            // The victim's tab comes back after 31 idle minutes.
            const res =
              action === 'page'
                ? await app.request('/session', { headers: { cookie: victim.header } })
                : await app.request('/logout', post(victim.header))
            expect(res.status).toBe(200)
            expect(invalid).toEqual(['inactive'])
            victim.apply(res)
            expect(victim.header).toBe('')
            expect(await inner?.get(sid)).toBeNull()
            expect((await session(attacker.header)).session).toBeNull()
          } finally {
            restoreClock()
          }
        })
      }

      for (const route of ['/login', '/logout'] as const) {
        it(`a ${route === '/login' ? 'sign-in' : 'sign-out'} over a refused duplicate session cookie ends every record the duplicates name`, async () => {
          const { app, inner, invalid, login, session } = setup()
          const victim = new CookieJar()
          const first = await login(victim, uniqueSub('dup-victim'))
          const stolen = victim.header
          const other = new CookieJar()
          const second = await login(other, uniqueSub('dup-other'))
          // Two cookies of one name (and a forged one): ambiguous, so refused; each genuine one still names a record.
          const cookie = `${SESSION}=${victim.cookies.get(SESSION)}; ${SESSION}=not-a-token; ${SESSION}=${other.cookies.get(SESSION)}`
          const res = await app.request(route, post(cookie, { sub: uniqueSub('dup-victim') }))
          expect(res.status).toBe(200)
          expect(invalid).toEqual(['duplicate'])
          expect(await inner?.get(first.body.session.internal.sid)).toBeNull()
          expect(await inner?.get(second.body.session.internal.sid)).toBeNull()
          expect((await session(stolen)).session).toBeNull()
          expect((await session(other.header)).session).toBeNull()
        })
      }
    }

    it('a slow page finishing after sign-out does not bring the session back', async () => {
      const { app, gate, inner, counted, login, session } = setup()
      gate.current = new Gate()
      const jar = new CookieJar()
      const { body } = await login(jar, uniqueSub('slow-page'))
      const slow = app.request('/slow-page', { headers: { ...NAVIGATE, cookie: jar.header } })
      await gate.current.entered
      jar.apply(await app.request('/logout', post(jar.header)))
      gate.current.release()
      const late = await slow
      expect(late.status).toBe(200)
      // Only the activity cookie: the late response does not rewrite the session cookie.
      expect(names(late)).toEqual([ACTIVITY])
      jar.apply(late)
      expect((await session(jar.header)).session).toBeNull()
      if (inner) {
        expect(await inner.get(body.session.internal.sid)).toBeNull()
        expect(counted?.calls.set).toBe(1)
        expect(counted?.calls.update).toBe(0)
      }
    })

    if (atomic) {
      it('an update in flight when the session is deleted leaves it deleted', async () => {
        const { app, gate, inner, login, session } = setup()
        gate.current = new Gate()
        const jar = new CookieJar()
        const { body } = await login(jar, uniqueSub('slow-update'))
        const stolen = jar.header
        const slow = app.request('/slow-update', post(jar.header))
        await gate.current.entered
        jar.apply(await app.request('/logout', post(jar.header)))
        gate.current.release()
        const late = await slow
        expect(late.status).toBe(409)
        expect(await late.json()).toEqual({ code: 'ERR_SESSION_MISSING' })
        expect(await inner?.get(body.session.internal.sid)).toBeNull()
        expect((await session(stolen)).session).toBeNull()
      })

      it('50 parallel increments of one session end at exactly 50', async () => {
        const { app, login, session } = setup()
        const jar = new CookieJar()
        await login(jar, uniqueSub('counter'))
        const responses = await Promise.all(
          Array.from({ length: 50 }, () => app.request('/increment', post(jar.header))),
        )
        expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200))
        expect((await session(jar.header)).session?.count).toBe(50)
      })
    }

    if (probe) {
      it('an update that changes the user files the record under the new user', async () => {
        const { app, inner, counted, login, session } = setup()
        const jar = new CookieJar()
        const before = uniqueSub('renamed-from')
        const after = uniqueSub('renamed-to')
        const { body } = await login(jar, before)
        const res = await app.request('/update', post(jar.header, { user: { sub: after } }))
        expect(res.status).toBe(200)
        expect((await session(jar.header)).session?.user.sub).toBe(after)
        expect((await inner?.get(body.session.internal.sid))?.user).toEqual({ sub: after })
        // Without an atomic update the middleware writes with `set`, and names the new user.
        if (!atomic) expect(counted?.setSubs).toEqual([before, after])
        if (byUser) {
          const ended = await app.request('/logout-everywhere-of', post('', { sub: before }))
          expect(await ended.json()).toEqual({ ended: 0 })
          expect((await session(jar.header)).session?.user.sub).toBe(after)
          const endedAfter = await app.request('/logout-everywhere-of', post('', { sub: after }))
          expect(await endedAfter.json()).toEqual({ ended: 1 })
          expect((await session(jar.header)).session).toBeNull()
        }
      })
    }

    if (byUser) {
      it('signs a user out everywhere, and only that user', async () => {
        const { app, login, session, invalid } = setup()
        const sub = uniqueSub('everywhere')
        const [laptop, phone, other] = [new CookieJar(), new CookieJar(), new CookieJar()]
        await login(laptop, sub)
        await login(phone, sub)
        const otherLogin = await login(other, uniqueSub('bystander'))
        const res = await app.request('/logout-everywhere', post(laptop.header))
        expect(await res.json()).toEqual({ ended: 2 })
        laptop.apply(res)
        expect(laptop.header).toBe('')
        expect((await session(phone.header)).session).toBeNull()
        expect(invalid).toEqual(['revoked'])
        expect((await session(other.header)).session?.internal.sid).toBe(otherLogin.body.session.internal.sid)
      })
    } else {
      it('refuses to sign a user out everywhere (unsupported), and keeps the session', async () => {
        const { app, login, session } = setup()
        const jar = new CookieJar()
        await login(jar, uniqueSub('everywhere'))
        const res = await app.request('/logout-everywhere', post(jar.header))
        expect(res.status).toBe(409)
        expect(await res.json()).toEqual({ code: 'ERR_SESSION_UNSUPPORTED' })
        expect((await session(jar.header)).session).not.toBeNull()
      })
    }
  })
}
