/**
 * Requests made by the runtime's own server (Bun.serve / Deno.serve), not by app.request: the
 * session read from real Cookie headers, Set-Cookie lines on the wire, and the merged request
 * handed to a proxied `fetch(c.req.raw)` after the handler read the body.
 */
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSession, destroySession, edgeSession, getSession, updateSession } from 'hono-edge-session'
import { SECRET } from '../helpers'

type Serve = (
  fetch: (request: Request) => Response | Promise<Response>,
) => Promise<{ origin: string; stop(): Promise<void> }>
const globals = globalThis as {
  Bun?: {
    serve(options: { hostname: string; port: number; fetch(request: Request): Response | Promise<Response> }): {
      url: URL
      stop(force: boolean): Promise<void>
    }
  }
  Deno?: {
    serve(
      options: { hostname: string; port: number; onListen(address: { port: number }): void },
      handler: (request: Request) => Response | Promise<Response>,
    ): { finished: Promise<void>; shutdown(): Promise<void> }
  }
}

/** Listens on 127.0.0.1 and a free port with this runtime's server. */
const serve: Serve = async (fetch) => {
  const { Bun, Deno } = globals
  if (Bun) {
    const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch })
    return { origin: server.url.origin, stop: () => server.stop(true) }
  }
  if (!Deno) throw new Error('neither Bun nor Deno')
  let port = 0
  const listening = new Promise<void>((resolve) => {
    const server = Deno.serve(
      { hostname: '127.0.0.1', port: 0, onListen: (address) => ((port = address.port), resolve()) },
      fetch,
    )
    stop = () => server.shutdown()
  })
  let stop: () => Promise<void> = async () => {}
  await listening
  return { origin: `http://127.0.0.1:${port}`, stop: () => stop() }
}

interface Echo {
  cookie: string | null
  body: string
  type: string | null
}

const app = new Hono()
app.use(edgeSession({ secret: SECRET }))
app.post('/login', async (c) => {
  await createSession(c, { user: { sub: 'served' } })
  return c.body(null, 204)
})
/** Reads the body the way the route's name says, updates the session, then proxies the request to /echo. */
app.post('/update/:as', async (c) => {
  const as = c.req.param('as')
  const n = as === 'json' ? ((await c.req.json()) as { n: string }).n : String((await c.req.formData()).get('n'))
  await updateSession(c, (s) => ({ ...s, n }))
  const echoed = await fetch(new URL('/echo', c.req.url), c.req.raw)
  return c.json({ n: getSession<{ n?: string }>(c)?.n, echo: (await echoed.json()) as Echo })
})
app.post('/logout', async (c) => {
  await destroySession(c)
  const echoed = await fetch(new URL('/echo', c.req.url), c.req.raw)
  return c.json({ echo: (await echoed.json()) as Echo })
})
app.all('/echo', async (c) =>
  c.json({
    cookie: c.req.header('cookie') ?? null,
    body: await c.req.text(),
    type: c.req.header('content-type') ?? null,
  }),
)
app.get('/whoami', (c) => c.text(getSession(c)?.user.sub ?? 'nobody'))
app.post('/login-large', async (c) => {
  await createSession<{ notes: string }>(c, {
    user: { sub: 'served' },
    notes: 'x'.repeat(Number(c.req.query('chars'))),
  })
  return c.body(null, 204)
})
app.get('/notes', (c) => c.text(String(getSession<{ notes?: string }>(c)?.notes?.length ?? 'none')))

let server: Awaited<ReturnType<Serve>>
beforeAll(async () => {
  server = await serve(app.fetch)
})
afterAll(() => server.stop())

/** `name=value` pairs of the Set-Cookie lines a browser keeps (deletions dropped). */
function kept(res: Response): string[] {
  return res.headers
    .getSetCookie()
    .filter((line) => !/;\s*Max-Age=0(;|$)/i.test(line))
    .map((line) => line.slice(0, line.indexOf(';')))
}

async function signIn(): Promise<string> {
  const res = await fetch(`${server.origin}/login`, { method: 'POST' })
  expect(res.status).toBe(204)
  const lines = res.headers.getSetCookie()
  // The session cookie plus the three chunk-name clears, as separate Set-Cookie lines on the wire.
  expect(lines).toHaveLength(4)
  expect(lines[0]).toMatch(
    /^__Host-session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
  )
  expect(res.headers.get('cache-control')).toBe('private, no-store')
  return kept(res).join('; ')
}

describe('requests from the runtime’s own server', () => {
  it('a session cookie set over HTTP is read back from the Cookie header', async () => {
    const cookie = await signIn()
    expect(await (await fetch(`${server.origin}/whoami`, { headers: { cookie } })).text()).toBe('served')
    expect(await (await fetch(`${server.origin}/whoami`)).text()).toBe('nobody')
  })

  const bodies: Array<[string, (n: string) => { body: BodyInit; type?: string }]> = [
    ['json', (n) => ({ body: JSON.stringify({ n }), type: 'application/json' })],
    ['urlencoded', (n) => ({ body: `n=${n}`, type: 'application/x-www-form-urlencoded' })],
    [
      'multipart',
      (n) => {
        const form = new FormData()
        form.append('n', n)
        return { body: form }
      },
    ],
  ]
  for (const [as, make] of bodies) {
    it(`a proxied fetch(c.req.raw) after reading a ${as} body carries the body and the merged Cookie header`, async () => {
      const cookie = `other=1; ${await signIn()}`
      const { body, type } = make('42')
      const res = await fetch(`${server.origin}/update/${as === 'json' ? 'json' : 'form'}`, {
        method: 'POST',
        headers: { cookie, ...(type ? { 'content-type': type } : {}) },
        body,
      })
      expect(res.status).toBe(200)
      const { n, echo } = (await res.json()) as { n: string; echo: Echo }
      expect(n).toBe('42')
      const written = kept(res).find((pair) => pair.startsWith('__Host-session='))
      expect(written).toBeDefined()
      expect(echo.cookie).toBe(`other=1; ${written}`)
      if (as === 'json') expect(JSON.parse(echo.body)).toEqual({ n: '42' })
      else if (as === 'urlencoded') expect(echo.body).toBe('n=42')
      else {
        expect(echo.type).toMatch(/^multipart\/form-data; boundary=/)
        expect(echo.body).toMatch(/name="n"\r\n\r\n42\r\n/)
      }
    })
  }

  it('a session near the default maxBytes (three chunks, about 10 KB of cookies) comes back whole', async () => {
    const chars = 7_200
    const login = await fetch(`${server.origin}/login-large?chars=${chars}`, { method: 'POST' })
    expect(login.status).toBe(204)
    const pairs = kept(login)
    expect(pairs.map((pair) => pair.slice(0, pair.indexOf('=')))).toEqual([
      '__Host-session.0',
      '__Host-session.1',
      '__Host-session.2',
    ])
    const cookie = pairs.join('; ')
    expect(cookie.length).toBeGreaterThan(9_500)
    const res = await fetch(`${server.origin}/notes`, { headers: { cookie } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(String(chars))
  })

  it('after sign-out, a proxied fetch(c.req.raw) carries no session cookie', async () => {
    const res = await fetch(`${server.origin}/logout`, { method: 'POST', headers: { cookie: await signIn() } })
    expect(((await res.json()) as { echo: Echo }).echo.cookie).toBeNull()
    expect(kept(res)).toEqual([])
  })
})
