/**
 * Downstream handlers must see the session as it is now, not as the browser sent it: once the
 * session's cookies change, the request's own Cookie header reads rewritten from then on, so
 * `c.req.header('cookie')`, `getCookie(c)` and `fetch(c.req.raw)` to an origin all carry the new
 * values. This is Auth0's "combine the headers" recipe, done once, here.
 * @module
 */
import type { Context, HonoRequest } from 'hono'
import { type CookieNames, isSessionCookieName, rewriteCookieHeader } from '../../codec/cookie-jar.js'

/** What Hono's `c.req.bodyCache` really holds: promises, keyed by the method that read the body. */
type BodyCache = Partial<Record<'arrayBuffer' | 'text' | 'blob' | 'json' | 'formData', Promise<unknown>>>

const BOUNDARY = /boundary=(?:"([^"]+)"|([^;\s]+))/i

/** A merge decided but not built yet: what `c.req.raw` will be made from on its first read. */
interface PendingMerge {
  /** `c.req.raw` when the merge was decided: same method, URL, headers and body, the old Cookie header. */
  readonly original: Request
  readonly names: CookieNames
  /** The latest cookies of ours: a second change in the same request replaces them, nothing is built twice. */
  cookies: ReadonlyArray<readonly [string, string]>
}

const PENDING = Symbol('hono-edge-session.pending-merge')
type MergingRequest = HonoRequest & { [PENDING]?: PendingMerge | undefined }

/**
 * Makes `c.req.raw` a copy whose Cookie header carries `cookies` instead of the session's old
 * ones, other cookies kept as they were. Incoming requests have immutable headers on Workers,
 * hence a copy; building a `Request` costs more than sealing the cookie, so it is built on the
 * first read of `c.req.raw` (by `c.req.header()`, `getCookie(c)`, `fetch(c.req.raw)`, ...), and
 * not at all when nothing downstream looks. Whoever reads it sees the merged request.
 *
 * @example
 * ```ts
 * mergeRequestCookies(c, { main: '__Host-session', activity: '__Host-session-activity' }, [['__Host-session', token]])
 * c.req.header('cookie') // '...; __Host-session=<token>'
 * ```
 */
export function mergeRequestCookies(c: Context, names: CookieNames, cookies: ReadonlyArray<readonly [string, string]>): void {
  const req = c.req as MergingRequest
  const pending = req[PENDING]
  if (pending) {
    pending.cookies = cookies
    return
  }
  req[PENDING] = { original: req.raw, names, cookies }
  Object.defineProperty(req, 'raw', { configurable: true, enumerable: true, get: buildOnFirstRead, set: settle })
}

/**
 * The request to read anything but the Cookie header from (method, URL, other headers) without
 * building a pending merge: `c.req.raw`, or what it will be built from.
 *
 * @example
 * ```ts
 * peekRequest(c).headers.get('sec-fetch-mode')
 * ```
 */
export function peekRequest(c: Context): Request {
  const req = c.req as MergingRequest
  return req[PENDING]?.original ?? req.raw
}

function buildOnFirstRead(this: MergingRequest): Request {
  const pending = this[PENDING] as PendingMerge
  const merged = buildMerged(this, pending)
  settle.call(this, merged)
  return merged
}

/** Makes `raw` a plain property again: built, or replaced by the app (its request wins). */
function settle(this: MergingRequest, raw: Request): void {
  this[PENDING] = undefined
  Object.defineProperty(this, 'raw', { configurable: true, enumerable: true, writable: true, value: raw })
}

function buildMerged(req: HonoRequest, { original: raw, names, cookies }: PendingMerge): Request {
  const headers = new Headers(raw.headers)
  const cookie = rewriteCookieHeader(raw.headers.get('cookie'), (name) => isSessionCookieName(name, names), cookies)
  if (cookie === '') headers.delete('cookie')
  else headers.set('cookie', cookie)
  if (!raw.bodyUsed) {
    const merged = new Request(raw, { headers })
    // Bun keeps the original request's headers when `init.headers` is empty, so a Cookie header
    // that was the only one would survive its removal.
    if (cookie === '') merged.headers.delete('cookie')
    return merged
  }
  // Read through c.req.json() & co.: the raw stream is spent but Hono cached the body. Hand the
  // cached body on, so c.req.raw.text() and fetch(c.req.raw) still carry it.
  const init: RequestInit & { cf?: unknown; duplex?: 'half' } = { method: raw.method, headers, redirect: raw.redirect, signal: raw.signal }
  const cf = (raw as Request & { cf?: unknown }).cf
  if (cf !== undefined) init.cf = cf
  const body = raw.method === 'GET' || raw.method === 'HEAD' ? undefined : replayBody(req.bodyCache as BodyCache, headers)
  if (body) {
    init.body = body
    init.duplex = 'half'
  }
  return new Request(raw.url, init)
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
