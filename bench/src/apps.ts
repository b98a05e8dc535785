/**
 * One Hono app per library, wired the way its README shows, with the same routes:
 * - `POST /login`: signs in (setup only, never timed);
 * - pages (`GET /`, `/dashboard`, ...): HTML; record lastPath/lastVisit as each library's docs
 *   recommend (set the session fields on each page view), our package records them itself;
 * - `GET /api/*`: JSON that reads the session; `GET /assets/*`: a static body;
 * - `GET /api/read` reads the session; `POST /api/write` changes it (suite 2);
 * - `POST /onboarding/finish`: marks onboarding done, 303 to /explore.
 * @module
 */
import { decode as authDecode, encode as authEncode } from '@auth/core/jwt'
import type { JWT } from '@auth/core/jwt'
import { type SessionEnv, useSession } from '@hono/session'
import { type Context, Hono } from 'hono'
import { getCookie, setCookie } from 'hono/cookie'
import type { CookieOptions } from 'hono/utils/cookie'
import { CookieStore, type Session as HonoSessionsSession, sessionMiddleware } from 'hono-sessions'
import { type IronSession, getIronSession } from 'iron-session'
import { type EdgeSessionOptions, createSession, edgeSession, getSession, updateSession } from '../../src'
import {
  SECRET,
  type UserSession,
  aesKey,
  floorAesOpen,
  floorAesSeal,
  joseOpen,
  joseSeal,
  userSession,
} from './fixtures'

export type LibraryId =
  | 'bare'
  | 'edge-session'
  | 'hono-session'
  | 'hono-sessions'
  | 'iron-session'
  | 'authjs'
  | 'ref-aes'
  | 'ref-jose'

/** `reference`: not a session library but the yardstick of issue 7's request targets (suite 2 only). */
export const LIBRARIES: ReadonlyArray<{ id: LibraryId; label: string; reference?: true }> = [
  { id: 'bare', label: 'bare Hono (no session)' },
  { id: 'edge-session', label: 'hono-edge-session' },
  { id: 'hono-session', label: '@hono/session' },
  { id: 'hono-sessions', label: 'hono-sessions' },
  { id: 'iron-session', label: 'iron-session' },
  { id: 'authjs', label: '@auth/core/jwt' },
  { id: 'ref-aes', label: 'reference: raw AES-256-GCM cookie, cached key', reference: true },
  { id: 'ref-jose', label: 'reference: jose compact JWE cookie, cached key', reference: true },
]

