/**
 * The same app started with Miniflare's own API, from Node: bundle the Worker (as wrangler
 * does), give Miniflare the bindings of wrangler.toml, and send requests with dispatchFetch.
 */
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { durableObjectStore } from 'hono-edge-session'
import { mintSessionCookie } from 'hono-edge-session/testing'
import { Miniflare } from 'miniflare'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CookieJar, FORM, NAVIGATE } from './cookie-jar'

const SECRET = 'test-secret-of-at-least-32-bytes!!'
const BASE = 'https://example.com'
let mf: Miniflare

/** src/index.ts as one ES module for workerd. */
async function bundleWorker(): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../src/index.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    external: ['cloudflare:*'],
    write: false,
    logLevel: 'warning',
    // In this repository only: the package from its sources. Your project gets it from node_modules.
    alias: {
      'hono-edge-session/durable-object': fileURLToPath(
        new URL('../../../src/stores/durable-object.ts', import.meta.url),
      ),
      'hono-edge-session': fileURLToPath(new URL('../../../src/index.ts', import.meta.url)),
    },
  })
  return result.outputFiles[0]!.text
}

beforeAll(async () => {
  mf = new Miniflare({
    modules: true,
    script: await bundleWorker(),
    compatibilityDate: '2026-04-20',
    bindings: { SESSION_SECRET: SECRET },
    kvNamespaces: ['NOTES'],
    durableObjects: { SESSION_DO: { className: 'SessionDurableObject', useSQLite: true } },
  })
  await mf.ready
})
afterAll(async () => {
  await mf?.dispose()
})

/** Sends a request to the Worker with the jar's cookies, and keeps what it sets. */
async function send(
  jar: CookieJar,
  path: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers }
  if (jar.header) headers.cookie = jar.header
  const res = await mf.dispatchFetch(`${BASE}${path}`, { ...init, headers, redirect: 'manual' })
  return jar.apply(res as unknown as Response)
}

describe('notes app under Miniflare', () => {
  it('signs in, adds a note to KV, and signs out', async () => {
    const jar = new CookieJar()
    const login = await send(jar, '/login', { method: 'POST', headers: FORM, body: 'name=Ada' })
    expect(login.status).toBe(303)
    expect(jar.header).toMatch(/^__Host-session=/)

    await send(jar, '/notes', { method: 'POST', headers: FORM, body: 'text=buy+milk' })
    const page = await send(jar, '/notes', { headers: NAVIGATE })
    expect(await page.text()).toContain('<li>buy milk</li>')

    // The bindings are reachable from Node too.
    const kv = await mf.getKVNamespace('NOTES')
    expect(await kv.get('notes:ada', 'json')).toEqual(['buy milk'])

    const stolen = jar.header
    await send(jar, '/logout', { method: 'POST', headers: FORM })
    expect(jar.header).toBe('')
    const replay = await mf.dispatchFetch(`${BASE}/api/me`, { headers: { cookie: stolen } })
    expect(replay.status).toBe(401)
    await replay.arrayBuffer()
  })
  it('starts signed in with mintSessionCookie, through the Durable Object binding from Node', async () => {
    const kv = await mf.getKVNamespace('NOTES')
    await kv.put('notes:grace', JSON.stringify(['seeded in KV']))
    const { cookie } = await mintSessionCookie({
      secret: SECRET,
      store: durableObjectStore(await mf.getDurableObjectNamespace('SESSION_DO')),
      data: { user: { sub: 'grace', name: 'Grace' } },
    })
    const page = await send(new CookieJar().add(cookie), '/notes', { headers: NAVIGATE })
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('<li>seeded in KV</li>')
  })
})
