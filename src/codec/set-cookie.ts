/**
 * The session's Set-Cookie lines: what a response must tell the browser, from a description of
 * what changed. Pure: no request, no clock, no headers; the middleware appends the lines.
 * @module
 */
import { serialize } from 'hono/utils/cookie'
import type { CookieNames } from './cookie-jar.js'

/** Cookie attributes every write uses. */
export interface CookieAttributes {
  readonly path: '/'
  readonly httpOnly: true
  readonly secure: boolean
  readonly sameSite: 'Lax' | 'Strict' | 'None'
  readonly domain?: string
}

/** A Set-Cookie line of ours: `name=value; Max-Age=n` and the cookie attributes. */
export type CookieLineWriter = (name: string, value: string, maxAgeSeconds: number) => string

/** What the response does with the session cookie. */
export type SessionCookieChange =
  | { readonly kind: 'none' }
  | { readonly kind: 'clear' }
  | {
      readonly kind: 'write'
      readonly cookies: ReadonlyArray<readonly [string, string]>
      readonly maxAgeSeconds: number
    }

/** What the response does with the activity cookie. */
export type ActivityCookieChange =
  | { readonly kind: 'none' }
  | { readonly kind: 'clear' }
  | { readonly kind: 'write'; readonly token: string; readonly maxAgeSeconds: number }

/** What changed in a request, for {@link setCookieLines}. */
export interface CookieChanges {
  readonly session: SessionCookieChange
  readonly activity: ActivityCookieChange
  /** Every name of ours the request carried. */
  readonly present: ReadonlySet<string>
}

/** How this middleware writes cookies: its names and its line writer, resolved once. */
export interface CookieWriting {
  readonly names: CookieNames
  /** Every name the session cookie can take within `maxBytes`: `main`, then `main.0` ... `main.<n-1>`. */
  readonly sessionCookieNames: readonly string[]
  readonly setCookie: CookieLineWriter
}

/** What most responses carry; shared, so they allocate nothing. */
const NO_LINES: readonly string[] = Object.freeze([])

/**
 * Hono's serializer writes (and checks against the prefix rules) our attributes once, here; a
 * write then only puts name, value and Max-Age in front, as Hono orders them. Names are checked
 * when options are resolved and values are base64url (or empty), which Hono's encoding leaves as
 * they are, so the lines are the ones Hono would write (test/node/set-cookie-lines.test.ts), without
 * serializing the attributes per write.
 *
 * @example
 * ```ts
 * const line = cookieLineWriter('__Host-session', { path: '/', httpOnly: true, secure: true, sameSite: 'Lax' })
 * line('__Host-session', token, 28800) // '__Host-session=<token>; Max-Age=28800; Path=/; HttpOnly; Secure; SameSite=Lax'
 * ```
 */
export function cookieLineWriter(main: string, attributes: CookieAttributes): CookieLineWriter {
  // Every name of ours starts with `main`, so its prefix rules (__Host-, __Secure-) hold for all.
  const tail = serialize(main, '', attributes).slice(main.length + 1)
  return (name, value, maxAgeSeconds) => `${name}=${value}; Max-Age=${maxAgeSeconds}${tail}`
}

/**
 * The Set-Cookie lines for `changes`. A clear writes nothing to a browser that sent no cookie of
 * that kind; a session write or clear also clears every other name the session cookie can take.
 *
 * @example
 * ```ts
 * const lines = setCookieLines({ session: { kind: 'clear' }, activity: { kind: 'clear' }, present }, writing)
 * for (const line of lines) headers.append('Set-Cookie', line)
 * ```
 */
export function setCookieLines(changes: CookieChanges, writing: CookieWriting): readonly string[] {
  const { session, activity, present } = changes
  if (session.kind === 'none' && activity.kind === 'none') return NO_LINES
  const { names, setCookie } = writing
  const out: string[] = []
  const sentSessionCookie = present.size > (present.has(names.activity) ? 1 : 0)
  if (session.kind === 'write' || (session.kind === 'clear' && sentSessionCookie)) {
    // Page views only write the activity cookie: this set is made for session-cookie writes only.
    const handled = new Set<string>([names.activity])
    if (session.kind === 'write') {
      for (const [name, value] of session.cookies) {
        out.push(setCookie(name, value, session.maxAgeSeconds))
        handled.add(name)
      }
    }
    // Clear every other name the session cookie can take, not only those this request carried: a
    // concurrent request may have set others (one tab grows the session into chunks while another
    // writes it unchunked), and the last response must leave one whole token, never a mix. Then
    // what the browser sent beyond them (chunks of a token written under a larger maxBytes).
    for (const candidates of [writing.sessionCookieNames, present]) {
      for (const name of candidates) {
        if (handled.has(name)) continue
        out.push(setCookie(name, '', 0))
        handled.add(name)
      }
    }
  }
  if (activity.kind === 'write') out.push(setCookie(names.activity, activity.token, activity.maxAgeSeconds))
  // Same Path/Domain/Secure/SameSite as when set, or Chromium keeps the cookie.
  else if (activity.kind === 'clear' && present.has(names.activity)) out.push(setCookie(names.activity, '', 0))
  return out
}
