#!/usr/bin/env node
/**
 * `npm run load`: a bounded load against the example worker under `wrangler dev` on loopback.
 *
 * Starts `wrangler dev` (root wrangler.toml) on a free port with a freshly generated SESSION_SECRET
 * (passed with --var; .dev.vars is neither read for it nor written), waits until it answers, mints
 * sessions through the example's own sign-in and onboarding forms, checks every request kind once,
 * then drives autocannon for a fixed time with mixed traffic: anonymous visitors, signed-in users,
 * users mid-onboarding, and session updates. Reports requests/s, latency percentiles, unexpected
 * status codes (must be zero, else exit 1) and the RSS of the workerd process before and after, as
 * a Markdown table with the date and the machine. wrangler is always stopped at the end.
 *
 * Usage: node scripts/load.mjs [--duration 20] [--connections 8]
 *        LOAD_DURATION=5 npm run load        (the short run CI uses)
 */
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { cpus, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = parseArgs(process.argv.slice(2))
const DURATION = positive(args.duration ?? process.env.LOAD_DURATION ?? 20, 'duration')
const CONNECTIONS = positive(args.connections ?? process.env.LOAD_CONNECTIONS ?? 8, 'connections')
const READY_TIMEOUT_MS = 180_000

function parseArgs(argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i])
    if (!m) throw new Error(`Unknown argument ${argv[i]}; use --duration N, --connections N.`)
    out[m[1]] = m[2] ?? argv[++i]
  }
  return out
}

