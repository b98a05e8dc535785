/**
 * Downstream handlers must see the session as it is now, not as the browser sent it: the
 * request's own Cookie header is rewritten whenever the session's cookies change, so
 * `c.req.header('cookie')`, `getCookie(c)` and `fetch(c.req.raw)` to an origin all carry the new
 * values. This is Auth0's "combine the headers" recipe, done once, here.
 * @module
 */
import type { Context } from 'hono'
import { type CookieNames, isSessionCookieName, rewriteCookieHeader } from '../../codec/cookie-jar'

/**
 * Replaces `c.req.raw` with a copy whose Cookie header carries `cookies` instead of the
 * session's old ones. Incoming requests have immutable headers on Workers, hence the copy.
 */
export function mergeRequestCookies(c: Context, names: CookieNames, cookies: ReadonlyArray<readonly [string, string]>): void {
  const raw = c.req.raw
  const headers = new Headers(raw.headers)
  const cookie = rewriteCookieHeader(raw.headers.get('cookie'), (name) => isSessionCookieName(name, names), cookies)
  if (cookie === '') headers.delete('cookie')
  else headers.set('cookie', cookie)
  // A body already read through c.req.json() & co. is cached by Hono; the raw stream is spent
  // and cannot be handed on, so the copy then goes without it.
  c.req.raw = raw.bodyUsed ? new Request(raw.url, requestInitWithoutBody(raw, headers)) : new Request(raw, { headers })
}

function requestInitWithoutBody(raw: Request, headers: Headers): RequestInit {
  const init: RequestInit & { cf?: unknown } = { method: raw.method, headers, redirect: raw.redirect, signal: raw.signal }
  const cf = (raw as Request & { cf?: unknown }).cf
  if (cf !== undefined) init.cf = cf
  return init
}
