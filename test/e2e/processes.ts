/**
 * Starting and always stopping what the browser test needs: `wrangler dev` serving the example,
 * and Debian's chromium with a fresh profile. Each runs in its own process group, so stopping it
 * also stops what it started (workerd, chromium's helpers), and nothing else.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { appendFileSync, createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export const CHROMIUM = '/usr/bin/chromium'
export const ROOT = new URL('../../', import.meta.url).pathname
export const ARTIFACTS = join(ROOT, 'test-artifacts/e2e')

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

/** A process group we started; `stop()` ends it, once, and is safe to call on failure paths. */
export interface Started {
  readonly child: ChildProcess
  stop(): Promise<void>
}

const running = new Set<Started>()
// Last resort when the test process itself is torn down: never leave wrangler or chromium behind.
process.once('exit', () => {
  for (const started of running) killGroup(started.child, 'SIGKILL')
})

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // Already gone.
  }
}

function track(child: ChildProcess): Started {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  const started: Started = {
    child,
    async stop() {
      running.delete(started)
      killGroup(child, 'SIGTERM')
      const stopped = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])
      if (!stopped) {
        killGroup(child, 'SIGKILL')
        await exited
      }
    },
  }
  running.add(started)
  return started
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

/** Options of {@link startWrangler}. */
export interface WranglerOptions {
  /** Another Worker than the example: its wrangler config. */
  config?: string
  /** More variables for the Worker (e.g. OIDC_ISSUER, SESSION_STORE), added to its generated vars file. */
  vars?: Record<string, string>
  /** Names the vars file, the local state and the log (test-artifacts/e2e/<name>.log). Default `wrangler`. */
  name?: string
}

/**
 * Starts `npx wrangler dev` for the example (or `options.config`) on 127.0.0.1:`port` with its
 * own generated vars file (a fresh random SESSION_SECRET, written by scripts/dev-vars.mjs, plus
 * `options.vars`; a developer's .dev.vars is not read or touched) and waits until it answers.
 */
export async function startWrangler(
  port: number,
  options: WranglerOptions = {},
): Promise<Started & { origin: string }> {
  const name = options.name ?? 'wrangler'
  const work = join(ROOT, '.tmp/e2e')
  mkdirSync(work, { recursive: true })
  mkdirSync(ARTIFACTS, { recursive: true })
  const vars = join(work, name === 'wrangler' ? 'e2e.dev.vars' : `e2e-${name}.dev.vars`)
  rmSync(vars, { force: true })
  execFileSync(process.execPath, [join(ROOT, 'scripts/dev-vars.mjs'), vars], { stdio: 'ignore' })
  for (const [key, value] of Object.entries(options.vars ?? {})) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || /["\\\n]/.test(value))
      throw new Error(`startWrangler: cannot write ${key} to a vars file`)
    appendFileSync(vars, `\n${key}="${value}"\n`)
  }

  const args = [
    'wrangler',
    'dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--inspector-port',
    String(await freePort()),
  ]
  args.push(
    '--env-file',
    vars,
    '--persist-to',
    join(work, name === 'wrangler' ? 'state' : `state-${name}`),
    '--show-interactive-dev-session=false',
  )
  if (options.config) args.push('--config', options.config)
  const child = spawn('npx', args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true', WRANGLER_SEND_METRICS: 'false', NO_COLOR: '1' },
  })
  const log = createWriteStream(join(ARTIFACTS, `${name}.log`))
  child.stdout?.pipe(log)
  child.stderr?.pipe(log)
  const started = track(child)
  const origin = `http://127.0.0.1:${port}`
  try {
    await waitUntilServing(`${origin}/login`, child)
  } catch (error) {
    await started.stop()
    throw error
  }
  return Object.assign(started, { origin })
}

async function waitUntilServing(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 150_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited with ${child.exitCode}; see its log in test-artifacts/e2e/`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) })
      if (res.status === 200) return
    } catch {
      // Not listening yet.
    }
    await sleep(500)
  }
  throw new Error(`wrangler dev did not answer ${url} in time; see its log in test-artifacts/e2e/`)
}

/** Starts chromium headless with a fresh profile and returns its DevTools endpoint. */
export async function startChromium(): Promise<Started & { wsEndpoint: string }> {
  const profile = mkdtempSync(join(tmpdir(), 'hes-e2e-chromium-'))
  const child = spawn(
    CHROMIUM,
    [...CHROMIUM_ARGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    {
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  const started = track(child)
  const stop = started.stop
  started.stop = async () => {
    await stop()
    rmSync(profile, { recursive: true, force: true })
  }
  try {
    const wsEndpoint = await new Promise<string>((resolve, reject) => {
      let output = ''
      const timer = setTimeout(() => reject(new Error(`chromium did not start:\n${output}`)), 60_000)
      child.once('exit', (code) => reject(new Error(`chromium exited with ${code}:\n${output}`)))
      child.stderr?.on('data', (chunk: Buffer) => {
        output += chunk.toString()
        const match = /DevTools listening on (ws:\/\/\S+)/.exec(output)
        if (match?.[1]) {
          clearTimeout(timer)
          resolve(match[1])
        }
      })
    })
    return Object.assign(started, { wsEndpoint })
  } catch (error) {
    await started.stop()
    throw error
  }
}
