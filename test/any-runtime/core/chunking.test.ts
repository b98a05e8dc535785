import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  type CallOptions,
  CookieJar,
  type ErrorBody,
  SESSION,
  SESSION_CHUNKS,
  T0,
  call,
  cleared,
  coreApp,
  padForTokenLength,
  readSession,
  restoreClock,
  setCookieMap,
  setCookies,
  tokenFrom,
  useClock,
  written,
  writtenNames,
} from '../../helpers'

const LIMIT = 4096
const ATTRS = { path: '/', httponly: true, secure: true, samesite: 'Lax' }

// Sizes depend on the clock only through digit counts; a fixed clock keeps them reproducible.
beforeEach(() => {
  useClock(T0)
})
afterEach(restoreClock)

async function signIn(app: ReturnType<typeof coreApp>['app'], claims: Record<string, unknown>) {
  const jar = new CookieJar()
  const res = await call(app, '/login', { body: { user: { sub: 'u1' }, ...claims }, jar })
  expect(res.status).toBe(200)
  return { jar, res }
}

describe('chunk boundaries', () => {
  // `__Host-sessionid` (16 chars) makes both 4096 and 4097 reachable token lengths.
  it('name + value = 4096 is one cookie; 4097 is two chunks .0 (exactly 4096) and .1', async () => {
    const main = '__Host-sessionid'
    const { app } = coreApp({ cookie: { name: 'sessionid' } })

    const atLimit = await padForTokenLength(app, LIMIT - main.length, main)
    expect(atLimit, 'a pad giving name + value = 4096').toBeDefined()
    const one = await signIn(app, { pad: 'x'.repeat(atLimit as number) })
    expect(writtenNames(one.res, main)).toEqual([main])
    const single = written(one.res).get(main)
    expect(main.length + (single?.value.length ?? 0)).toBe(LIMIT)
    expect((await readSession(app, { jar: one.jar })).session?.pad).toBe('x'.repeat(atLimit as number))

    const over = await padForTokenLength(app, LIMIT - main.length + 1, main)
    expect(over, 'a pad giving name + value = 4097').toBeDefined()
    const two = await signIn(app, { pad: 'x'.repeat(over as number) })
    expect(writtenNames(two.res, main)).toEqual([`${main}.0`, `${main}.1`])
    const chunks = written(two.res)
    const c0 = chunks.get(`${main}.0`)?.value as string
    const c1 = chunks.get(`${main}.1`)?.value as string
    expect(`${main}.0`.length + c0.length).toBe(LIMIT)
    expect(c0.length + c1.length).toBe(LIMIT - main.length + 1)
    for (const c of [chunks.get(`${main}.0`), chunks.get(`${main}.1`)]) expect(c?.attributes).toMatchObject(ATTRS)
    expect((await readSession(app, { jar: two.jar })).session?.pad).toBe('x'.repeat(over as number))
  })

  it('with the default name: 4095 is one cookie, 4097 is two chunks (4096 is not a reachable JWE length here)', async () => {
    const { app } = coreApp()
    const under = await padForTokenLength(app, LIMIT - SESSION.length - 1)
    expect(under).toBeDefined()
    expect(writtenNames((await signIn(app, { pad: 'x'.repeat(under as number) })).res)).toEqual([SESSION])
    const over = await padForTokenLength(app, LIMIT - SESSION.length + 1)
    expect(over).toBeDefined()
    const two = await signIn(app, { pad: 'x'.repeat(over as number) })
    expect(writtenNames(two.res)).toEqual([`${SESSION}.0`, `${SESSION}.1`])
    for (const [name, c] of written(two.res)) expect(name.length + c.value.length).toBeLessThanOrEqual(LIMIT)
    expect((await readSession(app, { jar: two.jar })).session?.pad).toBe('x'.repeat(over as number))
  })
})

