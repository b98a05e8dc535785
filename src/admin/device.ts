/**
 * The device summary recorded at sign-in under the `device` option.
 * @module
 */
import type { SessionDevice } from '../types.js'

// First match wins: Edge and Opera say "Chrome" too, Chrome says "Safari" too.
const BROWSERS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bEdg(?:e|A|iOS)?\//, 'Edge'],
  [/\b(?:OPR|Opera)\//, 'Opera'],
  [/\bSamsungBrowser\//, 'Samsung Internet'],
  [/\b(?:Firefox|FxiOS)\//, 'Firefox'],
  [/\b(?:Chrome|CriOS|Chromium)\//, 'Chrome'],
  [/\bVersion\/[\d.]+.*\bSafari\//, 'Safari'],
]
const SYSTEMS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bAndroid\b/, 'Android'],
  [/\biPad\b/, 'iPadOS'],
  [/\b(?:iPhone|iPod)\b/, 'iOS'],
  [/\bCrOS\b/, 'ChromeOS'],
  [/\bWindows\b/, 'Windows'],
  [/\bMac OS X\b|\bMacintosh\b/, 'macOS'],
  [/\bLinux\b/, 'Linux'],
]
// Cloudflare's two-letter code ('XX' unknown, 'T1' Tor): letters and digits only.
const COUNTRY = /^[A-Z][A-Z0-9]$/

function first(table: ReadonlyArray<readonly [RegExp, string]>, text: string): string | undefined {
  for (const [pattern, name] of table) if (pattern.test(text)) return name
  return undefined
}

/**
 * A short summary of the request's browser and its country, or `undefined` when the request says
 * neither. Only names from fixed lists reach the record: the raw header (which can carry anything)
 * never does.
 */
export function deviceOf(request: Request): SessionDevice | undefined {
  // Bounded: the header is attacker-controlled and the patterns run on every sign-in.
  const agent = (request.headers.get('user-agent') ?? '').slice(0, 512)
  const browser = first(BROWSERS, agent)
  const system = first(SYSTEMS, agent)
  const summary = browser && system ? `${browser} on ${system}` : (browser ?? system)
  const cf = (request as { cf?: { country?: unknown } }).cf
  const country = typeof cf?.country === 'string' && COUNTRY.test(cf.country) ? cf.country : undefined
  if (summary === undefined && country === undefined) return undefined
  return { ...(summary === undefined ? {} : { browser: summary }), ...(country === undefined ? {} : { country }) }
}
