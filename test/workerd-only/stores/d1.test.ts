import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it, vi } from 'vitest'
import { SessionConfigError, cleanupExpiredSessions, d1Store } from '../../../src'
import { HOUR, deferred, describeStoreBehaviour } from '../../helpers'

beforeAll(async () => {
  // The migration shipped in the package (migrations/0001_sessions.sql), read by vitest.config.ts.
  await applyD1Migrations(env.SESSION_DB, env.D1_MIGRATIONS)
})

describeStoreBehaviour('d1', () => d1Store(env.SESSION_DB))

const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })

async function rowCount(where = '1 = 1', ...values: unknown[]): Promise<number> {
  const row = await env.SESSION_DB.prepare(`SELECT count(*) AS n FROM sessions WHERE ${where}`)
    .bind(...values)
    .first<{ n: number }>()
  return row?.n ?? -1
}

describe('d1Store', () => {
  it('stores the record as JSON with its user, expiry and a version that grows on each write', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    const expiresAt = Date.now() + HOUR
    await store.set('d1-row', record('d1-u', { n: 1 }), { expiresAt, sub: 'd1-u' })
    await store.update?.('d1-row', (current) => ({ ...current, n: 2 }), { expiresAt, sub: 'd1-u' })
    const row = await env.SESSION_DB.prepare('SELECT sub, data, expires_at, version FROM sessions WHERE sid = ?')
      .bind('d1-row')
      .first()
    expect(row).toEqual({
      sub: 'd1-u',
      data: JSON.stringify(record('d1-u', { n: 2 })),
      expires_at: expiresAt,
      version: 2,
    })
  })

  it('reads an expired row as no session, and the cron cleanup deletes expired rows only', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    const past = { expiresAt: Date.now() - 1, sub: 'd1-exp' }
    for (let i = 0; i < 5; i++) await store.set(`d1-exp-${i}`, record('d1-exp'), past)
    await store.set('d1-live', record('d1-exp'), { expiresAt: Date.now() + HOUR, sub: 'd1-exp' })
    expect(await store.get('d1-exp-0')).toBeNull()
    expect(await rowCount('sub = ?', 'd1-exp')).toBe(6)
    // Batches of 2: three statements, the last one short.
    expect(await cleanupExpiredSessions(env.SESSION_DB, { batchSize: 2 })).toBe(5)
    expect(await rowCount('sub = ?', 'd1-exp')).toBe(1)
    expect(await store.get('d1-live')).not.toBeNull()
  })

  it('deletes expired rows along with a sign-in when the cleanup rate says so', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 1 })
    await d1Store(env.SESSION_DB, { cleanupRate: 0 }).set('d1-stale', record('d1-op'), {
      expiresAt: Date.now() - 1,
      sub: 'd1-op',
    })
    expect(await rowCount('sid = ?', 'd1-stale')).toBe(1)
    await store.set('d1-fresh', record('d1-op'), { expiresAt: Date.now() + HOUR, sub: 'd1-op' })
    expect(await rowCount('sid = ?', 'd1-stale')).toBe(0)
    expect(await rowCount('sid = ?', 'd1-fresh')).toBe(1)
  })

  it('by default sweeps along with one sign-in in ten (cleanupRate 0.1)', async () => {
    const store = d1Store(env.SESSION_DB)
    const stale = (sid: string) =>
      d1Store(env.SESSION_DB, { cleanupRate: 0 }).set(sid, record('d1-rate'), {
        expiresAt: Date.now() - 1,
        sub: 'd1-rate',
      })
    const random = vi.spyOn(Math, 'random')
    try {
      await stale('d1-rate-stale-1')
      random.mockReturnValue(0.1)
      await store.set('d1-rate-a', record('d1-rate'), { expiresAt: Date.now() + HOUR, sub: 'd1-rate' })
      expect(await rowCount('sid = ?', 'd1-rate-stale-1')).toBe(1)
      random.mockReturnValue(0.099)
      await store.set('d1-rate-b', record('d1-rate'), { expiresAt: Date.now() + HOUR, sub: 'd1-rate' })
      expect(await rowCount('sid = ?', 'd1-rate-stale-1')).toBe(0)
    } finally {
      random.mockRestore()
    }
  })

  it("counts only live sessions when ending a user's sessions, and deletes the expired rows as well", async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    await store.set('d1-by-user-expired', record('d1-by-user'), { expiresAt: Date.now() - 1, sub: 'd1-by-user' })
    await store.set('d1-by-user-live', record('d1-by-user'), { expiresAt: Date.now() + HOUR, sub: 'd1-by-user' })
    await store.set('d1-by-user-other', record('d1-other'), { expiresAt: Date.now() + HOUR, sub: 'd1-other' })
    expect(await store.deleteByUser?.('d1-by-user')).toBe(1)
    expect(await rowCount('sub = ?', 'd1-by-user')).toBe(0)
    expect(await store.get('d1-by-user-other')).toEqual(record('d1-other'))
  })

  it('retries an update whose row changed while `change` ran (version check), so no write is lost', async () => {
    const store = d1Store(env.SESSION_DB)
    const options = { expiresAt: Date.now() + HOUR, sub: 'd1-cas' }
    await store.set('d1-cas', record('d1-cas', { n: 0 }), options)
    const hold = deferred()
    let runs = 0
    const slow = store.update?.(
      'd1-cas',
      async (current) => {
        runs++
        if (runs === 1) await hold.promise
        return { ...current, n: (current.n as number) + 1 }
      },
      options,
    )
    await store.update?.('d1-cas', (current) => ({ ...current, n: (current.n as number) + 10 }), options)
    hold.resolve()
    expect(await slow).toEqual(record('d1-cas', { n: 11 }))
    expect(runs).toBe(2)
    expect(await store.get('d1-cas')).toEqual(record('d1-cas', { n: 11 }))
  })

  it('writes nothing when `change` throws', async () => {
    const store = d1Store(env.SESSION_DB)
    const options = { expiresAt: Date.now() + HOUR, sub: 'd1-throw' }
    await store.set('d1-throw', record('d1-throw', { n: 1 }), options)
    await expect(store.update?.('d1-throw', () => Promise.reject(new Error('invalid')), options)).rejects.toThrow(
      'invalid',
    )
    expect(await store.get('d1-throw')).toEqual(record('d1-throw', { n: 1 }))
  })

  it('refuses a table name that is not a plain identifier (it is part of the SQL)', () => {
    expect(() => d1Store(env.SESSION_DB, { table: 'sessions; DROP TABLE users' })).toThrow(SessionConfigError)
    expect(() => d1Store(env.SESSION_DB, { cleanupRate: 2 })).toThrow(SessionConfigError)
    return expect(cleanupExpiredSessions(env.SESSION_DB, { table: 'x"y' })).rejects.toThrow(SessionConfigError)
  })
})

