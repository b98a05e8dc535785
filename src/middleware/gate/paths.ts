/**
 * Path matching for the gate. Two directions, two rules:
 * - what stays reachable mid-onboarding (`allow`) matches the path exactly as Hono routes it, so
 *   a case or slash variant is never let through to a handler it was not meant for;
 * - what needs a sign-in (`protect`) matches a normalised path (fully decoded, dot segments
 *   resolved, repeated and trailing slashes removed, lower case), so no variant slips past.
 * @module
 */
import type { Context } from 'hono'
import { SessionConfigError } from '../../errors'
import type { PathRule } from '../../types'

/** A compiled list of rules. */
export type PathMatcher = (path: string, c: Context) => boolean

const MAX_DECODE_ROUNDS = 3

/** Compiles rules. With `loose`, string rules compare against {@link normalizePath} output. */
export function compileRules(rules: readonly PathRule[], label: string, loose: boolean): PathMatcher {
  const tests = rules.map((rule, i): PathMatcher => {
    if (rule instanceof RegExp) return (path) => rule.test(path)
    if (typeof rule === 'function') return rule
    if (typeof rule !== 'string' || !rule.startsWith('/'))
      throw new SessionConfigError(`${label}[${i}] must be a path starting with "/", a RegExp or a function; got ${JSON.stringify(rule)}.`)
    const pattern = loose ? normalizePath(rule.replace(/\/\*$/, '')) + (rule.endsWith('/*') ? '/*' : '') : rule
    if (pattern.endsWith('/*')) {
      const stem = pattern.slice(0, -2)
      const prefix = `${stem}/`
      return (path) => path === stem || path.startsWith(prefix)
    }
    const withSlash = pattern.endsWith('/') ? pattern : `${pattern}/`
    return (path) => path === pattern || path === withSlash
  })
  return (path, c) => {
    for (const test of tests) if (test(path, c)) return true
    return false
  }
}

/** Decodes, resolves dot segments, collapses slashes, drops a trailing slash, lower-cases. */
export function normalizePath(path: string): string {
  let p = path
  for (let i = 0; i < MAX_DECODE_ROUNDS && p.includes('%'); i++) {
    try {
      p = decodeURIComponent(p)
    } catch {
      break
    }
  }
  p = p.replace(/\\/g, '/')
  const out: string[] = []
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') out.pop()
    else out.push(segment)
  }
  return `/${out.join('/')}`.toLowerCase()
}

/**
 * `value` if it is a same-origin relative path (`/x?y`), else `undefined`. Refuses `//host`,
 * `/\host`, schemes, control characters and anything that resolves to another origin.
 */
export function safeRedirectPath(value: string | null | undefined, origin = 'http://localhost'): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2048) return undefined
  if (value[0] !== '/' || value[1] === '/' || value[1] === '\\') return undefined
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return undefined
  let url: URL
  try {
    url = new URL(value, origin)
  } catch {
    return undefined
  }
  if (url.origin !== new URL(origin).origin) return undefined
  return url.pathname + url.search + url.hash
}
