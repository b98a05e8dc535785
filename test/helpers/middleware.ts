/**
 * Fixtures for the middleware tests (gate, activity, merged headers): an app with an onboarding
 * flow whose "protected" handlers count how often they ran, request builders that look like a
 * browser's page navigation or a script's fetch, and a jar built from minted cookies.
 * Runtime-neutral: only `app.request`, no `cloudflare:test`.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { expect } from 'vitest'
import { createSession, destroySession, edgeSession, getSession, updateSession } from '../../src'
import type { ActivityOptions, EdgeSessionOptions, OnboardingOptions } from '../../src'
import { mintSessionCookie } from '../../src/testing'
import { CookieJar, SECRET } from './app'

/** The claims these tests keep in the session. */
export interface TestClaims {
  onboardingStep?: 'PROFILE' | 'PREFERENCES' | 'COMPLETED'
  role?: 'member' | 'admin'
  displayName?: string
}

export const SESSION = '__Host-session'
export const ACTIVITY = '__Host-session-activity'
/**
 * The chunk names the default session cookie can take (maxBytes 10 240). Every response that
 * writes or clears the session cookie clears those it does not set, sent by the browser or not.
 */
export const SESSION_CHUNKS: readonly string[] = [`${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`]
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const

/** Headers of a browser's top-level page navigation. */
export function navigation(cookie = '', extra: Record<string, string> = {}): Record<string, string> {
  return {
    accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
    'sec-fetch-mode': 'navigate',
    'sec-fetch-dest': 'document',
    ...(cookie ? { cookie } : {}),
    ...extra,
  }
}

/** Headers of a script's fetch() asking for JSON. */
export function apiCall(cookie = '', extra: Record<string, string> = {}): Record<string, string> {
  return {
    accept: 'application/json',
    'sec-fetch-mode': 'cors',
    'sec-fetch-dest': 'empty',
    ...(cookie ? { cookie } : {}),
    ...extra,
  }
}

