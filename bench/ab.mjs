#!/usr/bin/env node
/**
 * `npm run bench:ab`: a paired comparison of two builds of src/ in workerd. The bench worker
 * (bench/src/entry-worker.ts, the same cases as `npm run bench`) is bundled twice: once with src/
 * of the git ref `--base`, once with the working tree's src/ (or src/ of `--head`); the bench code
 * itself always comes from the working tree, so both builds run identical cases. Both builds run
 * in one workerd process, K isolates per build and case; every round runs one batch per isolate,
 * order reversed every other round, and the report is the median of the per-round differences
 * (head minus base) with its spread. Prints Markdown; writes a file only with `--out=FILE`.
 *
 *   npm run bench:ab -- --base=main
 *   npm run bench:ab -- --base=HEAD~1 --head=HEAD --cases=req-write:edge-session --rounds=241
 *   npm run bench:ab -- --base=main --shapes=browse,api --isolates=3 --no-bare
 *
 * Options: --cases=a,b (bench case ids; default req-read, req-write and the browsing trace of
 * edge-session), --shapes=browse,signin,api,pages (trace shapes; with --cases, added to them),
 * --rounds=N (default 81), --isolates=K (per build and case, default 2), --no-bare (skip the
 * bare-Hono baseline of each case), --out=FILE. Run it under `flock /work/team/bench.lock`.
 * @module
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { pairedSummary } from './paired-stats.mjs'
import { calibrate, loadEsbuild, median, startIsolates, workerBuildOptions } from './workerd.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, '.tmp', 'ab')
/** Requests per batch and batch length: workerd's clock ticks in whole milliseconds. */
const LIMITS = { minOps: 1500, targetMs: 100, calibrateMs: 40 }
const WARMUP_ROUNDS = 2
/** Trace shape -> case-id prefix (bench/src/trace-cases.ts). */
const SHAPE_PREFIX = { browse: 'trace', signin: 'trace-signin', api: 'trace-api', pages: 'trace-pages' }

const { values: opts } = parseArgs({
  options: {
    base: { type: 'string' },
    head: { type: 'string' },
    cases: { type: 'string' },
    shapes: { type: 'string' },
    rounds: { type: 'string', default: '81' },
    isolates: { type: 'string', default: '2' },
    'no-bare': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
})

function log(message) {
  process.stderr.write(`${message}\n`)
}

/**
 * The case ids to compare: `--cases`, else ours on the read and write requests; plus ours on each
 * trace shape of `--shapes` (default: the browsing trace when `--cases` is not given).
 * @returns {string[]}
 */
function planCases() {
  const shapes = opts.shapes?.split(',') ?? (opts.cases ? [] : ['browse'])
  const unknown = shapes.filter((shape) => !(shape in SHAPE_PREFIX))
  if (unknown.length) throw new Error(`unknown shape(s) ${unknown.join(', ')}: use ${Object.keys(SHAPE_PREFIX)}`)
  const cases = opts.cases?.split(',') ?? ['req-read:edge-session', 'req-write:edge-session']
  const all = [...cases, ...shapes.map((shape) => `${SHAPE_PREFIX[shape]}:edge-session`)]
  const cold = all.filter((id) => id.endsWith('-cold'))
  if (cold.length) throw new Error(`${cold.join(', ')}: -cold cases need the cache-off build; use npm run bench`)
  return [...new Set(all)]
}

/** The bare-Hono case answering the same requests as a request or trace case (`req-read:bare@edge-session`). */
function bareOf(id) {
  const [prefix, lib] = id.split(':')
  const hasBaseline = /^(req-(read|write)|trace(-\w+)?)$/.test(prefix ?? '')
  return hasBaseline && lib && lib !== 'bare' && !lib.startsWith('bare@') ? `${prefix}:bare@${lib}` : undefined
}

/** A whole-number option of at least `least`, or a clear error. */
function count(name, least) {
  const value = Number(opts[name])
  if (!Number.isInteger(value) || value < least)
    throw new Error(`bench:ab: --${name} must be a whole number >= ${least}`)
  return value
}

function git(...args) {
  return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 30 }).trim()
}

/** `<short sha> <subject>` of a ref; throws with git's message when it names no commit. */
function describeRef(ref) {
  return git('log', '-1', '--format=%h %s', `${ref}^{commit}`)
}

/** Writes src/ of `ref` to `dir`/src (nothing else of the tree) and returns `dir`/src. */
function extractSrc(ref, dir) {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  const tar = execFileSync('git', ['archive', '--format=tar', ref, 'src'], { cwd: ROOT, maxBuffer: 1 << 30 })
  execFileSync('tar', ['-x', '-C', dir], { input: tar })
  return join(dir, 'src')
}

/**
 * An esbuild plugin that sends every import of the project's src/ (the bench imports `../../src`)
 * to the same path under `srcDir` instead; the imports inside that tree then stay inside it.
 * @param {string} srcDir
 * @returns {import('esbuild').Plugin}
 */
