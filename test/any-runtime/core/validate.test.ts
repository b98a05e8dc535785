/**
 * toSessionRecord: the copy every write makes of the caller's data. The middleware tests check
 * that bad data is refused and the old session kept; these pin down what the copy is and exactly
 * where each issue points, since the walk keeps its path on a stack of its own.
 */
import { describe, expect, it, vi } from 'vitest'
import {
  type InvalidReason,
  SessionInvalidError,
  type SessionStore,
  type StoredSession,
  memoryStore,
} from '../../../src'
import { toSessionRecord } from '../../../src/state/validate'
import type { Context } from 'hono'
import { CookieJar, call, coreApp, inputApp, readSession } from '../../helpers'

async function issuesOf(input: unknown): Promise<Array<{ message: string; path?: PropertyKey[] }>> {
  const error = await toSessionRecord(input, undefined).then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  expect(error).toBeInstanceOf(SessionInvalidError)
  return (error as SessionInvalidError).issues as Array<{ message: string; path?: PropertyKey[] }>
}

function nested(depth: number): Record<string, unknown> {
  let value: Record<string, unknown> = { leaf: 'x' }
  for (let i = 1; i < depth; i++) value = { a: value }
  return value
}

describe('toSessionRecord', () => {
  it('returns a deep copy without the reserved keys; -0 becomes 0, undefined members go', async () => {
    const input = {
      user: { sub: 'u1', tags: ['a', { b: -0 }] },
      internal: { sid: 'x' },
      lastPath: '/x',
      lastVisit: 1,
      gone: undefined,
      n: 1.5,
    }
    const record = await toSessionRecord(input, undefined)
    expect(record).toEqual({ user: { sub: 'u1', tags: ['a', { b: 0 }] }, n: 1.5 })
    expect(Object.is((record.user.tags as [string, { b: number }])[1].b, 0)).toBe(true)
    expect(record.user).not.toBe(input.user)
    expect(record.user.tags).not.toBe(input.user.tags)
    // Reserved keys are dropped at the top only: a nested `internal` is the caller's data.
    expect(await toSessionRecord({ user: { sub: 'u1' }, deep: { internal: 1 } }, undefined)).toEqual({
      user: { sub: 'u1' },
      deep: { internal: 1 },
    })
  })

  it('names the exact path of every problem, in order', async () => {
    const loop: Record<string, unknown> = {}
    loop.self = { again: loop }
    const issues = await issuesOf({
      user: { sub: 'u1' },
      list: [1, { at: new Date(0) }, undefined],
      deep: { n: Number.NaN, 'bad\uD800': 1, s: 'ok\uDC00' },
      loop,
    })
    // Compared as JSON (which escapes lone surrogates): a failure report must be valid UTF-8 to reach the runner.
    expect(JSON.stringify(issues.map((i) => i.path))).toBe(
      JSON.stringify([
        ['list', 1, 'at'],
        ['list', 2],
        ['deep', 'n'],
        ['deep', 'bad\uD800'],
        ['deep', 's'],
        ['loop', 'self', 'again'],
      ]),
    )
    expect(issues.map((i) => i.message)).toEqual([
      'Date is not a plain JSON object',
      'undefined is not JSON',
      'NaN is not a JSON number',
      'this key is not well-formed Unicode (a lone surrogate)',
      'is not well-formed Unicode (a lone surrogate)',
      'is a circular reference',
    ])
  })

  it('keeps a shared (not circular) object twice, and a surrogate pair as it is', async () => {
    const shared = { x: 1 }
    const record = await toSessionRecord(
      { user: { sub: 'u1' }, l: shared, r: shared, emoji: '\uD83D\uDE00' },
      undefined,
    )
    expect(record).toEqual({ user: { sub: 'u1' }, l: { x: 1 }, r: { x: 1 }, emoji: '\uD83D\uDE00' })
    expect(record.l).not.toBe(record.r)
  })

  it('allows a value 32 keys deep and refuses one 33 keys deep, at its path', async () => {
    // nested(n) puts its leaf n + 1 keys below the top: d, then n - 1 times a, then leaf.
    await expect(toSessionRecord({ user: { sub: 'u1' }, d: nested(31) }, undefined)).resolves.toBeDefined()
    const issues = await issuesOf({ user: { sub: 'u1' }, d: nested(32) })
    expect(issues).toEqual([
      { message: 'nests deeper than 32 levels', path: ['d', ...Array<string>(31).fill('a'), 'leaf'] },
    ])
  })

  it('refuses a missing or empty user.sub at its path', async () => {
    expect(await issuesOf({ name: 'x' })).toEqual([{ message: 'is required: { sub: string, ... }', path: ['user'] }])
    expect((await issuesOf({ user: { name: 'x' } })).map((i) => i.path)).toEqual([['user', 'sub']])
    expect((await issuesOf({ user: { sub: '' } })).map((i) => i.path)).toEqual([['user', 'sub']])
  })
})

