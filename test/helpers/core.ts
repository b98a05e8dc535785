/**
 * Helpers for the core suite (test/any-runtime/core): an app with catch-all session routes, Set-Cookie
 * parsing and token-size tools. Runtime-neutral: only `app.request`, no workerd APIs.
 */
import { type Context, Hono } from 'hono'
import { decodeProtectedHeader } from 'jose'
import { type MockInstance, expect, vi } from 'vitest'
import {
  SessionError,
  SessionInvalidError,
  SessionTooLargeError,
  createSession,
  destroySession,
  edgeSession,
  getSession,
  updateSession,
} from '../../src'
import type { EdgeSessionOptions, InvalidReason, SessionData, SessionInput, SessionStore } from '../../src'
import { CookieJar, SECRET } from './app'

export type Env = Record<string, string>
/** Claims of any shape: independent of SessionClaims augmentations elsewhere in the program. */
export type Loose = Record<string, unknown>
export type AnySession = SessionData<Loose>

/** Body of a refused mutation: the route catches SessionError and answers 422 with it. */
export interface ErrorBody {
  error: string
  code: string
  issues?: Array<{ message: string; path?: Array<string | number> }>
  bytes?: number
  limit?: number
}

export interface CoreApp {
  app: Hono<{ Bindings: Env }>
  /** Errors that reached app.onError (anything not a SessionError thrown by a route, or thrown by the middleware). */
  errors: unknown[]
  /** Calls of the onInvalid hook. */
  invalid: InvalidReason[]
}

/**
 * An app with: POST /login (body = createSession input), POST /update (body merged into the
 * session), POST /replace (body passed as is), POST /logout, GET /session. Mutation routes
 * catch SessionError and answer 422 (a non-5xx response, so pending writes are NOT discarded by
 * the middleware: a refused change must leave nothing behind on its own).
 */
/**
 * A Hono app with `edgeSession` mounted that records what must be looked at after a request:
 * every error a handler threw (then answered by `answer`) and every refused cookie's reason.
 */
export function recordingApp(
  options: Partial<EdgeSessionOptions>,
  answer: (err: Error, c: Context) => Response | Promise<Response>,
) {
  const errors: unknown[] = []
  const invalid: InvalidReason[] = []
  const app = new Hono<{ Bindings: Env }>()
  app.onError((err, c) => {
    errors.push(err)
    return answer(err, c)
  })
  app.use(
    edgeSession({
      secret: SECRET,
      onInvalid: (reason) => {
        invalid.push(reason)
      },
      ...options,
    }),
  )
  return { app, errors, invalid }
}

export function coreApp(
  options: Partial<EdgeSessionOptions> = {},
  extend?: (app: Hono<{ Bindings: Env }>) => void,
): CoreApp {
  const { app, errors, invalid } = recordingApp(options, (err, c) =>
    c.json({ error: err.name, code: (err as { code?: string }).code ?? null, message: err.message }, 500),
  )
  const refused = (err: unknown) => {
    if (!(err instanceof SessionError)) throw err
    const body: ErrorBody = { error: err.name, code: err.code }
    if (err instanceof SessionInvalidError)
      body.issues = err.issues.map((i) => ({
        message: i.message,
        ...(i.path ? { path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)) } : {}),
      }))
    if (err instanceof SessionTooLargeError) Object.assign(body, { bytes: err.bytes, limit: err.limit })
    return Response.json(body, { status: 422 })
  }
  /** Runs a session change; answers the session after it, or 422 with the refusal. */
  const changed = async (c: Context, change: () => Promise<unknown>) => {
    try {
      await change()
    } catch (err) {
      return refused(err)
    }
    return c.json(getSession(c))
  }
  app.post('/login', async (c) =>
    changed(c, async () => createSession<Loose>(c, (await c.req.json()) as SessionInput<Loose>)),
  )
  app.post('/update', async (c) => {
    const patch = (await c.req.json()) as Record<string, unknown>
    return changed(c, () => updateSession<Loose>(c, (s) => ({ ...s, ...patch })))
  })
  app.post('/replace', async (c) =>
    changed(c, async () => updateSession<Loose>(c, (await c.req.json()) as SessionInput<Loose>)),
  )
  app.post('/logout', async (c) => {
    await destroySession(c)
    return c.json({ ok: true })
  })
  app.get('/session', (c) => c.json({ session: getSession(c), cookie: c.req.header('cookie') ?? null }))
  extend?.(app)
  return { app, errors, invalid }
}

