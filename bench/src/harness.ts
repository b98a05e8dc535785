/**
 * Runtime-neutral benchmark plumbing shared by the workerd and Node entries: a settable clock,
 * batch timing with an I/O boundary, and the case registry.
 * @module
 */

/** One prepared benchmark: `run(iterations)` does the work; `units` is how many measured operations one iteration is. */
export interface Prepared {
  run(iterations: number): Promise<void>
  /** Operations per iteration (e.g. requests in one pass of the browsing trace). Default 1. */
  readonly units?: number
  /** Facts about the case reported once (sizes, Set-Cookie counts). */
  readonly info?: Record<string, unknown>
}

export type CaseFactory = () => Promise<Prepared>

/** What one batch reports. */
export interface BatchResult {
  readonly ms: number
  readonly ops: number
  readonly info?: Record<string, unknown>
}

// --- Clock -------------------------------------------------------------------------------
// Every library reads Date.now() or `new Date()`; a global Date whose "now" can be set lets the
// trace simulate one request per second without waiting, and keeps tokens fresh however long
// the run takes.
const RealDate = Date
let fixedNow: number | undefined

class BenchDate extends RealDate {
  constructor(...args: [] | [string | number | Date] | [number, number, ...number[]]) {
    if (args.length === 0) super(fixedNow ?? RealDate.now())
    else super(...(args as [number]))
  }
  static override now(): number {
    return fixedNow ?? RealDate.now()
  }
}

/** The simulated clock. `set` freezes it at a time; `advance` moves it. */
export const clock = {
  install(): void {
    if (globalThis.Date !== BenchDate) globalThis.Date = BenchDate as DateConstructor
  },
  set(ms: number): void {
    fixedNow = ms
  },
  advance(ms: number): void {
    fixedNow = (fixedNow ?? RealDate.now()) + ms
  },
  now(): number {
    return fixedNow ?? RealDate.now()
  },
  /** The real time, whatever the simulated clock says. */
  real(): number {
    return RealDate.now()
  },
}

/**
 * Yields to the event loop through a timer: in workerd, `performance.now()` is only guaranteed to
 * move across I/O, so every batch is bracketed by one of these.
 */
export function ioBoundary(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

const prepared = new Map<string, Promise<Prepared>>()

/** Runs one batch of `iterations` of case `id` (prepared once per isolate) and times it. */
export async function runBatch(
  registry: Readonly<Record<string, CaseFactory>>,
  id: string,
  iterations: number,
): Promise<BatchResult> {
  const factory = registry[id]
  if (!factory) throw new Error(`unknown bench case ${id}`)
  let ready = prepared.get(id)
  if (!ready) {
    ready = factory()
    prepared.set(id, ready)
  }
  const bench = await ready
  await ioBoundary()
  const t0 = performance.now()
  await bench.run(iterations)
  await ioBoundary()
  const ms = performance.now() - t0
  return { ms, ops: iterations * (bench.units ?? 1), ...(bench.info ? { info: bench.info } : {}) }
}

/**
 * Whether this bundle is the build with src/codec/token-cache.ts switched off (bench/run.mjs
 * builds it with a banner that sets this global, besides rewriting the cache away).
 */
export function tokenCacheOff(): boolean {
  return (globalThis as { BENCH_TOKEN_CACHE_OFF?: unknown }).BENCH_TOKEN_CACHE_OFF === true
}

/**
 * A case that only means something in the token-cache-off build (ids ending `-cold`): refuses to
 * run anywhere else, so a cache-on run can never be reported as a cold one.
 */
export function coldCase(factory: CaseFactory): CaseFactory {
  return async () => {
    if (!tokenCacheOff()) throw new Error('a -cold case runs only in the token-cache-off build (worker-nocache.mjs)')
    return factory()
  }
}
