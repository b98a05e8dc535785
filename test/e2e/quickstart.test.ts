/**
 * The README's Quickstart (examples/quickstart) in a real browser, as a new user meets it:
 * `wrangler dev` with its own wrangler.toml, Debian's chromium clicking through every page.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Example, openExample } from './browser'
import { ROOT } from './processes'

let example: Example | undefined

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
  example = await openExample({ config: quickstartConfig(), name: 'wrangler-quickstart' })
})

afterAll(() => example?.stop())

describe('quickstart in chromium', () => {
  it('signs in, onboards, shows the last page while browsing, and signs out', async () => {
    if (!example) throw new Error('the quickstart is not running')
    const { page, url, where, shot, submit: follow } = example
    const text = async (): Promise<string> => (await page.textContent('body')) ?? ''

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
    await shot('quickstart-explore')

    await follow('form[action="/logout"] button', /\/login$/)
    await page.goto(url('/explore'))
    expect(where()).toBe('/login?returnTo=%2Fexplore')
  })
})