/** A {@link coreApp} with one user signed in through `/login`: the app, its jar and the sign-in response. */
export async function login(
  options: Partial<EdgeSessionOptions> = {},
  extend?: (app: Hono<{ Bindings: Env }>) => void,
) {
  const ctx = coreApp(options, extend)
  const jar = new CookieJar()
  const res = await call(ctx.app, '/login', { body: { user: { sub: 'u1' } }, jar })
  expect(res.status).toBe(200)
  return { ...ctx, jar, res }
}

/** One parsed Set-Cookie line. Attribute names are lower-cased; flags map to `true`. */
export interface SetCookie {
  name: string
  value: string
  attributes: Record<string, string | true>
  line: string
}

export function parseSetCookie(line: string): SetCookie {
  const [pair = '', ...rest] = line.split(';')
  const eq = pair.indexOf('=')
  const attributes: Record<string, string | true> = {}
  for (const raw of rest) {
    const attr = raw.trim()
    if (attr === '') continue
    const i = attr.indexOf('=')
    if (i === -1) attributes[attr.toLowerCase()] = true
    else attributes[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1)
  }
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, line }
}

export function setCookies(res: Response): SetCookie[] {
  return res.headers.getSetCookie().map(parseSetCookie)
}

/** Set-Cookie lines by name; fails the test when a name is set twice in one response. */
export function setCookieMap(res: Response): Map<string, SetCookie> {
  const map = new Map<string, SetCookie>()
  for (const cookie of setCookies(res)) {
    expect(map.has(cookie.name), `Set-Cookie for ${cookie.name} twice`).toBe(false)
    map.set(cookie.name, cookie)
  }
  return map
}

export function maxAge(cookie: SetCookie | undefined): number {
  const value = cookie?.attributes['max-age']
  if (typeof value !== 'string') throw new Error(`no Max-Age on ${cookie?.line}`)
  return Number(value)
}

/** Set-Cookie lines that write (not clear) a cookie, by name. */
export function written(res: Response): Map<string, SetCookie> {
  return new Map([...setCookieMap(res)].filter(([, c]) => maxAge(c) > 0))
}

/** Names cleared (Max-Age=0) by a response. */
export function cleared(res: Response): string[] {
  return setCookies(res)
    .filter((c) => c.attributes['max-age'] === '0')
    .map((c) => c.name)
    .sort()
}

/** The session token a response (or jar) holds under `main`, joined from chunks when chunked. */
export function tokenFrom(
  cookies: Map<string, { value: string } | string>,
  main = '__Host-session',
): string | undefined {
  const value = (v: { value: string } | string | undefined) => (typeof v === 'string' ? v : v?.value)
  const single = value(cookies.get(main))
  if (single !== undefined) return single
  const parts: string[] = []
  for (let i = 0; cookies.has(`${main}.${i}`); i++) parts.push(value(cookies.get(`${main}.${i}`)) as string)
  return parts.length ? parts.join('') : undefined
}

export function kidOf(token: string): string | undefined {
  return decodeProtectedHeader(token).kid
}

export interface CallOptions {
  method?: string
  body?: unknown
  jar?: CookieJar
  cookie?: string
  env?: Env
  headers?: Record<string, string>
}

/** Sends a request; with `jar`, sends its cookies and applies the response's Set-Cookie to it. */
export async function call(app: Hono<{ Bindings: Env }>, path: string, options: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers }
  const cookie = options.cookie ?? options.jar?.header
  if (cookie) headers.cookie = cookie
  const init: RequestInit = { method: options.method ?? (options.body === undefined ? 'GET' : 'POST'), headers }
  if (options.body !== undefined) {
    init.body = JSON.stringify(options.body)
    headers['content-type'] = 'application/json'
  }
  const res = await app.request(path, init, options.env)
  options.jar?.apply(res)
  return res
}

export async function sessionOf(res: Response): Promise<AnySession | null> {
  return ((await res.json()) as { session: AnySession | null }).session
}

/** Reads GET /session with the given cookies. */
export async function readSession(
  app: Hono<{ Bindings: Env }>,
  options: CallOptions = {},
): Promise<{ res: Response; session: AnySession | null }> {
  const res = await call(app, '/session', options)
  return { res, session: await sessionOf(res.clone()) }
}

export interface ConsoleSpies {
  spies: MockInstance[]
  restore(): void
  /** Fails the test if anything was logged. */
  expectSilent(): void
}

