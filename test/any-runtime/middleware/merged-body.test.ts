/**
 * The header merge hands downstream the request body's bytes exactly as they arrived, whatever the
 * handler read it as (formData, json, text, arrayBuffer, blob, parseBody, a validator): an origin
 * behind `fetch(c.req.raw)` must parse the very bytes the Worker validated, never a re-encoding.
 */
import { Hono } from 'hono'
import type { Context } from 'hono'
import { validator } from 'hono/validator'
import { describe, expect, it } from 'vitest'
import { edgeSession, updateSession } from '../../../src'
import { SECRET, SESSION, jarWith, setCookieValue } from '../../helpers'

const encoder = new TextEncoder()

function hex(buffer: ArrayBuffer): string {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

function bytes(...parts: Array<string | number[]>): Uint8Array<ArrayBuffer> {
  const chunks = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : new Uint8Array(p)))
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

const CRLF = '\r\n'
/** Bodies whose bytes a re-encoding would change, each with its Content-Type. */
const BODIES: Array<{ label: string; type: string; body: Uint8Array<ArrayBuffer> }> = [
  {
    // A Worker that parses it as urlencoded sees `note` and `role=user`; a multipart re-encoding
    // with boundary X made an origin read other fields.
    label: 'urlencoded with a boundary parameter',
    type: 'application/x-www-form-urlencoded; boundary=X',
    body: bytes(
      'note=--X%0D%0AContent-Disposition:+form-data;+name%3D%22role%22%0D%0A%0D%0Aadmin%0D%0A--X--&role=user&e=%C3%A9+%2B',
    ),
  },
  {
    label: 'multipart with xboundary=A before boundary=B',
    type: 'multipart/form-data; xboundary=A; boundary=B',
    body: bytes(
      [
        '--B',
        'Content-Disposition: form-data; name="role"',
        '',
        'user',
        '--B',
        'Content-Disposition: form-data; name="avatar"; filename="a.bin"',
        'Content-Type: application/octet-stream',
        '',
        '',
      ].join(CRLF),
      [0x00, 0xff, 0x0d, 0x0a, 0x2d, 0x2d],
      `${CRLF}--B--${CRLF}`,
    ),
  },
  {
    label: 'multipart with a quoted name holding a backslash escape',
    type: 'multipart/form-data; boundary=b0undary',
    body: bytes(
      [
        '--b0undary',
        'Content-Disposition: form-data; name="a\\"b"',
        '',
        'x',
        '--b0undary',
        'Content-Disposition: form-data; name="c"',
        '',
        'y',
        '--b0undary--',
        '',
      ].join(CRLF),
    ),
  },
  {
    label: 'JSON with a BOM, spacing, a duplicate key and escapes',
    type: 'application/json',
    body: bytes([0xef, 0xbb, 0xbf], '{ "a" : 1,\n  "a": 2, "s": "\\u00e9\\/" }\n'),
  },
  { label: 'text that is not UTF-8', type: 'text/plain; charset=utf-8', body: bytes('hi ', [0xff, 0xfe, 0x00, 0xc3]) },
  { label: 'binary', type: 'application/octet-stream', body: bytes([0, 1, 2, 0xff, 0x80, 0x0d, 0x0a]) },
]

type Read = (c: Context) => Promise<unknown>
const READS: Record<string, Read> = {
  nothing: async () => undefined,
  formData: (c) => c.req.formData(),
  json: (c) => c.req.json(),
  text: (c) => c.req.text(),
  arrayBuffer: (c) => c.req.arrayBuffer(),
  blob: (c) => c.req.blob(),
  parseBody: (c) => c.req.parseBody(),
  'text, then formData': async (c) => {
    await c.req.text()
    return c.req.formData()
  },
}

/** Reads the body as `read` says (a parse error is fine: some bodies do not parse as everything), changes the session, forwards. */
function forwardingApp(read: Read) {
  const origin = new Hono()
  origin.all('*', async (c) =>
    c.json({ body: hex(await c.req.arrayBuffer()), type: c.req.header('content-type') ?? null }),
  )
  const app = new Hono()
  app.use(edgeSession({ secret: SECRET }))
  app.post('/forward', async (c) => {
    await read(c).catch(() => undefined)
    await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
    const cloned = hex(await c.req.raw.clone().arrayBuffer())
    const forwarded = (await (await origin.fetch(c.req.raw)).json()) as { body: string; type: string | null }
    return c.json({ cloned, forwarded, cookie: c.req.header('cookie') ?? null })
  })
  return app
}

