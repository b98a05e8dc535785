/**
 * d1Store behaviour that d1.test.ts did not pin (mutation audit of src/stores/d1.ts).
 */
import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionConfigError, cleanupExpiredSessions, d1Store } from '../../../src'
import { deferred } from '../../helpers/stores'

beforeAll(async () => {
  await applyD1Migrations(env.SESSION_DB, env.D1_MIGRATIONS)
})

const HOUR = 60 * 60 * 1000
const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })

describe('d1Store (mutants)', () => {
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

  it('cleanupExpiredSessions deletes at most batchSize x maxBatches rows per call (bounded statements)', async () => {
    const store = d1Store(env.SESSION_DB, { cleanupRate: 0 })
    await env.SESSION_DB.prepare('DELETE FROM sessions').run()
    for (let i = 0; i < 5; i++) await store.set(`d1m-exp-${i}`, record('d1m-exp'), { expiresAt: Date.now() - 1, sub: 'd1m-exp' })
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
      env.SESSION_DB.prepare('INSERT INTO sessions (sid, sub, data, expires_at, version) VALUES (?1, ?2, ?3, ?4, 1)').bind(`d1m-old-${i}`, 'd1m-old', '{}', past),
    )
    await env.SESSION_DB.batch(inserts)
    await d1Store(env.SESSION_DB, { cleanupRate: 1 }).set('d1m-new', record('d1m-new'), { expiresAt: Date.now() + HOUR, sub: 'd1m-new' })
    const left = await env.SESSION_DB.prepare('SELECT count(*) AS n FROM sessions WHERE sub = ?').bind('d1m-old').first<{ n: number }>()
    expect(left?.n).toBe(50)
    expect(await store.get('d1m-new')).toEqual(record('d1m-new'))
  })

  it('cleanupExpiredSessions refuses a batchSize or maxBatches that is not a whole number of 1 or more (batchSize is part of the SQL)', async () => {
    for (const options of [{ batchSize: 0 }, { batchSize: -1 }, { batchSize: 1.5 }, { batchSize: '10; DROP TABLE sessions' }, { maxBatches: 0 }]) {
      await expect(cleanupExpiredSessions(env.SESSION_DB, options as never), JSON.stringify(options)).rejects.toThrow(SessionConfigError)
    }
  })
})
