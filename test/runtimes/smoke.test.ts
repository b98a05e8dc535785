/**
 * The Quickstart app served over real HTTP by the runtime under test (Bun.serve or Deno.serve, on
 * 127.0.0.1 and a free port), driven like a browser with a cookie jar: sign-in, the gate, a page
 * view recording lastPath, an update seen by the next request, sign-out.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LISTENING } from './app-contract'
import { Browser, redirectTarget } from './smoke'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const runtime = process.env.TEST_RUNTIME
/** How this runtime starts its server script (paths relative to the repository root). */
const SERVE: Record<string, string[]> = {
  // The example imports `hono-edge-session` by name: the root tsconfig's paths map it to the sources.
  bun: ['--tsconfig-override=tsconfig.json', 'test/runtimes/serve-bun.ts'],
  deno: [
    'run',
    '--no-lock',
    '--allow-net=127.0.0.1',
    '--allow-read=.',
    '--allow-env=SESSION_SECRET',
    // The example imports `hono-edge-session` by name; the sources import with `.js` suffixes.
    '--import-map=test/runtimes/import-map.deno.json',
    '--unstable-sloppy-imports',
    'test/runtimes/serve-deno.ts',
  ],
}
const START_TIMEOUT_MS = 30_000

let server: ChildProcess | undefined
let browser: Browser

/** Starts the server script with this runtime's own binary; resolves with the origin it prints. */
function startServer(args: string[]): Promise<string> {
  const secret = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, SESSION_SECRET: secret },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  server = child
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    const fail = (why: string) => {
      clearTimeout(timer)
      reject(new Error(`${runtime} server ${why}\nstdout: ${stdout}\nstderr: ${stderr}`))
    }
    const timer = setTimeout(
      () => fail(`printed no "${LISTENING}" line within ${START_TIMEOUT_MS} ms`),
      START_TIMEOUT_MS,
    )
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const line = stdout.split('\n').find((l) => l.startsWith(LISTENING))
      if (line) {
        clearTimeout(timer)
        resolve(line.slice(LISTENING.length).trim())
      }
    })
    child.on('error', (error) => fail(`did not start: ${error.message}`))
    child.on('exit', (code, signal) => fail(`exited (code ${code}, signal ${signal})`))
  })
}

beforeAll(async () => {
  const args = runtime ? SERVE[runtime] : undefined
  if (!args) throw new Error(`no server script for runtime ${runtime}`)
  const origin = await startServer(args)
  expect(origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  browser = new Browser(origin)
}, START_TIMEOUT_MS + 5_000)

afterAll(async () => {
  const child = server
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
})

/** The page's HTML, after checking it is a 200 HTML page. */
async function page(res: Response): Promise<string> {
  expect(res.status).toBe(200)
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  return res.text()
}

/** `Last page: <path>`, and not a longer path that starts with it. */
const lastPage = (path: string) => new RegExp(`Last page: ${path.replace(/[/]/g, '\\/')}(?![\\w/-])`)

describe(`Quickstart served by ${runtime === 'bun' ? 'Bun.serve' : 'Deno.serve'}`, () => {
  it('serves the public page and the sign-in form to a visitor', async () => {
    await page(await browser.navigate('/'))
    expect(await page(await browser.navigate('/login'))).toMatch(/<input[^>]*name="name"/)
    expect(browser.jar.names()).toEqual([])
  })

  it('the gate sends a signed-out visitor to sign in, with the page to come back to', async () => {
    for (const path of ['/explore', '/explore/ducks']) {
      const res = await browser.navigate(path)
      expect(res.status).toBe(303)
      const target = redirectTarget(res, browser.origin)
      expect(target.path).toBe('/login')
      expect(target.query.get('returnTo')).toBe(path)
    }
  })

  it('signs in from a same-origin form post only (csrf), into onboarding', async () => {
    const forged = await browser.submit('/login', { name: 'Ada' }, 'http://evil.example')
    expect(forged.status).toBe(403)
    expect(forged.headers.getSetCookie()).toEqual([])
    expect(browser.jar.names()).toEqual([])

    const res = await browser.submit('/login', { name: 'Ada' })
    expect(res.status).toBe(303)
    expect(redirectTarget(res, browser.origin).path).toBe('/onboarding')
    expect(res.headers.get('cache-control')).toMatch(/no-store/)
    expect(browser.jar.names()).toContain('__Host-session')
  })

  it('the gate keeps a signed-in user on onboarding until it is finished', async () => {
    const res = await browser.navigate('/explore')
    expect(res.status).toBe(303)
    expect(redirectTarget(res, browser.origin).path).toBe('/onboarding')
    await page(await browser.navigate('/onboarding'))
  })

  it('finishing onboarding is seen by the very next request: /explore opens', async () => {
    const finish = await browser.submit('/onboarding/finish', {})
    expect(finish.status).toBe(303)
    expect(redirectTarget(finish, browser.origin).path).toBe('/explore')
    const html = await page(await browser.navigate('/explore'))
    expect(html).toContain('Hi Ada')
    // The page viewed before this one was the onboarding page.
    expect(html).toMatch(lastPage('/onboarding'))
  })

  it('each page view records lastPath, shown on the next page', async () => {
    expect(await page(await browser.navigate('/explore/ducks'))).toMatch(lastPage('/explore'))
    expect(await page(await browser.navigate('/explore'))).toMatch(lastPage('/explore/ducks'))
  })

  it('signs out: the session cookies are gone and the gate asks for a sign-in again', async () => {
    const res = await browser.submit('/logout', {})
    expect(res.status).toBe(303)
    expect(redirectTarget(res, browser.origin).path).toBe('/login')
    expect(browser.jar.names().filter((name) => name.startsWith('__Host-session'))).toEqual([])
    const again = await browser.navigate('/explore')
    expect(again.status).toBe(303)
    expect(redirectTarget(again, browser.origin).path).toBe('/login')
  })
})