describe('merged headers: the body goes downstream byte for byte', () => {
  for (const [readName, read] of Object.entries(READS)) {
    it(`after the handler read it with ${readName}`, async () => {
      const jar = await jarWith({ onboardingStep: 'PROFILE' })
      const app = forwardingApp(read)
      for (const { label, type, body } of BODIES) {
        const res = await app.request('/forward', {
          method: 'POST',
          headers: { cookie: jar.header, 'content-type': type },
          body,
        })
        expect(res.status, label).toBe(200)
        const seen = (await res.json()) as {
          cloned: string
          forwarded: { body: string; type: string | null }
          cookie: string
        }
        expect(seen.cloned, label).toBe(hex(body.buffer))
        expect(seen.forwarded, label).toEqual({ body: hex(body.buffer), type })
        expect(seen.cookie, label).toBe(`${SESSION}=${setCookieValue(res, SESSION)}`)
      }
    })
  }

  it('after a validator read the form (hono/validator)', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const origin = new Hono()
    origin.all('*', async (c) => c.text(hex(await c.req.arrayBuffer())))
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post(
      '/forward',
      validator('form', (form) => form),
      async (c) => {
        await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
        return c.json({ form: c.req.valid('form'), forwarded: await (await origin.fetch(c.req.raw)).text() })
      },
    )
    const { type, body } = BODIES[0] as (typeof BODIES)[number]
    const res = await app.request('/forward', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': type },
      body,
    })
    expect(res.status).toBe(200)
    const seen = (await res.json()) as { form: Record<string, string>; forwarded: string }
    expect(seen.form.role).toBe('user')
    expect(seen.forwarded).toBe(hex(body.buffer))
  })

  it('the handler still reads what the bytes say, the same object on a second read', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/read', async (c) => {
      const form = await c.req.formData()
      const again = await c.req.formData()
      const parsed = await c.req.parseBody()
      return c.json({
        same: form === again,
        role: form.get('role'),
        note: form.get('note'),
        e: parsed.e,
        text: await c.req.text(),
      })
    })
    const { type, body } = BODIES[0] as (typeof BODIES)[number]
    const res = await app.request('/read', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': type },
      body,
    })
    expect(await res.json()).toEqual({
      same: true,
      role: 'user',
      note: '--X\r\nContent-Disposition: form-data; name="role"\r\n\r\nadmin\r\n--X--',
      e: 'é +',
      text: new TextDecoder().decode(body),
    })
  })

  it('a body the app consumed through c.req.raw itself is not replaced by an empty one downstream', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/raw', async (c) => {
      await c.req.raw.arrayBuffer()
      await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
      const downstream = await c.req.raw.arrayBuffer().then(
        (buffer) => `read ${buffer.byteLength} bytes`,
        (error: unknown) => `refused: ${(error as Error).name}`,
      )
      return c.json({ downstream })
    })
    const res = await app.request('/raw', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'text/plain' },
      body: 'payload',
    })
    expect(await res.json()).toEqual({ downstream: 'refused: TypeError' })
  })

  it('a body read before edgeSession ran: exact when it was cached as bytes, refused (never re-encoded) otherwise', async () => {
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const { type, body } = BODIES[0] as (typeof BODIES)[number]
    for (const [early, expected] of [
      ['arrayBuffer', hex(body.buffer)],
      ['blob', hex(body.buffer)],
      ['formData', 'refused: TypeError'],
      ['text', 'refused: TypeError'],
    ] as const) {
      const app = new Hono()
      app.use(async (c, next) => {
        await READS[early]?.(c)
        await next()
      })
      app.use(edgeSession({ secret: SECRET }))
      app.post('/early', async (c) => {
        await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
        const downstream = await c.req.raw
          .arrayBuffer()
          .then(hex, (error: unknown) => `refused: ${(error as Error).name}`)
        return c.json({ downstream })
      })
      // Read as text, the same bytes are sent as text: workerd warns when a form body is read as text.
      const contentType = early === 'text' ? 'text/plain; charset=utf-8' : type
      const res = await app.request('/early', {
        method: 'POST',
        headers: { cookie: jar.header, 'content-type': contentType },
        body,
      })
      expect(await res.json(), early).toEqual({ downstream: expected })
    }
  })
})

const IN_WORKERD = typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers'

/** The field names of a form, in order. */
function namesOf(form: FormData): string[] {
  const names: string[] = []
  form.forEach((_value, name) => {
    names.push(name)
  })
  return names
}

describe('merged headers: what the handler read before the merge goes downstream', () => {
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

  it.runIf(IN_WORKERD)(
    'a multipart name holding a backslash-escaped quote reaches the origin as sent, so it parses as the Worker parsed it',
    async () => {
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
      const body = [
        `--${boundary}`,
        'Content-Disposition: form-data; name="a\\"b"',
        '',
        'x',
        `--${boundary}`,
        'Content-Disposition: form-data; name="c"',
        '',
        'y',
        `--${boundary}--`,
        '',
      ].join('\r\n')
      const res = await app.request('/upload', {
        method: 'POST',
        headers: { cookie: jar.header, 'content-type': `multipart/form-data; boundary=${boundary}` },
        body,
      })
      expect(res.status).toBe(200)
      const out = (await res.json()) as { mine: string[]; origin: { names: string[] } }
      // The bytes go on as sent (no re-encoding): the origin reads the same two names the Worker read.
      expect(out).toEqual({ mine: ['a"b', 'c'], origin: { names: ['a"b', 'c'] } })
    },
  )

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
    const res = await app.request('/blob', {
      method: 'POST',
      headers: { cookie: jar.header, 'content-type': 'application/octet-stream' },
      body: 'raw bytes \u00e9',
    })
    expect(await res.json()).toEqual({ mine: 'raw bytes \u00e9', origin: 'raw bytes \u00e9' })
  })
})
