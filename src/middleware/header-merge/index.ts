/**
 * Downstream handlers must see the session as it is now, not as the browser sent it: once the
 * session's cookies change, the request's own Cookie header reads rewritten from then on, so
 * `c.req.header('cookie')`, `getCookie(c)` and `fetch(c.req.raw)` to an origin all carry the new
 * values. This is Auth0's "combine the headers" recipe, done once, here. Everything else goes on
 * as it arrived, byte for byte: the other cookies, and the body however a handler read it.
 * @module
 */
import type { Context, HonoRequest } from 'hono'
import { type CookieNames, isSessionCookieName, rewriteCookieHeader } from '../../codec/cookie-jar.js'

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
 * ones, other cookies kept byte for byte. Incoming requests have immutable headers on Workers,
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
export function mergeRequestCookies(
  c: Context,
  names: CookieNames,
  cookies: ReadonlyArray<readonly [string, string]>,
): void {
  const req = c.req as MergingRequest
  const pending = req[PENDING]
  if (pending) {
    pending.cookies = cookies
    return
  }
  req[PENDING] = { original: req.raw, names, cookies }
  Object.defineProperty(req, 'raw', { configurable: true, enumerable: true, get: buildOnFirstRead, set: settle })
}

/** What {@link showSessionCookies} asks: the request's session state. */
export interface SessionCookieSource {
  readonly cookieNames: CookieNames
  /** Our cookies downstream should now see, when they changed since last asked. */
  takeRequestCookies(): ReadonlyArray<readonly [string, string]> | undefined
}

/**
 * Shows downstream handlers the session's cookies as they are now, when they changed: the
 * middleware asks after loading, and the public functions after each change.
 *
 * @example
 * ```ts
 * await state.create(input, Date.now())
 * showSessionCookies(c, state)
 * ```
 */
export function showSessionCookies(c: Context, state: SessionCookieSource): void {
  const cookies = state.takeRequestCookies()
  if (cookies) mergeRequestCookies(c, state.cookieNames, cookies)
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
  // Read through c.req.formData() & co.: the raw stream is spent, but the bytes it carried are
  // kept (see keepRequestBody). Hand those on, unchanged, so fetch(c.req.raw) and
  // c.req.raw.text() carry what arrived; Content-Type and Content-Length stay true.
  const init: RequestInit & { cf?: unknown; duplex?: 'half' } = {
    method: raw.method,
    headers,
    redirect: raw.redirect,
    signal: raw.signal,
  }
  const cf = (raw as Request & { cf?: unknown }).cf
  if (cf !== undefined) init.cf = cf
  if (raw.method !== 'GET' && raw.method !== 'HEAD') {
    const body = keptBody(req.bodyCache)
    if (!(body instanceof ArrayBuffer)) init.duplex = 'half'
    init.body = body
  }
  return new Request(raw.url, init)
}

/** What Hono's `c.req.bodyCache` holds when edgeSession did not install its own: promises (or, from a validator, values) by method. */
type BodyCache = Partial<Record<'arrayBuffer' | 'text' | 'blob' | 'json' | 'formData', unknown>>

/**
 * The body's bytes, as they arrived: an ArrayBuffer when already read, else a stream of them. A
 * body whose bytes are gone (read as text, JSON or form data before edgeSession ran, or through
 * `c.req.raw` itself) becomes a stream that fails with a TypeError, as reading a used body does:
 * a re-encoding is not the request that arrived (a form parsed one way can be re-encoded into
 * fields another parser reads otherwise).
 */
function keptBody(cache: BodyCache): ArrayBuffer | ReadableStream<Uint8Array> {
  let bytes: Promise<ArrayBuffer> | undefined
  if (cache instanceof ExactBodyCache) {
    const read = cache[READ]
    if (read?.bytes) return read.bytes
    bytes = read?.promise
  } else if (cache.arrayBuffer) bytes = Promise.resolve(cache.arrayBuffer as Promise<ArrayBuffer>)
  else if (cache.blob) bytes = Promise.resolve(cache.blob as Promise<Blob>).then((blob) => blob.arrayBuffer())
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!bytes) return controller.error(new TypeError(SPENT))
      try {
        const buffer = await bytes
        if (buffer.byteLength > 0) controller.enqueue(new Uint8Array(buffer))
        controller.close()
      } catch (error) {
        controller.error(error)
      }
    },
  })
}