describe('toSessionRecord on a runtime without String.prototype.isWellFormed', () => {
  it('refuses lone surrogates in values and keys with its regex fallback, and keeps pairs', async () => {
    const native = Object.getOwnPropertyDescriptor(String.prototype, 'isWellFormed')
    expect(native).toBeDefined()
    // The module picks the native check or the fallback when it loads: load a fresh copy without it.
    delete (String.prototype as { isWellFormed?: unknown }).isWellFormed
    try {
      vi.resetModules()
      const fresh = await import('../../../src/state/validate')
      expect(fresh.toSessionRecord).not.toBe(toSessionRecord)
      const refused = await fresh
        .toSessionRecord({ user: { sub: 'u1' }, s: 'ok\uDC00', deep: { 'bad\uD800': 1 } }, undefined)
        .then(
          () => undefined,
          (thrown: unknown) => thrown as { code?: string; issues?: Array<{ message: string; path?: PropertyKey[] }> },
        )
      expect(refused?.code).toBe('ERR_SESSION_INVALID')
      // Compared as JSON (which escapes lone surrogates): a failure report must be valid UTF-8 to reach the runner.
      expect(JSON.stringify(refused?.issues)).toBe(
        JSON.stringify([
          { message: 'is not well-formed Unicode (a lone surrogate)', path: ['s'] },
          { message: 'this key is not well-formed Unicode (a lone surrogate)', path: ['deep', 'bad\uD800'] },
        ]),
      )
      const kept = await fresh.toSessionRecord(
        { user: { sub: 'u1' }, emoji: '\uD83D\uDE00', '\uD83D\uDE00': 'key' },
        undefined,
      )
      expect(kept).toEqual({ user: { sub: 'u1' }, emoji: '\uD83D\uDE00', '\uD83D\uDE00': 'key' })
    } finally {
      Object.defineProperty(String.prototype, 'isWellFormed', native as PropertyDescriptor)
      vi.resetModules()
    }
  })
})

/** A memory store whose reads can be rewritten, as a record written by other code would look. */
function rewritingStore() {
  const inner = memoryStore()
  let rewrite: ((record: StoredSession) => StoredSession) | undefined
  const store: SessionStore = {
    get: async (sid) => {
      const record = await inner.get(sid)
      return record && rewrite ? rewrite(structuredClone(record)) : record
    },
    set: (sid, data, options) => inner.set(sid, data, options),
    delete: (sid) => inner.delete(sid),
  }
  return { store, setRewrite: (fn: typeof rewrite) => void (rewrite = fn) }
}

describe('records read back from a store: the shape check, field by field', () => {
  for (const field of ['sid', 'createdAt', 'updatedAt', 'expiresAt'] as const) {
    for (const value of [undefined, '1', null] as const) {
      it(`a store record with internal.${field} = ${JSON.stringify(value) ?? 'missing'} is no session ("malformed")`, async () => {
        const { store, setRewrite } = rewritingStore()
        const seen: InvalidReason[] = []
        const { app } = coreApp({ store, onInvalid: (r: InvalidReason, _c: Context) => void seen.push(r) })
        const jar = new CookieJar()
        await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
        // Control: the record as written is a session.
        expect((await readSession(app, { jar })).session?.user.sub).toBe('u1')
        setRewrite((record) => {
          const internal = record.internal as unknown as Record<string, unknown>
          if (value === undefined) delete internal[field]
          else internal[field] = value
          return record
        })
        const { session } = await readSession(app, { jar })
        expect(session).toBeNull()
        expect(seen).toEqual(['malformed'])
      })
    }
  }

  for (const [label, user] of [
    ['user.sub a number', { sub: 1 }],
    ['user.sub missing', {}],
    ['user null', null],
  ] as const) {
    it(`a store record with ${label} is no session ("malformed")`, async () => {
      const { store, setRewrite } = rewritingStore()
      const seen: InvalidReason[] = []
      const { app } = coreApp({ store, onInvalid: (r: InvalidReason, _c: Context) => void seen.push(r) })
      const jar = new CookieJar()
      await call(app, '/login', { body: { user: { sub: 'u1' } }, jar })
      setRewrite((record) => ({ ...record, user: user as unknown as StoredSession['user'] }))
      expect((await readSession(app, { jar })).session).toBeNull()
      expect(seen).toEqual(['malformed'])
    })
  }
})

