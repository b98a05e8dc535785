/**
 * Where a request's time goes in the middleware (`npm run bench -- --profile`): the same
 * `GET /api/read` with parts of the work taken away one at a time, and the codec calls alone.
 * @module
 */
import type { Hono } from 'hono'
import { Hono as HonoApp } from 'hono'
import { createKeyringCache } from '../../src/codec/keyring'
import { readIncomingCookies } from '../../src/codec/cookie-jar'
import { openToken } from '../../src/codec/token'
import { buildApp, edgeApp } from './apps'
import { SECRET } from './fixtures'
import { type CaseFactory, type Prepared, clock } from './harness'
import { API_HEADERS, NAV_HEADERS, returningUser } from './request-cases'

const URL_READ = 'https://bench.example/api/read'

function loopRequests(app: Hono, headers: Record<string, string>, method = 'GET', url = URL_READ): Prepared {
  const init = { method, headers }
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) {
        const res = await app.fetch(new Request(url, init))
        await res.arrayBuffer()
      }
    },
  }
}

/** Navigations to two paths in turn, with the given cookies. */
function loopPageViews(app: Hono, cookies: Record<string, string>): Prepared {
  const headers = { ...cookies, ...NAV_HEADERS }
  const urls = ['https://bench.example/projects', 'https://bench.example/team']
  return {
    async run(iterations) {
      for (let i = 0; i < iterations; i++) {
        const res = await app.fetch(new Request(urls[i & 1] as string, { headers }))
        await res.arrayBuffer()
      }
    },
  }
}

async function withCookies(app: Hono, keep: (name: string) => boolean): Promise<Record<string, string>> {
  const jar = await returningUser(app)
  const cookie = jar.header
    .split('; ')
    .filter((pair) => keep(pair.slice(0, pair.indexOf('='))))
    .join('; ')
  return { ...API_HEADERS, cookie }
}

export const middlewareCases: Record<string, CaseFactory> = {
  async 'mw:bare'() {
    const app = buildApp('bare')
    return loopRequests(app, await withCookies(buildApp('edge-session'), () => true))
  },
  async 'mw:hono-empty-mw'() {
    // Bare Hono plus one empty async middleware: the floor of any middleware.
    const app = new HonoApp()
    app.use(async (_c, next) => {
      await next()
    })
    app.get('/api/read', (c) => c.json({ name: null }))
    return loopRequests(app, await withCookies(buildApp('edge-session'), () => true))
  },
  async 'mw:anonymous'() {
    return loopRequests(edgeApp(), { ...API_HEADERS, cookie: 'theme=dark; _ga=GA1.2.3' })
  },
  async 'mw:read'() {
    const app = edgeApp()
    return loopRequests(app, await withCookies(app, () => true))
  },
  async 'mw:read-no-gate'() {
    const app = edgeApp({ onboarding: false })
    return loopRequests(app, await withCookies(app, () => true))
  },
  async 'mw:read-session-cookie-only'() {
    // Without the activity cookie: one decryption instead of two.
    const app = edgeApp()
    return loopRequests(app, await withCookies(app, (name) => !name.endsWith('-activity')))
  },
  async 'mw:page-view'() {
    // A page view of a new path (two paths in turn): the activity cookie is sealed and set each time.
    const app = edgeApp()
    return loopPageViews(app, await withCookies(app, () => true))
  },
  async 'mw:page-view-bare'() {
    return loopPageViews(buildApp('bare'), await withCookies(edgeApp(), () => true))
  },
  async 'mw:write'() {
    const app = edgeApp()
    return loopRequests(app, await withCookies(app, () => true), 'POST', 'https://bench.example/api/write')
  },
  async 'mw:step-cookie-header'() {
    // Headers.get('cookie') of a signed-in request: the runtime copies the header into a string.
    const headers = new Headers(await withCookies(edgeApp(), () => true))
    return {
      async run(iterations) {
        for (let i = 0; i < iterations; i++) headers.get('cookie')
      },
    }
  },
  async 'mw:step-read-cookies'() {
    const header = (await withCookies(edgeApp(), () => true)).cookie ?? ''
    const names = { main: '__Host-session', activity: '__Host-session-activity' }
    return {
      async run(iterations) {
        for (let i = 0; i < iterations; i++) readIncomingCookies(header, names, 10240)
      },
    }
  },
  async 'mw:open-both'() {
    // The two openToken calls of a read, alone.
    const app = edgeApp()
    const headers = await withCookies(app, () => true)
    const keyring = await createKeyringCache({ session: '__Host-session', activity: '__Host-session-activity' })(SECRET)
    const values = Object.fromEntries(
      (headers.cookie ?? '').split('; ').map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)]),
    )
    const main = values['__Host-session'] as string
    const activity = values['__Host-session-activity'] as string
    return {
      async run(iterations) {
        for (let i = 0; i < iterations; i++) {
          await openToken(main, keyring, 'session', clock.now())
          await openToken(activity, keyring, 'activity', clock.now())
        }
      },
    }
  },
}
