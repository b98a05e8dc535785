/**
 * The smoke test's client: a browser-like cookie jar and page requests over real HTTP.
 *
 * The app's cookies are `__Host-` and Secure. A browser keeps them only from a secure origin, and
 * the servers here speak plain http on 127.0.0.1 (as behind a TLS-terminating proxy), so the jar
 * treats the connection as secure: it checks every attribute a browser checks for the prefix, and
 * sends the cookies back over http.
 */

interface StoredCookie {
  value: string
  /** ms since the epoch, or undefined for a session cookie. */
  expires: number | undefined
}

export class BrowserCookieJar {
  readonly #cookies = new Map<string, StoredCookie>()

  /** Applies a response's Set-Cookie lines as a browser would; throws on a line a browser would refuse. */
  apply(res: Response): void {
    for (const line of res.headers.getSetCookie()) this.#applyLine(line)
  }

  #applyLine(line: string): void {
    const [pair = '', ...parts] = line.split(';')
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new Error(`Set-Cookie without a name: ${line}`)
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    const attributes = new Map<string, string>()
    for (const part of parts) {
      const i = part.indexOf('=')
      const key = (i < 0 ? part : part.slice(0, i)).trim().toLowerCase()
      attributes.set(key, i < 0 ? '' : part.slice(i + 1).trim())
    }
    const prefix = name.toLowerCase()
    if ((prefix.startsWith('__host-') || prefix.startsWith('__secure-')) && !attributes.has('secure'))
      throw new Error(`a browser refuses a prefixed cookie without Secure: ${line}`)
    if (prefix.startsWith('__host-') && (attributes.get('path') !== '/' || attributes.has('domain')))
      throw new Error(`a browser refuses a __Host- cookie without Path=/ or with Domain: ${line}`)
    let expires: number | undefined
    const maxAge = attributes.get('max-age')
    if (maxAge !== undefined) expires = Date.now() + Number(maxAge) * 1000
    else if (attributes.has('expires')) expires = Date.parse(attributes.get('expires') ?? '')
    if (expires !== undefined && expires <= Date.now()) this.#cookies.delete(name)
    else this.#cookies.set(name, { value, expires })
  }

  /** The names of the live cookies. */
  names(): string[] {
    return [...this.#live()].map(([name]) => name)
  }

  /** The Cookie header a browser would send, or undefined when there is no cookie. */
  header(): string | undefined {
    const pairs = [...this.#live()].map(([name, cookie]) => `${name}=${cookie.value}`)
    return pairs.length ? pairs.join('; ') : undefined
  }

  *#live(): Generator<[string, StoredCookie]> {
    const now = Date.now()
    for (const entry of this.#cookies) if (entry[1].expires === undefined || entry[1].expires > now) yield entry
  }
}

/** A browser tab on one origin: page navigations and same-origin form posts, redirects not followed. */
export class Browser {
  readonly jar = new BrowserCookieJar()
  constructor(readonly origin: string) {}

  /** A top-level page navigation (what the page-view rule and the gate's redirect look for). */
  navigate(path: string): Promise<Response> {
    return this.#send(path, {
      method: 'GET',
      headers: {
        accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
        'sec-fetch-site': 'same-origin',
      },
    })
  }

  /** A form post from a page of `from` (this origin unless given): what csrf() checks is `Origin`. */
  submit(path: string, fields: Record<string, string>, from = this.origin): Promise<Response> {
    return this.#send(path, {
      method: 'POST',
      headers: {
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
        origin: from,
        'sec-fetch-mode': 'navigate',
        'sec-fetch-dest': 'document',
        'sec-fetch-site': from === this.origin ? 'same-origin' : 'cross-site',
      },
      body: new URLSearchParams(fields).toString(),
    })
  }

  async #send(
    path: string,
    init: { method: string; headers: Record<string, string>; body?: string },
  ): Promise<Response> {
    const cookie = this.jar.header()
    const res = await fetch(new URL(path, this.origin), {
      ...init,
      headers: cookie ? { ...init.headers, cookie } : init.headers,
      redirect: 'manual',
    })
    this.jar.apply(res)
    return res
  }
}

/** The path and query a redirect points to (same origin required), or throws. */
export function redirectTarget(res: Response, origin: string): { path: string; query: URLSearchParams } {
  const location = res.headers.get('location')
  if (location === null) throw new Error(`no Location on a ${res.status}`)
  const url = new URL(location, origin)
  if (url.origin !== origin) throw new Error(`redirect off the origin: ${location}`)
  return { path: url.pathname, query: url.searchParams }
}
