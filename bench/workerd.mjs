/**
 * What `npm run bench` (bench/run.mjs) and `npm run bench:ab` (bench/ab.mjs) share: esbuild and
 * the worker bundle's options, one Miniflare with named isolates that each answer timed batches
 * (bench/src/entry-worker.ts), the batch-size calibration and the median.
 * @module
 */
import { createRequire } from 'node:module'
import { join } from 'node:path'

const require = createRequire(import.meta.url)

/** The compatibility date every bench isolate runs with. */
export const COMPAT_DATE = '2026-04-20'

/**
 * esbuild from the project if resolvable, else the copy wrangler ships with.
 * @returns {Promise<typeof import('esbuild')>}
 * @example const esbuild = await loadEsbuild()
 */
export async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    const fromWrangler = createRequire(require.resolve('wrangler/package.json'))
    return fromWrangler('esbuild')
  }
}

/**
 * esbuild options that bundle bench/src/entry-worker.ts for workerd (add `outfile`).
 * @param {string} root the project root
 * @returns {import('esbuild').BuildOptions}
 * @example await esbuild.build({ ...workerBuildOptions(ROOT), outfile: 'worker.mjs' })
 */
export function workerBuildOptions(root) {
  return {
    bundle: true,
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
    absWorkingDir: root,
    tsconfig: join(root, 'tsconfig.json'),
    entryPoints: [join(root, 'bench/src/entry-worker.ts')],
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import', 'default'],
    mainFields: ['module', 'main'],
    external: ['node:*', 'cloudflare:*'],
  }
}

/**
 * @typedef {{ ms: number, ops: number, info?: Record<string, unknown> }} Batch
 *   What one batch answers (bench/src/harness.ts, `BatchResult`).
 * @typedef {{
 *   batch(isolate: string, caseId: string, iterations: number): Promise<Batch>,
 *   close(): Promise<void>,
 * }} Isolates
 */

/**
 * One Miniflare (one workerd process) with one isolate per entry of `scripts` (isolate name to
 * bundle path); `batch` runs one timed batch of a case in a named isolate.
 * @param {ReadonlyMap<string, string>} scripts
 * @returns {Promise<Isolates>}
 * @example const isolates = await startIsolates(new Map([['case-0', '.tmp/bench/worker.mjs']]))
 */
export async function startIsolates(scripts) {
  const { Miniflare } = await import('miniflare')
  const mf = new Miniflare({
    workers: [...scripts].map(([name, scriptPath]) => ({
      name,
      modules: true,
      scriptPath,
      compatibilityDate: COMPAT_DATE,
      compatibilityFlags: ['nodejs_compat'],
    })),
  })
  await mf.ready
  const fetchers = new Map()
  for (const name of scripts.keys()) fetchers.set(name, await mf.getWorker(name))
  return {
    async batch(isolate, caseId, iterations) {
      const res = await fetchers
        .get(isolate)
        .fetch(`http://bench.local/batch?case=${encodeURIComponent(caseId)}&iterations=${iterations}`)
      const body = await res.json()
      if (body.error) throw new Error(`workerd ${caseId}: ${body.error}`)
      return body
    },
    close: () => mf.dispose(),
  }
}

/**
 * The median of a list of numbers.
 * @param {readonly number[]} values
 * @returns {number}
 * @example median([3, 1, 2]) // 2
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Warm-up + calibration: grows the batch until it lasts `calibrateMs`; returns the batch size
 * (iterations) that gives at least `minOps` operations and `targetMs`.
 * @param {(iterations: number) => Promise<Batch>} batch
 * @param {{ minOps: number, targetMs: number, calibrateMs: number }} limits
 * @returns {Promise<number>}
 * @example await calibrate((n) => runtime.batch(id, n), { minOps: 2000, targetMs: 100, calibrateMs: 40 })
 */
export async function calibrate(batch, { minOps, targetMs, calibrateMs }) {
  let iterations = 1
  let r = await batch(iterations)
  while (r.ms < calibrateMs && iterations < 1e6) {
    iterations *= 4
    r = await batch(iterations)
  }
  const units = r.ops / iterations
  const msPerIteration = Math.max(r.ms, 1) / iterations
  return Math.max(Math.ceil(minOps / units), Math.ceil(targetMs / msPerIteration))
}
