import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import * as api from '../../../src'
import {
  SessionCommittedError,
  SessionConfigError,
  SessionError,
  SessionInvalidError,
  SessionMissingError,
  SessionNotMountedError,
  SessionStoreError,
  SessionTooLargeError,
  SessionUnsupportedError,
  destroyUserSessions,
  getSession,
} from '../../../src'
import type { SessionStore } from '../../../src'
import { CookieJar, type ErrorBody, call, coreApp, readSession } from '../../helpers'

// Constructors differ (issues, sizes): only the class identity matters here.
type ErrorClass = abstract new (...args: never[]) => SessionError
const instances: Array<[ErrorClass, SessionError, string]> = [
  [SessionError, new SessionError('x'), 'ERR_SESSION'],
  [SessionConfigError, new SessionConfigError('x'), 'ERR_SESSION_CONFIG'],
  [SessionNotMountedError, new SessionNotMountedError(), 'ERR_SESSION_NOT_MOUNTED'],
  [SessionMissingError, new SessionMissingError(), 'ERR_SESSION_MISSING'],
  [SessionInvalidError, new SessionInvalidError([{ message: 'bad', path: ['a', 0] }]), 'ERR_SESSION_INVALID'],
  [SessionTooLargeError, new SessionTooLargeError(5000, 4096), 'ERR_SESSION_TOO_LARGE'],
  [SessionCommittedError, new SessionCommittedError(), 'ERR_SESSION_COMMITTED'],
  [SessionStoreError, new SessionStoreError('x'), 'ERR_SESSION_STORE'],
  [SessionUnsupportedError, new SessionUnsupportedError('x'), 'ERR_SESSION_UNSUPPORTED'],
]

describe('error classes', () => {
  it('every exported *Error is covered here', () => {
    const exported = Object.entries(api)
      .filter(([name, value]) => name.endsWith('Error') && typeof value === 'function')
      .map(([name]) => name)
      .sort()
    expect(exported).toEqual(instances.map(([cls]) => cls.name).sort())
  })

  for (const [cls, instance, code] of instances) {
    it(`${cls.name}: stable code ${code} on class and instance, name, instanceof`, () => {
      expect((cls as unknown as { code: string }).code).toBe(code)
      expect(instance.code).toBe(code)
      expect(instance.name).toBe(cls.name)
      expect(instance).toBeInstanceOf(cls)
      expect(instance).toBeInstanceOf(SessionError)
      expect(instance).toBeInstanceOf(Error)
      expect(instance.message.length).toBeGreaterThan(0)
    })
  }

  it('codes are unique', () => {
    expect(new Set(instances.map(([, , code]) => code)).size).toBe(instances.length)
  })

  it('SessionInvalidError lists its issues in the message; SessionTooLargeError carries sizes', () => {
    const invalid = new SessionInvalidError([{ message: 'is required', path: ['user', 'sub'] }, { message: 'no' }])
    expect(invalid.message).toContain('user.sub: is required')
    expect(invalid.issues).toHaveLength(2)
    const big = new SessionTooLargeError(5000, 4096)
    expect([big.bytes, big.limit]).toEqual([5000, 4096])
    expect(big.message).toMatch(/5000.*4096/)
  })
})

describe('errors thrown by the real code paths', () => {
  it('SessionNotMountedError without the middleware', async () => {
    let thrown: unknown
    const app = new Hono()
    app.get('/', (c) => {
      try {
        getSession(c)
      } catch (err) {
        thrown = err
      }
      return c.text('ok')
    })
    await app.request('/')
    expect(thrown).toBeInstanceOf(SessionNotMountedError)
    expect((thrown as SessionError).code).toBe('ERR_SESSION_NOT_MOUNTED')
  })

  it('SessionUnsupportedError: destroyUserSessions on cookie-only sessions', async () => {
    let thrown: unknown
    const { app } = coreApp({}, (a) =>
      a.post('/everywhere', async (c) => {
        try {
          await destroyUserSessions(c, 'u1')
        } catch (err) {
          thrown = err
        }
        return c.text('ok')
      }),
    )
    await call(app, '/everywhere', { method: 'POST' })
    expect(thrown).toBeInstanceOf(SessionUnsupportedError)
  })

  it('SessionStoreError: a failing store write keeps the previous session', async () => {
    const records = new Map<string, Parameters<SessionStore['set']>[1]>()
    let fail = false
    const store: SessionStore = {
      get: async (sid) => records.get(sid) ?? null,
      set: async (sid, data) => {
        if (fail) throw new Error('disk on fire')
        records.set(sid, data)
      },
      delete: async (sid) => {
        if (fail) throw new Error('disk on fire')
        records.delete(sid)
      },
    }
    const { app } = coreApp({ store })
    const jar = new CookieJar()
    expect((await call(app, '/login', { body: { user: { sub: 'u1' }, v: 1 }, jar })).status).toBe(200)
    fail = true
    const res = await call(app, '/update', { body: { v: 2 }, jar })
    expect(res.status).toBe(422)
    expect(((await res.json()) as ErrorBody).code).toBe('ERR_SESSION_STORE')
    fail = false
    expect((await readSession(app, { jar })).session?.v).toBe(1)
  })
})

describe('error classes: cause, messages, one level below SessionError', () => {
  it('keeps the cause it was given', () => {
    const cause = new Error('disk on fire')
    expect(new SessionStoreError('store failed', { cause }).cause).toBe(cause)
    expect(new SessionConfigError('bad', { cause }).cause).toBe(cause)
    expect(new SessionError('x').cause).toBeUndefined()
  })

  it('SessionInvalidError: the message lists every issue, with its path when it has one', () => {
    const error = new SessionInvalidError([
      { message: 'is required', path: ['user', 'sub'] },
      { message: 'root problem', path: [] },
      { message: 'no path' },
      { message: 'deep', path: ['list', 2, Symbol('tag')] },
    ])
    expect(error.message).toBe(
      'Invalid session data: user.sub: is required; root problem; no path; list.2.Symbol(tag): deep',
    )
    expect(error.issues).toHaveLength(4)
  })

  it('no error class is an instance of another one (only of SessionError): instanceof branches stay apart', () => {
    const errors = [
      new SessionConfigError('x'),
      new SessionNotMountedError(),
      new SessionMissingError(),
      new SessionInvalidError([{ message: 'x' }]),
      new SessionTooLargeError(2, 1),
      new SessionCommittedError(),
      new SessionStoreError('x'),
      new SessionUnsupportedError('x'),
    ]
    for (const error of errors) {
      expect(error).toBeInstanceOf(SessionError)
      expect(Object.getPrototypeOf(Object.getPrototypeOf(error))).toBe(SessionError.prototype)
      for (const other of errors)
        if (other !== error)
          expect(error instanceof other.constructor, `${error.name} instanceof ${other.name}`).toBe(false)
    }
  })

  it('SessionNotMountedError says how to fix it', () => {
    expect(new SessionNotMountedError().message).toContain('app.use(edgeSession(')
  })
})