function positive(value, label) {
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${label} must be a whole number above 0; got ${value}.`)
  return n
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Processes in wrangler's process group whose command is workerd. */
function workerdPids(groupId) {
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      // Fields after the parenthesised command: state ppid pgrp ...
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))
      const pgrp = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      if (pgrp === groupId && comm.startsWith('workerd')) pids.push(Number(entry))
    } catch {
      // The process ended while we looked.
    }
  }
  return pids
}

/** Resident set size in KiB, summed over the workerd processes. */
function rssKiB(pids) {
  let total = 0
  for (const pid of pids) {
    try {
      const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
      if (m) total += Number(m[1])
    } catch {
      // Gone.
    }
  }
  return total
}

function machine() {
  const list = cpus()
  let model = list[0]?.model ?? 'unknown'
  try {
    model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? model
  } catch {}
  return { model: model.trim(), cores: list.length, memGiB: (totalmem() / 2 ** 30).toFixed(1), node: process.version }
}

function startWrangler(port, inspectorPort, secret) {
  const bin = join(root, 'node_modules', '.bin', 'wrangler')
  const child = spawn(
    bin,
    [
      'dev',
      '--ip',
      '127.0.0.1',
      '--port',
      String(port),
      '--inspector-port',
      String(inspectorPort),
      '--var',
      `SESSION_SECRET:${secret}`,
      '--persist-to',
      join(root, '.tmp', 'load-state'),
      '--show-interactive-dev-session=false',
      '--log-level',
      'warn',
    ],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
    },
  )
  let log = ''
  const keep = (chunk) => {
    log = (log + chunk).slice(-8000)
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  return { child, log: () => log }
}

function stopWrangler(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      resolve()
    }
    child.once('exit', done)
    // The whole group: wrangler, esbuild and workerd.
    try {
      process.kill(-child.pid, 'SIGTERM')
    } catch {
      return done()
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
      setTimeout(resolve, 500)
    }, 5000)
  })
}

async function waitReady(base, wrangler) {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (wrangler.child.exitCode !== null)
      throw new Error(`wrangler dev exited early (code ${wrangler.child.exitCode}):\n${wrangler.log()}`)
    try {
      const res = await fetch(`${base}/login`, { redirect: 'manual', signal: AbortSignal.timeout(2000) })
      if (res.status === 200) return
    } catch {}
    await sleep(250)
  }
  throw new Error(`wrangler dev did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${wrangler.log()}`)
}

/** A tiny cookie jar for minting sessions through the example's forms. */
class Jar {
  cookies = new Map()
  apply(res) {
    for (const line of res.headers.getSetCookie()) {
      const pair = line.slice(0, line.indexOf(';'))
      const name = pair.slice(0, pair.indexOf('='))
      if (/;\s*Max-Age=0(;|$)/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, pair.slice(pair.indexOf('=') + 1))
    }
    return res
  }
  get header() {
    return [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; ')
  }
}

async function post(base, jar, path, fields) {
  const res = await fetch(base + path, {
    method: 'POST',
    redirect: 'manual',
    body: new URLSearchParams(fields),
    headers: { cookie: jar.header, origin: base, 'content-type': 'application/x-www-form-urlencoded' },
  })
  jar.apply(res)
  if (res.status !== 303) throw new Error(`POST ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`)
}

async function mint(base, n, finish) {
  const jar = new Jar()
  await post(base, jar, '/login', { email: `load-${n}@example.com` })
  if (finish) {
    await post(base, jar, '/onboarding/profile', { displayName: `Load ${n}`, purpose: 'work' })
    await post(base, jar, '/onboarding/preferences', { theme: 'dark', digest: 'weekly' })
  }
  if (jar.cookies.size === 0) throw new Error('sign-in set no cookie')
  return jar.header
}

/** The traffic: each entry is one request with the status it must get. */
function traffic(base, signedIn, midOnboarding) {
  const html = { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' }
  const json = { accept: 'application/json' }
  const form = { origin: base, 'content-type': 'application/x-www-form-urlencoded' }
  return [
    { kind: 'anonymous', method: 'GET', path: '/login', headers: html, expect: 200 },
    { kind: 'anonymous', method: 'GET', path: '/explore', headers: html, expect: 303 },
    { kind: 'anonymous', method: 'GET', path: '/api/me', headers: json, expect: 401 },
    { kind: 'signed-in', method: 'GET', path: '/explore', headers: { ...html, cookie: signedIn }, expect: 200 },
    { kind: 'signed-in', method: 'GET', path: '/settings', headers: { ...html, cookie: signedIn }, expect: 200 },
    { kind: 'signed-in', method: 'GET', path: '/api/me', headers: { ...json, cookie: signedIn }, expect: 200 },
    {
      kind: 'signed-in',
      method: 'GET',
      path: '/explore?tab=recent',
      headers: { ...html, cookie: signedIn },
      expect: 200,
    },
    {
      kind: 'mid-onboarding',
      method: 'GET',
      path: '/explore',
      headers: { ...html, cookie: midOnboarding },
      expect: 303,
    },
    {
      kind: 'mid-onboarding',
      method: 'GET',
      path: '/api/me',
      headers: { ...json, cookie: midOnboarding },
      expect: 403,
    },
    {
      kind: 'mid-onboarding',
      method: 'GET',
      path: '/onboarding/profile',
      headers: { ...html, cookie: midOnboarding },
      expect: 200,
    },
    {
      kind: 'update',
      method: 'POST',
      path: '/settings',
      headers: { ...form, cookie: signedIn },
      body: 'displayName=Load+Update&purpose=study&theme=light&digest=daily',
      expect: 303,
    },
    {
      kind: 'update',
      method: 'POST',
      path: '/onboarding/profile',
      headers: { ...form, cookie: midOnboarding },
      body: 'displayName=Load+Mid&purpose=personal',
      expect: 303,
    },
  ]
}

/** One request over plain node:http, headers exactly as given (fetch would add its own Sec-Fetch-Mode). */
function rawStatus(base, r) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + r.path, { method: r.method, headers: r.headers, timeout: 10_000 }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error(`${r.method} ${r.path} timed out`)))
    req.end(r.body)
  })
}

async function checkOnce(base, requests) {
  for (const r of requests) {
    const status = await rawStatus(base, r)
    if (status !== r.expect) throw new Error(`${r.kind} ${r.method} ${r.path}: expected ${r.expect}, got ${status}`)
  }
}

function runLoad(base, requests) {
  const byKind = {}
  for (const r of requests) byKind[r.kind] ??= { requests: 0, unexpected: 0 }
  const unexpected = {}
  const entries = requests.map((r) => ({
    method: r.method,
    path: r.path,
    headers: r.headers,
    ...(r.body ? { body: r.body } : {}),
    onResponse: (status) => {
      byKind[r.kind].requests++
      if (status !== r.expect) {
        byKind[r.kind].unexpected++
        const key = `${r.method} ${r.path} -> ${status}`
        unexpected[key] = (unexpected[key] ?? 0) + 1
      }
    },
  }))
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      { url: base, connections: CONNECTIONS, duration: DURATION, requests: entries, timeout: 10 },
      (err, result) => (err ? reject(err) : resolve({ result, byKind, unexpected })),
    )
    instance.on('error', reject)
  })
}

function report({
  when,
  host,
  wranglerVersion,
  result,
  byKind,
  unexpected,
  rssBefore,
  rssAfter,
  rssPeak,
  rssIdle,
  processes,
  restarted,
}) {
  const mb = (kib) => (kib / 1024).toFixed(1)
  const unexpectedCount = Object.values(unexpected).reduce((a, b) => a + b, 0)
  const lines = [
    `### Load: example worker under \`wrangler dev\` (${DURATION} s, ${CONNECTIONS} connections)`,
    '',
    `Date: ${when}. Machine: ${host.model}, ${host.cores} cores, ${host.memGiB} GiB; Node ${host.node}; wrangler ${wranglerVersion}. Client (autocannon) and server share the machine.`,
    '',
    '| Metric | Value |',
    '| --- | --- |',
    `| Requests | ${result.requests.total} (${Object.entries(byKind)
      .map(([k, v]) => `${k} ${v.requests}`)
      .join(', ')}) |`,
    `| Requests/s (mean) | ${result.requests.average.toFixed(0)} |`,
    `| Latency p50 / p90 / p99 | ${result.latency.p50} / ${result.latency.p90} / ${result.latency.p99} ms |`,
    `| Latency max | ${result.latency.max} ms |`,
    `| Unexpected status codes | ${unexpectedCount}${
      unexpectedCount
        ? ` (${Object.entries(unexpected)
            .map(([k, v]) => `${k}: ${v}`)
            .join('; ')})`
        : ''
    } |`,
    `| Errors / timeouts | ${result.errors} / ${result.timeouts} |`,
    `| workerd RSS before / after / 3 s later (peak) | ${mb(rssBefore)} / ${mb(rssAfter)} / ${mb(rssIdle)} MiB (${mb(rssPeak)} MiB; ${processes} workerd process${processes === 1 ? '' : 'es'}${restarted ? '; wrangler restarted workerd during the run (a watched file changed), so these are not comparable' : ''}) |`,
  ]
  lines.push(
    '',
    'RSS is the workerd processes of `wrangler dev` (its dev proxy and tooling included), not a production isolate.',
  )
  return { text: lines.join('\n'), failed: unexpectedCount > 0 || result.errors > 0 || result.timeouts > 0 }
}

