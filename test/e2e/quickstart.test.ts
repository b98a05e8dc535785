/**
 * The README's Quickstart (examples/quickstart) in a real browser, as a new user meets it:
 * `wrangler dev` with its own wrangler.toml, Debian's chromium clicking through every page.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, type Page, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARTIFACTS, ROOT, type Started, freePort, startChromium, startWrangler } from './processes'

let wrangler: (Started & { origin: string }) | undefined
let chrome: (Started & { wsEndpoint: string }) | undefined
let browser: Browser | undefined
let page: Page

/**
 * The quickstart's own wrangler.toml, plus what a user's node_modules would give: the package
 * name resolved (here to src/). `main` becomes absolute, since this copy lives in .tmp/e2e/.
 */
function quickstartConfig(): string {
  const dir = join(ROOT, 'examples/quickstart')
  const own = readFileSync(join(dir, 'wrangler.toml'), 'utf8')
  const main = /^main = "(.+)"$/m.exec(own)?.[1]
  if (!main) throw new Error('examples/quickstart/wrangler.toml has no main')
  const config = join(ROOT, '.tmp/e2e/quickstart.wrangler.toml')
  mkdirSync(join(ROOT, '.tmp/e2e'), { recursive: true })
  writeFileSync(
    config,
    `${own.replace(/^main = .+$/m, `main = ${JSON.stringify(join(dir, main))}`)}\n[alias]\n"hono-edge-session" = ${JSON.stringify(join(ROOT, 'src/index.ts'))}\n`,
  )
  return config
}

beforeAll(async () => {
  try {
    wrangler = await startWrangler(await freePort(), { config: quickstartConfig(), name: 'wrangler-quickstart' })
    chrome = await startChromium()
    browser = await chromium.connectOverCDP(chrome.wsEndpoint)
    const context = browser.contexts()[0] ?? (await browser.newContext())
    page = context.pages()[0] ?? (await context.newPage())
    page.setDefaultTimeout(30_000)
    page.setDefaultNavigationTimeout(60_000)
  } catch (error) {
    await stopAll()
    throw error
  }
})

afterAll(stopAll)

async function stopAll(): Promise<void> {
  await browser?.close().catch(() => {})
  await chrome?.stop()
  await wrangler?.stop()
}

function url(path: string): string {
  if (!wrangler) throw new Error('wrangler dev is not running')
  return wrangler.origin + path
}

function where(): string {
  const current = new URL(page.url())
  return current.pathname + current.search
}

/** Clicks and waits for the page it leads to. */
async function follow(selector: string, to: RegExp): Promise<void> {
  await Promise.all([page.waitForURL(to, { waitUntil: 'load' }), page.click(selector)])
}

async function text(): Promise<string> {
  return (await page.textContent('body')) ?? ''
}

describe('quickstart in chromium', () => {
  it('signs in, onboards, shows the last page while browsing, and signs out', async () => {
    await page.goto(url('/'))
    await follow('a[href="/login"]', /\/login$/)
    await page.fill('input[name=name]', 'Ada Lovelace')
    await follow('form[action="/login"] button', /\/onboarding$/)
    expect(await text()).toContain('One more step, Ada Lovelace')

    // Mid-onboarding, the explore pages send the user back to onboarding.
    await page.goto(url('/explore/cats'))
    expect(where()).toBe('/onboarding?returnTo=%2Fexplore%2Fcats')

    // Finishing goes back to the page the gate sent the user away from.
    await follow('form[action="/onboarding/finish"] button', /\/explore\/cats$/)
    expect(await text()).toContain('Hi Ada Lovelace')
    expect(await text()).toMatch(/Exploring cats\. Last page: \/onboarding at \w{3}, \d\d \w{3} \d{4}/)

    await follow('a[href="/explore"]', /\/explore$/)
    expect(await text()).toContain('Exploring everything. Last page: /explore/cats at')
    await follow('a[href="/explore/dogs"]', /\/explore\/dogs$/)
    expect(await text()).toContain('Exploring dogs. Last page: /explore at')
    await page.screenshot({ path: join(ARTIFACTS, 'quickstart-explore.png'), fullPage: true })

    await follow('form[action="/logout"] button', /\/login$/)
    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')
  })
})