export function spyConsole(): ConsoleSpies {
  const spies = (['error', 'warn', 'log', 'info', 'debug'] as const).map((m) =>
    vi.spyOn(console, m).mockImplementation(() => undefined),
  )
  return {
    spies,
    restore: () => {
      for (const s of spies) s.mockRestore()
    },
    expectSilent: () => {
      for (const s of spies) expect(s).not.toHaveBeenCalled()
    },
  }
}

/** Session-cookie names a response wrote (not cleared), sorted. */
export function writtenNames(res: Response, main = '__Host-session'): string[] {
  return [...written(res).keys()].filter((n) => n === main || n.startsWith(`${main}.`)).sort()
}

/** Signs in with claims `{ pad: 'x' * k }` and returns the joined token length. */
export async function padTokenLength(
  app: Hono<{ Bindings: Env }>,
  k: number,
  main = '__Host-session',
): Promise<number> {
  const res = await call(app, '/login', { body: { user: { sub: 'u1' }, pad: 'x'.repeat(k) } })
  expect(res.status).toBe(200)
  return (tokenFrom(written(res), main) as string).length
}

/**
 * The pad length whose token is exactly `target` characters, or undefined when none is (a JWE's
 * base64url ciphertext grows by 1 or 2 characters per plaintext byte, so some lengths are skipped).
 */
export async function padForTokenLength(
  app: Hono<{ Bindings: Env }>,
  target: number,
  main = '__Host-session',
): Promise<number | undefined> {
  let lo = 0
  let hi = 6_000
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if ((await padTokenLength(app, mid, main)) < target) lo = mid + 1
    else hi = mid
  }
  return (await padTokenLength(app, lo, main)) === target ? lo : undefined
}

/** What one `InputApp.call` saw: the session the function returned (a copy), or what it threw. */
export interface InputCall {
  /** The session `createSession`/`updateSession` returned, copied at once; `undefined` when it threw. */
  session: AnySession | undefined
  thrown: unknown
  res: Response
}

/** An app whose routes hand createSession/updateSession whatever the test passes, and catch what they throw. */
export interface InputApp {
  /** Errors that reached app.onError (the routes catch everything the session functions throw). */
  errors: unknown[]
  /** Runs `createSession` (`/login`) or `updateSession` (`/update`) with `data`; the response is 204 whatever happens. */
  call(path: '/login' | '/update', data: unknown, jar: CookieJar): Promise<InputCall>
  /** `getSession(c)` in a request that carries the jar's cookies. */
  read(jar: CookieJar): Promise<AnySession | null>
}

/**
 * {@link InputApp}, with a store or without.
 *
 * @example
 * ```ts
 * const subject = inputApp()
 * const { thrown } = await subject.call('/login', { user: { sub: 'u1' } }, new CookieJar())
 * ```
 */
export function inputApp(store?: SessionStore): InputApp {
  let input: unknown
  let outcome: { session: AnySession | undefined; thrown: unknown } = { session: undefined, thrown: undefined }
  let seen: AnySession | null = null
  const errors: unknown[] = []
  const app = new Hono()
  app.onError((err, c) => {
    errors.push(err)
    return c.text('error', 500)
  })
  app.use(edgeSession({ secret: SECRET, ...(store ? { store } : {}) }))
  const run = async (change: () => Promise<unknown>) => {
    try {
      outcome = { session: structuredClone((await change()) as AnySession), thrown: undefined }
    } catch (error) {
      outcome = { session: undefined, thrown: error }
    }
  }
  app.post('/login', async (c) => {
    await run(() => createSession(c, input as SessionInput<Loose>))
    return c.body(null, 204)
  })
  app.post('/update', async (c) => {
    await run(() => updateSession(c, input as SessionInput<Loose>))
    return c.body(null, 204)
  })
  app.get('/session', (c) => {
    seen = getSession(c) as AnySession | null
    return c.body(null, 204)
  })
  return {
    errors,
    async call(path, data, jar) {
      input = data
      outcome = { session: undefined, thrown: undefined }
      const res = await app.request(path, { method: 'POST', headers: { cookie: jar.header } })
      expect(res.status).toBe(204)
      jar.apply(res)
      return { ...outcome, res }
    },
    async read(jar) {
      seen = null
      await app.request('/session', { headers: { cookie: jar.header } })
      return seen
    },
  }
}
