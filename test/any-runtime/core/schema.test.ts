import * as v from 'valibot'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import * as z from 'zod'
import type { InvalidReason, StandardSchemaV1 } from '../../../src'
import {
  type ConsoleSpies,
  CookieJar,
  type ErrorBody,
  SECRET,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  call,
  cleared,
  clearingLines,
  coreApp,
  jarWith,
  readSession,
  spyConsole,
} from '../../helpers'
import { Hono } from 'hono'
import { type SessionStore, type StoredSession, edgeSession, getSession } from '../../../src'

let consoleSpies: ConsoleSpies
beforeEach(() => {
  consoleSpies = spyConsole()
})
afterEach(() => consoleSpies.restore())

const vendors: Array<[string, StandardSchemaV1, StandardSchemaV1]> = [
  [
    'zod',
    z.looseObject({ user: z.looseObject({ sub: z.string().min(1) }), role: z.enum(['member', 'admin']) }),
    z.looseObject({ user: z.looseObject({ sub: z.string().min(1) }), role: z.enum(['admin']) }),
  ],
  [
    'valibot',
    v.looseObject({
      user: v.looseObject({ sub: v.pipe(v.string(), v.minLength(1)) }),
      role: v.picklist(['member', 'admin']),
    }),
    v.looseObject({ user: v.looseObject({ sub: v.pipe(v.string(), v.minLength(1)) }), role: v.picklist(['admin']) }),
  ],
]

for (const [vendor, schema, tighter] of vendors) {
  describe(`schema with ${vendor}`, () => {
    it('accepts valid data on create, update and read', async () => {
      const { app } = coreApp({ schema })
      const jar = new CookieJar()
      expect((await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'member', extra: 1 }, jar })).status).toBe(
        200,
      )
      expect((await call(app, '/update', { body: { role: 'admin' }, jar })).status).toBe(200)
      expect((await readSession(app, { jar })).session).toMatchObject({ role: 'admin', extra: 1 })
    })

    it('refuses create with SessionInvalidError listing the issues; nothing written', async () => {
      const { app } = coreApp({ schema })
      const res = await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'root' } })
      expect(res.status).toBe(422)
      const body = (await res.json()) as ErrorBody
      expect(body.code).toBe('ERR_SESSION_INVALID')
      expect(body.issues?.map((i) => i.path)).toContainEqual(['role'])
      expect(res.headers.getSetCookie()).toEqual([])
    })

    it('refuses update with SessionInvalidError; the old session stays', async () => {
      const { app } = coreApp({ schema })
      const jar = new CookieJar()
      await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })
      const res = await call(app, '/update', { body: { role: 'root' }, jar })
      expect(res.status).toBe(422)
      const body = (await res.json()) as ErrorBody
      expect(body.code).toBe('ERR_SESSION_INVALID')
      expect(body.issues?.map((i) => i.path)).toEqual([['role']])
      expect(res.headers.getSetCookie()).toEqual([])
      expect((await readSession(app, { jar })).session).toMatchObject({ user: { sub: 'u1' }, role: 'member' })
    })

    it('a cookie whose data no longer passes a tightened schema is "no session" and cleared', async () => {
      const loose = coreApp({ schema })
      const jar = new CookieJar()
      await call(loose.app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })
      const strict = coreApp({ schema: tighter })
      const { res, session } = await readSession(strict.app, { jar })
      expect(res.status).toBe(200)
      expect(session).toBeNull()
      expect(cleared(res)).toEqual(['__Host-session', ...SESSION_CHUNKS])
      expect(strict.invalid).toEqual(['schema'])
      consoleSpies.expectSilent()
    })
  })
}

describe('schema details', () => {
  it('a strict schema works: it never sees internal (nor lastPath/lastVisit)', async () => {
    const schema = z.strictObject({ user: z.strictObject({ sub: z.string() }), step: z.string() })
    const { app } = coreApp({ schema })
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' }, step: 'a' }, jar })).status).toBe(200)
    expect((await call(app, '/update', { body: { step: 'b' }, jar })).status).toBe(200)
    expect((await readSession(app, { jar })).session?.step).toBe('b')
  })

  it("the schema's output (transforms, stripped keys) is what gets stored", async () => {
    const schema = z.object({
      user: z.object({ sub: z.string() }),
      email: z.string().transform((e) => e.toLowerCase()),
    })
    const { app } = coreApp({ schema })
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' }, email: 'ADA@Example.COM', dropped: true }, jar })
    const { session } = await readSession(app, { jar })
    expect(session?.email).toBe('ada@example.com')
    expect(session).not.toHaveProperty('dropped')
  })

  it('async validation (a Promise result) is awaited', async () => {
    const schema = z
      .looseObject({ user: z.looseObject({ sub: z.string() }) })
      .refine(async (s) => s.user.sub !== 'banned', { message: 'banned' })
    const { app } = coreApp({ schema })
    expect((await call(app, '/login', { body: { user: { sub: 'ok' } } })).status).toBe(200)
    const res = await call(app, '/login', { body: { user: { sub: 'banned' } } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as ErrorBody).issues?.[0]?.message).toBe('banned')
  })

  it('a schema that refuses its own output is refused at the write (not by signing the user out on the next request)', async () => {
    // string -> array: the stored array is no string when the next request checks it.
    const schema = z.looseObject({
      user: z.looseObject({ sub: z.string() }),
      tags: z.string().transform((t) => t.split(',')),
    })
    const { app } = coreApp({ schema })
    const jar = new CookieJar()
    const res = await call(app, '/login', { body: { user: { sub: 'u1' }, tags: 'a,b' }, jar })
    expect(res.status).toBe(422)
    const body = (await res.json()) as ErrorBody
    expect(body.code).toBe('ERR_SESSION_INVALID')
    expect(body.issues?.[0]?.path).toEqual(['tags'])
    expect(body.issues?.[0]?.message).toMatch(/schema's own output/)
    expect(res.headers.getSetCookie()).toEqual([])
    // An idempotent transform (lower-casing, above) is fine: its output passes again.
  })

  it('a schema that freezes or keeps what it is handed cannot break or reach the session', async () => {
    const held: Array<Record<string, unknown>> = []
    const schema: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (value) => {
          held.push(value as Record<string, unknown>)
          return { value: Object.freeze(value) }
        },
      },
    }
    const { app } = coreApp({ schema })
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' }, step: 'a' }, jar })).status).toBe(200)
    expect((await call(app, '/update', { body: { step: 'b' }, jar })).status).toBe(200)
    for (const value of held) if (!Object.isFrozen(value.user)) (value.user as Record<string, unknown>).sub = 'changed'
    const { session } = await readSession(app, { jar })
    expect(session).toMatchObject({ user: { sub: 'u1' }, step: 'b' })
  })

  it('a schema output that is not JSON is refused', async () => {
    const schema = z
      .looseObject({ user: z.looseObject({ sub: z.string() }) })
      .transform((s) => ({ ...s, at: new Date(0) }))
    const { app } = coreApp({ schema })
    const res = await call(app, '/login', { body: { user: { sub: 'u1' } } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as ErrorBody).issues?.[0]?.path).toEqual(['at'])
  })
})

