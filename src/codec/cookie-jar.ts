/**
 * The session's cookies on the wire: finding them in a request's Cookie header, splitting a token
 * into chunks that each fit a browser's 4096-byte limit, and writing the header back with new
 * values for downstream handlers.
 *
 * Hono's cookie parser keeps only the first of duplicate names and cannot tell us that a name
 * appeared twice (a planted cookie), so the header is split here; values are never decoded:
 * a session token is plain base64url, and the codec refuses anything else in our cookies (it
 * checks a value only when it is not a token it knows already: this runs on every request).
 * @module
 */

/** Browsers ignore a cookie whose name plus value is longer than this (RFC 6265 minimum, Chrome's limit). */
export const MAX_COOKIE_NAME_VALUE = 4096

/** The session's cookie names. */
export interface CookieNames {
  /** Name of the session cookie, or the stem of its chunks `<main>.0`, `<main>.1`, ... */
  readonly main: string
  /** Name of the activity cookie. */
  readonly activity: string
}

/** What a request carried in our cookies. */
export interface IncomingCookies {
  /** The session token, joined from chunks when chunked. */
  readonly token?: string
  /** Why the session cookies cannot be used, when they cannot. */
  readonly problem?: 'duplicate' | 'incomplete' | 'oversized'
  readonly activity?: string
  /** Every name of ours that was present, so a write can sweep the ones no longer used. */
  readonly present: ReadonlySet<string>
}

/** What a request without any cookie of ours carries: one shared, empty answer. */
export const NO_COOKIES: IncomingCookies = Object.freeze({ present: new Set<string>() })
const CHUNK_SUFFIX = /^\.(0|[1-9][0-9]{0,2})$/

/**
 * Reads our cookies from a Cookie header. Anything of ours that is ambiguous is reported, not guessed.
 *
 * @example
 * ```ts
 * const incoming = readIncomingCookies(c.req.header('cookie'), names, 10 * 1024)
 * if (incoming.problem) refuse(incoming.problem)
 * ```
 */
export function readIncomingCookies(
  header: string | null | undefined,
  names: CookieNames,
  maxChars: number,
): IncomingCookies {
  // Fast path: most anonymous requests carry no cookie of ours at all.
  if (!header || header.indexOf(names.main) === -1) return NO_COOKIES
  // No cap on the whole header: other cookies of the site may be large, and that must not cost
  // the user the session. Our own values are capped below; the platform caps the header.

  const present = new Set<string>()
  let single: string | undefined
  let activity: string | undefined
  const chunks: string[] = []
  let problem: IncomingCookies['problem']

  // Walked by index, not split: the header holds the site's other cookies too, and a pair that is
  // not ours is skipped before anything is sliced or trimmed (this runs on every request).
  // The next '=' at or after the current pair, found once and reused by the pairs it lies beyond:
  // searching again from every pair would be quadratic in a header of many pairs without one.
  let eq = -1
  for (let start = 0; start < header.length; ) {
    const from = start
    let end = header.indexOf(';', from)
    if (end === -1) end = header.length
    start = end + 1
    if (eq < from) {
      eq = header.indexOf('=', from)
      if (eq === -1) break
    }
    if (eq > end) continue
    let at = from
    while (at < eq && isOws(header.charCodeAt(at))) at++
    if (!header.startsWith(names.main, at)) continue
    let nameEnd = eq
    while (nameEnd > at && isOws(header.charCodeAt(nameEnd - 1))) nameEnd--
    const name = header.slice(at, nameEnd)
    const value = valueBetween(header, eq + 1, end)
    // Empty: what a deletion (Max-Age=0) leaves in a client that sends it back instead of dropping
    // it. It carries nothing, so it counts as absent rather than as a broken session.
    if (value === '') continue
    const slot = slotOf(name, names)
    if (slot === undefined) continue
    if (present.has(name)) problem = 'duplicate'
    present.add(name)
    if (slot === 'single') single = value
    else if (slot === 'activity') activity = value
    else chunks[slot] = value
  }

  if (problem) return { problem, activity, present }
  return withSessionToken(single, chunks, maxChars, activity, present)
}

