/**
 * Merged Cookie headers (mutation audit of rewriteCookieHeader in src/codec/cookie-jar.ts): what
 * merged-headers.test.ts did not pin.
 */
import { Hono } from 'hono'
import { getCookie } from 'hono/cookie'
import { describe, expect, it } from 'vitest'
import { destroySession, edgeSession, updateSession } from '../../../src'
import { SECRET, SESSION, jarWith, setCookieValue } from '../../helpers/middleware'

const IN_WORKERD = typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers'

/** The field names of a form, in order. */
function namesOf(form: FormData): string[] {
  const names: string[] = []
  form.forEach((_value, name) => names.push(name))
  return names
}

/** edgeSession, an update before the handler, and a handler that reports what it sees. */
function updatingApp() {
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET }))
  app.use(async (c, next) => {
    await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    await next()
  })
  app.get('/see', (c) => c.json({ header: c.req.header('cookie') ?? null, getCookie: getCookie(c, SESSION) ?? null }))
  return app
}

describe('merged headers (mutants)', () => {
  it('drops a look-alike of our cookie name that a trimming parser would read as ours (VT after the name)', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    // VT is not SP/HTAB, so `__Host-session\v` is not ours for the reader; but String#trim (and
    // Hono's getCookie) strip it, and the planted pair comes before the merged one.
    const res = await updatingApp().request('/see', { headers: { cookie: `a=1; ${SESSION}\u000b=planted; ${jar.header}` } })
    expect(res.status).toBe(200)
    const written = setCookieValue(res, SESSION)
    expect(written).toBeDefined()
    const seen = (await res.json()) as { header: string; getCookie: string | null }
    expect(seen.header).toBe(`a=1; ${SESSION}=${written}`)
    expect(seen.getCookie).toBe(written)
  })

  it('leaves no empty pairs behind', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await updatingApp().request('/see', { headers: { cookie: `;a=1;; ;b=2; ${jar.header};` } })
    const written = setCookieValue(res, SESSION)
    const seen = (await res.json()) as { header: string }
    expect(seen.header).toBe(`a=1; b=2; ${SESSION}=${written}`)
  })
})

describe('merged headers (mutants, src/middleware/header-merge)', () => {
  it('removes the Cookie header when no cookie is left, rather than sending an empty one', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.get('/out', async (c) => {
      await destroySession(c)
      return c.json({ header: c.req.header('cookie') ?? null, raw: c.req.raw.headers.has('cookie') })
    })
    const res = await app.request('/out', { headers: { cookie: jar.header } })
    expect(await res.json()).toEqual({ header: null, raw: false })
  })

  // request.cf exists on Workers only, and Node's FormData parser refuses a backslash-quoted name
  // (a 500 before the merge is reached): these two run in workerd, where what they pin exists.
  it.runIf(IN_WORKERD)('keeps request.cf when the body was read before the merge', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/cf', async (c) => {
      const body = await c.req.json()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      const cf = (c.req.raw as Request & { cf?: { country?: string } }).cf
      return c.json({ body, country: cf?.country ?? null })
    })
    const request = new Request('http://localhost/cf', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/json' },
      body: '{"a":1}',
      cf: { country: 'NZ' },
    } as RequestInit)
    const res = await app.request(request)
    expect(res.status).toBe(200)
    const seen = (await res.json()) as { body: unknown; country: string | null }
    expect(seen.body).toEqual({ a: 1 })
    expect(seen.country).toBe('NZ')
  })

  it.runIf(IN_WORKERD)('a multipart name holding a backslash-escaped quote reaches the origin as sent, so it parses as the Worker parsed it', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const origin = new Hono()
    origin.post('*', async (c) => c.json({ names: namesOf(await c.req.formData()) }))
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/upload', async (c) => {
      const form = await c.req.formData()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return c.json({ mine: namesOf(form), origin: await (await origin.request(c.req.raw)).json() })
    })
    // A client other than a browser may quote with a backslash; browsers write %22.
    const boundary = 'b0undary'
    const body = [`--${boundary}`, 'Content-Disposition: form-data; name="a\\"b"', '', 'x', `--${boundary}`, 'Content-Disposition: form-data; name="c"', '', 'y', `--${boundary}--`, ''].join('\r\n')
    const res = await app.request('/upload', { method: 'POST', headers: { cookie: jar.header, 'content-type': `multipart/form-data; boundary=${boundary}` }, body })
    expect(res.status).toBe(200)
    const out = (await res.json()) as { mine: string[]; origin: { names: string[] } }
    // The bytes go on as sent (no re-encoding): the origin reads the same two names the Worker read.
    expect(out).toEqual({ mine: ['a"b', 'c'], origin: { names: ['a"b', 'c'] } })
  })

  it('keeps a body the handler read with c.req.blob() before the merge', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const origin = new Hono()
    // Bytes, decoded here: .text() on an octet-stream body makes workerd print a warning.
    origin.post('*', async (c) => c.text(new TextDecoder().decode(await c.req.arrayBuffer())))
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/blob', async (c) => {
      const blob = await c.req.blob()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      return c.json({ mine: await blob.text(), origin: await (await origin.request(c.req.raw)).text() })
    })
    const res = await app.request('/blob', { method: 'POST', headers: { cookie: jar.header, 'content-type': 'application/octet-stream' }, body: 'raw bytes \u00e9' })
    expect(await res.json()).toEqual({ mine: 'raw bytes \u00e9', origin: 'raw bytes \u00e9' })
  })
})