/** A JSON POST from a script. */
export function postJson(body: unknown, cookie = '', method = 'POST'): RequestInit {
  return { method, headers: { ...apiCall(cookie), 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

/** Names of the cookies a response sets (deletions included). */
export function setCookieNames(res: Response): string[] {
  return res.headers.getSetCookie().map((line) => line.slice(0, line.indexOf('=')))
}

/** Matchers for Set-Cookie lines that clear `names`, in that order. */
export function clearingLines(names: readonly string[]): unknown[] {
  return names.map((name) => expect.stringMatching(new RegExp(`^${name.replaceAll('.', '\\.')}=; Max-Age=0;`)))
}

/** The value a response sets for `name` (undefined when it does not set it). */
export function setCookieValue(res: Response, name: string): string | undefined {
  const line = res.headers.getSetCookie().find((l) => l.startsWith(`${name}=`))
  return line?.slice(name.length + 1, line.indexOf(';'))
}

/** A jar holding a session minted by the real middleware (default options, `__Host-` cookies). */
export async function jarWith(
  data: TestClaims & { sub?: string },
  options: Partial<EdgeSessionOptions> = {},
): Promise<CookieJar> {
  const { sub = 'user-1', ...claims } = data
  const minted = await mintSessionCookie<TestClaims>({ secret: SECRET, ...options, data: { user: { sub }, ...claims } })
  const headers = new Headers()
  for (const line of minted.setCookie) headers.append('set-cookie', line)
  return new CookieJar().apply(new Response(null, { headers }))
}

/** Server-side accounts: the only source of a user's id and role. */
const ACCOUNTS: Record<string, { password: string; sub: string; role: 'member' | 'admin' }> = {
  ada: { password: 'pw-ada', sub: 'user-ada', role: 'member' },
  grace: { password: 'pw-grace', sub: 'user-grace', role: 'admin' },
}

/** Form or JSON fields of a request, as plain strings (anything else is dropped). */
async function fields(c: Context): Promise<Record<string, string>> {
  const type = c.req.header('content-type') ?? ''
  const raw: Record<string, unknown> = type.includes('json')
    ? ((await c.req.json().catch(() => ({}))) as Record<string, unknown>)
    : ((await c.req.parseBody()) as Record<string, unknown>)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) if (typeof v === 'string') out[k] = v
  return out
}

export interface OnboardingAppOptions {
  onboarding?: OnboardingOptions | false
  activity?: ActivityOptions | false
  /** `new Hono({ strict })`. Default true. */
  strict?: boolean
  /** Runs inside GET /onboarding/slow before it answers (to interleave requests). */
  slow?: () => Promise<void>
  /** Adds routes before the counting catch-all. */
  routes?: (app: Hono) => void
}

/**
 * An app shaped like a real onboarding flow. Every handler outside the onboarding, auth and static
 * routes counts in `hits.protected` (a catch-all too, standing for an SPA fallback or a proxy).
 * Every body field is read through a whitelist: nothing from the client reaches the session.
 */
export function createOnboardingApp(options: OnboardingAppOptions = {}) {
  const hits = { protected: 0, paths: [] as string[] }
  const app = new Hono({ strict: options.strict ?? true })
  app.use(edgeSession({ secret: SECRET, onboarding: options.onboarding ?? {}, activity: options.activity }))
  const page = (c: Context, title: string) => c.html(`<!doctype html><title>${title}</title>`)
  const count = (c: Context) => {
    hits.protected++
    hits.paths.push(c.req.path)
    return c.req.header('accept')?.includes('text/html') ? page(c, 'protected') : c.json({ protected: true })
  }

  app.post('/login', async (c) => {
    const f = await fields(c)
    const account = ACCOUNTS[f.username ?? '']
    if (!account || account.password !== f.password) return c.json({ error: 'bad_credentials' }, 401)
    // Identity and role come from the server's records; the step starts at the beginning.
    await createSession<TestClaims>(c, { user: { sub: account.sub }, role: account.role, onboardingStep: 'PROFILE' })
    return c.json({ ok: true })
  })
  app.post('/logout', async (c) => {
    await destroySession(c)
    return c.json({ ok: true })
  })
  // The session as the server sees it; under /auth/* so it stays reachable mid-onboarding.
  app.get('/auth/session', (c) => c.json(getSession<TestClaims>(c)))
  app.get('/auth/callback', (c) => c.text('callback'))
  app.get('/onboarding', (c) => page(c, 'onboarding'))
  app.get('/onboarding/', (c) => page(c, 'onboarding'))
  app.get('/onboarding/slow', async (c) => {
    await options.slow?.()
    return page(c, 'slow onboarding page')
  })
  app.get('/onboarding/:step', (c) => page(c, `step ${c.req.param('step')}`))
  app.post('/onboarding/profile', async (c) => {
    const displayName = (await fields(c)).displayName?.trim().slice(0, 40)
    if (!displayName) return c.json({ error: 'displayName_required' }, 400)
    await updateSession<TestClaims>(c, (s) => ({ ...s, displayName, onboardingStep: 'PREFERENCES' }))
    return c.json(getSession(c))
  })
  app.post('/onboarding/finish', async (c) => {
    await updateSession<TestClaims>(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    return c.redirect('/explore', 303)
  })
  app.get('/static/*', (c) => c.body('console.log(1)', 200, { 'content-type': 'text/javascript' }))
  app.get('/assets/*', (c) => c.body('body{}', 200, { 'content-type': 'text/css' }))
  app.get('/favicon.ico', (c) => c.body('', 200, { 'content-type': 'image/x-icon' }))
  app.get('/robots.txt', (c) => c.text('User-agent: *'))
  for (const path of ['/signin', '/signout', '/callback/*', '/api/auth/*']) app.all(path, (c) => c.text('auth'))

  // Signed-in area.
  app.post('/profile', async (c) => {
    const displayName = (await fields(c)).displayName?.trim().slice(0, 40)
    if (displayName) await updateSession<TestClaims>(c, (s) => ({ ...s, displayName }))
    hits.protected++
    return c.json(getSession(c))
  })
  app.get('/redirect-me', (c) => c.redirect('/explore', 302))
  app.get('/broken', (c) => c.html('<p>oops</p>', 500))
  app.get('/missing', (c) => c.notFound())
  options.routes?.(app)
  app.all('*', count)
  return { app, hits }
}

/** What the onboarding app's `/auth/session` shows of the activity. */
export interface Seen {
  lastPath?: string
  lastVisit?: number
}

export async function seen(app: Hono, jar: CookieJar): Promise<Seen | null> {
  return (await (await app.request('/auth/session', { headers: apiCall(jar.header) })).json()) as Seen | null
}