/** `schema`, counting the values it is asked to check. */
function counting(schema: StandardSchemaV1): { schema: StandardSchemaV1; calls: () => number } {
  let calls = 0
  return {
    schema: {
      '~standard': {
        ...schema['~standard'],
        validate: (value) => {
          calls++
          return schema['~standard'].validate(value)
        },
      },
    },
    calls: () => calls,
  }
}

const LOOSE = z.looseObject({ user: z.looseObject({ sub: z.string().min(1) }), role: z.enum(['member', 'admin']) })

describe('schema: what a read checks', () => {
  it('checks a cookie once per isolate: the same cookie again is the data it already checked', async () => {
    const { schema, calls } = counting(LOOSE)
    const { app } = coreApp({ schema })
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })).status).toBe(200)
    const afterWrite = calls()
    for (let i = 0; i < 3; i++) expect((await readSession(app, { jar })).session?.role).toBe('member')
    expect(calls() - afterWrite).toBe(1)
  })

  it('checks a cookie new to this app instance (its keys, so its token cache) on its first read', async () => {
    const writer = coreApp({ schema: LOOSE })
    const jar = new CookieJar()
    await call(writer.app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })
    const { schema, calls } = counting(LOOSE)
    const { app } = coreApp({ schema })
    expect((await readSession(app, { jar: jar.copy() })).session?.role).toBe('member')
    expect((await readSession(app, { jar: jar.copy() })).session?.role).toBe('member')
    expect(calls()).toBe(1)
  })

  it('refuses a cookie that fails the schema on every read, not only the first', async () => {
    const writer = coreApp({ schema: LOOSE })
    const jar = new CookieJar()
    await call(writer.app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })
    const tighter = counting(z.looseObject({ user: z.looseObject({ sub: z.string() }), role: z.enum(['admin']) }))
    const { app, invalid } = coreApp({ schema: tighter.schema })
    for (let i = 0; i < 2; i++) expect((await readSession(app, { jar: jar.copy() })).session).toBeNull()
    expect(tighter.calls()).toBe(2)
    expect(invalid).toEqual(['schema', 'schema'])
  })

  it('checks a record read from a store on every read, even one the store hands back as the same object', async () => {
    const { schema, calls } = counting(LOOSE)
    // A store that keeps one object per record and hands that very object out on every read.
    const records = new Map<string, Record<string, unknown>>()
    const store: SessionStore = {
      get: async (sid) => (records.get(sid) as StoredSession | undefined) ?? null,
      set: async (sid, data) => void records.set(sid, structuredClone(data) as Record<string, unknown>),
      delete: async (sid) => void records.delete(sid),
    }
    const { app, invalid } = coreApp({ schema, store })
    const jar = new CookieJar()
    await call(app, '/login', { body: { user: { sub: 'u1' }, role: 'member' }, jar })
    const afterWrite = calls()
    for (let i = 0; i < 3; i++) expect((await readSession(app, { jar })).session?.role).toBe('member')
    expect(calls() - afterWrite).toBe(3)
    // The store's data changed in place behind the same object: the schema sees it.
    for (const record of records.values()) record.role = 'superuser'
    expect((await readSession(app, { jar })).session).toBeNull()
    expect(invalid).toEqual(['schema'])
  })
})

describe('schema: a validator that throws on read', () => {
  it('is a refused cookie (schema), not a 500', async () => {
    const invalid: Array<[InvalidReason, unknown]> = []
    const throwing: StandardSchemaV1 = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: () => {
          throw new Error('validator bug')
        },
      },
    }
    const app = new Hono()
    app.use(
      edgeSession({
        secret: SECRET,
        schema: throwing,
        onInvalid: (reason, _c, error) => void invalid.push([reason, error]),
      }),
    )
    app.get('/me', (c) => c.json(getSession(c)))
    const jar = await jarWith({ onboardingStep: 'PROFILE' })
    const res = await app.request('/me', { headers: apiCall(jar.header) })
    expect(res.status).toBe(200)
    expect(await res.json()).toBeNull()
    expect(invalid).toEqual([['schema', expect.objectContaining({ message: 'validator bug' })]])
    expect(res.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
  })
})
