import { afterEach, describe, expect, it } from 'vitest'
import {
  ACTIVITY,
  CookieJar,
  OLD_SECRET,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  T0,
  call,
  cleared,
  coreApp,
  kidOf,
  readSession,
  restoreClock,
  tokenFrom,
  useClock,
  written,
} from '../../helpers'

const THIRD_SECRET = 'third-secret-0123456789-abcdefghijklmno'

describe('secret rotation', () => {
  it('a cookie sealed under an older secret is accepted and re-issued under the current one', async () => {
    const old = coreApp({ secret: OLD_SECRET })
    const jar = new CookieJar()
    await call(old.app, '/login', { body: { user: { sub: 'u1' }, plan: 'pro' }, jar })
    const oldToken = jar.cookies.get('__Host-session') as string
    const oldKid = kidOf(oldToken)

    const current = coreApp({ secret: SECRET })
    const currentKid = kidOf(
      tokenFrom(written(await call(current.app, '/login', { body: { user: { sub: 'x' } } }))) as string,
    )
    expect(currentKid).not.toBe(oldKid)

    const rotated = coreApp({ secret: [SECRET, OLD_SECRET] })
    const { res, session } = await readSession(rotated.app, { jar })
    expect(session).toMatchObject({ user: { sub: 'u1' }, plan: 'pro' })
    const reissued = written(res).get('__Host-session')
    expect(reissued).toBeDefined()
    expect(reissued?.value).not.toBe(oldToken)
    expect(kidOf(reissued?.value as string)).toBe(currentKid)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect(rotated.invalid).toEqual([])
    // Downstream handlers of this request already see the re-issued cookie.
    expect(((await res.json()) as { cookie: string }).cookie).toBe(`__Host-session=${reissued?.value}`)

    // The re-issued cookie opens with the current secret alone, and is not re-issued again.
    const next = await readSession(current.app, { jar })
    expect(next.session).toMatchObject({ user: { sub: 'u1' }, plan: 'pro' })
    expect(next.session?.internal).toEqual(session?.internal)
    expect(next.res.headers.getSetCookie()).toEqual([])
  })

  it('a cookie under an older secret that the re-issue could not fit in a lowered maxBytes is refused as oversized, never a 500', async () => {
    const old = coreApp({ secret: OLD_SECRET })
    const jar = new CookieJar()
    await call(old.app, '/login', { body: { user: { sub: 'u1' }, pad: 'p'.repeat(1500) }, jar })
    const token = jar.cookies.get('__Host-session') as string
    // Read allows a token of maxBytes characters; the written cookie also counts its name.
    const rotated = coreApp({ secret: [SECRET, OLD_SECRET], maxBytes: token.length })
    const { res, session } = await readSession(rotated.app, { jar })
    expect(res.status).toBe(200)
    expect(session).toBeNull()
    expect(rotated.invalid).toEqual(['oversized'])
    expect(res.headers.getSetCookie()).toEqual([expect.stringMatching(/^__Host-session=; Max-Age=0;/)])
  })

  it('a cookie under the current secret is not re-issued when older secrets are listed', async () => {
    const rotated = coreApp({ secret: [SECRET, OLD_SECRET] })
    const jar = new CookieJar()
    await call(rotated.app, '/login', { body: { user: { sub: 'u1' } }, jar })
    const { res, session } = await readSession(rotated.app, { jar })
    expect(session?.user.sub).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])
  })

  it('a chunked cookie under an older secret is re-issued with every chunk', async () => {
    const old = coreApp({ secret: OLD_SECRET })
    const jar = new CookieJar()
    await call(old.app, '/login', { body: { user: { sub: 'u1' }, pad: 'p'.repeat(5000) }, jar })
    expect(jar.cookies.has('__Host-session.1')).toBe(true)
    const oldKid = kidOf(tokenFrom(new Map(jar.cookies)) as string)
    const rotated = coreApp({ secret: [SECRET, OLD_SECRET] })
    const { res, session } = await readSession(rotated.app, { jar })
    expect(session?.pad).toBe('p'.repeat(5000))
    const token = tokenFrom(written(res)) as string
    expect(kidOf(token)).not.toBe(oldKid)
    expect([...written(res).keys()].filter((n) => n.startsWith('__Host-session.')).sort()).toEqual([
      '__Host-session.0',
      '__Host-session.1',
    ])
    expect((await readSession(coreApp({ secret: SECRET }).app, { jar })).session?.pad).toBe('p'.repeat(5000))
  })

  it('a cookie under a secret that is no longer listed is "no session" and cleared', async () => {
    const old = coreApp({ secret: OLD_SECRET })
    const jar = new CookieJar()
    await call(old.app, '/login', { body: { user: { sub: 'u1' } }, jar })
    const dropped = coreApp({ secret: [SECRET, THIRD_SECRET] })
    const { res, session } = await readSession(dropped.app, { jar })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual(['__Host-session', ...SESSION_CHUNKS])
    expect(dropped.invalid).toEqual(['undecryptable'])
    expect(dropped.errors).toEqual([])
  })
})

describe('secret rotation: an activity cookie sealed under an older secret', () => {
  afterEach(restoreClock)

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
    expect([...lines.keys()].sort()).toEqual([SESSION, ACTIVITY].sort())
    const mainKid = kidOf(tokenFrom(lines) as string)
    expect(kidOf(lines.get(ACTIVITY)?.value as string)).toBe(mainKid)
    expect(mainKid).not.toBe(oldActivityKid)
  })
})
