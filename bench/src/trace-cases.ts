/**
 * Suite 3: a browsing trace. One signed-in user, about one request per second of simulated time:
 * they finish onboarding, then view pages over ten paths (a quarter of the time the same page
 * again), each followed by three API or asset calls. Every library sees the same requests.
 * @module
 */
import { type Jar, LIBRARIES, type LibraryId, buildApp, signIn } from './apps'
import { T0, prng } from './fixtures'
import { type CaseFactory, type Prepared, clock } from './harness'
import { API_HEADERS, NAV_HEADERS } from './request-cases'

const ORIGIN = 'https://bench.example'
const PAGES = [
  '/',
  '/dashboard',
  '/projects',
  '/projects/42',
  '/settings',
  '/billing',
  '/team',
  '/docs',
  '/docs/getting-started',
  '/explore',
]
const APIS = ['/api/notifications', '/api/projects', '/api/me', '/api/feed']
const ASSETS = ['/assets/app.css', '/assets/app.js', '/assets/logo.svg', '/assets/font.woff2']
const ASSET_HEADERS = { accept: '*/*', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'script' }
const PAGE_VIEWS = 60

/** What a request is, for the Set-Cookie breakdown. */
export type StepKind = 'page-new' | 'page-repeat' | 'api' | 'asset' | 'update'

interface Step {
  readonly kind: StepKind
  readonly path: string
  readonly method: 'GET' | 'POST'
  readonly headers: Readonly<Record<string, string>>
  /** Simulated milliseconds since the previous request. */
  readonly gap: number
}

/** The trace, the same on every run. */
export function browsingTrace(): readonly Step[] {
  const random = prng(42)
  const gap = () => 700 + Math.floor(random() * 600)
  const steps: Step[] = []
  let previous = ''
  const view = (path: string, assetsOnly = false) => {
    steps.push({
      kind: path === previous ? 'page-repeat' : 'page-new',
      path,
      method: 'GET',
      headers: NAV_HEADERS,
      gap: gap(),
    })
    previous = path
    for (let i = 0; i < 3; i++) {
      // The onboarding page loads only assets: the gate (ours) answers 403 to other calls until it is done.
      const api = !assetsOnly && random() < 0.5
      const list = api ? APIS : ASSETS
      const sub = list[Math.floor(random() * list.length)] as string
      steps.push({
        kind: api ? 'api' : 'asset',
        path: sub,
        method: 'GET',
        headers: api ? API_HEADERS : ASSET_HEADERS,
        gap: gap(),
      })
    }
  }
  view('/onboarding', true)
  steps.push({ kind: 'update', path: '/onboarding/finish', method: 'POST', headers: NAV_HEADERS, gap: gap() })
  view('/explore')
  for (let n = 2; n < PAGE_VIEWS; n++) {
    const again = random() < 0.25
    const path = again
      ? previous
      : (PAGES.filter((p) => p !== previous)[Math.floor(random() * (PAGES.length - 1))] as string)
    view(path)
  }
  return steps
}

type Counts = Record<StepKind, { requests: number; setCookie: number }>

/**
 * The trace for library `id`. With `baseline`, bare Hono answers the same requests the library's
 * browser sent (its Cookie headers, step by step, recorded from one pass), so "added" is the
 * library's own work, not the runtime reading bigger cookies.
 */
function traceCase(id: LibraryId, baseline = false): CaseFactory {
  return async (): Promise<Prepared> => {
    const app = buildApp(id)
    const steps = browsingTrace()
    clock.set(T0)
    const signedIn = await signIn(app)

    /**
     * One pass over the trace from the signed-in state; counts Set-Cookie per kind, records the
     * Cookie headers sent and the Set-Cookie lines received.
     */
    const pass = async (count?: Counts, sent?: string[], received?: string[][]) => {
      const jar: Jar = signedIn.clone()
      clock.set(T0)
      for (const step of steps) {
        clock.advance(step.gap)
        sent?.push(jar.header)
        const res = await app.fetch(
          new Request(ORIGIN + step.path, { method: step.method, headers: { ...step.headers, cookie: jar.header } }),
        )
        await res.arrayBuffer()
        if (res.status >= 400) throw new Error(`${id} ${step.method} ${step.path}: ${res.status}`)
        const lines = res.headers.getSetCookie()
        received?.push(lines)
        jar.applyLines(lines)
        if (count) {
          const entry = count[step.kind]
          entry.requests++
          if (lines.length > 0) entry.setCookie++
        }
      }
    }

    const counts: Counts = {
      'page-new': { requests: 0, setCookie: 0 },
      'page-repeat': { requests: 0, setCookie: 0 },
      api: { requests: 0, setCookie: 0 },
      asset: { requests: 0, setCookie: 0 },
      update: { requests: 0, setCookie: 0 },
    }
    const sent: string[] = []
    const received: string[][] = []
    await pass(counts, sent, received)
    const info = {
      counts,
      requests: steps.length,
      simulatedSeconds: Math.round(steps.reduce((s, x) => s + x.gap, 0) / 1000),
    }
    if (!baseline) {
      return {
        async run(iterations) {
          for (let i = 0; i < iterations; i++) await pass()
        },
        units: steps.length,
        info,
      }
    }
    const bare = buildApp('bare')
    return {
      async run(iterations) {
        for (let i = 0; i < iterations; i++) {
          // The library's browser keeps its cookies here too, from the lines the library sent:
          // that is the client's work, not the library's, so both sides of "+µs" do it.
          const jar: Jar = signedIn.clone()
          clock.set(T0)
          for (const [n, step] of steps.entries()) {
            clock.advance(step.gap)
            const res = await bare.fetch(
              new Request(ORIGIN + step.path, {
                method: step.method,
                headers: { ...step.headers, cookie: sent[n] as string },
              }),
            )
            await res.arrayBuffer()
            res.headers.getSetCookie()
            jar.applyLines(received[n] as string[])
          }
        }
      },
      units: steps.length,
    }
  }
}

export const traceCases: Record<string, CaseFactory> = Object.fromEntries(
  LIBRARIES.filter((library) => !library.reference).flatMap(({ id }) => [
    [`trace:${id}`, traceCase(id)],
    [`trace:bare@${id}`, traceCase(id, true)],
  ]),
)
