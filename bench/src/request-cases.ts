/**
 * Suite 2: the full cost of one request through a Hono app (`app.fetch`), for each library and
 * for bare Hono, on a request that only reads the session and on one that changes it.
 * @module
 */
import type { Hono } from 'hono'
import { type Jar, LIBRARIES, type LibraryId, buildApp, signIn } from './apps'
import { T0 } from './fixtures'
import { type CaseFactory, type Prepared, clock, coldCase, tokenCacheOff } from './harness'

const ORIGIN = 'https://bench.example'
export const NAV_HEADERS = {
  accept: 'text/html,application/xhtml+xml',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
}
export const API_HEADERS = { accept: 'application/json', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' }

/** Signed in, onboarding done, one page viewed: the cookies a returning browser has. */
export async function returningUser(app: Hono): Promise<Jar> {
  clock.set(T0)
  const jar = await signIn(app)
  clock.advance(1000)
  let res = await app.fetch(
    new Request(`${ORIGIN}/onboarding/finish`, { method: 'POST', headers: { ...NAV_HEADERS, cookie: jar.header } }),
  )
  await res.arrayBuffer()
  jar.apply(res)
  clock.advance(1000)
  res = await app.fetch(new Request(`${ORIGIN}/dashboard`, { headers: { ...NAV_HEADERS, cookie: jar.header } }))
  await res.arrayBuffer()
  jar.apply(res)
  clock.advance(1000)
  return jar
}

/**
 * `app` is the library's; `baseline` runs bare Hono on the very same requests (same Cookie
 * header, same size), so "added" is the library's own work, not the runtime parsing bigger cookies.
 */
function requestCase(id: LibraryId, write: boolean, baseline = false): CaseFactory {
  return async (): Promise<Prepared> => {
    const jar = await returningUser(buildApp(id))
    const app = baseline ? buildApp('bare') : buildApp(id)
    const url = `${ORIGIN}/api/${write ? 'write' : 'read'}`
    const init = { method: write ? 'POST' : 'GET', headers: { ...API_HEADERS, cookie: jar.header } }
    // Checked once, outside the timing: the route works and what it sets.
    const probe = await app.fetch(new Request(url, init))
    const body = await probe.text()
    if (probe.status !== 200 || (!baseline && id !== 'bare' && body.includes('null')))
      throw new Error(`${id} ${url}: ${probe.status} ${body}`)
    return {
      async run(iterations) {
        for (let i = 0; i < iterations; i++) {
          const res = await app.fetch(new Request(url, init))
          await res.arrayBuffer()
        }
      },
      info: {
        setCookieLines: probe.headers.getSetCookie().length,
        cookieHeaderChars: jar.header.length,
        tokenCacheOff: tokenCacheOff(),
      },
    }
  }
}

export const requestCases: Record<string, CaseFactory> = Object.fromEntries([
  ...LIBRARIES.flatMap(({ id }) => [
    [`req-read:${id}`, requestCase(id, false)],
    [`req-write:${id}`, requestCase(id, true)],
    [`req-read:bare@${id}`, requestCase(id, false, true)],
    [`req-write:bare@${id}`, requestCase(id, true, true)],
  ]),
  // Ours built with the token cache off (every cookie decrypted); their baselines are `bare@edge-session`.
  ['req-read:edge-session-cold', coldCase(requestCase('edge-session', false))],
  ['req-write:edge-session-cold', coldCase(requestCase('edge-session', true))],
])
