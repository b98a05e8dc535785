/**
 * Path matching for the gate. Two directions, two rules, so that no spelling of a path slips past:
 * - what stays reachable (`allow`, the login path) must match the path as Hono routes it and
 *   every form a server may read it as (see {@link pathForms}), so `/static/..%2Fexplore`,
 *   `/static/..;/explore` and `/static/／..／explore` are not let through to a handler or an
 *   origin that decodes, drops `;` parameters or folds Unicode compatibility forms;
 * - what needs a sign-in (`protect`) matches if the routed path or any of those forms does, each
 *   as is or lower-cased, so `/%65xplore`, `//explore`, `/explore/`, `/EXPLORE`, `/explore;x` and
 *   `/ｅｘｐｌｏｒｅ` are caught, and so is `/admin/..%2f`, which Hono routes to `/admin/*` though
 *   its canonical form is `/`.
 * @module
 */
import type { Context } from 'hono'
import { SessionConfigError } from '../../errors.js'
import type { PathRule } from '../../types.js'

/** A compiled list of rules, called with the path as Hono routes it (`c.req.path`). */
export type PathMatcher = (path: string, c: Context) => boolean

const MAX_DECODE_ROUNDS = 3
const MAX_REDIRECT_CHARS = 2048
// Anything that can make the canonical form differ from the routed path; most paths have none.
const NEEDS_CANONICAL = /%|\\|\/\/|\/\.|.\/$/
// Where a server may read the path otherwise than its canonical form: `;` path parameters, escapes
// (which may hide either) and non-ASCII (NFKC folds `／` to `/`, `ｅ` to `e`). Most paths have none.
const NEEDS_FORMS = /[;%\u0080-\uffff]/
// A `;` parameter and the rest of its segment, as servlet-style servers drop them.
const PATH_PARAMETER = /;[^/\\]*/g
// Decoded run by run (as Hono does), so one bad escape such as `%zz` leaves the others decoded.
const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g
const ASCII_ESCAPE = /%[0-7][0-9A-Fa-f]/g
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const UNSAFE_CHARS = /[\u0000-\u001f\u007f\\]/

/**
 * Pass-list rules (`allow`): a path passes only if its routed form AND its canonical form match.
 * Strings are exact (`'/x'`, also `'/x/'`) or prefixes (`'/x/*'`), compared case-sensitively as
 * Hono routes.
 */
export function compileAllowRules(rules: readonly PathRule[], label: string): PathMatcher {
  const test = compileEach(rules, label, false)
  return (path, c) => {
    if (!test(path, c)) return false
    if (NEEDS_FORMS.test(path)) {
      for (const form of pathForms(path)) if (form !== path && !test(form, c)) return false
      return true
    }
    const canonical = canonicalPath(path)
    return canonical === path || test(canonical, c)
  }
}

/**
 * Block-list rules (`protect`): a path is caught if its routed or canonical form, as is or
 * lower-cased, matches. String rules are compared lower-cased.
 */
export function compileProtectRules(rules: readonly PathRule[], label: string): PathMatcher {
  const strings = compileEach(
    rules.filter((r) => typeof r === 'string'),
    label,
    true,
  )
  const others = compileEach(
    rules.filter((r) => typeof r !== 'string'),
    label,
    false,
  )
  const matchesAny = (path: string, c: Context) => {
    if (strings(path.toLowerCase(), c) || others(path, c) || others(path.toLowerCase(), c)) return true
    for (const form of pathForms(path)) {
      const lower = form.toLowerCase()
      if (strings(lower, c) || others(form, c) || (lower !== form && others(lower, c))) return true
    }
    return false
  }
  return (path, c) => {
    // Rare spellings (`;`, escapes, non-ASCII) take the long way through every form.
    if (NEEDS_FORMS.test(path)) return matchesAny(path, c)
    // Handlers see the routed path, a decoding origin the canonical one: catching either is the safe side.
    const canonical = canonicalPath(path)
    const lowerPath = path.toLowerCase()
    const lowerCanonical = canonical.toLowerCase()
    if (strings(lowerPath, c) || (lowerCanonical !== lowerPath && strings(lowerCanonical, c))) return true
    // Each distinct form once, without allocating: this runs on every signed-out request.
    if (others(path, c) || (canonical !== path && others(canonical, c)) || (lowerPath !== path && others(lowerPath, c)))
      return true
    return lowerCanonical !== canonical && lowerCanonical !== lowerPath && others(lowerCanonical, c)
  }
}

function compileEach(rules: readonly PathRule[], label: string, lowerCase: boolean): PathMatcher {
  const tests = rules.map((rule, i): PathMatcher => {
    if (rule instanceof RegExp) {
      // A global or sticky RegExp keeps state between test() calls; use a stateless copy.
      const re = rule.global || rule.sticky ? new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')) : rule
      return (path) => re.test(path)
    }
    if (typeof rule === 'function') return rule
    if (typeof rule !== 'string' || !rule.startsWith('/'))
      throw new SessionConfigError(
        `${label}[${i}] must be a path starting with "/", a RegExp or a function; got ${JSON.stringify(rule)}.`,
      )
    const prefix = rule.endsWith('/*')
    let stem = canonicalPath(prefix ? rule.slice(0, -2) || '/' : rule)
    if (lowerCase) stem = stem.toLowerCase()
    if (prefix) {
      if (stem === '/') return () => true
      const under = `${stem}/`
      return (path) => path === stem || path.startsWith(under)
    }
    const withSlash = stem === '/' ? stem : `${stem}/`
    return (path) => path === stem || path === withSlash
  })
  return (path, c) => {
    for (const test of tests) if (test(path, c)) return true
    return false
  }
}

