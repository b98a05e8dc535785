#!/usr/bin/env node
/**
 * `npm run bench`: hono-edge-session against its peers, inside workerd (through Miniflare) and in
 * Node, in one run. Prints Markdown tables and writes bench/results/latest.md.
 *
 *   npm run bench                  all suites, both runtimes (about 8 minutes on 2 busy cores)
 *   npm run bench -- --quick       3 batches, shorter batches (a smoke run, noisier)
 *   npm run bench -- --profile     also the step-by-step jose profile (bench/NOTES.md)
 *   npm run bench -- --only=codec  one suite: codec | request | trace | size | profile
 *   npm run bench -- --only=trace --shapes=browse,api   some trace shapes: browse | signin | api | pages
 *   npm run bench -- --node-shapes every trace shape in Node too (default: Node runs the browsing trace only)
 *   npm run bench -- --no-node     workerd only
 *   npm run bench -- --batches=9   more batches per case (a busy machine)
 *   npm run bench -- --cases=edge-session,jose-compact --no-node   just these case ids (ad hoc)
 *
 * Timing: workerd's clock is coarse (and in production only moves across I/O), so every batch is
 * one dispatchFetch that loops many iterations between two timer boundaries inside the worker;
 * each case runs a warm-up/calibration, then BATCHES batches of >= 2,000 operations and >= TARGET_MS,
 * and reports the median per-operation time. No pass/fail on time.
 * @module
 */
