/**
 * The example app's "Your sessions" section in /settings and its demo billing webhook, with
 * sessions in Durable Objects: browsers driven through app.request with cookie jars.
 */
import { env as workerEnv } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import app, { type Env } from '../../../example-worker/src/app'
import { demoUserId } from '../../../example-worker/src/claims'
import { CookieJar, SECRET } from '../../helpers'

const ORIGIN = 'http://localhost'
const WEBHOOK_SECRET = 'webhook-secret-for-tests-0123456789'
const durableEnv: Env = {
  SESSION_SECRET: SECRET,
  SESSION_STORE: 'durable-object',
  SESSION_DO: workerEnv.SESSION_DO,
  WEBHOOK_SECRET,
}
const cookieEnv: Env = { SESSION_SECRET: SECRET, WEBHOOK_SECRET }
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0'
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36'

async function send(jar: CookieJar, path: string, init: RequestInit, bindings: Env, agent?: string): Promise<Response> {
  const headers = new Headers(init.headers)
  if (jar.header) headers.set('cookie', jar.header)
  if (agent) headers.set('user-agent', agent)
  const res = await app.request(path, { ...init, headers }, bindings)
  jar.apply(res)
  return res
}
const visit = (jar: CookieJar, path: string, bindings = durableEnv, agent?: string) =>
  send(
    jar,
    path,
    { headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document' } },
    bindings,
    agent,
  )
const post = (
  jar: CookieJar,
  path: string,
  fields: Record<string, string> = {},
  bindings = durableEnv,
  agent?: string,
) =>
  send(
    jar,
    path,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN },
      body: new URLSearchParams(fields).toString(),
    },
    bindings,
    agent,
  )
const webhook = (body: unknown, secret: string | null = WEBHOOK_SECRET, bindings = durableEnv) =>
  app.request(
    '/webhooks/plan',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(secret === null ? {} : { 'x-webhook-secret': secret }) },
      body: JSON.stringify(body),
    },
    bindings,
  )

async function signIn(email: string, agent?: string, bindings = durableEnv): Promise<CookieJar> {
  const jar = new CookieJar()
  await post(jar, '/login', { email }, bindings, agent)
  await post(jar, '/onboarding/profile', { displayName: 'Ada', purpose: 'study' }, bindings)
  await post(jar, '/onboarding/preferences', { theme: 'dark', digest: 'never' }, bindings)
  expect((await visit(jar, '/explore', bindings)).status).toBe(200)
  return jar
}

/** The sign-out forms of other devices on /settings, in page order. */
function endForms(html: string): string[] {
  return [...html.matchAll(/action="(\/settings\/sessions\/[^"]+\/end)"/g)].map((m) => m[1] as string)
}

