/**
 * The browser side of the e2e tests: Debian's chromium driven by playwright-core over CDP, and a
 * page bound to the Worker under test with the helpers every test uses (url, where, shot, submit).
 * Processes are started and stopped by ./processes.
 */
import { join } from 'node:path'
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core'
import { ARTIFACTS, type Started, type WranglerOptions, freePort, startChromium, startWrangler } from './processes'

/** The window size of the example and OIDC tests, whose screenshots are read by people. */
export const VIEWPORT = { width: 1000, height: 760 } as const

/** A page on the Worker at `origin`, with the helpers the tests share. */
export interface Tab {
  readonly page: Page
  readonly context: BrowserContext
  /** `path` on the Worker under test. */
  url(path: string): string
  /** Path and query of the page now shown; the whole URL when it is on another origin. */
  where(): string
  /** A full-page screenshot to test-artifacts/e2e/<shotPrefix><name>.png. */
  shot(name: string): Promise<void>
  /** Clicks `selector` (a link, or a form's button) and waits for the page it leads to. */
  submit(selector: string, to: RegExp): Promise<void>
}

/** Options of {@link newTab} and {@link openExample}. */
export interface TabOptions {
  /** Default: the browser's own. */
  viewport?: { width: number; height: number }
  /** Put before each screenshot's name. */
  shotPrefix?: string
}

/** Chromium, connected over CDP; `stop()` closes the connection, then ends the process group. */
export interface RunningBrowser {
  readonly browser: Browser
  stop(): Promise<void>
}

function bind(page: Page, origin: string, shotPrefix = ''): Tab {
  page.setDefaultTimeout(30_000)
  page.setDefaultNavigationTimeout(60_000)
  return {
    page,
    context: page.context(),
    url: (path) => origin + path,
    where() {
      const current = new URL(page.url())
      return current.origin === origin ? current.pathname + current.search : current.href
    },
    async shot(name) {
      await page.screenshot({ path: join(ARTIFACTS, `${shotPrefix}${name}.png`), fullPage: true })
    },
    async submit(selector, to) {
      await Promise.all([page.waitForURL(to, { waitUntil: 'load' }), page.click(selector)])
    },
  }
}

/**
 * Starts chromium with a fresh profile and connects to it.
 *
 * @example
 * const { browser, stop } = await startBrowser()
 */
export async function startBrowser(): Promise<RunningBrowser> {
  const chrome: Started & { wsEndpoint: string } = await startChromium()
  let browser: Browser
  try {
    browser = await chromium.connectOverCDP(chrome.wsEndpoint)
  } catch (error) {
    await chrome.stop()
    throw error
  }
  return {
    browser,
    async stop() {
      await browser.close().catch(() => {})
      await chrome.stop()
    },
  }
}

/**
 * A page in a new browser context (no cookies, no cache) on the Worker at `origin`.
 *
 * @example
 * const tab = await newTab(browser, wrangler.origin, { viewport: VIEWPORT })
 */
export async function newTab(browser: Browser, origin: string, options: TabOptions = {}): Promise<Tab> {
  const context = await browser.newContext(options.viewport ? { viewport: options.viewport } : {})
  return bind(await context.newPage(), origin, options.shotPrefix)
}

/** What {@link openExample} returns: the browser's first page on the Worker, and how to stop both. */
export interface Example extends Tab {
  /** Closes the browser, then stops chromium and `wrangler dev`. Safe to call more than once. */
  stop(): Promise<void>
}

/**
 * Starts `wrangler dev` for the example (or `options.config`) on a free port and chromium, and
 * opens the browser's first page. On a failure it stops what it started, then throws.
 *
 * @example
 * let example: Example | undefined
 * beforeAll(async () => {
 *   example = await openExample({ viewport: VIEWPORT })
 * })
 * afterAll(() => example?.stop())
 */
export async function openExample(options: WranglerOptions & TabOptions = {}): Promise<Example> {
  const { viewport, shotPrefix, ...wranglerOptions } = options
  let wrangler: (Started & { origin: string }) | undefined
  let running: RunningBrowser | undefined
  async function stop(): Promise<void> {
    await running?.stop()
    await wrangler?.stop()
  }
  try {
    wrangler = await startWrangler(await freePort(), wranglerOptions)
    running = await startBrowser()
    const context = running.browser.contexts()[0] ?? (await running.browser.newContext())
    const page = context.pages()[0] ?? (await context.newPage())
    if (viewport) await page.setViewportSize(viewport)
    return { ...bind(page, wrangler.origin, shotPrefix), stop }
  } catch (error) {
    await stop()
    throw error
  }
}