const SPENT =
  'hono-edge-session: the request body was read before edgeSession ran (or through c.req.raw) and its bytes are gone; read it through c.req after edgeSession to forward it.'

const READ = Symbol('hono-edge-session.body-read')

/** The one read of the body's bytes, and its result once there. */
interface BodyRead {
  readonly promise: Promise<ArrayBuffer>
  bytes?: ArrayBuffer
}

/**
 * Stands in for Hono's `c.req.bodyCache`: every way of reading the body (`c.req.json()`,
 * `.text()`, `.formData()`, `.blob()`, `.arrayBuffer()`, `parseBody()`, validators) is served from
 * one read of its bytes, so the bytes are there for the merged request however the handler read
 * it. Nothing is read until someone asks. Each result is kept as an own property, as Hono keeps
 * its cache, `arrayBuffer` first (what Hono's `cloneRawRequest` replays from).
 */
class ExactBodyCache {
  [READ]: BodyRead | undefined
  readonly #req: MergingRequest

  constructor(req: MergingRequest) {
    this.#req = req
  }

  get arrayBuffer(): Promise<ArrayBuffer> {
    return this.#bytes()
  }
  set arrayBuffer(value: unknown) {
    keep(this, 'arrayBuffer', value)
  }
  get text(): Promise<string> {
    return keep(
      this,
      'text',
      this.#bytes().then((buffer) => new Response(buffer).text()),
    )
  }
  set text(value: unknown) {
    keep(this, 'text', value)
  }
  get json(): Promise<unknown> {
    return keep(
      this,
      'json',
      this.#bytes().then((buffer) => new Response(buffer).json()),
    )
  }
  set json(value: unknown) {
    keep(this, 'json', value)
  }
  get blob(): Promise<Blob> {
    return keep(
      this,
      'blob',
      this.#bytes().then((buffer) => this.#typed(buffer).blob()),
    )
  }
  set blob(value: unknown) {
    keep(this, 'blob', value)
  }
  get formData(): Promise<FormData> {
    return keep(
      this,
      'formData',
      this.#bytes().then((buffer) => this.#typed(buffer).formData()),
    )
  }
  set formData(value: unknown) {
    keep(this, 'formData', value)
  }

  #bytes(): Promise<ArrayBuffer> {
    let read = this[READ]
    if (!read) {
      // The request the body is still in: the original while a merge is pending, else c.req.raw.
      const source = this.#req[PENDING]?.original ?? this.#req.raw
      const promise = source.arrayBuffer()
      const started: BodyRead = { promise }
      promise.then(
        (buffer) => (started.bytes = buffer),
        () => {},
      )
      read = this[READ] = started
      keep(this, 'arrayBuffer', promise)
    }
    return read.promise
  }

  /** A Response carrying the request's Content-Type, so the body parses as the request's would. */
  #typed(buffer: ArrayBuffer): Response {
    const type = (this.#req[PENDING]?.original ?? this.#req.raw).headers.get('content-type')
    return new Response(buffer, type === null ? undefined : { headers: { 'content-type': type } })
  }
}

function keep<T>(cache: ExactBodyCache, key: string, value: T): T {
  Object.defineProperty(cache, key, { value, writable: true, enumerable: true, configurable: true })
  return value
}

/**
 * Makes every read of the request body through `c.req` keep the body's bytes, so a merged
 * request (see {@link mergeRequestCookies}) can carry them on exactly as they arrived. Called by
 * edgeSession before anything downstream runs; costs one small object for requests that can have
 * a body, and nothing is read until a handler asks.
 *
 * @example
 * ```ts
 * keepRequestBody(c)
 * await c.req.formData() // parsed from the kept bytes
 * ```
 */
export function keepRequestBody(c: Context): void {
  const req = c.req as MergingRequest
  const raw = req[PENDING]?.original ?? req.raw
  // A body read before edgeSession ran is in Hono's cache already (or gone): leave it there.
  if (raw.method === 'GET' || raw.method === 'HEAD' || raw.bodyUsed || req.bodyCache instanceof ExactBodyCache) return
  // Hono types its cache as the body's reading methods; it holds their promises, as this does.
  Reflect.set(req, 'bodyCache', new ExactBodyCache(req))
}
