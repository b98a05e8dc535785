#!/usr/bin/env node
/**
 * `npm run bench`: hono-edge-session against its peers, inside workerd (through Miniflare) and in
 * Node, in one run. Prints Markdown tables and writes bench/results/latest.md.
 *
 *   npm run bench                  all suites, both runtimes (about 3-4 minutes on 2 cores)
 *   npm run bench -- --quick       3 batches, shorter batches (a smoke run, noisier)
 *   npm run bench -- --profile     also the step-by-step jose profile (bench/NOTES.md)
 *   npm run bench -- --only=codec  one suite: codec | request | trace | size | profile
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

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, '.tmp', 'bench')
const require = createRequire(import.meta.url)

const args = new Set(process.argv.slice(2))
const flag = (name) => args.has(`--${name}`)
const only = [...args].find((a) => a.startsWith('--only='))?.slice(7)
const QUICK = flag('quick')
const batchesArg = [...args].find((a) => a.startsWith('--batches='))?.slice(10)
const BATCHES = batchesArg ? Math.max(1, Number(batchesArg)) : QUICK ? 3 : 9
// The trace's target compares two small differences of large times: more rounds steady its median.
const TRACE_BATCHES = batchesArg || QUICK ? BATCHES : 15
// workerd's clock is coarse (1 ms, and in production it moves only on I/O): its batches need many
// operations. Node's clock is fine-grained, so fewer suffice there (and keep the run short).
const MIN_OPS = { workerd: QUICK ? 500 : 2000, node: QUICK ? 200 : 500 }
const TARGET_MS = QUICK ? 60 : 100
const CALIBRATE_MS = QUICK ? 20 : 40
const COMPAT_DATE = '2026-04-20'
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

// --- esbuild: from the project if resolvable, else the copy wrangler ships with ---------------
async function loadEsbuild() {
  try {
    return await import('esbuild')
  } catch {
    const fromWrangler = createRequire(require.resolve('wrangler/package.json'))
    return fromWrangler('esbuild')
  }
}

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
  const workerOptions = {
    ...common,
    entryPoints: [join(ROOT, 'bench/src/entry-worker.ts')],
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser', 'import', 'default'],
    mainFields: ['module', 'main'],
    external: ['node:*', 'cloudflare:*'],
  }
  await esbuild.build({ ...workerOptions, outfile: join(OUT, 'worker.mjs') })
  // The same worker with src/codec/token-cache.ts switched off, to show what a request
  // costs when its cookies were never seen by the isolate (a busy isolate, or the first request).
  await esbuild.build({
    ...workerOptions,
    outfile: join(OUT, 'worker-nocache.mjs'),
    plugins: [noTokenCache],
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
/**
 * One Miniflare (one workerd process) with one isolate per case: in production a worker runs one
 * app, so no case may run on JIT state that other cases' code left behind (shared Hono code
 * called by six apps, our functions called by codec loops and by apps with other options).
 */