async function main() {
  const [port, inspectorPort] = [await freePort(), await freePort()]
  const base = `http://127.0.0.1:${port}`
  const secret = randomBytes(32).toString('base64url')
  const wranglerVersion = JSON.parse(
    readFileSync(join(root, 'node_modules', 'wrangler', 'package.json'), 'utf8'),
  ).version
  console.log(`[load] starting wrangler dev on ${base} (duration ${DURATION} s, ${CONNECTIONS} connections)`)
  const wrangler = startWrangler(port, inspectorPort, secret)
  const stop = () => stopWrangler(wrangler.child)
  for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stop().then(() => process.exit(130)))
  try {
    await waitReady(base, wrangler)
    // Re-scanned at every sample: wrangler restarts workerd when a source file changes.
    const seenPids = new Set()
    const rssNow = () => {
      const pids = workerdPids(wrangler.child.pid)
      for (const pid of pids) seenPids.add(pid)
      return { kib: rssKiB(pids), count: pids.length }
    }
    if (rssNow().count === 0) throw new Error("no workerd process found in wrangler dev's process group")
    const signedIn = await mint(base, 1, true)
    const midOnboarding = await mint(base, 2, false)
    const requests = traffic(base, signedIn, midOnboarding)
    await checkOnce(base, requests)
    console.log(`[load] ready; every request kind answered as expected; driving load for ${DURATION} s`)

    const startPids = new Set(workerdPids(wrangler.child.pid))
    const before = rssNow()
    const rssBefore = before.kib
    let rssPeak = rssBefore
    const sampler = setInterval(() => {
      rssPeak = Math.max(rssPeak, rssNow().kib)
    }, 500)
    let outcome
    try {
      outcome = await runLoad(base, requests)
    } finally {
      clearInterval(sampler)
    }
    const rssAfter = rssNow().kib
    rssPeak = Math.max(rssPeak, rssAfter)
    // Once more after a short idle: growth that stays is what would matter over time.
    await sleep(3000)
    const rssIdle = rssNow().kib
    const restarted = [...seenPids].some((pid) => !startPids.has(pid))

    const { text, failed } = report({
      when: new Date().toISOString(),
      host: machine(),
      wranglerVersion,
      ...outcome,
      rssBefore,
      rssAfter,
      rssPeak,
      rssIdle,
      processes: before.count,
      restarted,
    })
    console.log(`\n${text}\n`)
    mkdirSync(join(root, '.tmp'), { recursive: true })
    writeFileSync(join(root, '.tmp', 'load-report.md'), `${text}\n`)
    if (failed) {
      console.error('[load] FAILED: unexpected status codes, errors or timeouts (see the table).')
      process.exitCode = 1
    }
  } finally {
    await stop()
  }
}

main().catch((error) => {
  console.error(`[load] ${error instanceof Error ? error.message : error}`)
  process.exitCode = 1
})
