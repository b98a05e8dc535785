/**
 * Downstream handlers must see the session as it is now, not as the browser sent it: the
 * request's own Cookie header is rewritten whenever the session's cookies change, so
 * `c.req.header('cookie')`, `getCookie(c)` and `fetch(c.req.raw)` to an origin all carry the new
 * values. This is Auth0's "combine the headers" recipe, done once, here.
 * @module
 */
import type { Context } from 'hono'
import { type CookieNames, isSessionCookieName, rewriteCookieHeader } from '../../codec/cookie-jar.js'

/** What Hono's `c.req.bodyCache` really holds: promises, keyed by the method that read the body. */
type BodyCache = Partial<Record<'arrayBuffer' | 'text' | 'blob' | 'json' | 'formData', Promise<unknown>>>

const BOUNDARY = /boundary=(?:"([^"]+)"|([^;\s]+))/i

/**
 * Replaces `c.req.raw` with a copy whose Cookie header carries `cookies` instead of the
 * session's old ones, other cookies kept as they were. Incoming requests have immutable headers
 * on Workers, hence the copy; it runs only when the session's cookies change.
 *
 * @example
 * ```ts
 * mergeRequestCookies(c, { main: '__Host-session', activity: '__Host-session-activity' }, [['__Host-session', token]])
 * c.req.header('cookie') // '...; __Host-session=<token>'
 * ```
 */
export function mergeRequestCookies(c: Context, names: CookieNames, cookies: ReadonlyArray<readonly [string, string]>): void {
  const raw = c.req.raw
  const headers = new Headers(raw.headers)
  const cookie = rewriteCookieHeader(raw.headers.get('cookie'), (name) => isSessionCookieName(name, names), cookies)
  if (cookie === '') headers.delete('cookie')
  else headers.set('cookie', cookie)
  if (!raw.bodyUsed) {
    c.req.raw = new Request(raw, { headers })
    return
  }
  // Read through c.req.json() & co.: the raw stream is spent but Hono cached the body. Hand the
  // cached body on, so c.req.raw.text() and fetch(c.req.raw) still carry it.
  const init: RequestInit & { cf?: unknown; duplex?: 'half' } = { method: raw.method, headers, redirect: raw.redirect, signal: raw.signal }
  const cf = (raw as Request & { cf?: unknown }).cf
  if (cf !== undefined) init.cf = cf
  const body = raw.method === 'GET' || raw.method === 'HEAD' ? undefined : replayBody(c.req.bodyCache as BodyCache, headers)
  if (body) {
    init.body = body
    init.duplex = 'half'
  }
  c.req.raw = new Request(raw.url, init)
}

/** A stream of the cached body; adjusts `headers` when the body has to be encoded again. */
function replayBody(cache: BodyCache, headers: Headers): ReadableStream<Uint8Array> | undefined {
  let bytes: () => Promise<ArrayBuffer>
  if (cache.arrayBuffer) {
    const cached = cache.arrayBuffer as Promise<ArrayBuffer>
    bytes = () => cached
  } else if (cache.text || cache.blob) {
    const cached = (cache.text ?? cache.blob) as Promise<string | Blob>
    bytes = async () => new Response(await cached).arrayBuffer()
  } else if (cache.json) {
    // Older Hono cached the parsed JSON: same value, not necessarily the same bytes.
    const cached = cache.json
    headers.delete('content-length')
    bytes = async () => new Response(JSON.stringify(await cached)).arrayBuffer()
  } else if (cache.formData) {
    const cached = cache.formData as Promise<FormData>
    const type = headers.get('content-type') ?? ''
    const match = BOUNDARY.exec(type)
    const boundary = match?.[1] ?? match?.[2]
    if (!boundary && !/^application\/x-www-form-urlencoded/i.test(type)) return undefined
    headers.delete('content-length')
    bytes = async () => {
      const form = await cached
      return boundary ? encodeMultipart(form, boundary) : new Response(encodeUrlEncoded(form)).arrayBuffer()
    }
  } else return undefined
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const buffer = await bytes()
        if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer))
        controller.close()
      } catch (error) {
        controller.error(error)
      }
    },
  })
}

function encodeUrlEncoded(form: FormData): string {
  const params = new URLSearchParams()
  form.forEach((value, name) => params.append(name, typeof value === 'string' ? value : value.name))
  return params.toString()
}

/** multipart/form-data with the request's own boundary, so its Content-Type header stays true. */
function encodeMultipart(form: FormData, boundary: string): Promise<ArrayBuffer> {
  const parts: Array<string | Blob> = []
  form.forEach((value, name) => {
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="${quoted(name)}"`
    if (typeof value === 'string') parts.push(`${head}\r\n\r\n${value}\r\n`)
    else parts.push(`${head}; filename="${quoted(value.name)}"\r\nContent-Type: ${value.type || 'application/octet-stream'}\r\n\r\n`, value, '\r\n')
  })
  parts.push(`--${boundary}--\r\n`)
  return new Blob(parts).arrayBuffer()
}

/** Escapes a name the way browsers do inside a multipart header's quoted string. */
function quoted(value: string): string {
  return value.replace(/\r/g, '%0D').replace(/\n/g, '%0A').replace(/"/g, '%22')
}