/** The request's cookies with the session token, from the unchunked cookie or the chunks, or why neither can be used. */
function withSessionToken(
  single: string | undefined,
  chunks: readonly string[],
  maxChars: number,
  activity: string | undefined,
  present: ReadonlySet<string>,
): IncomingCookies {
  if (chunks.length === 0) {
    if (single !== undefined && single.length > maxChars) return { problem: 'oversized', activity, present }
    return { token: single, activity, present }
  }
  // Chunks must be 0..n-1 with no gap, never beside an unchunked cookie, and at least two (a
  // token that fits one cookie is never chunked, so a lone `.0` lost its followers).
  if (single !== undefined || chunks.length < 2 || hasGap(chunks)) return { problem: 'incomplete', activity, present }
  const token = chunks.join('')
  if (token.length > maxChars) return { problem: 'oversized', activity, present }
  return { token, activity, present }
}

/** A pair's value between `start` and `end`, trimmed by index (linear however many spaces an attacker puts in it), unquoted. */
function valueBetween(header: string, start: number, end: number): string {
  while (start < end && isOws(header.charCodeAt(start))) start++
  while (end > start && isOws(header.charCodeAt(end - 1))) end--
  const value = header.slice(start, end)
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value
}

/** Where a cookie of ours goes: the unchunked session cookie, the activity cookie, a chunk's index, or nowhere (not ours). */
function slotOf(name: string, names: CookieNames): 'single' | 'activity' | number | undefined {
  if (name === names.main) return 'single'
  if (name === names.activity) return 'activity'
  const suffix = CHUNK_SUFFIX.exec(name.slice(names.main.length))
  return suffix ? Number(suffix[1]) : undefined
}

/**
 * Every session token an ambiguous Cookie header may hold (see {@link readIncomingCookies}): each
 * value of the unchunked name, then the chunks joined when they are complete. At most `limit`,
 * none longer than `maxChars`. Only for the rare sign-in or sign-out over a refused cookie, so
 * plain rather than fast; trimmed as the reader trims.
 */
export function sessionTokenCandidates(header: string, names: CookieNames, maxChars: number, limit: number): string[] {
  const tokens: string[] = []
  const chunks: string[] = []
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1) continue
    const name = trimOws(pair.slice(0, eq))
    if (!name.startsWith(names.main)) continue
    let value = trimOws(pair.slice(eq + 1))
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
    if (value === '' || value.length > maxChars) continue
    if (name === names.main) tokens.push(value)
    else {
      const suffix = CHUNK_SUFFIX.exec(name.slice(names.main.length))
      if (suffix) chunks[Number(suffix[1])] ??= value
    }
  }
  if (chunks.length >= 2 && !hasGap(chunks)) {
    const joined = chunks.join('')
    if (joined.length <= maxChars) tokens.push(joined)
  }
  return tokens.slice(0, limit)
}

function trimOws(text: string): string {
  let start = 0
  let end = text.length
  while (start < end && isOws(text.charCodeAt(start))) start++
  while (end > start && isOws(text.charCodeAt(end - 1))) end--
  return text.slice(start, end)
}

/**
 * SP or HTAB: the only whitespace RFC 6265 allows around a pair. String#trim also strips Unicode
 * spaces (U+2000, U+FEFF, ...), which browsers keep in a name: `\u2000__Host-session` escapes the
 * prefix rules in the browser, so it must not become `__Host-session` here (the "cookie prefix bypass").
 */
function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09
}

function hasGap(list: readonly (string | undefined)[]): boolean {
  for (let i = 0; i < list.length; i++) if (list[i] === undefined) return true
  return false
}

