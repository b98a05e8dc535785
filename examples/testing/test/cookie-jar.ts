/** A browser's cookie jar, just enough for tests: keeps what Set-Cookie sets, drops what it deletes. */
export class CookieJar {
  readonly cookies = new Map<string, string>()

  /** Takes the response's Set-Cookie lines; `Max-Age=0` (or an Expires in the past) deletes. */
  apply(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';')
      const name = pair.slice(0, pair.indexOf('=')).trim()
      const value = pair.slice(pair.indexOf('=') + 1).trim()
      const deleted = attributes.some((a) => {
        const [key = '', val = ''] = a.trim().split('=')
        return (/^max-age$/i.test(key) && Number(val) <= 0) || (/^expires$/i.test(key) && Date.parse(val) <= Date.now())
      })
      if (deleted) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }

  /** Adds the pairs of a Cookie header (what mintSessionCookie returns). */
  add(cookieHeader: string): this {
    for (const pair of cookieHeader.split(/;\s*/).filter(Boolean))
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1))
    return this
  }

  /** The Cookie header a browser would send. */
  get header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

/** Request headers of a page navigation, and of a form post from this site (hono/csrf checks Origin). */
export const NAVIGATE = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
export const FORM = { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://example.com' }
