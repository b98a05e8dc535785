/**
 * Suite 3: traces, one per shape. Each is one user's requests on a simulated clock, the same on
 * every run (seeded PRNG), and every library answers the very same requests:
 * - `browse` (case ids `trace:*`): signed in before the pass; finishes onboarding, then views 60
 *   pages over ten paths (a quarter of the time the same page again), each followed by three API
 *   or asset calls, about one request per second;
 * - `signin` (`trace-signin:*`): each pass starts with no cookies: signs in, views two onboarding
 *   pages with their assets, finishes onboarding, then browses 20 pages as above;
 * - `api` (`trace-api:*`): signed in and onboarded before the pass; 8 page views, each followed by
 *   20 API calls a few hundred milliseconds apart, one in ten of them a write (`POST /api/write`);
 * - `pages` (`trace-pages:*`): signed in and onboarded; 100 page views a few seconds apart (three
 *   in ten the same page again), a third of them followed by one asset.
 * @module
 */
import { Jar, LIBRARIES, type LibraryId, buildApp, signIn } from './apps'
import { T0, prng } from './fixtures'
import { type CaseFactory, type Prepared, clock, coldCase, tokenCacheOff } from './harness'
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
/** The name every app's pages and API calls must show for the signed-in user (apps.ts, fixtures.ts). */
const USER_NAME = 'Ada Lovelace'

/** What a request is, for the Set-Cookie breakdown. */
export type StepKind = 'login' | 'page-new' | 'page-repeat' | 'api' | 'asset' | 'update' | 'write'

interface Step {
  readonly kind: StepKind
  readonly path: string
  readonly method: 'GET' | 'POST'
  readonly headers: Readonly<Record<string, string>>
  /** Simulated milliseconds since the previous request. */
  readonly gap: number
}

/** How a trace starts: no cookies, signed in (onboarding not done), or a returning user. */
type Start = 'anonymous' | 'signed-in' | 'onboarded'

export type ShapeId = 'browse' | 'signin' | 'api' | 'pages'

interface Shape {
  /** Case-id prefix. */
  readonly prefix: string
  readonly start: Start
  readonly steps: () => readonly Step[]
}

/** Builds steps with a seeded PRNG; `gap(min, max)` draws the simulated pause before a request. */
function stepBuilder(seed: number) {
  const random = prng(seed)
  const steps: Step[] = []
  let previous = ''
  const gap = (min: number, max: number) => min + Math.floor(random() * (max - min))
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T
  const add = (
    kind: StepKind,
    path: string,
    method: Step['method'],
    headers: Step['headers'],
    min: number,
    max: number,
  ) => steps.push({ kind, path, method, headers, gap: gap(min, max) })
  return {
    steps,
    random,
    pick,
    get previous() {
      return previous
    },
    page(path: string, min = 700, max = 1300) {
      add(path === previous ? 'page-repeat' : 'page-new', path, 'GET', NAV_HEADERS, min, max)
      previous = path
    },
    /** A page other than the current one, or (with probability `again`) the current one again. */
    nextPage(again: number): string {
      // (The first page of a trace is never a repeat: there is none before it.)
      return random() < again && previous !== '' ? previous : pick(PAGES.filter((p) => p !== previous))
    },
    api(path: string, min = 700, max = 1300) {
      add('api', path, 'GET', API_HEADERS, min, max)
    },
    asset(path: string, min = 700, max = 1300) {
      add('asset', path, 'GET', ASSET_HEADERS, min, max)
    },
    post(kind: 'login' | 'update' | 'write', path: string, min = 700, max = 1300) {
      add(kind, path, 'POST', kind === 'write' ? API_HEADERS : NAV_HEADERS, min, max)
    },
  }
}

/** A page view followed by three API or asset calls (assets only on onboarding pages: ours' gate answers 403 to API calls until onboarding is done). */
function viewWithCalls(b: ReturnType<typeof stepBuilder>, path: string, assetsOnly = false) {
  b.page(path)
  for (let i = 0; i < 3; i++) {
    const api = !assetsOnly && b.random() < 0.5
    if (api) b.api(b.pick(APIS))
    else b.asset(b.pick(ASSETS))
  }
}

/**
 * Onboarding (its pages with their assets, then the completion), `/explore`, then `views` more
 * page views, each with its calls.
 */
function onboardThenBrowse(b: ReturnType<typeof stepBuilder>, onboardingPages: readonly string[], views: number) {
  for (const page of onboardingPages) viewWithCalls(b, page, true)
  b.post('update', '/onboarding/finish')
  viewWithCalls(b, '/explore')
  for (let n = 0; n < views; n++) viewWithCalls(b, b.nextPage(0.25))
}

/** The browsing trace: signed in before the pass, page views each followed by API or asset calls. */
function browseSteps(): readonly Step[] {
  const b = stepBuilder(42)
  onboardThenBrowse(b, ['/onboarding'], 58)
  return b.steps
}

/** The sign-in trace: every pass signs in, onboards, then browses. */
function signinSteps(): readonly Step[] {
  const b = stepBuilder(7)
  b.post('login', '/login')
  onboardThenBrowse(b, ['/onboarding', '/onboarding/profile'], 19)
  return b.steps
}

function apiSteps(): readonly Step[] {
  const b = stepBuilder(11)
  for (let n = 0; n < 8; n++) {
    b.page(b.nextPage(0), 2000, 5000)
    for (let i = 0; i < 20; i++) {
      if (b.random() < 0.1) b.post('write', '/api/write', 100, 500)
      else b.api(b.pick(APIS), 100, 500)
    }
  }
  return b.steps
}