describe('d1Store: update', () => {
  it('a set() over an existing id counts as a write: an update that read before it retries, so the set is not lost', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    const options = { expiresAt: Date.now() + HOUR, sub: 'd1m-set' }
    await store.set('d1m-set', record('d1m-set', { n: 0 }), options)
    const hold = deferred()
    let runs = 0
    const slow = store.update?.(
      'd1m-set',
      async (current) => {
        runs++
        if (runs === 1) await hold.promise
        return { ...current, n: (current.n as number) + 1 }
      },
      options,
    )
    await store.set('d1m-set', record('d1m-set', { n: 100 }), options)
    hold.resolve()
    expect(await slow).toEqual(record('d1m-set', { n: 101 }))
    expect(runs).toBe(2)
    expect(await store.get('d1m-set')).toEqual(record('d1m-set', { n: 101 }))
  })

  it('an update whose signal was aborted while `change` ran writes nothing', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    const base = { expiresAt: Date.now() + HOUR, sub: 'd1m-abort' }
    await store.set('d1m-abort', record('d1m-abort', { n: 1 }), base)
    const controller = new AbortController()
    const hold = deferred()
    const pending = store.update?.(
      'd1m-abort',
      async (current) => {
        await hold.promise
        return { ...current, n: 2 }
      },
      { ...base, signal: controller.signal },
    )
    controller.abort(new Error('timed out'))
    hold.resolve()
    await expect(pending).rejects.toThrow('timed out')
    expect(await store.get('d1m-abort')).toEqual(record('d1m-abort', { n: 1 }))
  })
})

describe('cleanupExpiredSessions: bounded work', () => {
  it('cleanupExpiredSessions deletes at most batchSize x maxBatches rows per call (bounded statements)', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    await env.SESSION_DB.prepare('DELETE FROM sessions').run()
    for (let i = 0; i < 5; i++)
      await store.set(`d1m-exp-${i}`, record('d1m-exp'), { expiresAt: Date.now() - 1, sub: 'd1m-exp' })
    expect(await cleanupExpiredSessions(env.SESSION_DB, { batchSize: 2, maxBatches: 1 })).toBe(2)
    expect(await cleanupExpiredSessions(env.SESSION_DB, { batchSize: 2, maxBatches: 1 })).toBe(2)
    expect(await cleanupExpiredSessions(env.SESSION_DB, { batchSize: 2, maxBatches: 1 })).toBe(1)
    expect(await cleanupExpiredSessions(env.SESSION_DB)).toBe(0)
  })

  it('the cleanup that rides along with a sign-in is bounded too (100 rows)', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    await env.SESSION_DB.prepare('DELETE FROM sessions').run()
    const past = Date.now() - 1
    const inserts = Array.from({ length: 150 }, (_, i) =>
      env.SESSION_DB.prepare(
        'INSERT INTO sessions (sid, sub, data, expires_at, version) VALUES (?1, ?2, ?3, ?4, 1)',
      ).bind(`d1m-old-${i}`, 'd1m-old', '{}', past),
    )
    await env.SESSION_DB.batch(inserts)
    await d1Store(env.SESSION_DB, { cleanupRate: 1 }).set('d1m-new', record('d1m-new'), {
      expiresAt: Date.now() + HOUR,
      sub: 'd1m-new',
    })
    const left = await env.SESSION_DB.prepare('SELECT count(*) AS n FROM sessions WHERE sub = ?')
      .bind('d1m-old')
      .first<{ n: number }>()
    expect(left?.n).toBe(50)
    expect(await store.get('d1m-new')).toEqual(record('d1m-new'))
  })

  it('cleanupExpiredSessions refuses a batchSize or maxBatches that is not a whole number of 1 or more (batchSize is part of the SQL)', async () => {
    for (const options of [
      { batchSize: 0 },
      { batchSize: -1 },
      { batchSize: 1.5 },
      { batchSize: '10; DROP TABLE sessions' },
      { maxBatches: 0 },
    ]) {
      await expect(cleanupExpiredSessions(env.SESSION_DB, options as never), JSON.stringify(options)).rejects.toThrow(
        SessionConfigError,
      )
    }
  })
})