async function startWorkerd(ids, script = 'worker.mjs', name = 'workerd') {
  const { Miniflare } = await import('miniflare')
  const isolates = new Map(ids.map((id, i) => [id, `case-${i}`]))
  const mf = new Miniflare({
    workers: [...isolates.values()].map((worker) => ({
      name: worker,
      modules: true,
      scriptPath: join(OUT, script),
      compatibilityDate: COMPAT_DATE,
      compatibilityFlags: ['nodejs_compat'],
    })),
  })
  await mf.ready
  const fetchers = new Map()
  for (const [id, worker] of isolates) fetchers.set(id, await mf.getWorker(worker))
  return {
    name,
    minOps: MIN_OPS.workerd,
    async batch(id, iterations) {
      const res = await fetchers
        .get(id)
        .fetch(`http://bench.local/batch?case=${encodeURIComponent(id)}&iterations=${iterations}`)
      const body = await res.json()
      if (body.error) throw new Error(`workerd ${id}: ${body.error}`)
      return body
    },
    close: () => mf.dispose(),
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

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Warm-up + calibration: grows the batch until it lasts CALIBRATE_MS; returns the batch size to use. */
async function calibrate(runtime, id) {
  let iterations = 1
  let r = await runtime.batch(id, iterations)
  while (r.ms < CALIBRATE_MS && iterations < 1e6) {
    iterations *= 4
    r = await runtime.batch(id, iterations)
  }
  const units = r.ops / iterations
  const msPerIteration = Math.max(r.ms, 1) / iterations
  return Math.max(Math.ceil(runtime.minOps / units), Math.ceil(TARGET_MS / msPerIteration))
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
  if (suites.request) ids.push(...withBaseline('req-read', REQUEST_LIBS), ...withBaseline('req-write', REQUEST_LIBS))
  if (suites.trace) ids.push(...withBaseline('trace', LIBS))
  if (suites.profile) ids.push(...PROFILE.map(([id]) => id), ...MIDDLEWARE.map(([id]) => id))
  return ids
}

/** Case ids by suite (the part before ':', codec cases have none), in plan order. */
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
      sizes[id] = await calibrate(runtime, id)
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
      try {
        if (process.env.BENCH_VERBOSE) log(`    ${runtime.name} ${id} x${sizes[id]}`)
        const r = await runtime.batch(id, sizes[id])
        samples[id].push((r.ms * 1000) / r.ops)
        last[id] = r
      } catch (error) {
        results[id] = { error: String(error.message ?? error).split('\n')[0] }
        log(`  ${runtime.name.padEnd(7)} ${id.padEnd(28)} FAILED: ${results[id].error}`)
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

function render({ w, n, w0, sizeRows, v }) {
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
    `- Method: median of ${BATCHES} batches per cell (${TRACE_BATCHES} in the workerd browsing trace; each >= ${MIN_OPS.workerd} operations in workerd, >= ${MIN_OPS.node} in Node, and >= ${TARGET_MS} ms, after warm-up), microseconds per operation, ±half the batch spread. workerd is timed inside the worker between two timer boundaries (its clock is coarse). Cases run in rounds (one batch of each case per round) so background load spreads evenly; in workerd each case has an isolate of its own, as a deployed worker runs one app. "+µs" columns are the median of per-round differences between a case and its baseline, whose batches run side by side. Lower is better; no pass/fail.`,
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
  /** Time `lib` adds to bare Hono answering the same requests (same Cookie header). */
  const over = (results, prefix, lib) => added(results[`${prefix}:${lib}`], results[`${prefix}:bare@${lib}`])
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
    for (const [lib, label] of REQUEST_LIBS) {
      const rr = w[`req-read:${lib}`]
      const ww = w[`req-write:${lib}`]
      const base = lib === 'bare'
      const sc = `${rr?.info?.setCookieLines ?? '?'} / ${ww?.info?.setCookieLines ?? '?'}`
      out.push(
        `| ${label} | ${cell(rr)} | ${base ? '-' : fmt(over(w, 'req-read', lib))} | ${cell(ww)} | ${base ? '-' : fmt(over(w, 'req-write', lib))} | ${base ? cell(n[`req-read:${lib}`]) : fmt(over(n, 'req-read', lib))} | ${base ? cell(n[`req-write:${lib}`]) : fmt(over(n, 'req-write', lib))} | ${sc} |`,
      )
      if (lib === 'edge-session' && w0['req-read:edge-session']) {
        const r0 = w0['req-read:edge-session']
        const w0w = w0['req-write:edge-session']
        out.push(
          `| ${label}, token cache off¹ | ${cell(r0)} | ${fmt(over(w0, 'req-read', lib))} | ${cell(w0w)} | ${fmt(over(w0, 'req-write', lib))} | | | ${sc} |`,
        )
      }
    }
    out.push(
      '',
      '¹ Same, with src/codec/token-cache.ts built as an empty cache of opened tokens: every cookie decrypted, as for a browser the isolate has not seen yet.',
      '² Not session libraries: one middleware that opens one cookie per request with a cached CryptoKey (decrypt + JSON.parse, every request: no cache) and seals it again only after a change (bench/src/apps.ts). No lifetimes, activity, gate or header merge. The yardsticks of the request targets below.',
      '',
    )
  }

  if (suites.trace) {
    const info = w['trace:edge-session']?.info ?? n['trace:edge-session']?.info
    out.push('## 3. Browsing trace: one signed-in user, ~1 request/s (simulated clock)', '')
    if (info)
      out.push(
        `${info.requests} requests over ${info.simulatedSeconds} simulated seconds: one onboarding completion, 60 page views over 10 paths (a quarter repeat the previous page), each followed by 3 API or asset calls. Mean per request.`,
        '',
      )
    out.push(
      '| Library | workerd µs/req | +µs vs bare | Node µs/req | +µs vs bare | responses with Set-Cookie | new page | same page | API | asset | update |',
    )
    out.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const [lib, label] of LIBS) {
      const rw = w[`trace:${lib}`]
      const rn = n[`trace:${lib}`]
      const c = (rw?.info ?? rn?.info)?.counts
      const total = c ? Object.values(c).reduce((s, k) => s + k.requests, 0) : 0
      const set = c ? Object.values(c).reduce((s, k) => s + k.setCookie, 0) : 0
      const part = (k) => (c ? `${c[k].setCookie}/${c[k].requests}` : '')
      const base = lib === 'bare'
      out.push(
        `| ${label} | ${cell(rw)} | ${base ? '-' : fmt(over(w, 'trace', lib))} | ${cell(rn)} | ${base ? '-' : fmt(over(n, 'trace', lib))} | ${c ? `${((set / total) * 100).toFixed(0)}%` : ''} | ${part('page-new')} | ${part('page-repeat')} | ${part('api')} | ${part('asset')} | ${part('update')} |`,
      )
      if (lib === 'edge-session' && w0['trace:edge-session']) {
        const r0 = w0['trace:edge-session']
        out.push(`| ${label}, token cache off¹ | ${cell(r0)} | ${fmt(over(w0, 'trace', lib))} | | | | | | | | |`)
      }
    }
    out.push('')
    out.push(
      `"+µs vs bare": against bare Hono answering the same requests with the same Cookie headers (the bare row itself carries none), while the simulated browser stores the same Set-Cookie lines on both sides (the client's work, not the library's).${w0['trace:edge-session'] ? ' ¹ Every cookie decrypted on every request (as in an isolate busy with many other users).' : ''}`,
      '',
    )
  }

  if (suites.codec || suites.request || suites.trace) {
    out.push('## Targets (issue 7), workerd', '')
    const lines = []
    const wr = over(w, 'req-write', 'edge-session')
    const rd = over(w, 'req-read', 'edge-session')
    const jose = w['jose-compact']
    const dfloor = w['floor-aes-open']
    // At request level (suite 2): our whole request against the reference apps' whole requests.
    const refWrite = over(w, 'req-write', 'ref-jose')
    const refRead = over(w, 'req-read', 'ref-aes')
    if (wr !== undefined && refWrite !== undefined)
      lines.push(
        `- Cookie write, whole request: ours adds ${fmt(wr)} µs; the jose reference app (cached key) adds ${fmt(refWrite)} µs: ${(wr / refWrite).toFixed(2)}x (target <= 0.6x).`,
      )
    const refAesWrite = over(w, 'req-write', 'ref-aes')
    if (wr !== undefined && refWrite !== undefined && refAesWrite !== undefined)
      // The target's own gloss of 0.6x jose is "roughly the raw AES-GCM floor": the same reading at request level.
      lines.push(
        `- Cookie write, whole request, against the raw AES-GCM reference app (the target's "roughly the raw AES-GCM floor"): it adds ${fmt(refAesWrite)} µs (${(refAesWrite / refWrite).toFixed(2)}x the jose one); ours ${(wr / refAesWrite).toFixed(2)}x it.`,
      )
    if (rd !== undefined && refRead !== undefined)
      lines.push(
        `- No-write, whole request: ours adds ${fmt(rd)} µs; the AES-GCM decrypt-only reference app adds ${fmt(refRead)} µs: ${(rd / refRead).toFixed(2)}x (target <= 1.5x; ours opens two cookies, session + activity, here from the isolate cache; the reference decrypts one every time).`,
      )
    const rd0 = over(w0, 'req-read', 'edge-session')
    if (rd0 !== undefined && refRead !== undefined)
      lines.push(
        `- No-write, whole request, token cache off: ours adds ${fmt(rd0)} µs = ${(rd0 / refRead).toFixed(2)}x the decrypt-only reference app (two decryptions to its one).`,
      )
    // At codec level (suite 1): the codec calls alone, against jose and the floors alone.
    if (suites.codec && jose && !jose.error) {
      lines.push(
        `- Cookie write, codec alone: ours ${fmt(w['edge-session']?.us)} µs = ${ratio(w['edge-session'], jose)} jose cached (the same target read at codec level).`,
      )
      if (wr !== undefined)
        lines.push(
          `- Cookie write, our whole request against jose's codec alone: ${(wr / jose.us).toFixed(2)}x (not like for like: the request also opens both cookies, runs the update, the gate and Set-Cookie).`,
        )
    }
    if (suites.codec && dfloor && !dfloor.error) {
      lines.push(
        `- No-write, codec alone: openToken ${fmt(w['edge-session-open']?.us)} µs = ${ratio(w['edge-session-open'], dfloor)} the decrypt floor.`,
      )
      if (rd !== undefined)
        lines.push(
          `- No-write, our whole request against the decrypt floor alone: ${(rd / dfloor.us).toFixed(2)}x (not like for like, as above).`,
        )
    }
    if (suites.trace) {
      const ours = over(w, 'trace', 'edge-session')
      const peers = LIBS.filter(([l]) => l !== 'bare' && l !== 'edge-session')
        .map(([l, label]) => ({ lib: l, label, v: over(w, 'trace', l) }))
        .filter((p) => p.v !== undefined)
        .sort((a, b) => a.v - b.v)
      if (ours !== undefined && peers[0]) {
        // The ratio round by round (both libraries ran in every round), to show how far one run's noise moves it.
        const mine = roundDiffs(w['trace:edge-session'], w['trace:bare@edge-session']) ?? []
        const theirs = roundDiffs(w[`trace:${peers[0].lib}`], w[`trace:bare@${peers[0].lib}`]) ?? []
        const perRound = mine
          .map((d, i) => (theirs[i] ?? Number.NaN) / d)
          .filter((x) => Number.isFinite(x) && x > 0)
          .sort((a, b) => a - b)
        const quartiles =
          perRound.length >= 4
            ? `; round by round, middle half ${perRound[Math.floor((perRound.length - 1) / 4)].toFixed(1)}-${perRound[Math.ceil(((perRound.length - 1) * 3) / 4)].toFixed(1)}x`
            : ''
        lines.push(
          `- Trace: ours adds ${fmt(ours)} µs/request; best peer (${peers[0].label}) ${fmt(peers[0].v)} µs: ${(peers[0].v / ours).toFixed(1)}x less (target >= 4x${quartiles}).`,
        )
      }
      const cold = over(w0, 'trace', 'edge-session')
      if (cold !== undefined && peers[0])
        lines.push(
          `- Trace, token cache off: ours adds ${fmt(cold)} µs/request: ${(peers[0].v / cold).toFixed(1)}x less than ${peers[0].label}.`,
        )
      const c = w['trace:edge-session']?.info?.counts
      if (c)
        lines.push(
          `- Trace Set-Cookie: ours on ${c['page-new'].setCookie}/${c['page-new'].requests} new-page views, ${c.update.setCookie}/${c.update.requests} updates, ${c['page-repeat'].setCookie + c.api.setCookie + c.asset.setCookie}/${c['page-repeat'].requests + c.api.requests + c.asset.requests} repeated-page, API and asset requests (target: none there).`,
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
        Object.assign(w, await runAll(runtime, group, group[0]?.startsWith('trace:') ? TRACE_BATCHES : BATCHES))
      } finally {
        await runtime.close()
      }
    }
  }
  let w0 = {}
  const cold = ids.filter((id) => /^(req-read|req-write|trace):(bare@)?edge-session$/.test(id))
  if (cold.length > 0 && !flag('no-workerd')) {
    log(`bench: workerd, token cache off, ${cold.length} cases`)
    const runtime = await startWorkerd(cold, 'worker-nocache.mjs', 'nocache')
    try {
      w0 = await runAll(runtime, cold)
    } finally {
      await runtime.close()
    }
  }
  if (ids.length > 0 && !flag('no-node')) {
    log(`bench: Node ${process.version}, ${ids.length} cases`)
    const runtime = await startNode()
    try {
      n = await runAll(runtime, ids)
    } finally {
      await runtime.close()
    }
  }
  const sizeRows = suites.size ? await sizes(esbuild) : undefined
  const markdown = render({ w, n, w0, sizeRows, v: versions() })
  process.stdout.write(`${markdown}\n`)
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true })
  if (!only && !QUICK && !args.has('--no-node') && ![...args].some((a) => a.startsWith('--cases=')))
    writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), `${markdown}\n`)
  else log('bench: partial or quick run, bench/results/latest.md left as it was')
  writeFileSync(
    join(OUT, 'last-run.json'),
    JSON.stringify({ workerd: w, workerdNoCache: w0, node: n, sizes: sizeRows }, null, 2),
  )
  const failed = [...Object.values(w), ...Object.values(w0), ...Object.values(n)].filter((r) => r.error).length
  if (failed > 0) {
    log(`bench: ${failed} case(s) failed`)
    process.exitCode = 1
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