/**
 * Splits a token into `[name, value]` cookies. One cookie named `main` when name and value fit
 * in {@link MAX_COOKIE_NAME_VALUE}; otherwise `main.0`, `main.1`, ... each within the limit.
 */
export function splitIntoCookies(main: string, token: string): Array<[string, string]> {
  if (main.length + token.length <= MAX_COOKIE_NAME_VALUE) return [[main, token]]
  const out: Array<[string, string]> = []
  for (let offset = 0, i = 0; offset < token.length; i++) {
    const name = `${main}.${i}`
    const size = MAX_COOKIE_NAME_VALUE - name.length
    out.push([name, token.slice(offset, offset + size)])
    offset += size
  }
  return out
}

/** Bytes the cookies take in a Cookie header: each `name=value` plus the `; ` between them. */
export function cookieBytes(cookies: ReadonlyArray<readonly [string, string]>): number {
  let n = 0
  for (const [name, value] of cookies) n += name.length + 1 + value.length + 2
  return n
}

/**
 * Returns `header` with every cookie in `managed` removed and `next` appended, other cookies
 * left byte for byte as they were (only the SP and HTAB around a pair are dropped, as the reader
 * does). A name that `managed` accepts once String#trim has stripped it (a look-alike of ours
 * such as `\u2000__Host-session`) is removed too, so no downstream parser that trims more than
 * RFC 6265 takes it for ours. Other names are never trimmed: `\u2000__Host-csrf` stays a
 * look-alike, not a second `__Host-csrf` placed before the real one.
 */
export function rewriteCookieHeader(
  header: string | null | undefined,
  managed: (name: string) => boolean,
  next: ReadonlyArray<readonly [string, string]>,
): string {
  let out = ''
  if (header) {
    // The next '=' at or after the current pair, found once and reused by the pairs before it
    // (as in the reader): searching from every pair would be quadratic in a header without one.
    let eq = -1
    for (let start = 0; start <= header.length; ) {
      let end = header.indexOf(';', start)
      if (end === -1) end = header.length
      let from = start
      let to = end
      start = end + 1
      while (from < to && isOws(header.charCodeAt(from))) from++
      while (to > from && isOws(header.charCodeAt(to - 1))) to--
      if (from === to) continue
      if (eq < from) {
        eq = header.indexOf('=', from)
        if (eq === -1) eq = header.length
      }
      if (managed(header.slice(from, Math.min(eq, to)).trim())) continue
      out += out === '' ? header.slice(from, to) : `; ${header.slice(from, to)}`
    }
  }
  for (const [name, value] of next) out += out === '' ? `${name}=${value}` : `; ${name}=${value}`
  return out
}

/** Whether `name` is one of the session's cookies (main, a chunk, activity). */
export function isSessionCookieName(name: string, names: CookieNames): boolean {
  if (!name.startsWith(names.main)) return false
  return name === names.main || name === names.activity || CHUNK_SUFFIX.test(name.slice(names.main.length))
}

/**
 * The unchunked name and every chunk name a token within `maxBytes` can be split into. A session
 * write clears all of them that it does not set: a concurrent request may have set any of them.
 *
 * @example
 * ```ts
 * sessionCookieNamesWithin('__Host-session', 10 * 1024) // ['__Host-session', '__Host-session.0', '__Host-session.1', '__Host-session.2']
 * ```
 */
export function sessionCookieNamesWithin(main: string, maxBytes: number): string[] {
  // The longest token that still fits splits into the most chunks; found by bisection (the size
  // of a token's cookies grows with its length), once per middleware.
  let fits = 0
  let tooLong = maxBytes
  while (tooLong - fits > 1) {
    const length = (fits + tooLong) >>> 1
    if (cookieBytes(splitIntoCookies(main, 'x'.repeat(length))) <= maxBytes) fits = length
    else tooLong = length
  }
  const longest = splitIntoCookies(main, 'x'.repeat(fits))
  return longest.length === 1 ? [main] : [main, ...longest.map(([name]) => name)]
}