/**
 * Keys JSON.stringify escapes (a quote, a backslash, U+0000-U+001F): JSON.parse in workerd and
 * Deno can read such a key back as another, so every write refuses one, wherever it is. The data
 * is handed to the routes as it is (not through a request body, which JSON.parse would read first).
 */
describe('keys with a quote, a backslash or a control character', () => {
  const MESSAGE =
    'this key holds a quote, a backslash or a control character: JSON.parse on Workers and Deno can read such a key back altered'

  /** {@link inputApp}, answering what each call threw and the Set-Cookie lines it sent. */
  function keysApp(store?: SessionStore) {
    const subject = inputApp(store)
    return {
      errors: subject.errors,
      read: subject.read,
      async call(path: '/login' | '/update', data: unknown, jar: CookieJar) {
        const { thrown, res } = await subject.call(path, data, jar)
        return { thrown, setCookie: res.headers.getSetCookie() }
      },
    }
  }

  it('a stored session holding such a key (written by an earlier version) still opens; an update must drop it', async () => {
    const { store, setRewrite } = rewritingStore()
    const subject = keysApp(store)
    const jar = new CookieJar()
    expect((await subject.call('/login', { user: { sub: 'u1' }, step: 1 }, jar)).thrown).toBeUndefined()
    // As an earlier version could have written it: the record holds a key with a quote.
    setRewrite((record) => (record.step === 1 ? ({ ...record, 'say "hi"': 1 } as StoredSession) : record))
    const before = await subject.read(jar)
    expect(before?.['say "hi"']).toBe(1)
    const kept = await subject.call('/update', (s: Record<string, unknown>) => ({ ...s, step: 2 }), jar)
    expect(kept.thrown).toBeInstanceOf(SessionInvalidError)
    expect(JSON.stringify((kept.thrown as SessionInvalidError).issues)).toBe(
      JSON.stringify([{ message: MESSAGE, path: ['say "hi"'] }]),
    )
    expect(kept.setCookie).toEqual([])
    expect(JSON.stringify(await subject.read(jar))).toBe(JSON.stringify(before))
    const dropped = await subject.call(
      '/update',
      (s: Record<string, unknown>) => ({ ...s, step: 2, 'say "hi"': undefined }),
      jar,
    )
    expect(dropped.thrown).toBeUndefined()
    const after = await subject.read(jar)
    expect(after).toMatchObject({ user: { sub: 'u1' }, step: 2 })
    expect(Object.keys(after ?? {})).not.toContain('say "hi"')
    expect(subject.errors).toEqual([])
  })

  const user = { sub: 'u1' }
  const cases: Array<[string, Record<string, unknown>, PropertyKey[]]> = [
    ['a quote at the top', { user, 'say "hi"': 1 }, ['say "hi"']],
    ['a backslash at the top', { user, '\\': 1 }, ['\\']],
    ['a quote in user', { user: { sub: 'u1', '"': 'x' } }, ['user', '"']],
    ['a newline, nested', { user, prefs: { theme: { 'a\nb': 'dark' } } }, ['prefs', 'theme', 'a\nb']],
    ['U+0000 in an object in an array', { user, list: [1, { '\u0000': true }] }, ['list', 1, '\u0000']],
    ['U+001F in an object in an array', { user, list: [{ ok: { 'x\u001F': [] } }] }, ['list', 0, 'ok', 'x\u001F']],
    ['a tab, with a null value', { user, '\t': null }, ['\t']],
  ]

  for (const mode of ['cookie', 'memoryStore()'] as const) {
    describe(mode, () => {
      for (const [label, data, path] of cases) {
        it(`createSession refuses ${label} with SessionInvalidError at its path; nothing is written`, async () => {
          const store = mode === 'cookie' ? undefined : memoryStore()
          const subject = keysApp(store)
          const jar = new CookieJar()
          const { thrown, setCookie } = await subject.call('/login', data, jar)
          expect(thrown).toBeInstanceOf(SessionInvalidError)
          expect((thrown as SessionInvalidError).code).toBe('ERR_SESSION_INVALID')
          expect(JSON.stringify((thrown as SessionInvalidError).issues)).toBe(
            JSON.stringify([{ message: MESSAGE, path }]),
          )
          expect(setCookie).toEqual([])
          expect(store?.size ?? 0).toBe(0)
          expect(await subject.read(jar)).toBeNull()
          expect(subject.errors).toEqual([])
        })

        it(`updateSession refuses ${label} with SessionInvalidError at its path; the session is kept`, async () => {
          const store = mode === 'cookie' ? undefined : memoryStore()
          const subject = keysApp(store)
          const jar = new CookieJar()
          expect((await subject.call('/login', { user, step: 1 }, jar)).thrown).toBeUndefined()
          const before = await subject.read(jar)
          expect(before).toMatchObject({ user, step: 1 })
          const sid = (before?.internal as { sid?: string } | undefined)?.sid ?? ''
          const stored = JSON.stringify(await store?.get(sid))
          const { thrown, setCookie } = await subject.call('/update', data, jar)
          expect(thrown).toBeInstanceOf(SessionInvalidError)
          expect(JSON.stringify((thrown as SessionInvalidError).issues)).toBe(
            JSON.stringify([{ message: MESSAGE, path }]),
          )
          expect(setCookie).toEqual([])
          expect(JSON.stringify(await subject.read(jar))).toBe(JSON.stringify(before))
          if (store) {
            expect(store.size).toBe(1)
            expect(JSON.stringify(await store.get(sid))).toBe(stored)
          }
          expect(subject.errors).toEqual([])
        })
      }

      it('reports every such key, and drops one whose value is undefined (it is not written)', async () => {
        const subject = keysApp(mode === 'cookie' ? undefined : memoryStore())
        const jar = new CookieJar()
        const { thrown } = await subject.call(
          '/login',
          { user, '"': 1, ok: { '\\': 2, '\r': 3 }, gone: { '"': undefined } },
          jar,
        )
        expect(JSON.stringify((thrown as SessionInvalidError).issues)).toBe(
          JSON.stringify([
            { message: MESSAGE, path: ['"'] },
            { message: MESSAGE, path: ['ok', '\\'] },
            { message: MESSAGE, path: ['ok', '\r'] },
          ]),
        )
        const kept = await subject.call('/login', { user, flag: { '"': undefined, x: 1 } }, jar)
        expect(kept.thrown).toBeUndefined()
        expect((await subject.read(jar))?.flag).toEqual({ x: 1 })
      })

      it('accepts keys with é, spaces, an apostrophe, a slash, emoji, and quotes or backslashes in values; reads them back exactly', async () => {
        const subject = keysApp(mode === 'cookie' ? undefined : memoryStore())
        const jar = new CookieJar()
        const odd = {
          'café crème': 1,
          "it's": 'a "quoted" \\ value\n',
          'a/b': ['/'],
          '😀': { 'ü ñ': true },
          '\u2028': 0,
        }
        const data = { user: { sub: 'u1', 'nick name': "o'hara" }, ...odd, list: [{ ...odd }] }
        const created = await subject.call('/login', data, jar)
        expect(created.thrown).toBeUndefined()
        expect(created.setCookie.length).toBeGreaterThan(0)
        const { internal: _i, lastPath: _p, lastVisit: _v, ...read } = (await subject.read(jar)) ?? {}
        expect(JSON.stringify(read)).toBe(JSON.stringify(data))
        const updated = await subject.call('/update', { ...data, more: { "l'été / 🌞": 'x' } }, jar)
        expect(updated.thrown).toBeUndefined()
        const { internal: _i2, lastPath: _p2, lastVisit: _v2, ...reread } = (await subject.read(jar)) ?? {}
        expect(JSON.stringify(reread)).toBe(JSON.stringify({ ...data, more: { "l'été / 🌞": 'x' } }))
        expect(subject.errors).toEqual([])
      })
    })
  }
})