const HOUR = 3600
const page = (title: string, who: string) =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1><p>Signed in as ${who}</p></body></html>`
const ASSET = 'body{margin:0;font:16px/1.5 system-ui}'

/** The request's path and query, as the activity tracker records it. */
const pathOf = (c: Context) => {
  const url = c.req.url
  return url.slice(url.indexOf('/', url.indexOf('//') + 2))
}

/** The routes every app shares; `hooks` say how each library reads and changes its session. */
interface Hooks {
  /** Reads the session (every session-aware route calls this). */
  read(c: Context): Promise<{ name: string; step: string } | null>
  /** A page view: the library's documented way to record lastPath / lastVisit. */
  pageView(c: Context, path: string): Promise<void>
  /** Changes a field (suite 2's write request, and the onboarding completion). */
  change(c: Context, patch: Partial<UserSession>, bump: boolean): Promise<void>
  /** Signs in. */
  login(c: Context): Promise<void>
}

function routes(app: Hono, hooks: Hooks): Hono {
  app.post('/login', async (c) => {
    await hooks.login(c)
    return c.json({ ok: true })
  })
  app.get('/api/read', async (c) => c.json({ name: (await hooks.read(c))?.name ?? null }))
  app.post('/api/write', async (c) => {
    await hooks.change(c, {}, true)
    return c.json({ ok: true })
  })
  app.post('/onboarding/finish', async (c) => {
    await hooks.change(c, { onboardingStep: 'COMPLETED' }, false)
    return c.redirect('/explore', 303)
  })
  app.get('/api/*', async (c) =>
    c.json({ path: c.req.path, user: (await hooks.read(c))?.name ?? null, items: [1, 2, 3] }),
  )
  app.get('/assets/*', (c) =>
    c.body(ASSET, 200, { 'content-type': 'text/css', 'cache-control': 'public, max-age=3600' }),
  )
  app.get('*', async (c) => {
    const session = await hooks.read(c)
    await hooks.pageView(c, pathOf(c))
    return c.html(page(c.req.path, session?.name ?? 'nobody'))
  })
  return app
}

const fromUser = (s: Pick<UserSession, 'user' | 'onboardingStep'> | null | undefined) =>
  s ? { name: s.user.name, step: s.onboardingStep } : null

// --- bare Hono: the same work with no session at all -----------------------------------------
function bare(): Hono {
  const nobody = { name: 'nobody', step: 'COMPLETED' }
  return routes(new Hono(), {
    read: async () => nobody,
    pageView: async () => {},
    change: async () => {},
    login: async () => {},
  })
}

// --- this package: it records lastPath / lastVisit itself; handlers only read -----------------
/** `options` override the defaults used here (`onboarding: {}`), for the middleware breakdown. */
export function edgeApp(options: Partial<EdgeSessionOptions> = {}): Hono {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET, onboarding: {}, ...options }))
  return routes(app, {
    read: async (c) => fromUser(getSession(c) as (UserSession & ReturnType<typeof getSession>) | null),
    pageView: async () => {},
    change: async (c, patch, bump) => {
      await updateSession(c, (s) => {
        const current = s as typeof s & UserSession
        return { ...current, ...patch, counter: bump ? current.counter + 1 : current.counter }
      })
    },
    login: async (c) => {
      await createSession(c, userSession('PROFILE'))
    },
  })
}

// --- @hono/session: useSession() with an absolute and an inactivity duration, per its README ---
type HonoSessionData = UserSession & Record<string, unknown>
function honoSession(): Hono {
  const app = new Hono<SessionEnv<HonoSessionData>>()
  app.use(useSession<HonoSessionData>({ secret: SECRET, duration: { absolute: 8 * HOUR, inactivity: HOUR / 2 } }))
  const session = (c: Context) => (c as unknown as Context<SessionEnv<HonoSessionData>>).var.session
  return routes(app as unknown as Hono, {
    read: async (c) => fromUser(await session(c).get()),
    pageView: async (c, path) => {
      await session(c).update((d) => ({ ...(d as HonoSessionData), lastPath: path, lastVisit: Date.now() }))
    },
    change: async (c, patch, bump) => {
      await session(c).update((d) => {
        const current = d as HonoSessionData
        return { ...current, ...patch, counter: bump ? current.counter + 1 : current.counter }
      })
    },
    login: async (c) => {
      await session(c).update(userSession('PROFILE') as HonoSessionData)
    },
  })
}

// --- hono-sessions: CookieStore + sessionMiddleware, as in its README (15-min sliding expiry there; 30 here like ours)
type HonoSessionsData = { profile: UserSession; lastPath: string; lastVisit: number }
function honoSessions(): Hono {
  const app = new Hono<{ Variables: { session: HonoSessionsSession<HonoSessionsData> } }>()
  app.use(
    sessionMiddleware({
      store: new CookieStore(),
      encryptionKey: SECRET,
      expireAfterSeconds: HOUR / 2,
      cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true, secure: true },
    }),
  )
  const session = (c: Context) =>
    (c as unknown as Context<{ Variables: { session: HonoSessionsSession<HonoSessionsData> } }>).var.session
  return routes(app as unknown as Hono, {
    read: async (c) => fromUser(session(c).get('profile')),
    pageView: async (c, path) => {
      session(c).set('lastPath', path)
      session(c).set('lastVisit', Date.now())
    },
    change: async (c, patch, bump) => {
      const profile = session(c).get('profile') as UserSession
      session(c).set('profile', { ...profile, ...patch, counter: bump ? profile.counter + 1 : profile.counter })
    },
    login: async (c) => {
      session(c).set('profile', userSession('PROFILE'))
    },
  })
}

// --- iron-session: getIronSession(cookieStore, options), the Web-framework form of its API -----
type IronData = Partial<UserSession>
/** The fields of iron-session's cookie options this adapter passes on to Hono's setCookie. */
interface IronCookieOptions {
  path?: unknown
  sameSite?: unknown
  secure?: unknown
  httpOnly?: unknown
  maxAge?: unknown
}
const SAME_SITE = { lax: 'Lax', strict: 'Strict', none: 'None' } as const
function ironCookies(c: Context) {
  return {
    get: (name: string) => {
      const value = getCookie(c, name)
      return value === undefined ? undefined : { name, value }
    },
    set: (
      name: string | ({ name: string; value: string } & IronCookieOptions),
      value?: string,
      options?: IronCookieOptions,
    ) => {
      const o: IronCookieOptions = (typeof name === 'string' ? options : name) ?? {}
      const sameSite =
        typeof o.sameSite === 'string' ? SAME_SITE[o.sameSite.toLowerCase() as keyof typeof SAME_SITE] : undefined
      const opts: CookieOptions = {
        path: typeof o.path === 'string' ? o.path : '/',
        httpOnly: o.httpOnly === true,
        secure: o.secure === true,
        ...(sameSite ? { sameSite } : {}),
        ...(typeof o.maxAge === 'number' ? { maxAge: o.maxAge } : {}),
      }
      if (typeof name === 'string') setCookie(c, name, value ?? '', opts)
      else setCookie(c, name.name, name.value, opts)
    },
  }
}
function ironSession(): Hono {
  const app = new Hono<{ Variables: { iron: IronSession<IronData> } }>()
  const options = { password: SECRET, cookieName: 'iron-session', ttl: 8 * HOUR }
  app.use(async (c, next) => {
    c.set('iron', await getIronSession<IronData>(ironCookies(c as unknown as Context), options))
    await next()
  })
  const session = (c: Context) => (c as unknown as Context<{ Variables: { iron: IronSession<IronData> } }>).var.iron
  return routes(app as unknown as Hono, {
    read: async (c) => {
      const s = session(c)
      return s.user ? fromUser(s as UserSession) : null
    },
    pageView: async (c, path) => {
      const s = session(c)
      s.lastPath = path
      s.lastVisit = Date.now()
      await s.save()
    },
    change: async (c, patch, bump) => {
      const s = session(c)
      Object.assign(s, patch)
      if (bump) s.counter = (s.counter ?? 0) + 1
      await s.save()
    },
    login: async (c) => {
      Object.assign(session(c), userSession('PROFILE'))
      await session(c).save()
    },
  })
}

// --- Auth.js's JWT session, through @auth/core/jwt: decode every request, encode when changed --
// (Auth.js itself also re-issues the cookie whenever its session endpoint or `auth()` runs; this
// wiring is the cheaper, write-only-on-change reading of it.)
const AUTH_COOKIE = '__Secure-authjs.session-token'
function authjs(): Hono {
  const app = new Hono<{ Variables: { token: JWT | null; dirty: boolean } }>()
  const params = { secret: SECRET, salt: AUTH_COOKIE }
  app.use(async (c, next) => {
    const raw = getCookie(c, AUTH_COOKIE)
    let token: JWT | null = null
    if (raw) {
      try {
        token = await authDecode({ ...params, token: raw })
      } catch {
        token = null
      }
    }
    c.set('token', token)
    c.set('dirty', false)
    await next()
    if (c.get('dirty')) {
      const value = await authEncode({ ...params, token: c.get('token') ?? {}, maxAge: 8 * HOUR })
      setCookie(c, AUTH_COOKIE, value, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax', maxAge: 8 * HOUR })
    }
  })
  type AuthContext = Context<{ Variables: { token: JWT | null; dirty: boolean } }>
  const token = (c: Context) => (c as unknown as AuthContext).var.token as (JWT & UserSession) | null
  const set = (c: Context, next: JWT) => {
    ;(c as unknown as AuthContext).set('token', next)
    ;(c as unknown as AuthContext).set('dirty', true)
  }
  return routes(app as unknown as Hono, {
    read: async (c) => fromUser(token(c)),
    pageView: async (c, path) => {
      const t = token(c)
      if (t) set(c, { ...t, lastPath: path, lastVisit: Date.now() })
    },
    change: async (c, patch, bump) => {
      const t = token(c)
      if (t) set(c, { ...t, ...patch, counter: bump ? t.counter + 1 : t.counter })
    },
    login: async (c) => {
      set(c, { ...userSession('PROFILE') })
    },
  })
}

// --- references: the least a cookie session can do, as the yardsticks of issue 7 -------------
// A middleware that opens one cookie per request with a cached CryptoKey (a decrypt and a
// JSON.parse: "decrypt-only") and seals it again only when a handler changed it. No lifetimes,
// no activity, no gate, no header merge: the floor under any real session library.
type ReferenceData = UserSession & { iat: number; exp: number }

/** `open` and `seal` get the key, made once from the secret: the bench signs in through one app and times another. */
function referenceApp(
  open: (key: CryptoKey, value: string) => Promise<ReferenceData>,
  seal: (key: CryptoKey, data: ReferenceData) => Promise<string>,
): Hono {
  type Vars = { Variables: { data: ReferenceData | null; dirty: boolean } }
  const app = new Hono<Vars>()
  const name = '__Host-ref'
  let key: CryptoKey | undefined
  const pending = aesKey(SECRET).then((made) => {
    key = made
    return made
  })
  app.use(async (c, next) => {
    const cached = key ?? (await pending)
    const value = getCookie(c, name)
    let data: ReferenceData | null = null
    if (value) {
      try {
        data = await open(cached, value)
      } catch {
        data = null
      }
    }
    c.set('data', data)
    c.set('dirty', false)
    await next()
    const changed = c.get('data')
    if (c.get('dirty') && changed)
      setCookie(c, name, await seal(cached, changed), {
        path: '/',
        httpOnly: true,
        secure: true,
        sameSite: 'Lax',
        maxAge: 8 * HOUR,
      })
  })
  const vars = (c: Context) => c as unknown as Context<Vars>
  return routes(app as unknown as Hono, {
    read: async (c) => fromUser(vars(c).var.data),
    pageView: async () => {},
    change: async (c, patch, bump) => {
      const data = vars(c).var.data
      if (!data) return
      vars(c).set('data', { ...data, ...patch, counter: bump ? data.counter + 1 : data.counter })
      vars(c).set('dirty', true)
    },
    login: async (c) => {
      const now = Math.floor(Date.now() / 1000)
      vars(c).set('data', { ...userSession('PROFILE'), iat: now, exp: now + 8 * HOUR })
      vars(c).set('dirty', true)
    },
  })
}

const builders: Record<LibraryId, () => Hono> = {
  bare,
  'edge-session': () => edgeApp(),
  'hono-session': honoSession,
  'hono-sessions': honoSessions,
  'iron-session': ironSession,
  authjs,
  'ref-aes': () => referenceApp(floorAesOpen, floorAesSeal),
  'ref-jose': () => referenceApp(joseOpen, joseSeal),
}

export function buildApp(id: LibraryId): Hono {
  return builders[id]()
}

/** A browser's cookie jar, as small as a benchmark can afford. */
export class Jar {
  readonly #cookies = new Map<string, string>()
  #header = ''
  /** Applies a response's Set-Cookie lines; returns how many there were. */
  apply(res: Response): number {
    return this.applyLines(res.headers.getSetCookie())
  }
  /** Applies Set-Cookie lines (a response's, or ones recorded from it); returns how many there were. */
  applyLines(lines: readonly string[]): number {
    if (lines.length === 0) return 0
    for (const line of lines) {
      const semi = line.indexOf(';')
      const pair = semi === -1 ? line : line.slice(0, semi)
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq)
      if (/;\s*max-age=0(;|$)/i.test(line) || pair.length === eq + 1) this.#cookies.delete(name)
      else this.#cookies.set(name, pair.slice(eq + 1))
    }
    this.#header = [...this.#cookies].map(([n, v]) => `${n}=${v}`).join('; ')
    return lines.length
  }
  get header(): string {
    return this.#header
  }
  clone(): Jar {
    const copy = new Jar()
    for (const [n, v] of this.#cookies) copy.#cookies.set(n, v)
    copy.#header = this.#header
    return copy
  }
}

/** Signs in through the app's own /login route and returns the browser's jar. */
export async function signIn(app: Hono): Promise<Jar> {
  const jar = new Jar()
  const res = await app.fetch(new Request('https://bench.example/login', { method: 'POST' }))
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`)
  await res.arrayBuffer()
  jar.apply(res)
  return jar
}