function redirectSrc(srcDir) {
  const ownSrc = join(ROOT, 'src')
  return {
    name: 'ab-redirect-src',
    setup(build) {
      build.onResolve({ filter: /^\.\.?\// }, (args) => {
        const target = resolve(args.resolveDir, args.path)
        if (target !== ownSrc && !target.startsWith(ownSrc + sep)) return undefined
        const path = `./${relative(ROOT, target).split(sep).join('/')}`
        return build.resolve(path, { resolveDir: dirname(srcDir), kind: args.kind, importer: args.importer })
      })
    },
  }
}

/**
 * Bundles the bench worker with src/ from `srcDir` (the working tree's when undefined) and checks,
 * from esbuild's metafile, that no module of the other tree slipped in.
 * @param {typeof import('esbuild')} esbuild
 * @param {string | undefined} srcDir
 * @param {string} outfile
 */
async function buildWorker(esbuild, srcDir, outfile) {
  const result = await esbuild.build({
    ...workerBuildOptions(ROOT),
    outfile,
    metafile: true,
    plugins: srcDir ? [redirectSrc(srcDir)] : [],
  })
  const want = relative(ROOT, srcDir ?? join(ROOT, 'src'))
    .split(sep)
    .join('/')
  const inputs = Object.keys(result.metafile.inputs).filter((p) => /^(src|\.tmp\/ab\/\w+\/src)\//.test(p))
  const stray = inputs.filter((p) => !p.startsWith(`${want}/`))
  if (inputs.length === 0 || stray.length > 0)
    throw new Error(`bench:ab: ${outfile} should take src/ from ${want} only; also has ${stray.slice(0, 3)}`)
}

// --- the run ------------------------------------------------------------------------------------
/**
 * One isolate per (case, build, copy): `base-0`, `head-0`, `base-1`, ... interleaved, then the
 * bare baseline. Returns the isolates' names, scripts and roles.
 */
function planIsolates(cases, scripts, copies, withBare) {
  const slots = []
  cases.forEach((id, c) => {
    for (let k = 0; k < copies; k++)
      for (const build of ['base', 'head'])
        slots.push({ name: `c${c}-${build}-${k}`, id, caseId: id, build, k, script: scripts[build] })
    const bare = bareOf(id)
    if (withBare && bare)
      slots.push({ name: `c${c}-bare`, id, caseId: bare, build: 'bare', k: 0, script: scripts.head })
  })
  return slots
}

/** µs per operation of one batch. */
const usPerOp = (r) => (r.ms * 1000) / r.ops

/**
 * Calibrates each case on all its isolates (a warm-up for each) and keeps the median size, so
 * both builds of a case run batches of the same size. The bare-Hono isolate is one of them and
 * counts in the median: it runs that same size, so its figures pair with the builds' round by round.
 */
async function calibrateCases(workerd, cases, slots) {
  const sizes = new Map()
  for (const id of cases) {
    const found = []
    for (const slot of slots.filter((s) => s.id === id))
      found.push(await calibrate((n) => workerd.batch(slot.name, slot.caseId, n), LIMITS))
    sizes.set(id, Math.ceil(median(found)))
  }
  return sizes
}

/**
 * Runs `rounds` rounds (after the warm-up rounds) of one batch per isolate, order reversed every
 * other round; returns each isolate's µs per request, round by round, and each case's requests
 * per batch.
 */
async function runRounds(workerd, slots, sizes, rounds) {
  const series = new Map(slots.map((slot) => [slot.name, []]))
  const requests = new Map()
  for (let round = -WARMUP_ROUNDS; round < rounds; round++) {
    const t = Date.now()
    for (const slot of round % 2 ? [...slots].reverse() : slots) {
      const r = await workerd.batch(slot.name, slot.caseId, sizes.get(slot.id))
      // The case's requests per batch, from its builds: the bare slot shares the case id.
      if (slot.build !== 'bare') requests.set(slot.id, r.ops)
      if (round >= 0) series.get(slot.name).push(usPerOp(r))
    }
    if ((round + 1) % 10 === 0 || round + 1 === rounds)
      log(`  round ${round + 1}/${rounds} (${((Date.now() - t) / 1000).toFixed(1)} s, load ${load()})`)
  }
  return { series, requests }
}

/**
 * One case's samples: per build, the round-by-round mean of its isolates; and the isolate gap,
 * the largest spread between the median offsets of one build's isolates from their mean (an
 * isolate keeps its placement for the whole run, so its offset is not round-to-round noise and
 * the CI does not cover it).
 */
function caseSamples(id, slots, series, rounds) {
  const samples = { base: [], head: [], bare: [], isolateGap: undefined }
  for (const build of ['base', 'head', 'bare']) {
    const own = slots.filter((s) => s.id === id && s.build === build).map((s) => series.get(s.name))
    if (own.length === 0) continue
    const means = Array.from({ length: rounds }, (_, i) => own.reduce((sum, one) => sum + one[i], 0) / own.length)
    samples[build] = means
    if (build === 'bare' || own.length < 2) continue
    const offsets = own.map((one) => median(one.map((us, i) => us - means[i])))
    samples.isolateGap = Math.max(samples.isolateGap ?? 0, Math.max(...offsets) - Math.min(...offsets))
  }
  return samples
}

const load = () => os.loadavg()[0].toFixed(1)
const fmt = (us) => (us === undefined ? '' : Math.abs(us) >= 100 ? us.toFixed(0) : us.toFixed(1))
const range = (pair) => (pair ? `${fmt(pair[0])} .. ${fmt(pair[1])}` : 'n/a')

/** The Markdown report. */
function render({ baseLabel, headLabel, cases, samples, requests, rounds, copies, loadStart, seconds }) {
  const out = [
    '# Paired A/B in workerd: head against base',
    '',
    `- base: ${baseLabel}`,
    `- head: ${headLabel}`,
    `- ${rounds} rounds after ${WARMUP_ROUNDS} warm-up rounds; ${copies} isolate(s) per build and case (a build's sample in a round is the mean of its isolates); one batch per isolate per round, order reversed every other round; batches of >= ${LIMITS.minOps} requests and >= ${LIMITS.targetMs} ms.`,
    `- Load average (1 min): ${loadStart} at start, ${load()} at end, ${os.cpus().length} cores; ${seconds} s; ${new Date().toISOString()}.`,
    '- µs per request; "head - base" is the median of the per-round differences, with their interquartile range and a 95% confidence interval of that median (order statistics). A CI containing 0: no difference resolved. "isolate gap" is how far apart the isolates of one build sit (largest spread of their median offsets, either build): it stays for the whole run, the CI does not cover it, and a difference not well above it is not resolved either.',
    '',
    '| case | requests/batch | base µs | head µs | bare Hono µs | head - base µs | IQR | 95% CI | head faster | isolate gap µs |',
    '|---|---:|---:|---:|---:|---:|---|---|---:|---:|',
  ]
  for (const id of cases) {
    const { base, head, bare, isolateGap } = samples.get(id)
    const s = pairedSummary(head.map((h, i) => h - base[i]))
    out.push(
      `| \`${id}\` | ${requests.get(id)} | ${fmt(median(base))} | ${fmt(median(head))} | ${bare.length ? fmt(median(bare)) : ''} | ${fmt(s.median)} | ${range(s.iqr)} | ${range(s.ci)} | ${s.headFaster}/${head.length} | ${fmt(isolateGap)} |`,
    )
  }
  return out.join('\n')
}

async function main() {
  if (!opts.base) throw new Error('bench:ab: --base=<git ref> is required (e.g. --base=main)')
  const rounds = count('rounds', 6)
  const copies = count('isolates', 1)
  const cases = planCases()
  const baseLabel = `${opts.base} (${describeRef(opts.base)})`
  const dirty = git('status', '--porcelain', '--', 'src') !== ''
  const headLabel = opts.head
    ? `${opts.head} (${describeRef(opts.head)})`
    : `working tree (HEAD ${describeRef('HEAD')}${dirty ? '; src/ has uncommitted changes' : ''})`

  const esbuild = await loadEsbuild()
  const scripts = { base: join(OUT, 'worker-base.mjs'), head: join(OUT, 'worker-head.mjs') }
  await buildWorker(esbuild, extractSrc(opts.base, join(OUT, 'base')), scripts.base)
  await buildWorker(esbuild, opts.head ? extractSrc(opts.head, join(OUT, 'head')) : undefined, scripts.head)
  log(`bench:ab: built ${relative(ROOT, scripts.base)} (${baseLabel}) and ${relative(ROOT, scripts.head)}`)

  const loadStart = load()
  const started = Date.now()
  const slots = planIsolates(cases, scripts, copies, !opts['no-bare'])
  const workerd = await startIsolates(new Map(slots.map((s) => [s.name, s.script])))
  try {
    log(`bench:ab: ${slots.length} isolates, ${cases.length} case(s); calibrating (load ${loadStart})`)
    const sizes = await calibrateCases(workerd, cases, slots)
    const { series, requests } = await runRounds(workerd, slots, sizes, rounds)
    const samples = new Map(cases.map((id) => [id, caseSamples(id, slots, series, rounds)]))
    const seconds = Math.round((Date.now() - started) / 1000)
    const report = { baseLabel, headLabel, cases, samples, requests, rounds, copies, loadStart, seconds }
    const markdown = render(report)
    process.stdout.write(`${markdown}\n`)
    writeFileSync(join(OUT, 'last-run.json'), JSON.stringify(Object.fromEntries(series), null, 2))
    if (opts.out) writeFileSync(resolve(opts.out), `${markdown}\n`)
  } finally {
    await workerd.close()
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error)
  process.exit(1)
})
