import { Hono } from 'hono'
import type { Context } from 'hono'
import { getCookie } from 'hono/cookie'
import { describe, expect, it } from 'vitest'
import { createSession, destroySession, edgeSession, getSession, updateSession } from '../../../src'
import type { EdgeSessionOptions } from '../../../src'
import {
  ACTIVITY,
  CookieJar,
  OLD_SECRET,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  clearingLines,
  jarWith,
  navigation,
  setCookieNames,
  setCookieValue,
} from '../../helpers'

/** Cookies of the app that must come through every merge unchanged, byte for byte. */
const OTHERS = [
  'theme="dark mode"',
  'a=1',
  'b=x%20y',
  'flag',
  '__Host-sessionid=keep',
  '__host-session=not-ours',
  'c=="eq"',
]
const OTHERS_HEADER = `${OTHERS[0]}; ${OTHERS[1]};${OTHERS[2]};  ${OTHERS[3]}; ${OTHERS[4]}; ${OTHERS[5]}; ${OTHERS[6]}`

interface Downstream {
  session: { onboardingStep?: string; user: { sub: string } } | null
  header: string | null
  raw: string | null
  getCookie: string | null
  getCookieActivity: string | null
  viaRequest: { cookie: string | null; body: string | null; contentType: string | null }
  viaFetch: { cookie: string | null; body: string | null; contentType: string | null }
  json?: unknown
}

/** Stands for the origin a Worker forwards to: echoes the Cookie header and body it received. */
function createOrigin() {
  const origin = new Hono()
  origin.all('*', async (c) =>
    c.json({
      cookie: c.req.header('cookie') ?? null,
      // Bytes, decoded here (workerd warns when .text() reads a form body).
      body:
        c.req.method === 'GET' || c.req.method === 'HEAD' ? null : new TextDecoder().decode(await c.req.arrayBuffer()),
      contentType: c.req.header('content-type') ?? null,
    }),
  )
  return origin
}

/**
 * edgeSession, then `before` (an earlier middleware that may change the session), then a handler
 * that reports what it sees in every place a handler can look, and forwards the request twice.
 */
function createMergeApp(
  before: (c: Context) => Promise<void> = async () => {},
  options: Partial<EdgeSessionOptions> = {},
  handler?: (c: Context) => Promise<unknown>,
) {
  const origin = createOrigin()
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, activity: { touchInterval: 900 }, ...options }))
  app.use(async (c, next) => {
    await before(c)
    await next()
  })
  app.all('/see', async (c) => {
    const json = handler ? await handler(c) : undefined
    // Two forwards of the same request: the first as fetch(c.req.raw) would, the second through app.request.
    const viaFetch = await (await origin.fetch(c.req.raw.clone() as Request)).json()
    const viaRequest = await (await origin.request(c.req.raw)).json()
    return c.json({
      session: getSession(c),
      header: c.req.header('cookie') ?? null,
      raw: c.req.raw.headers.get('cookie'),
      getCookie: getCookie(c, SESSION) ?? null,
      getCookieActivity: getCookie(c, ACTIVITY) ?? null,
      viaFetch,
      viaRequest,
      json,
    })
  })
  return app
}

async function see(app: Hono, init: RequestInit): Promise<{ res: Response; seen: Downstream }> {
  const res = await app.request('/see', init)
  expect(res.status).toBe(200)
  return { res, seen: (await res.json()) as Downstream }
}

/** Asserts every place downstream agrees on `expected` (the session cookie value, or null). */
function expectEverywhere(seen: Downstream, expected: string | null): void {
  for (const header of [seen.header, seen.raw, seen.viaFetch.cookie, seen.viaRequest.cookie]) {
    const pairs = (header ?? '').split('; ')
    for (const other of OTHERS) expect(pairs).toContain(other)
    const ours = pairs.filter((p) => p.startsWith(`${SESSION}=`) || p.startsWith(`${SESSION}.`))
    expect(ours).toEqual(expected === null ? [] : [`${SESSION}=${expected}`])
  }
  expect(seen.getCookie).toBe(expected)
}