/**
 * The path as a server that decodes everything would see it: percent-decoded (a few rounds, for
 * double encoding; a malformed escape stops nothing else), `\` read as `/`, dot segments
 * resolved, repeated slashes collapsed, no trailing slash. Case is kept.
 */
export function canonicalPath(path: string): string {
  if (!NEEDS_CANONICAL.test(path)) return path
  return resolveSegments(decodeRounds(path))
}

/**
 * Every form other servers may read `path` as, canonical each: as is; with `;` path parameters
 * dropped from each segment before decoding (servlet containers) and after it (`%3B` too); with
 * Unicode compatibility forms folded (NFKC, between decoding rounds too: `％２ｅ` is `%2e`); and
 * both. A rule must hold for all of them (`allow`), or for any (`protect`). Called only for paths
 * with `;`, `%` or non-ASCII.
 *
 * @example
 * ```ts
 * pathForms('/static/..;/explore') // ['/static/..;/explore', '/explore']
 * pathForms('/ｅｘｐｌｏｒｅ') // ['/ｅｘｐｌｏｒｅ', '/explore']
 * ```
 */
export function pathForms(path: string): string[] {
  const decoded = decodeRounds(path)
  const folded = foldRounds(path)
  const forms = [
    resolveSegments(decoded),
    resolveSegments(decodeRounds(dropParameters(path))),
    resolveSegments(dropParameters(decoded)),
    resolveSegments(folded),
    resolveSegments(dropParameters(folded)),
    resolveSegments(foldRounds(dropParameters(path))),
  ]
  return [...new Set(forms)]
}

function dropParameters(path: string): string {
  return path.includes(';') ? path.replace(PATH_PARAMETER, '') : path
}

function decodeRounds(path: string): string {
  let p = path
  for (let i = 0; i < MAX_DECODE_ROUNDS && p.includes('%'); i++) {
    const next = p.replace(ESCAPE_RUN, decodeRun)
    if (next === p) break
    p = next
  }
  return p
}

/** {@link decodeRounds} with NFKC before and after each round, until neither changes anything. */
function foldRounds(path: string): string {
  let p = path.normalize('NFKC')
  for (let i = 0; i < MAX_DECODE_ROUNDS && p.includes('%'); i++) {
    const next = p.replace(ESCAPE_RUN, decodeRun).normalize('NFKC')
    if (next === p) break
    p = next
  }
  return p
}

/** `\` read as `/`, dot segments resolved, empty segments dropped: `/a//b/../c/` is `/a/c`. */
function resolveSegments(p: string): string {
  const out: string[] = []
  for (const segment of p.replace(/\\/g, '/').split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`
}

/**
 * One run of escapes, decoded as UTF-8; if it is not valid UTF-8, its ASCII escapes alone (`%2e`,
 * `%2f`), as a server decoding byte by byte still sees those dots and slashes.
 */
function decodeRun(run: string): string {
  try {
    return decodeURIComponent(run)
  } catch {
    return run.replace(ASCII_ESCAPE, (percentEscape) =>
      String.fromCharCode(Number.parseInt(percentEscape.slice(1), 16)),
    )
  }
}

/** {@link canonicalPath}, lower-cased: the key two paths are compared by when case must not matter. */
export function normalizePath(path: string): string {
  return canonicalPath(path).toLowerCase()
}

/**
 * `value` if it is a same-origin relative path (`/x?y`), else `undefined`. Refuses `//host`,
 * `/\host`, schemes, control characters, and anything that becomes one of those once decoded or
 * resolved (`/%2F%2Fhost`, `/a/..//host`), since some servers decode before they redirect.
 *
 * @example
 * ```ts
 * safeRedirectPath('/explore?tab=1') // '/explore?tab=1'
 * safeRedirectPath('//evil.com') // undefined
 * safeRedirectPath('/%2F%2Fevil.com') // undefined
 * ```
 */
export function safeRedirectPath(value: string | null | undefined, origin = 'http://localhost'): string | undefined {
  if (typeof value !== 'string' || !passesRedirectChecks(value)) return undefined
  let url: URL
  try {
    url = new URL(value, origin)
  } catch {
    return undefined
  }
  if (url.origin !== new URL(origin).origin) return undefined
  const out = url.pathname + url.search + url.hash
  // What is handed on must pass the same checks again: the URL parser resolves escaped dot
  // segments (`/%2E%2E/%2F%2Fhost` -> `/%2F%2Fhost`), and its output is what gets decoded next.
  return out === value || passesRedirectChecks(out) ? out : undefined
}

/** Local, short enough, and still local after each of a few rounds of decoding. */
function passesRedirectChecks(value: string): boolean {
  if (value.length === 0 || value.length > MAX_REDIRECT_CHARS) return false
  let decoded = value
  for (let i = 0; ; i++) {
    if (!isLocalPath(decoded)) return false
    if (i === MAX_DECODE_ROUNDS || !decoded.includes('%')) return true
    try {
      decoded = decodeURIComponent(decoded)
    } catch {
      return false
    }
  }
}

function isLocalPath(value: string): boolean {
  return value[0] === '/' && value[1] !== '/' && value[1] !== '\\' && !UNSAFE_CHARS.test(value)
}