describe('example app: Your sessions (Durable Objects)', () => {
  it('lists every device with this one marked, signs one out, then everywhere else', async () => {
    const email = `devices-${crypto.randomUUID()}@example.com`
    const laptop = await signIn(email, CHROME)
    const phone = await signIn(email, FIREFOX)
    const tablet = await signIn(email)
    const stranger = await signIn(`stranger-${crypto.randomUUID()}@example.com`, FIREFOX)

    const page = await (await visit(phone, '/settings')).text()
    expect(page).toContain('Your sessions')
    expect(page).toContain('Chrome on macOS')
    expect(page).toContain('Firefox on Linux')
    expect(page.match(/\(this device\)/g)).toHaveLength(1)
    const forms = endForms(page)
    expect(forms).toHaveLength(2)
    // The page never shows the session's cookie.
    for (const value of phone.cookies.values()) expect(page).not.toContain(value)

    // Sign the laptop (first signed in) out from the phone.
    const ended = await post(phone, forms[0] as string)
    expect(ended.headers.get('location')).toBe('/settings?ended=one')
    expect((await visit(laptop, '/explore')).headers.get('location')).toMatch(/^\/login/)
    expect((await visit(tablet, '/explore')).status).toBe(200)
    // Again: it had already ended.
    expect((await post(phone, forms[0] as string)).headers.get('location')).toBe('/settings?ended=none')

    const others = await post(phone, '/settings/sessions/others')
    expect(others.headers.get('location')).toBe('/settings?ended=others')
    expect((await visit(tablet, '/explore')).headers.get('location')).toMatch(/^\/login/)
    const after = await (await visit(phone, '/settings?ended=others')).text()
    expect(after).toContain('this one stays signed in')
    expect(endForms(after)).toEqual([])
    expect((await visit(stranger, '/explore')).status).toBe(200)
  })

  it("a sign-out form with another user's session handle ends nothing", async () => {
    const victimEmail = `victim-${crypto.randomUUID()}@example.com`
    const victim = await signIn(victimEmail)
    const victimPhone = await signIn(victimEmail)
    const attacker = await signIn(`attacker-${crypto.randomUUID()}@example.com`)
    // The victim's handle for their first device, as their own page shows it.
    const [victimForm] = endForms(await (await visit(victimPhone, '/settings')).text())
    expect(victimForm).toBeDefined()
    const res = await post(attacker, victimForm as string)
    expect(res.headers.get('location')).toBe('/settings?ended=none')
    expect((await visit(victim, '/explore')).status).toBe(200)
    expect((await visit(attacker, '/explore')).status).toBe(200)
  })

  it('the webhook changes the plan of every session of the user; their next page shows it', async () => {
    const email = `billing-${crypto.randomUUID()}@example.com`
    const [first, second] = [await signIn(email), await signIn(email)]
    const bystander = await signIn(`billing-other-${crypto.randomUUID()}@example.com`)
    expect(await (await visit(first, '/explore')).text()).toContain('Plan: <strong>free</strong>')
    const res = await webhook({ sub: await demoUserId(email), plan: 'pro' })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ changed: 2 })
    for (const jar of [first, second]) {
      const page = await visit(jar, '/explore')
      expect(await page.text()).toContain('Plan: <strong>pro</strong>')
      expect(page.headers.getSetCookie()).toEqual([])
    }
    expect(await (await visit(second, '/settings')).text()).toContain('Plan: <strong>pro</strong>')
    expect(await (await visit(bystander, '/explore')).text()).toContain('Plan: <strong>free</strong>')
  })

  it('the webhook refuses a missing or wrong secret and bad input, and changes nothing', async () => {
    const email = `billing-bad-${crypto.randomUUID()}@example.com`
    const jar = await signIn(email)
    const sub = await demoUserId(email)
    expect((await webhook({ sub, plan: 'pro' }, null)).status).toBe(401)
    expect((await webhook({ sub, plan: 'pro' }, '')).status).toBe(401)
    expect((await webhook({ sub, plan: 'pro' }, `${WEBHOOK_SECRET}x`)).status).toBe(401)
    expect((await webhook({ sub, plan: 'platinum' })).status).toBe(400)
    expect((await webhook({ plan: 'pro' })).status).toBe(400)
    expect(await (await webhook({ sub: 'nobody', plan: 'pro' })).json()).toEqual({ changed: 0 })
    expect(
      (await webhook({ sub, plan: 'pro' }, WEBHOOK_SECRET, { ...durableEnv, WEBHOOK_SECRET: undefined })).status,
    ).toBe(404)
    expect(await (await visit(jar, '/explore')).text()).toContain('Plan: <strong>free</strong>')
  })
})

describe('example app: cookie mode has no sessions section', () => {
  it('shows no "Your sessions" and the webhook says a store is needed', async () => {
    const email = `cookie-${crypto.randomUUID()}@example.com`
    const jar = await signIn(email, FIREFOX, cookieEnv)
    const page = await (await visit(jar, '/settings', cookieEnv)).text()
    expect(page).not.toContain('Your sessions')
    const res = await webhook({ sub: await demoUserId(email), plan: 'pro' }, WEBHOOK_SECRET, cookieEnv)
    expect(res.status).toBe(501)
  })
})