import { execFileSync, fork, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { calibrate, loadEsbuild, median, startIsolates, workerBuildOptions } from './workerd.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, '.tmp', 'bench')
const require = createRequire(import.meta.url)

const args = new Set(process.argv.slice(2))
const flag = (name) => args.has(`--${name}`)
const only = [...args].find((a) => a.startsWith('--only='))?.slice(7)
const QUICK = flag('quick')
const batchesArg = [...args].find((a) => a.startsWith('--batches='))?.slice(10)
const BATCHES = batchesArg ? Math.max(1, Number(batchesArg)) : QUICK ? 3 : 9
// The traces' ratios compare two small differences of large times: more rounds steady their medians.
const TRACE_BATCHES = batchesArg || QUICK ? BATCHES : 15
// workerd's clock is coarse (1 ms, and in production it moves only on I/O): its batches need many
// operations. Node's clock is fine-grained, so fewer suffice there (and keep the run short).
const MIN_OPS = { workerd: QUICK ? 500 : 2000, node: QUICK ? 200 : 500 }
const TARGET_MS = QUICK ? 60 : 100
const CALIBRATE_MS = QUICK ? 20 : 40
const started = Date.now()
const loadAtStart = os.loadavg()[0]

const suites = {
  codec: !only || only === 'codec',
  request: !only || only === 'request',
  trace: !only || only === 'trace',
  size: !only || only === 'size',
  profile: flag('profile') || only === 'profile',
}

function log(message) {
  process.stderr.write(`${message}\n`)
}

// --- esbuild (bench/workerd.mjs: from the project if resolvable, else wrangler's copy) ---------
async function buildBundles(esbuild) {
  mkdirSync(OUT, { recursive: true })
  const common = {
    bundle: true,
    format: 'esm',
    target: 'es2022',
    logLevel: 'warning',
    absWorkingDir: ROOT,
    tsconfig: join(ROOT, 'tsconfig.json'),
  }
  const workerOptions = workerBuildOptions(ROOT)
  await esbuild.build({ ...workerOptions, outfile: join(OUT, 'worker.mjs') })
  // The same worker with src/codec/token-cache.ts switched off, to show what a request
  // costs when its cookies were never seen by the isolate (a busy isolate, or the first request).
  // Its `-cold` cases run in isolates of their own beside the other cases (startWorkerd); the
  // banner lets them check that they are in this build (bench/src/harness.ts, coldCase).
  await esbuild.build({
    ...workerOptions,
    outfile: join(OUT, 'worker-nocache.mjs'),
    plugins: [noTokenCache],
    banner: { js: 'globalThis.BENCH_TOKEN_CACHE_OFF = true;' },
  })
  await esbuild.build({
    ...common,
    entryPoints: [join(ROOT, 'bench/src/entry-node.ts')],
    outfile: join(OUT, 'node.mjs'),
    platform: 'node',
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  })
}

/** Rewrites src/codec/token-cache.ts so that no token is ever cached (CACHED_TOKEN_CHARS = 0). */
const noTokenCache = {
  name: 'no-token-cache',
  setup(build) {
    build.onLoad({ filter: /src[\\/]codec[\\/]token-cache\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      const contents = source.replace(/const CACHED_TOKEN_CHARS = \d+/, 'const CACHED_TOKEN_CHARS = 0')
      if (contents === source)
        throw new Error('bench: CACHED_TOKEN_CHARS not found in src/codec/token-cache.ts; update bench/run.mjs')
      return { contents, loader: 'ts' }
    })
  },
}

// --- runtimes: each gives batch(id, iterations) -> { ms, ops, info } --------------------------
/** A `-cold` case (ours with the token cache off) runs the cache-off build of the worker. */
const isCold = (id) => id.endsWith('-cold')

/**
 * One Miniflare (one workerd process) with one isolate per case: in production a worker runs one
 * app, so no case may run on JIT state that other cases' code left behind (shared Hono code
 * called by six apps, our functions called by codec loops and by apps with other options).
 * `-cold` cases get an isolate of the cache-off build in the same process, so they run in the
 * same rounds as the peers and baselines.
 */
async function startWorkerd(ids, name = 'workerd') {
  const isolates = new Map(ids.map((id, i) => [id, `case-${i}`]))
  const workerd = await startIsolates(
    new Map([...isolates].map(([id, worker]) => [worker, join(OUT, isCold(id) ? 'worker-nocache.mjs' : 'worker.mjs')])),
  )
  return {
    name,
    minOps: MIN_OPS.workerd,
    batch: (id, iterations) => workerd.batch(isolates.get(id), id, iterations),
    close: () => workerd.close(),
  }
}

async function startNode() {
  const child = fork(join(OUT, 'node.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let seq = 0
  await new Promise((resolve, reject) => {
    child.once('message', resolve)
    child.once('error', reject)
  })
  child.on('message', (message) => {
    const waiter = pending.get(message.seq)
    if (!waiter) return
    pending.delete(message.seq)
    if (message.error) waiter.reject(new Error(`node: ${message.error}`))
    else waiter.resolve(message.result)
  })
  return {
    name: 'node',
    minOps: MIN_OPS.node,
    batch(id, iterations) {
      return new Promise((resolve, reject) => {
        pending.set(++seq, { resolve, reject })
        child.send({ seq, id, iterations })
      })
    },
    close: async () => {
      child.kill()
    },
  }
}

function summarize(samples, last) {
  const med = median(samples)
  const spread = ((Math.max(...samples) - Math.min(...samples)) / 2 / med) * 100
  return { us: med, min: Math.min(...samples), spread, ops: last.ops, samples, info: last.info }
}

// --- the plan ----------------------------------------------------------------------------------
const CODEC = [
  ['edge-session', 'hono-edge-session (src/codec/token)'],
  ['edge-session-cached', '- same, reading back the cookie it just wrote (isolate cache)'],
  ['edge-session-jose', '- same, through jose (the codec before this change)'],
  ['jose-compact', 'jose compact JWE, cached CryptoKey'],
  ['jose-jwt', 'jose EncryptJWT / jwtDecrypt, cached CryptoKey'],
  ['hono-session', '@hono/session (jweEncrypt / jweDecrypt)'],
  ['hono-sessions', 'hono-sessions (CookieStore, iron seal)'],
  ['iron-session', 'iron-session (sealData / unsealData)'],
  ['authjs', '@auth/core/jwt (encode / decode)'],
  ['floor-aes', 'floor: raw AES-256-GCM, cached CryptoKey'],
  ['floor-json', 'floor: JSON + base64url, no crypto'],
]
const OPEN = [
  ['edge-session-open', 'hono-edge-session openToken (a token new to the isolate)'],
  ['edge-session-open-cached', 'hono-edge-session openToken (the same token again: isolate cache)'],
  ['edge-session-jose-open', 'hono-edge-session through jose (the codec before this change)'],
  ['jose-compact-open', 'jose compactDecrypt, cached key'],
  ['floor-aes-open', 'floor: AES-256-GCM decrypt + JSON.parse'],
]
const LIBS = [
  ['bare', 'bare Hono (no session)'],
  ['edge-session', 'hono-edge-session'],
  ['hono-session', '@hono/session'],
  ['hono-sessions', 'hono-sessions'],
  ['iron-session', 'iron-session'],
  ['authjs', '@auth/core/jwt'],
]
/** Suite 2 only: the least a cookie session can do (bench/src/apps.ts), the yardsticks of the request targets. */
const REFERENCES = [
  ['ref-aes', 'reference: raw AES-256-GCM cookie, cached key²'],
  ['ref-jose', 'reference: jose compact JWE cookie, cached key²'],
]
/** Suite 2's rows: the libraries, then the references. */
const REQUEST_LIBS = [...LIBS, ...REFERENCES]
/** Ours built with the token cache off (its `-cold` cases), compared in the same rounds; baseline `bare@edge-session`. */
const COLD = 'edge-session-cold'
const COLD_LABEL = 'hono-edge-session, token cache off¹'
/** Suite 3's trace shapes (bench/src/trace-cases.ts): [shape, case-id prefix, title, description]. */
const SHAPES = [
  [
    'browse',
    'trace',
    'Browsing: signed in before the pass, ~1 request/s',
    'one onboarding completion, then 60 page views over 10 paths (a quarter repeat the previous page), each followed by 3 API or asset calls.',
  ],
  [
    'signin',
    'trace-signin',
    'Sign-in and onboarding inside each pass, then browsing',
    'every pass starts with no cookies: sign-in (`POST /login`), two onboarding pages with 3 assets each, the onboarding completion, then 20 page views over 10 paths, each followed by 3 API or asset calls.',
  ],
  [
    'api',
    'trace-api',
    'API-heavy: few page views, many API calls',
    'signed in and onboarded before the pass; 8 page views, each followed by 20 API calls 0.1-0.5 s apart, one in ten of them a write (`POST /api/write`).',
  ],
  [
    'pages',
    'trace-pages',
    'Page-heavy: page views a few seconds apart',
    'signed in and onboarded before the pass; 100 page views over 10 paths 1.5-6 s apart (three in ten repeat the previous page), a third followed by one asset.',
  ],
]
const shapesArg = [...args].find((a) => a.startsWith('--shapes='))?.slice(9)
/** `--node-shapes`: every trace shape in Node too (by default Node runs the browsing trace only). */
const NODE_ALL_SHAPES = flag('node-shapes')
const SHAPES_RUN = shapesArg ? SHAPES.filter(([shape]) => shapesArg.split(',').includes(shape)) : SHAPES
/** Set-Cookie columns of the trace tables: [kind, heading]. */
const STEP_KINDS = [
  ['login', 'sign-in'],
  ['page-new', 'new page'],
  ['page-repeat', 'same page'],
  ['api', 'API'],
  ['asset', 'asset'],
  ['update', 'onboarding done'],
  ['write', 'API write'],
]
const PROFILE = [
  ['profile:decrypt-full', 'compactDecrypt, whole (key resolver, pinned algs)'],
  ['profile:decrypt-subtle', '- crypto.subtle.decrypt alone'],
  ['profile:decrypt-split-b64', '- split, base64url-decode iv/ct/tag, concat, AAD bytes'],
  ['profile:decrypt-header', '- protected header: decode + JSON.parse + crit/zip checks'],
  ['profile:decrypt-options', '- prepareDecrypt(options): option Sets built per call'],
  ['profile:decrypt-key-checks', '- prepareKey + rawKey checks of the CryptoKey (2 awaits)'],
  ['profile:encrypt-full', 'CompactEncrypt, whole'],
  ['profile:encrypt-subtle', '- crypto.subtle.encrypt alone (+ random IV)'],
  ['profile:encrypt-headers', '- checkEncryptHeaders (header stringify+parse, disjoint, crit, zip)'],
  ['profile:encrypt-b64', '- header JSON + base64url of 4 parts + AAD bytes'],
  ['profile:await-x8', 'reference: 8 nested async awaits'],
]
/** [case, label, baseline for the "+ vs bare" column (none for the steps timed alone)] */
const MIDDLEWARE = [
  ['mw:bare', 'bare Hono, GET /api/read (cookies sent, unused)', 'mw:bare'],
  ['mw:hono-empty-mw', 'bare Hono + one empty async middleware', 'mw:bare'],
  ['mw:anonymous', 'edgeSession, anonymous (no cookie of ours)', 'mw:bare'],
  ['mw:read', 'edgeSession, signed in, read only (session + activity cookies)', 'mw:bare'],
  ['mw:read-no-gate', '- same, onboarding gate off', 'mw:bare'],
  ['mw:read-session-cookie-only', '- same, no activity cookie (one decryption)', 'mw:bare'],
  ['mw:open-both', 'openToken x2 alone (session + activity)'],
  ['mw:step-cookie-header', "Headers.get('cookie') alone"],
  ['mw:step-read-cookies', 'readIncomingCookies alone (finding our two cookies)'],
  ['mw:page-view-bare', 'bare Hono, page views of two paths in turn', 'mw:page-view-bare'],
  ['mw:page-view', 'edgeSession, same page views (each seals and sets the activity cookie)', 'mw:page-view-bare'],
  ['mw:write', 'edgeSession, signed in, POST /api/write (updateSession)', 'mw:bare'],
]

function planIds() {
  const picked = [...args].find((a) => a.startsWith('--cases='))?.slice(8)
  if (picked) return picked.split(',')
  const ids = []
  if (suites.codec) ids.push(...CODEC.map(([id]) => id), ...OPEN.map(([id]) => id))
  // Each library beside bare Hono answering the very same requests (`bare@lib`: same cookies).
  const withBaseline = (prefix, libs) =>
    libs.flatMap(([lib]) => (lib === 'bare' ? [`${prefix}:bare`] : [`${prefix}:${lib}`, `${prefix}:bare@${lib}`]))
  if (suites.request)
    ids.push(
      ...withBaseline('req-read', REQUEST_LIBS),
      `req-read:${COLD}`,
      ...withBaseline('req-write', REQUEST_LIBS),
      `req-write:${COLD}`,
    )
  if (suites.trace) for (const [, prefix] of SHAPES_RUN) ids.push(...withBaseline(prefix, LIBS), `${prefix}:${COLD}`)
  if (suites.profile) ids.push(...PROFILE.map(([id]) => id), ...MIDDLEWARE.map(([id]) => id))
  return ids
}

/** Case ids by suite (the part before ':', codec cases have none; each trace shape is a suite of its own), in plan order. */
function suiteGroups(ids) {
  const groups = new Map()
  for (const id of ids) {
    const suite = id.includes(':') ? id.slice(0, id.indexOf(':')).replace(/^req-(read|write)$/, 'request') : 'codec'
    if (!groups.has(suite)) groups.set(suite, [])
    groups.get(suite).push(id)
  }
  return [...groups.values()]
}

/**
 * Calibrates every case, then runs `rounds` rounds, one batch of every case per round: load from
 * anything else on the machine then falls on all cases alike instead of on whichever ran last.
 */
async function runAll(runtime, ids, rounds = BATCHES) {
  const sizes = {}
  const samples = {}
  const last = {}
  const results = {}
  for (const id of ids) {
    try {
      // Warm-up + calibration (bench/workerd.mjs): the batch grows until it lasts CALIBRATE_MS.
      sizes[id] = await calibrate((iterations) => runtime.batch(id, iterations), {
        minOps: runtime.minOps,
        targetMs: TARGET_MS,
        calibrateMs: CALIBRATE_MS,
      })
      samples[id] = []
    } catch (error) {
      results[id] = { error: String(error.message ?? error).split('\n')[0] }
      log(`  ${runtime.name.padEnd(7)} ${id.padEnd(28)} FAILED: ${results[id].error}`)
    }
  }
  for (let round = 0; round < rounds; round++) {
    const t = Date.now()
    for (const id of Object.keys(sizes)) {
      if (results[id]) continue
      // A batch lasts well under a few seconds; say which one if it does not (a stalled workerd).
      const watchdog = setInterval(
        () =>
          log(
            `  ${runtime.name}: still waiting for a batch of ${id} (x${sizes[id]}), load ${os.loadavg()[0].toFixed(1)}`,
          ),
        60_000,
      )
      try {
        if (process.env.BENCH_VERBOSE) log(`    ${runtime.name} ${id} x${sizes[id]}`)
        const r = await runtime.batch(id, sizes[id])
        samples[id].push((r.ms * 1000) / r.ops)
        last[id] = r
      } catch (error) {
        results[id] = { error: String(error.message ?? error).split('\n')[0] }
        log(`  ${runtime.name.padEnd(7)} ${id.padEnd(28)} FAILED: ${results[id].error}`)
      } finally {
        clearInterval(watchdog)
      }
    }
    log(
      `  ${runtime.name}: round ${round + 1}/${rounds} (${((Date.now() - t) / 1000).toFixed(1)} s, load ${os.loadavg()[0].toFixed(1)})`,
    )
  }
  for (const id of Object.keys(sizes)) {
    if (results[id]) continue
    results[id] = summarize(samples[id], last[id])
    log(
      `  ${runtime.name.padEnd(7)} ${id.padEnd(28)} ${fmt(results[id].us).padStart(8)} us/op  ±${results[id].spread.toFixed(1)}%`,
    )
  }
  return results
}

// --- sizes -------------------------------------------------------------------------------------
async function bundleSize(esbuild, { entry, contents, external }) {
  const result = await esbuild.build({
    ...(entry ? { entryPoints: [entry] } : { stdin: { contents, resolveDir: ROOT, loader: 'ts' } }),
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import', 'default'],
    mainFields: ['module', 'main'],
    external: ['node:*', ...external],
    absWorkingDir: ROOT,
    tsconfig: join(ROOT, 'tsconfig.json'),
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].contents
  return { min: code.length, gzip: gzipSync(code, { level: 9 }).length }
}

function findWranglerConfig() {
  return ['wrangler.jsonc', 'wrangler.json', 'wrangler.toml'].map((f) => join(ROOT, f)).find((f) => existsSync(f))
}

function exampleWorkerSize() {
  const config = findWranglerConfig()
  const outdir = join(ROOT, '.tmp', 'deploy')
  let note = ''
  if (config) {
    // The same command as `npm run deploy:dry-run`; offline, it only bundles.
    const wrangler = join(dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js')
    const run = spawnSync(process.execPath, [wrangler, 'deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: '1', NO_UPDATE_NOTIFIER: '1' },
    })
    if (run.status !== 0)
      note = `wrangler dry-run failed: ${(run.stderr || run.stdout || '').trim().split('\n').slice(-1)[0] ?? ''}`
  } else note = 'no wrangler config yet'
  if (!existsSync(outdir)) return { note: `not built (${note || 'no output'})` }
  const files = readdirSync(outdir).filter((f) => /\.(m?js|wasm)$/.test(f))
  if (files.length === 0) return { note: `not built (${note || 'empty output dir'})` }
  let min = 0
  let gzip = 0
  for (const f of files) {
    const bytes = readFileSync(join(outdir, f))
    min += bytes.length
    gzip += gzipSync(bytes, { level: 9 }).length
  }
  const age = Math.round((Date.now() - Math.max(...files.map((f) => statSync(join(outdir, f)).mtimeMs))) / 1000)
  return {
    min,
    gzip,
    note: `${relative(ROOT, outdir)}/ (${files.join(', ')}), wrangler bundle, not minified${note ? `; ${note}, output ${age} s old` : ''}`,
  }
}

async function sizes(esbuild) {
  const rows = []
  const add = async (label, spec) => {
    try {
      rows.push({ label, ...(await bundleSize(esbuild, spec)) })
    } catch (error) {
      rows.push({ label, note: `build failed: ${String(error.message).split('\n')[0]}` })
    }
  }
  await add('hono-edge-session (src/index.ts; hono, jose external)', {
    entry: join(ROOT, 'src/index.ts'),
    external: ['hono', 'jose'],
  })
  await add('hono-edge-session (src/index.ts; jose bundled)', { entry: join(ROOT, 'src/index.ts'), external: ['hono'] })
  // What a typical app ships: the middleware and the four functions handlers call, tree-shaken.
  await add('hono-edge-session, typical app (edgeSession, get/create/update/destroySession; hono external)', {
    contents: "export { edgeSession, getSession, createSession, updateSession, destroySession } from './src/index.ts'",
    external: ['hono'],
  })
  await add('@hono/session (jose bundled)', { contents: "export * from '@hono/session'", external: ['hono'] })
  await add('hono-sessions (iron-webcrypto bundled)', { contents: "export * from 'hono-sessions'", external: ['hono'] })
  await add('iron-session', { contents: "export * from 'iron-session'", external: [] })
  await add('@auth/core/jwt (jose bundled)', { contents: "export * from '@auth/core/jwt'", external: [] })
  rows.push({ label: 'example worker (npm run deploy:dry-run)', ...exampleWorkerSize() })
  return rows
}

// --- report ------------------------------------------------------------------------------------
function fmt(us) {
  if (us === undefined || Number.isNaN(us)) return 'n/a'
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2)
}
const cell = (r) =>
  !r ? 'n/a' : r.error ? 'failed' : `${fmt(r.us)} ±${r.spread < 10 ? r.spread.toFixed(1) : r.spread.toFixed(0)}%`
const ratio = (a, b) => (a && b && !a.error && !b.error ? `${(a.us / b.us).toFixed(2)}x` : 'n/a')
const kb = (n) => (n === undefined ? '' : `${(n / 1024).toFixed(1)} KB`)

function versions() {
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version
    } catch {
      return '?'
    }
  }
  let workerd = pkg('workerd')
  try {
    const bin = join(dirname(require.resolve('workerd/package.json')), 'bin', 'workerd')
    workerd = `${execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()} (npm workerd ${pkg('workerd')})`
  } catch {}
  return { workerd, miniflare: pkg('miniflare'), hono: pkg('hono'), jose: pkg('jose') }
}

function render({ w, n, sizeRows, v }) {
  const out = []
  const cpu = os.cpus()
  out.push('# hono-edge-session benchmarks', '')
  out.push(`- Date: ${new Date().toISOString()}`)
  out.push(
    `- Machine: ${cpu[0]?.model?.trim() ?? 'unknown CPU'}, ${cpu.length} cores, ${os.platform()} ${os.release()}`,
  )
  out.push(`- Node ${process.version}; workerd ${v.workerd}; miniflare ${v.miniflare}; hono ${v.hono}; jose ${v.jose}`)
  out.push(
    `- Load average (1 min): ${loadAtStart.toFixed(1)} at start, ${os.loadavg()[0].toFixed(1)} at end, on ${cpu.length} cores${os.loadavg()[0] > cpu.length || loadAtStart > cpu.length ? ' (busy machine: other processes shared the CPU; ratios within one run are more reliable than absolute times)' : ''}`,
  )
  out.push(
    `- Method: median of ${BATCHES} batches per cell (${TRACE_BATCHES} in the workerd traces; each >= ${MIN_OPS.workerd} operations in workerd, >= ${MIN_OPS.node} in Node, and >= ${TARGET_MS} ms, after warm-up), microseconds per operation, ±half the batch spread. workerd is timed inside the worker between two timer boundaries (its clock is coarse). Cases run in rounds (one batch of each case per round) so background load spreads evenly; in workerd each case has an isolate of its own, as a deployed worker runs one app. "+µs" columns are the median of per-round differences between a case and its baseline, whose batches run side by side. Lower is better; no pass/fail.`,
  )
  out.push('- Rerun: `npm run bench` (writes this file). Suites, wiring and caveats: bench/NOTES.md.', '')

  if (suites.codec) {
    const floor = w['floor-aes']
    const jose = w['jose-compact']
    out.push(
      '## 1. Cookie read -> modify -> write (codec only; ours, jose and the floors seal the same ~500-byte JSON)',
      '',
    )
    out.push('| Library | workerd µs | × AES-GCM floor | × jose cached | Node µs | cookie chars |')
    out.push('|---|---:|---:|---:|---:|---:|')
    for (const [id, label] of CODEC) {
      out.push(
        `| ${label} | ${cell(w[id])} | ${ratio(w[id], floor)} | ${ratio(w[id], jose)} | ${cell(n[id])} | ${w[id]?.info?.cookieChars ?? n[id]?.info?.cookieChars ?? ''} |`,
      )
    }
    out.push('', 'Open only (the request that writes nothing):', '')
    out.push('| Operation | workerd µs | × decrypt floor | Node µs |')
    out.push('|---|---:|---:|---:|')
    for (const [id, label] of OPEN)
      out.push(`| ${label} | ${cell(w[id])} | ${ratio(w[id], w['floor-aes-open'])} | ${cell(n[id])} |`)
    out.push('')
  }

  // Paired: each round ran the library's batch right beside its baseline's, so the median of the
  // per-round differences cancels load that drifts between rounds (a difference of two medians
  // would not).
  const roundDiffs = (r, base) => {
    if (!r || !base || r.error || base.error) return undefined
    const n = Math.min(r.samples.length, base.samples.length)
    return Array.from({ length: n }, (_, i) => r.samples[i] - base.samples[i])
  }
  const added = (r, base) => {
    const diffs = roundDiffs(r, base)
    if (!diffs) return undefined
    return diffs.length === 0 ? r.us - base.us : median(diffs)
  }
  /** The baseline of `lib`: bare Hono on the same requests (ours with the cache off sends the same cookies as ours). */
  const baseOf = (lib) => `bare@${lib === COLD ? 'edge-session' : lib}`
  /** Time `lib` adds to bare Hono answering the same requests (same Cookie header). */
  const over = (results, prefix, lib) => added(results[`${prefix}:${lib}`], results[`${prefix}:${baseOf(lib)}`])
  /** The same, round by round. */
  const diffsOf = (results, prefix, lib) => roundDiffs(results[`${prefix}:${lib}`], results[`${prefix}:${baseOf(lib)}`])
  /**
   * The per-round ratios num[i] / den[i] (every case of a suite ran once per round, in one
   * workerd process) and their middle half (25th-75th percentile). A round whose difference is
   * <= 0 on one side still counts, at the end it belongs to: the divisor's <= 0 as the highest
   * ratio (∞), the dividend's as 0; only rounds <= 0 on both sides are left out. Dropping them
   * instead would move the middle half against whichever side the noise hit.
   */
  const perRound = (num, den, numName, denName) => {
    if (!num || !den) return ''
    const n = Math.min(num.length, den.length)
    const ratios = []
    let high = 0
    let low = 0
    for (let i = 0; i < n; i++) {
      if (num[i] <= 0 && den[i] <= 0) continue
      if (den[i] <= 0) high++
      else if (num[i] <= 0) low++
      ratios.push(den[i] <= 0 ? Number.POSITIVE_INFINITY : Math.max(0, num[i]) / den[i])
    }
    ratios.sort((a, b) => a - b)
    if (ratios.length < 4) return `; too few rounds for a middle half (${ratios.length} of ${n})`
    const x = (r) => (r === Number.POSITIVE_INFINITY ? '∞' : r.toFixed(r >= 10 ? 1 : 2))
    const lo = ratios[Math.floor((ratios.length - 1) / 4)]
    const hi = ratios[Math.ceil(((ratios.length - 1) * 3) / 4)]
    const notes = [
      high ? `${high} with ${denName} adding <= 0 counted as ∞` : '',
      low ? `${low} with ${numName} adding <= 0 counted as 0` : '',
      ratios.length < n ? `${n - ratios.length} with both <= 0 left out` : '',
    ].filter(Boolean)
    // The median of the per-round ratios can differ from the ratio of the two medians before it.
    const mid = median(ratios)
    return `; round by round, median ${x(mid)}x, middle half ${x(lo)}-${x(hi)}x over ${ratios.length} rounds${notes.length ? ` (${notes.join(', ')})` : ''}`
  }
  const hasCold = (results, prefix) => results[`${prefix}:${COLD}`] !== undefined
  if (suites.request) {
    out.push('## 2. One request through a Hono app (`app.fetch`), added to bare Hono', '')
    out.push(
      'Read: `GET /api/read` reads the session. Write: `POST /api/write` changes one field. "+µs" is the time added to bare Hono answering the same requests (same Cookie header, so the runtime\'s cost of bigger cookies is not counted). The bare row carries no cookies.',
      '',
    )
    out.push(
      '| Library | read, workerd µs | +µs | write, workerd µs | +µs | read, Node +µs | write, Node +µs | Set-Cookie (read / write) |',
    )
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|')
    const sc = (lib) =>
      `${w[`req-read:${lib}`]?.info?.setCookieLines ?? '?'} / ${w[`req-write:${lib}`]?.info?.setCookieLines ?? '?'}`
    for (const [lib, label] of REQUEST_LIBS) {
      const base = lib === 'bare'
      out.push(
        `| ${label} | ${cell(w[`req-read:${lib}`])} | ${base ? '-' : fmt(over(w, 'req-read', lib))} | ${cell(w[`req-write:${lib}`])} | ${base ? '-' : fmt(over(w, 'req-write', lib))} | ${base ? cell(n[`req-read:${lib}`]) : fmt(over(n, 'req-read', lib))} | ${base ? cell(n[`req-write:${lib}`]) : fmt(over(n, 'req-write', lib))} | ${sc(lib)} |`,
      )
      if (lib === 'edge-session' && (hasCold(w, 'req-read') || hasCold(w, 'req-write')))
        out.push(
          `| ${COLD_LABEL} | ${cell(w[`req-read:${COLD}`])} | ${fmt(over(w, 'req-read', COLD))} | ${cell(w[`req-write:${COLD}`])} | ${fmt(over(w, 'req-write', COLD))} | | | ${sc(COLD)} |`,
        )
    }
    out.push(
      '',
      '¹ Same, built with src/codec/token-cache.ts switched off: every cookie decrypted, as for a browser the isolate has not seen yet (workerd only; its own isolate, in the same rounds as the rest, its "+µs" against the same bare-Hono baseline as the row above).',
      '² Not session libraries: one middleware that opens one cookie per request with a cached CryptoKey (decrypt + JSON.parse, every request: no cache) and seals it again only after a change (bench/src/apps.ts). No lifetimes, activity, gate or header merge: the least a cookie session can do.',
      '',
    )
  }

  const peersOf = (results, prefix) =>
    LIBS.filter(([l]) => l !== 'bare' && l !== 'edge-session')
      .map(([lib, label]) => ({ lib, label, v: over(results, prefix, lib) }))
      .filter((p) => p.v !== undefined)
      .sort((a, b) => a.v - b.v)

  if (suites.trace && SHAPES_RUN.length > 0) {
    out.push('## 3. Traces: one user, simulated clock, every library given the same requests', '')
    out.push(
      `Mean per request. "+µs vs bare": against bare Hono answering the same requests with the same Cookie headers (the bare row itself carries none), while the simulated browser stores the same Set-Cookie lines on both sides (the client's work, not the library's). Set-Cookie columns: responses that carried Set-Cookie / requests of that kind, counted on a first, untimed pass that also checks every response (status, and that pages and API calls see the signed-in user). Each shape ran in a workerd process of its own, ${TRACE_BATCHES} rounds${NODE_ALL_SHAPES ? '' : '; Node ran the browsing trace only'}.`,
      '',
    )
    SHAPES_RUN.forEach(([, prefix, title, description], i) => {
      const info = w[`${prefix}:edge-session`]?.info ?? n[`${prefix}:edge-session`]?.info
      out.push(`### 3${String.fromCharCode(97 + i)}. ${title} (\`${prefix}:*\`)`, '')
      if (info)
        out.push(`${info.requests} requests over ${info.simulatedSeconds} simulated seconds: ${description}`, '')
      const kinds = STEP_KINDS.filter(([k]) => info?.counts?.[k])
      const node = n[`${prefix}:bare`] !== undefined
      out.push(
        `| Library | workerd µs/req | +µs vs bare | ${node ? 'Node µs/req | +µs vs bare | ' : ''}responses with Set-Cookie | ${kinds.map(([, h]) => h).join(' | ')} |`,
      )
      out.push(`|---|---:|---:|${node ? '---:|---:|' : ''}---:|${kinds.map(() => '---:|').join('')}`)
      const row = (lib, label) => {
        const rw = w[`${prefix}:${lib}`]
        const rn = n[`${prefix}:${lib}`]
        const c = (rw?.info ?? rn?.info)?.counts
        const all = c ? Object.values(c) : []
        const total = all.reduce((s, k) => s + k.requests, 0)
        const set = all.reduce((s, k) => s + k.setCookie, 0)
        const part = (k) => (c?.[k] ? `${c[k].setCookie}/${c[k].requests}` : '')
        const base = lib === 'bare'
        const cold = lib === COLD
        const nodeCells = node ? `${cold ? '' : cell(rn)} | ${base || cold ? '-' : fmt(over(n, prefix, lib))} | ` : ''
        return `| ${label} | ${cell(rw)} | ${base ? '-' : fmt(over(w, prefix, lib))} | ${nodeCells}${total ? `${((set / total) * 100).toFixed(0)}%` : ''} | ${kinds.map(([k]) => part(k)).join(' | ')} |`
      }
      for (const [lib, label] of LIBS) {
        out.push(row(lib, label))
        if (lib === 'edge-session' && hasCold(w, prefix)) out.push(row(COLD, COLD_LABEL))
      }
      out.push('')
    })
    out.push(
      '¹ Every cookie decrypted on every request, as in an isolate busy with many other users (the cache-off build, workerd only, its own isolate in the same rounds).',
      '',
    )
  }

  if (suites.request || suites.trace) {
    out.push('## Key ratios, workerd (this run)', '')
    out.push(
      'Time added to bare Hono, median of per-round differences; "x less" divides the other side by ours. Round by round: every case of a suite ran once per round in one workerd process (ours with the token cache off in an isolate of its own build), so each round gives a ratio; the middle half is the 25th-75th percentile of those ratios.',
      '',
    )
    const lines = []
    if (suites.trace) {
      for (const [, prefix, title] of SHAPES_RUN) {
        const best = peersOf(w, prefix)[0]
        const ours = over(w, prefix, 'edge-session')
        if (!best || ours === undefined) continue
        const theirs = diffsOf(w, prefix, best.lib)
        lines.push(
          `- Trace \`${prefix}\` (${title}): ours adds ${fmt(ours)} µs/request; the best peer, ${best.label}, ${fmt(best.v)} µs: ${(best.v / ours).toFixed(2)}x less${perRound(theirs, diffsOf(w, prefix, 'edge-session'), 'the peer', 'ours')}.`,
        )
        const cold = over(w, prefix, COLD)
        if (cold !== undefined)
          lines.push(
            `  - token cache off: ours adds ${fmt(cold)} µs/request: ${(best.v / cold).toFixed(2)}x less than ${best.label}${perRound(theirs, diffsOf(w, prefix, COLD), 'the peer', 'ours')}.`,
          )
      }
    }
    if (suites.request) {
      const refRead = over(w, 'req-read', 'ref-aes')
      const refWrite = over(w, 'req-write', 'ref-aes')
      const readCold = over(w, 'req-read', COLD)
      const readOn = over(w, 'req-read', 'edge-session')
      const write = over(w, 'req-write', 'edge-session')
      const refReadDiffs = diffsOf(w, 'req-read', 'ref-aes')
      if (readCold !== undefined && refRead !== undefined)
        lines.push(
          `- Signed-in request that writes nothing (\`GET /api/read\`), token cache off: ours adds ${fmt(readCold)} µs; the decrypt-only reference app (raw AES-256-GCM, one cookie) adds ${fmt(refRead)} µs: ours ${(readCold / refRead).toFixed(2)}x it${perRound(diffsOf(w, 'req-read', COLD), refReadDiffs, 'ours', 'the reference')}. Ours opens two cookies (session + activity), the reference one.`,
        )
      if (readOn !== undefined && refRead !== undefined)
        lines.push(
          `  - token cache on (both cookies from the isolate cache): ours adds ${fmt(readOn)} µs: ${(readOn / refRead).toFixed(2)}x the reference app${perRound(diffsOf(w, 'req-read', 'edge-session'), refReadDiffs, 'ours', 'the reference')}.`,
        )
      if (write !== undefined && refWrite !== undefined)
        lines.push(
          `- Request that writes the session (\`POST /api/write\`): ours adds ${fmt(write)} µs; the raw AES-256-GCM reference app adds ${fmt(refWrite)} µs: ours ${(write / refWrite).toFixed(2)}x it${perRound(diffsOf(w, 'req-write', 'edge-session'), diffsOf(w, 'req-write', 'ref-aes'), 'ours', 'the reference')}.`,
        )
      const writeCold = over(w, 'req-write', COLD)
      if (writeCold !== undefined && refWrite !== undefined)
        lines.push(
          `  - token cache off: ours adds ${fmt(writeCold)} µs: ${(writeCold / refWrite).toFixed(2)}x the reference app${perRound(diffsOf(w, 'req-write', COLD), diffsOf(w, 'req-write', 'ref-aes'), 'ours', 'the reference')}.`,
        )
    }
    out.push(...lines, '')
  }

  if (sizeRows) {
    out.push('## 4. Size (esbuild, minified, ESM; gzip -9)', '')
    out.push('| Bundle | minified | gzip | note |')
    out.push('|---|---:|---:|---|')
    for (const r of sizeRows) out.push(`| ${r.label} | ${kb(r.min) || 'not built'} | ${kb(r.gzip)} | ${r.note ?? ''} |`)
    out.push('')
  }

  if (suites.profile) {
    out.push('## Profile: where jose spends a compact JWE (dir + A256GCM), workerd', '')
    out.push('| Step | workerd µs | Node µs |')
    out.push('|---|---:|---:|')
    for (const [id, label] of PROFILE) out.push(`| ${label} | ${cell(w[id])} | ${cell(n[id])} |`)
    out.push('', '## Profile: where a request spends it in the middleware', '')
    out.push('| Request | workerd µs | + vs bare | Node µs |')
    out.push('|---|---:|---:|---:|')
    for (const [id, label, base] of MIDDLEWARE)
      out.push(`| ${label} | ${cell(w[id])} | ${base ? fmt(added(w[id], w[base])) : ''} | ${cell(n[id])} |`)
    out.push('')
  }
  out.push(`_Run took ${Math.round((Date.now() - started) / 1000)} s._`)
  return out.join('\n')
}

// --- main --------------------------------------------------------------------------------------
async function main() {
  const esbuild = await loadEsbuild()
  log(`bench: building bundles with esbuild ${esbuild.version} -> ${relative(ROOT, OUT)}/`)
  await buildBundles(esbuild)
  const ids = planIds()
  const w = {}
  let n = {}
  if (ids.length > 0 && !flag('no-workerd')) {
    // One workerd process per suite: with every case of every suite in one process (~70
    // isolates, 2 GB) a full run once stalled for minutes; a suite's cases only run beside each other.
    for (const group of suiteGroups(ids)) {
      log(`bench: workerd (Miniflare), ${group.length} cases`)
      const runtime = await startWorkerd(group)
      try {
        Object.assign(w, await runAll(runtime, group, group[0]?.startsWith('trace') ? TRACE_BATCHES : BATCHES))
      } finally {
        await runtime.close()
      }
    }
  }
  // Node has no cache-off build: its `-cold` cases run in workerd only. Of the traces Node runs
  // the browsing one only (Node's numbers say little about Workers; `--node-shapes` runs all four).
  const nodeIds = ids.filter((id) => !isCold(id) && (!id.startsWith('trace-') || NODE_ALL_SHAPES))
  if (nodeIds.length > 0 && !flag('no-node')) {
    log(`bench: Node ${process.version}, ${nodeIds.length} cases`)
    const runtime = await startNode()
    try {
      n = await runAll(runtime, nodeIds)
    } finally {
      await runtime.close()
    }
  }
  const sizeRows = suites.size ? await sizes(esbuild) : undefined
  const markdown = render({ w, n, sizeRows, v: versions() })
  process.stdout.write(`${markdown}\n`)
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  if (!only && !QUICK && !args.has('--no-node') && ![...args].some((a) => a.startsWith('--cases=')))
    writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), `${markdown}\n`)
  else log('bench: partial or quick run, bench/results/latest.md left as it was')
  writeFileSync(join(OUT, 'last-run.json'), JSON.stringify({ workerd: w, node: n, sizes: sizeRows }, null, 2))
  const failed = [...Object.values(w), ...Object.values(n)].filter((r) => r.error).length
  if (failed > 0) {
    log(`bench: ${failed} case(s) failed`)
    process.exitCode = 1
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