describe('merged headers: downstream sees the session as it is now', () => {
  it('after an earlier middleware called updateSession', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = createMergeApp(async (c) => {
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    })
    const { res, seen } = await see(app, { headers: { cookie: `${OTHERS_HEADER}; ${jar.header}` } })
    const written = setCookieValue(res, SESSION)
    expect(written).toBeDefined()
    expect(written).not.toBe(jar.cookies.get(SESSION))
    expect(seen.session?.onboardingStep).toBe('COMPLETED')
    expectEverywhere(seen, written ?? '')
  })

  it('after createSession (anonymous before)', async () => {
    const app = createMergeApp(async (c) => {
      await createSession(c, { user: { sub: 'new-user' } })
    })
    const { res, seen } = await see(app, { headers: { cookie: OTHERS_HEADER } })
    expect(seen.session?.user.sub).toBe('new-user')
    expectEverywhere(seen, setCookieValue(res, SESSION) ?? '')
  })

  it('after createSession replaced a session: the old activity cookie is gone too', async () => {
    const jar = await jarWith({ onboardingStep: 'COMPLETED', sub: 'old-user' })
    // Give the jar an activity cookie first.
    const plain = createMergeApp(async () => {}, { activity: { touchInterval: 0 } })
    jar.apply(await plain.request('/see', { headers: navigation(jar.header) }))
    expect(jar.cookies.has(ACTIVITY)).toBe(true)
    const app = createMergeApp(async (c) => {
      await createSession(c, { user: { sub: 'new-user' } })
    })
    const { res, seen } = await see(app, { headers: { cookie: `${OTHERS_HEADER}; ${jar.header}` } })
    expectEverywhere(seen, setCookieValue(res, SESSION) ?? '')
    expect(seen.getCookieActivity).toBeNull()
    expect(seen.header).not.toContain(ACTIVITY)
  })

  it('after destroySession', async () => {
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const app = createMergeApp(async (c) => {
      await destroySession(c)
    })
    const { res, seen } = await see(app, { headers: { cookie: `${OTHERS_HEADER}; ${jar.header}` } })
    expect(seen.session).toBeNull()
    expectEverywhere(seen, null)
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })

  it('after key rotation at load (re-sealed with the current secret)', async () => {
    const old = await jarWith({ onboardingStep: 'COMPLETED' }, { secret: OLD_SECRET })
    const app = createMergeApp(undefined, { secret: [SECRET, OLD_SECRET] })
    const { res, seen } = await see(app, { headers: { cookie: `${OTHERS_HEADER}; ${old.header}` } })
    const resealed = setCookieValue(res, SESSION)
    expect(resealed).toBeDefined()
    expect(resealed).not.toBe(old.cookies.get(SESSION))
    expect(seen.session?.onboardingStep).toBe('COMPLETED')
    expectEverywhere(seen, resealed ?? '')
    // What downstream forwarded opens with the current secret alone.
    const current = createMergeApp()
    const again = await see(current, { headers: { cookie: seen.viaRequest.cookie ?? '' } })
    expect(again.seen.session?.onboardingStep).toBe('COMPLETED')
  })

  it('after a bad cookie was cleared at load', async () => {
    const jar = await jarWith({ onboardingStep: 'COMPLETED' })
    const token = jar.cookies.get(SESSION) ?? ''
    // One tag character changed, always (writing a fixed 'AAA' left the token as it was once in ~16,000 runs).
    const at = token.length - 3
    const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`
    const app = createMergeApp()
    const { res, seen } = await see(app, { headers: { cookie: `${OTHERS_HEADER}; ${SESSION}=${tampered}` } })
    expect(seen.session).toBeNull()
    expectEverywhere(seen, null)
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })

  it('a big session in chunks: downstream sees exactly the written chunks, and none after shrinking', async () => {
    const big = 'x'.repeat(5000)
    const app = createMergeApp(async (c) => {
      const mode = c.req.query('mode')
      if (mode === 'grow') await createSession<{ big: string }>(c, { user: { sub: 'u' }, big })
      if (mode === 'shrink') await updateSession(c, (s) => ({ user: s.user }))
    })
    const grown = await app.request('/see?mode=grow', { headers: { cookie: OTHERS_HEADER } })
    expect(setCookieNames(grown)).toEqual([`${SESSION}.0`, `${SESSION}.1`, SESSION, `${SESSION}.2`])
    const names = [`${SESSION}.0`, `${SESSION}.1`]
    const seenGrown = (await grown.json()) as Downstream
    for (const header of [seenGrown.header, seenGrown.viaFetch.cookie, seenGrown.viaRequest.cookie]) {
      for (const name of names) expect((header ?? '').split('; ')).toContain(`${name}=${setCookieValue(grown, name)}`)
      for (const other of OTHERS) expect((header ?? '').split('; ')).toContain(other)
    }
    const jar = new CookieJar().apply(grown)
    const shrunk = await app.request('/see?mode=shrink', { headers: { cookie: `${OTHERS_HEADER}; ${jar.header}` } })
    // One write, and deletions of every chunk name (the two it replaced among them).
    expect(setCookieNames(shrunk)).toEqual([SESSION, ...SESSION_CHUNKS])
    expect(
      shrunk.headers
        .getSetCookie()
        .slice(1)
        .every((l) => /Max-Age=0/.test(l)),
    ).toBe(true)
    expectEverywhere((await shrunk.json()) as Downstream, setCookieValue(shrunk, SESSION) ?? '')
  })
})

describe('merged headers: the merged request is built once, when downstream looks', () => {
  it('is not built at all when nothing downstream looks at the request', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const built: string[] = []
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/:mode', async (c) => {
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      built.push(`after update: ${requests.count}`)
      // c.req.path and route params are known without the request; c.req.url or query() would read it.
      if (c.req.path === '/look') c.req.header('cookie')
      built.push(`at return: ${requests.count}`)
      return c.body(null, 204)
    })
    // Counts every Request built while the handler runs (the merge is the only one it may build).
    const requests = { count: 0 }
    const NativeRequest = globalThis.Request
    globalThis.Request = class CountingRequest extends NativeRequest {
      constructor(...args: ConstructorParameters<typeof Request>) {
        super(...args)
        requests.count++
      }
    }
    try {
      const quiet = new NativeRequest('http://localhost/quiet', { method: 'POST', headers: { cookie: jar.header } })
      requests.count = 0
      expect((await app.fetch(quiet)).status).toBe(204)
      expect(built).toEqual(['after update: 0', 'at return: 0'])
      built.length = 0
      const looking = new NativeRequest('http://localhost/look', { method: 'POST', headers: { cookie: jar.header } })
      requests.count = 0
      expect((await app.fetch(looking)).status).toBe(204)
      expect(built).toEqual(['after update: 0', 'at return: 1'])
    } finally {
      globalThis.Request = NativeRequest
    }
  })

  it('two changes in one request: one request, carrying the last cookie, with the body intact', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const body = JSON.stringify({ note: 'twice' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/twice', async (c) => {
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'PREFERENCES' }))
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      const first = c.req.raw
      return c.json({ same: c.req.raw === first, cookie: first.headers.get('cookie'), json: await c.req.json() })
    })
    const res = await app.request('/twice', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/json' },
      body,
    })
    const seen = (await res.json()) as { same: boolean; cookie: string; json: unknown }
    expect(seen.same).toBe(true)
    expect(seen.cookie).toBe(`${SESSION}=${setCookieValue(res, SESSION)}`)
    expect(seen.json).toEqual({ note: 'twice' })
  })

  it('a request the app puts in c.req.raw after a change wins, and a later change merges into it', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/replace', async (c) => {
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'PREFERENCES' }))
      const mine = new Request('https://app.example/replaced', { headers: { cookie: 'a=1', 'x-mine': 'yes' } })
      c.req.raw = mine
      const kept = c.req.raw === mine
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return c.json({ kept, url: c.req.url, mine: c.req.header('x-mine'), cookie: c.req.header('cookie') })
    })
    const res = await app.request('/replace', { headers: { cookie: jar.header } })
    const seen = (await res.json()) as { kept: boolean; url: string; mine: string; cookie: string }
    expect(seen).toEqual({
      kept: true,
      url: 'https://app.example/replaced',
      mine: 'yes',
      cookie: `a=1; ${SESSION}=${setCookieValue(res, SESSION)}`,
    })
  })
})

describe('merged headers: request bodies survive the merge', () => {
  const payload = JSON.stringify({ note: 'héllo', n: [1, 2, 3] }, null, 2)

  it('when the session changes before anyone read the body', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = createMergeApp(
      async (c) => {
        await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      },
      {},
      (c) => c.req.raw.clone().json(),
    )
    const { seen } = await see(app, {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/json' },
      body: payload,
    })
    expect(seen.json).toEqual(JSON.parse(payload))
    expect(seen.viaFetch.body).toBe(payload)
    expect(seen.viaRequest.body).toBe(payload)
    expect(seen.viaRequest.contentType).toBe('application/json')
  })

  it('when the handler read the body with c.req.json() before updating the session', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = createMergeApp(undefined, {}, async (c) => {
      const first = await c.req.json()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      const again = await c.req.json()
      expect(again).toEqual(first)
      expect(c.req.raw.bodyUsed).toBe(false)
      return again
    })
    const { res, seen } = await see(app, {
      method: 'PUT',
      headers: { cookie: jar.header, 'content-type': 'application/json' },
      body: payload,
    })
    expect(seen.json).toEqual(JSON.parse(payload))
    expect(seen.viaFetch.body).toBe(payload)
    expect(seen.viaRequest.body).toBe(payload)
    expect(seen.viaRequest.cookie).toBe(`${SESSION}=${setCookieValue(res, SESSION)}`)
  })

  it('when an urlencoded form was parsed with c.req.parseBody() first', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const body = 'displayName=Ada+L.&purpose=work&x=%26%3D'
    const app = createMergeApp(undefined, {}, async (c) => {
      const parsed = await c.req.parseBody()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return parsed
    })
    const { seen } = await see(app, {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    })
    expect(seen.json).toEqual({ displayName: 'Ada L.', purpose: 'work', x: '&=' })
    expect(seen.viaRequest.body).toBe(body)
  })

  it('when a multipart form was read with c.req.formData() first', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const origin = new Hono()
    origin.post('*', async (c) => {
      const form = await c.req.formData()
      const file = form.get('avatar') as File
      return c.json({
        name: form.get('name'),
        file: file.name,
        type: file.type,
        text: await file.text(),
        cookie: c.req.header('cookie'),
      })
    })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/upload', async (c) => {
      const form = await c.req.formData()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return c.json({ mine: form.get('name'), origin: await (await origin.request(c.req.raw)).json() })
    })
    const form = new FormData()
    form.append('name', 'Ada "the first"')
    form.append('avatar', new File(['<svg/>'], 'me.svg', { type: 'image/svg+xml' }))
    const res = await app.request('/upload', { method: 'POST', headers: { cookie: jar.header }, body: form })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { mine: string; origin: Record<string, string> }
    expect(out.mine).toBe('Ada "the first"')
    expect(out.origin).toMatchObject({ name: 'Ada "the first"', file: 'me.svg', type: 'image/svg+xml', text: '<svg/>' })
    expect(out.origin.cookie).toBe(`${SESSION}=${setCookieValue(res, SESSION)}`)
  })
})

/** edgeSession, an update before the handler, and a handler that reports what it sees. */
function updatingApp() {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET }))
  app.use(async (c, next) => {
    await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    await next()
  })
  app.get('/see', (c) => c.json({ header: c.req.header('cookie') ?? null, getCookie: getCookie(c, SESSION) ?? null }))
  return app
}

describe('merged headers: the Cookie header downstream', () => {
  it('drops a look-alike of our cookie name that a trimming parser would read as ours (VT after the name)', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    // VT is not SP/HTAB, so `__Host-session\v` is not ours for the reader; but String#trim (and
    // Hono's getCookie) strip it, and the planted pair comes before the merged one.
    const res = await updatingApp().request('/see', {
      headers: { cookie: `a=1; ${SESSION}\u000b=planted; ${jar.header}` },
    })
    expect(res.status).toBe(200)
    const written = setCookieValue(res, SESSION)
    expect(written).toBeDefined()
    const seen = (await res.json()) as { header: string; getCookie: string | null }
    expect(seen.header).toBe(`a=1; ${SESSION}=${written}`)
    expect(seen.getCookie).toBe(written)
  })

  it('leaves no empty pairs behind', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await updatingApp().request('/see', { headers: { cookie: `;a=1;; ;b=2; ${jar.header};` } })
    const written = setCookieValue(res, SESSION)
    const seen = (await res.json()) as { header: string }
    expect(seen.header).toBe(`a=1; b=2; ${SESSION}=${written}`)
  })

  it('removes the Cookie header when no cookie is left, rather than sending an empty one', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/out', async (c) => {
      await destroySession(c)
      return c.json({ header: c.req.header('cookie') ?? null, raw: c.req.raw.headers.has('cookie') })
    })
    const res = await app.request('/out', { headers: { cookie: jar.header } })
    expect(await res.json()).toEqual({ header: null, raw: false })
  })
})
