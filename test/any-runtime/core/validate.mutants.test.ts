/**
 * The shape check of records read back (isSessionRecord in src/state/validate.ts), which
 * validate.test.ts did not pin field by field (mutation audit): a store record whose internal
 * fields are missing or not numbers is "malformed", never a session without an end.
 */
import type { Context } from 'hono'
import { describe, expect, it } from 'vitest'
import { type InvalidReason, type SessionStore, type StoredSession, memoryStore } from '../../../src'
import { CookieJar } from '../../helpers/app'
import { call, coreApp, readSession } from '../../helpers/core'

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

describe('records read back (mutants)', () => {
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