describe('writes sweep chunks that are no longer used', () => {
  it('growing from one cookie to three chunks clears the unchunked cookie', async () => {
    const { app } = coreApp()
    const { jar } = await signIn(app, { a: 1 })
    const res = await call(app, '/update', { body: { pad: 'y'.repeat(7000) }, jar })
    expect(res.status).toBe(200)
    expect(writtenNames(res)).toEqual([`${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    expect(cleared(res)).toEqual([SESSION])
    const clear = setCookieMap(res).get(SESSION)
    expect(clear?.value).toBe('')
    expect(clear?.attributes).toMatchObject(ATTRS)
    expect(res.headers.get('cache-control')).toBe('private, no-store')
    expect([...jar.cookies.keys()].sort()).toEqual([`${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    expect((await readSession(app, { jar })).session).toMatchObject({ a: 1, pad: 'y'.repeat(7000) })
  })

  it('shrinking from three chunks to one clears .0, .1 and .2 with the same attributes', async () => {
    const { app } = coreApp()
    const { jar, res: login } = await signIn(app, { pad: 'z'.repeat(7000) })
    expect(writtenNames(login)).toEqual([`${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    const res = await call(app, '/update', { body: { pad: 'small' }, jar })
    expect(writtenNames(res)).toEqual([SESSION])
    expect(cleared(res)).toEqual([`${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    for (const name of cleared(res)) {
      const line = setCookieMap(res).get(name)
      expect(line?.attributes).toMatchObject({ ...ATTRS, 'max-age': '0' })
      expect(line?.attributes.domain).toBeUndefined()
    }
    expect([...jar.cookies.keys()]).toEqual([SESSION])
    const { session } = await readSession(app, { jar })
    expect(session?.pad).toBe('small')
  })

  it('shrinking from three chunks to two clears .2 (and the unchunked name, as every write does)', async () => {
    const { app } = coreApp()
    const { jar } = await signIn(app, { pad: 'z'.repeat(7000) })
    const res = await call(app, '/update', { body: { pad: 'z'.repeat(4000) }, jar })
    expect(writtenNames(res)).toEqual([`${SESSION}.0`, `${SESSION}.1`])
    expect(cleared(res)).toEqual([SESSION, `${SESSION}.2`])
    expect((await readSession(app, { jar })).session?.pad).toBe('z'.repeat(4000))
  })

  it('logout clears every chunk and the activity cookie', async () => {
    const clock = useClock(T0)
    const { app } = coreApp()
    const { jar } = await signIn(app, { pad: 'z'.repeat(7000) })
    clock.set(T0 + 120_000)
    await readSession(app, { jar })
    expect(jar.cookies.has(`${SESSION}-activity`)).toBe(true)
    const res = await call(app, '/logout', { method: 'POST', jar })
    expect(cleared(res)).toEqual([SESSION, `${SESSION}-activity`, `${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    expect(jar.cookies.size).toBe(0)
  })
})

describe('concurrent writes: the response that arrives last leaves one whole session cookie', () => {
  // Two requests sent with the same cookies (two tabs); the browser applies their responses in
  // the order given. Each write clears every name it did not set, seen in its request or not.
  async function race(
    app: ReturnType<typeof coreApp>['app'],
    jar: CookieJar,
    first: CallOptions & { path: string },
    last: CallOptions & { path: string },
  ) {
    const cookie = jar.header
    const a = await call(app, first.path, { ...first, cookie })
    const b = await call(app, last.path, { ...last, cookie })
    expect([a.status, b.status]).toEqual([200, 200])
    jar.apply(a).apply(b)
  }

  it('one tab grows the session into chunks, the other writes it unchunked, and that answer lands last', async () => {
    const ctx = coreApp()
    const { jar } = await signIn(ctx.app, { a: 1 })
    await race(ctx.app, jar, { path: '/update', body: { pad: 'g'.repeat(7000) } }, { path: '/update', body: { b: 2 } })
    expect([...jar.cookies.keys()]).toEqual([SESSION])
    const { session } = await readSession(ctx.app, { jar })
    expect(session).toMatchObject({ a: 1, b: 2 })
    expect(ctx.invalid).toEqual([])
  })

  it('one tab grows to three chunks, the other rewrites two, and that answer lands last', async () => {
    const ctx = coreApp()
    const { jar } = await signIn(ctx.app, { pad: 'p'.repeat(5000) })
    expect([...jar.cookies.keys()].sort()).toEqual([`${SESSION}.0`, `${SESSION}.1`])
    await race(
      ctx.app,
      jar,
      { path: '/update', body: { pad: 'q'.repeat(7000) } },
      { path: '/update', body: { pad: 'r'.repeat(5000) } },
    )
    expect([...jar.cookies.keys()].sort()).toEqual([`${SESSION}.0`, `${SESSION}.1`])
    expect((await readSession(ctx.app, { jar })).session?.pad).toBe('r'.repeat(5000))
    expect(ctx.invalid).toEqual([])
  })

  it('a sign-out whose answer lands after another tab grew the session into chunks signs out', async () => {
    const ctx = coreApp()
    const { jar } = await signIn(ctx.app, { a: 1 })
    await race(ctx.app, jar, { path: '/update', body: { pad: 'g'.repeat(7000) } }, { path: '/logout', method: 'POST' })
    expect([...jar.cookies.keys()]).toEqual([])
    expect((await readSession(ctx.app, { jar })).session).toBeNull()
  })

  it('with a larger maxBytes, every chunk name it allows is cleared', async () => {
    const ctx = coreApp({ maxBytes: 20_000 })
    const { res } = await signIn(ctx.app, { a: 1 })
    expect(writtenNames(res)).toEqual([SESSION])
    // 20 000 bytes take at most five chunks of about 4 100 bytes.
    expect(cleared(res)).toEqual([0, 1, 2, 3, 4].map((i) => `${SESSION}.${i}`))
    const largest = await signIn(ctx.app, { pad: 'm'.repeat(14_000) })
    expect(writtenNames(largest.res)).toEqual([0, 1, 2, 3, 4].map((i) => `${SESSION}.${i}`))
    expect(cleared(largest.res)).toEqual([SESSION])
  })
})

describe('multibyte text', () => {
  const samples: Record<string, string> = {
    emoji: '😀👩‍👩‍👧‍👦🇯🇵',
    cjk: '漢字かなカナ한국어',
    mixed: 'Ünïcödé ✓ — “quotes” ; = , \\ " \n\t',
    surrogatePair: '\ud83d\ude00x\ud800\udfff',
  }
  it('round-trips exactly in one cookie', async () => {
    const { app } = coreApp()
    const { jar } = await signIn(app, { user: { sub: 'ユーザー😀', name: samples.cjk }, samples })
    const { session } = await readSession(app, { jar })
    expect(session?.user).toEqual({ sub: 'ユーザー😀', name: samples.cjk })
    expect(session?.samples).toEqual(samples)
  })

  it('round-trips exactly across chunks', async () => {
    const { app } = coreApp()
    const big = `${'😀'.repeat(700)}${'漢'.repeat(700)}`
    const { jar, res } = await signIn(app, { big })
    expect(writtenNames(res).length).toBeGreaterThanOrEqual(2)
    const { session } = await readSession(app, { jar })
    expect(session?.big).toBe(big)
  })
})

describe('incoming chunk sets that cannot be trusted are "no session" and cleared', () => {
  async function chunked(app: ReturnType<typeof coreApp>['app']) {
    const { jar } = await signIn(app, { pad: 'q'.repeat(5000) })
    const chunks = [...jar.cookies].filter(([n]) => n.startsWith(`${SESSION}.`))
    expect(chunks.map(([n]) => n)).toEqual([`${SESSION}.0`, `${SESSION}.1`])
    return Object.fromEntries(chunks) as Record<string, string>
  }
  const header = (pairs: Array<[string, string]>) => pairs.map(([n, v]) => `${n}=${v}`).join('; ')

  it('chunks sent in another order are joined by index (browsers do not keep order)', async () => {
    const ctx = coreApp()
    const c = await chunked(ctx.app)
    const { session, res } = await readSession(ctx.app, {
      cookie: header([
        [`${SESSION}.1`, c[`${SESSION}.1`] as string],
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
      ]),
    })
    expect(session?.pad).toBe('q'.repeat(5000))
    expect(res.headers.getSetCookie()).toEqual([])
  })

  const cases: Array<
    [string, (c: Record<string, string>, other: Record<string, string>) => Array<[string, string]>, string]
  > = [
    ['a missing .1', (c) => [[`${SESSION}.0`, c[`${SESSION}.0`] as string]], 'incomplete'],
    ['a missing .0', (c) => [[`${SESSION}.1`, c[`${SESSION}.1`] as string]], 'incomplete'],
    [
      'a gap (.0 and .2)',
      (c) => [
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
        [`${SESSION}.2`, c[`${SESSION}.1`] as string],
      ],
      'incomplete',
    ],
    [
      'an unchunked cookie beside chunks',
      (c, o) => [
        [SESSION, o[`${SESSION}.0`] as string],
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
        [`${SESSION}.1`, c[`${SESSION}.1`] as string],
      ],
      'incomplete',
    ],
    [
      'chunk values swapped',
      (c) => [
        [`${SESSION}.0`, c[`${SESSION}.1`] as string],
        [`${SESSION}.1`, c[`${SESSION}.0`] as string],
      ],
      'undecryptable',
    ],
    [
      'a chunk from another session',
      (c, o) => [
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
        [`${SESSION}.1`, o[`${SESSION}.1`] as string],
      ],
      'undecryptable',
    ],
    [
      'a duplicated chunk name',
      (c) => [
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
        [`${SESSION}.0`, c[`${SESSION}.0`] as string],
        [`${SESSION}.1`, c[`${SESSION}.1`] as string],
      ],
      'duplicate',
    ],
  ]
  for (const [label, build, reason] of cases) {
    it(label, async () => {
      const ctx = coreApp()
      const mine = await chunked(ctx.app)
      const other = await chunked(ctx.app)
      const pairs = build(mine, other)
      const { session, res } = await readSession(ctx.app, { cookie: header(pairs) })
      expect(session).toBeNull()
      expect(res.status).toBe(200)
      // Every name the session cookie can take, sent or not (see 'concurrent writes' below).
      expect(cleared(res)).toEqual([SESSION, ...SESSION_CHUNKS])
      for (const c of setCookies(res)) expect(c.attributes).toMatchObject({ ...ATTRS, 'max-age': '0' })
      expect(ctx.invalid).toEqual([reason])
      expect(ctx.errors).toEqual([])
      // Downstream handlers no longer see the refused cookies.
      expect(((await res.json()) as { cookie: string | null }).cookie).toBeNull()
    })
  }
})

describe('maxBytes', () => {
  it('an update past maxBytes throws SessionTooLargeError; the previous cookie stays untouched', async () => {
    const { app } = coreApp()
    const { jar } = await signIn(app, { keep: 'me' })
    const before = new Map(jar.cookies)
    const res = await call(app, '/update', { body: { pad: 'w'.repeat(12_000) }, jar })
    expect(res.status).toBe(422)
    const body = (await res.json()) as ErrorBody
    expect(body).toMatchObject({ error: 'SessionTooLargeError', code: 'ERR_SESSION_TOO_LARGE', limit: 10_240 })
    expect(body.bytes).toBeGreaterThan(10_240)
    expect(res.headers.getSetCookie()).toEqual([])
    expect(jar.cookies).toEqual(before)
    const { session } = await readSession(app, { jar })
    expect(session?.keep).toBe('me')
    expect(session).not.toHaveProperty('pad')
  })

  it('createSession past maxBytes keeps the previous session too', async () => {
    const { app } = coreApp()
    const { jar } = await signIn(app, { keep: 'me' })
    const res = await call(app, '/login', { body: { user: { sub: 'u2' }, pad: 'w'.repeat(12_000) }, jar })
    expect(res.status).toBe(422)
    expect(((await res.json()) as ErrorBody).code).toBe('ERR_SESSION_TOO_LARGE')
    expect(res.headers.getSetCookie()).toEqual([])
    expect((await readSession(app, { jar })).session).toMatchObject({ user: { sub: 'u1' }, keep: 'me' })
  })

  it('the limit counts every chunk with its name: exactly maxBytes passes, one less refuses', async () => {
    const probe = coreApp()
    const { res } = await signIn(probe.app, { pad: 'v'.repeat(3000) })
    const cookies = [...written(res)].filter(([n]) => n.startsWith(SESSION) && n !== `${SESSION}-activity`)
    const bytes = cookies.reduce((n, [name, c]) => n + name.length + 1 + c.value.length + 2, 0)
    expect(cookies.length).toBe(2)

    const exact = coreApp({ maxBytes: bytes })
    expect((await call(exact.app, '/login', { body: { user: { sub: 'u1' }, pad: 'v'.repeat(3000) } })).status).toBe(200)
    const tight = coreApp({ maxBytes: bytes - 1 })
    const refused = await call(tight.app, '/login', { body: { user: { sub: 'u1' }, pad: 'v'.repeat(3000) } })
    expect(refused.status).toBe(422)
    expect(await refused.json()).toMatchObject({ code: 'ERR_SESSION_TOO_LARGE', bytes, limit: bytes - 1 })
  })

  it('incoming chunks joining to more than maxBytes are "no session" and cleared ("oversized")', async () => {
    const big = coreApp({ maxBytes: 16_384 })
    const { jar } = await signIn(big.app, { pad: 'o'.repeat(8000) })
    const small = coreApp()
    expect((tokenFrom(new Map(jar.cookies)) as string).length).toBeGreaterThan(10_240)
    const { session, res } = await readSession(small.app, { jar })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([SESSION, `${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`])
    expect(small.invalid).toEqual(['oversized'])
  })

  it('a single unchunked cookie over maxBytes is "oversized" and cleared', async () => {
    const ctx = coreApp()
    const { session, res } = await readSession(ctx.app, { cookie: `${SESSION}=${'a'.repeat(11_000)}` })
    expect(session).toBeNull()
    expect(cleared(res)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(ctx.invalid).toEqual(['oversized'])
  })

  it('many unrelated cookies (a large Cookie header) do not cost the user the session', async () => {
    const ctx = coreApp()
    const { jar } = await signIn(ctx.app, { keep: 'me' })
    const noise = Array.from({ length: 60 }, (_, i) => `tracker_${i}=${'n'.repeat(1000)}`).join('; ')
    const { session, res } = await readSession(ctx.app, { cookie: `${noise}; ${jar.header}` })
    expect(session?.keep).toBe('me')
    expect(res.headers.getSetCookie()).toEqual([])
    expect(ctx.invalid).toEqual([])
  })
})

describe('token helper sanity', () => {
  it('tokenFrom joins chunks in index order', () => {
    const map = new Map([
      [`${SESSION}.1`, 'b'],
      [`${SESSION}.0`, 'a'],
    ])
    expect(tokenFrom(map)).toBe('ab')
  })
})
