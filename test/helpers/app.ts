/** Shared test fixtures: secrets, a cookie jar, and an app wired like the README's. */
import { Hono } from 'hono'
import { createSession, destroySession, edgeSession, getSession, updateSession } from '../../src'
import type { EdgeSessionOptions } from '../../src'

export const SECRET = 'test-secret-0123456789-abcdefghijklmnop'
export const OLD_SECRET = 'old-secret-0123456789-abcdefghijklmnopq'

/** A minimal browser cookie jar: applies Set-Cookie lines, renders a Cookie header. */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  apply(res: Response): this {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attrs] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const maxAge = attrs.map((a) => a.trim()).find((a) => /^max-age=/i.test(a))
      if (maxAge && Number(maxAge.split('=')[1]) <= 0) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return this
  }
  get header(): string {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ')
  }
  /** Another browser holding the same cookies: what either stores later leaves the other's alone. */
  copy(): CookieJar {
    const copy = new CookieJar()
    for (const [name, value] of this.cookies) copy.cookies.set(name, value)
    return copy
  }
}

/** An app with the usual routes: login, update, logout, and a page that echoes the session. */
export function createApp(options: Partial<EdgeSessionOptions> = {}) {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, ...options }))
  app.post('/login', async (c) => {
    const body = (await c.req.json().catch(() => ({}))) as { sub?: string; [k: string]: unknown }
    await createSession(c, { user: { sub: body.sub ?? 'user-1' }, ...(body.claims as object) })
    return c.json(getSession(c))
  })
  app.post('/update', async (c) => {
    const patch = (await c.req.json()) as Record<string, never>
    await updateSession(c, (s) => ({ ...s, ...patch }))
    return c.json(getSession(c))
  })
  app.post('/logout', async (c) => {
    await destroySession(c)
    return c.json({ ok: true })
  })
  app.get('/session', (c) => c.json({ session: getSession(c), cookie: c.req.header('cookie') ?? null }))
  return app
}