function pagesSteps(): readonly Step[] {
  const b = stepBuilder(23)
  for (let n = 0; n < 100; n++) {
    b.page(b.nextPage(0.3), 1500, 6000)
    if (b.random() < 1 / 3) b.asset(b.pick(ASSETS), 50, 200)
  }
  return b.steps
}

export const SHAPES: Readonly<Record<ShapeId, Shape>> = {
  browse: { prefix: 'trace', start: 'signed-in', steps: browseSteps },
  signin: { prefix: 'trace-signin', start: 'anonymous', steps: signinSteps },
  api: { prefix: 'trace-api', start: 'onboarded', steps: apiSteps },
  pages: { prefix: 'trace-pages', start: 'onboarded', steps: pagesSteps },
}

/** The steps of one shape, the same on every run. */
export function traceSteps(shape: ShapeId): readonly Step[] {
  return SHAPES[shape].steps()
}

type Counts = Partial<Record<StepKind, { requests: number; setCookie: number }>>

/**
 * The jar a pass starts from (empty, just signed in, or signed in with onboarding finished), made
 * on the simulated clock from T0; each pass then starts at the time this left the clock at.
 */
async function startJar(app: ReturnType<typeof buildApp>, start: Start): Promise<{ jar: Jar; at: number }> {
  clock.set(T0)
  if (start === 'anonymous') return { jar: new Jar(), at: T0 }
  const jar = await signIn(app)
  if (start === 'onboarded') {
    clock.advance(1000)
    const res = await app.fetch(
      new Request(`${ORIGIN}/onboarding/finish`, { method: 'POST', headers: { ...NAV_HEADERS, cookie: jar.header } }),
    )
    await res.arrayBuffer()
    if (res.status !== 303) throw new Error(`onboarding/finish before the trace: ${res.status}`)
    jar.apply(res)
  }
  return { jar, at: clock.now() }
}

/** The status each kind of step must answer. */
const EXPECTED_STATUS: Record<StepKind, number> = {
  login: 200,
  'page-new': 200,
  'page-repeat': 200,
  api: 200,
  asset: 200,
  update: 303,
  write: 200,
}

/**
 * Checked on the untimed first pass: the status each step expects, and that pages and API calls
 * show the signed-in user (bare Hono, which has no session, shows "nobody").
 */
function checkResponse(id: LibraryId, step: Step, status: number, body: string): void {
  const where = `${id} ${step.method} ${step.path}`
  if (status !== EXPECTED_STATUS[step.kind]) throw new Error(`${where}: ${status} ${body.slice(0, 200)}`)
  const who = id === 'bare' ? 'nobody' : USER_NAME
  if ((step.kind === 'page-new' || step.kind === 'page-repeat') && !body.includes(`Signed in as ${who}`))
    throw new Error(`${where}: the page does not show ${who}`)
  if (step.kind === 'api' && (JSON.parse(body) as { user?: unknown }).user !== who)
    throw new Error(`${where}: the API call does not see ${who}: ${body}`)
}

/**
 * The trace of `shape` for library `id`. With `baseline`, bare Hono answers the same requests the
 * library's browser sent (its Cookie headers, step by step, recorded from one pass), so "added" is
 * the library's own work, not the runtime reading bigger cookies. `cold`: the case of the build
 * with the token cache off (bench/run.mjs runs it in a workerd isolate of that build).
 */
function traceCase(shape: ShapeId, id: LibraryId, baseline = false): CaseFactory {
  return async (): Promise<Prepared> => {
    const app = buildApp(id)
    const steps = traceSteps(shape)
    const { jar: started, at } = await startJar(app, SHAPES[shape].start)

    /**
     * One pass over the trace from the start state; counts Set-Cookie per kind, records the
     * Cookie headers sent and the Set-Cookie lines received, and checks every response.
     */
    const pass = async (count?: Counts, sent?: string[], received?: string[][]) => {
      const jar: Jar = started.clone()
      clock.set(at)
      for (const step of steps) {
        clock.advance(step.gap)
        sent?.push(jar.header)
        const res = await app.fetch(
          new Request(ORIGIN + step.path, { method: step.method, headers: { ...step.headers, cookie: jar.header } }),
        )
        if (count) checkResponse(id, step, res.status, await res.text())
        else await res.arrayBuffer()
        if (res.status >= 400) throw new Error(`${id} ${step.method} ${step.path}: ${res.status}`)
        const lines = res.headers.getSetCookie()
        received?.push(lines)
        jar.applyLines(lines)
        if (count) {
          const entry = count[step.kind] ?? { requests: 0, setCookie: 0 }
          count[step.kind] = entry
          entry.requests++
          if (lines.length > 0) entry.setCookie++
        }
      }
    }

    const counts: Counts = {}
    const sent: string[] = []
    const received: string[][] = []
    await pass(counts, sent, received)
    const info = {
      counts,
      requests: steps.length,
      simulatedSeconds: Math.round(steps.reduce((s, x) => s + x.gap, 0) / 1000),
      tokenCacheOff: tokenCacheOff(),
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
          const jar: Jar = started.clone()
          clock.set(at)
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
  (Object.keys(SHAPES) as ShapeId[]).flatMap((shape) => {
    const { prefix } = SHAPES[shape]
    return [
      ...LIBRARIES.filter((library) => !library.reference).flatMap(({ id }) => [
        [`${prefix}:${id}`, traceCase(shape, id)],
        [`${prefix}:bare@${id}`, traceCase(shape, id, true)],
      ]),
      [`${prefix}:edge-session-cold`, coldCase(traceCase(shape, 'edge-session'))],
    ]
  }),
)
