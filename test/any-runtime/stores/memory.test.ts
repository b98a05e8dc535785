import { afterEach, describe, expect, it } from 'vitest'
import { type StoredSession, memoryStore } from '../../../src'
import { HOUR, T0, deferred, describeStoreBehaviour, restoreClock, useClock } from '../../helpers'

describeStoreBehaviour('memory', () => memoryStore())

const record = (sub: string, extra: Record<string, number> = {}) => ({ user: { sub }, ...extra })

describe('memoryStore', () => {
  it('hands out copies: changing a returned record changes nothing stored', async () => {
    const store = memoryStore()
    const data = record('u1')
    await store.set('s1', data, { expiresAt: Date.now() + HOUR, sub: 'u1' })
    data.user.sub = 'changed'
    const read = await store.get('s1')
    expect(read).toEqual(record('u1'))
    if (read) read.user = 'mutated'
    expect(await store.get('s1')).toEqual(record('u1'))
  })

  it('forgets a record once it has expired', async () => {
    const store = memoryStore()
    await store.set('old', record('u1'), { expiresAt: Date.now() - 1, sub: 'u1' })
    await store.set('new', record('u1'), { expiresAt: Date.now() + HOUR, sub: 'u1' })
    expect(await store.get('old')).toBeNull()
    expect(await store.get('new')).not.toBeNull()
    expect(store.size).toBe(1)
  })

  it('retries an update whose record changed while `change` ran, so no write is lost', async () => {
    const store = memoryStore()
    const options = { expiresAt: Date.now() + HOUR, sub: 'u1' }
    await store.set('s1', record('u1', { n: 0 }), options)
    const hold = deferred()
    let runs = 0
    const slow = store.update(
      's1',
      async (current) => {
        runs++
        if (runs === 1) await hold.promise
        return { ...current, n: (current.n as number) + 1 }
      },
      options,
    )
    await store.update('s1', (current) => ({ ...current, n: (current.n as number) + 10 }), options)
    hold.resolve()
    expect(await slow).toEqual(record('u1', { n: 11 }))
    expect(runs).toBe(2)
    expect(await store.get('s1')).toEqual(record('u1', { n: 11 }))
  })

  it('writes nothing when `change` throws', async () => {
    const store = memoryStore()
    const options = { expiresAt: Date.now() + HOUR, sub: 'u1' }
    await store.set('s1', record('u1', { n: 1 }), options)
    await expect(store.update('s1', () => Promise.reject(new Error('invalid')), options)).rejects.toThrow('invalid')
    expect(await store.get('s1')).toEqual(record('u1', { n: 1 }))
  })

  it('deletes every session of one user and counts them', async () => {
    const store = memoryStore()
    const options = (sub: string) => ({ expiresAt: Date.now() + HOUR, sub })
    await store.set('a1', record('a'), options('a'))
    await store.set('a2', record('a'), options('a'))
    await store.set('b1', record('b'), options('b'))
    expect(await store.deleteByUser('a')).toBe(2)
    expect(await store.get('a1')).toBeNull()
    expect(await store.get('a2')).toBeNull()
    expect(await store.get('b1')).not.toBeNull()
    expect(await store.deleteByUser('a')).toBe(0)
  })

  it('moves a session to the new user when an update changes user.sub', async () => {
    const store = memoryStore()
    await store.set('s1', record('a'), { expiresAt: Date.now() + HOUR, sub: 'a' })
    await store.update('s1', (current) => ({ ...current, user: { sub: 'b' } }), {
      expiresAt: Date.now() + HOUR,
      sub: 'a',
    })
    expect(await store.deleteByUser('b')).toBe(1)
    expect(await store.get('s1')).toBeNull()
  })
})

describe('memoryStore: expiry at its boundary', () => {
  afterEach(restoreClock)

  it('a record is readable until the millisecond before expiresAt and gone at expiresAt', async () => {
    const clock = useClock(T0)
    const store = memoryStore()
    await store.set('s1', record('u1'), { expiresAt: T0 + HOUR, sub: 'u1' })
    clock.set(T0 + HOUR - 1)
    expect(await store.get('s1')).toEqual(record('u1'))
    clock.set(T0 + HOUR)
    expect(await store.get('s1')).toBeNull()
    expect(store.size).toBe(0)
  })

  it('an update at exactly expiresAt finds no record, and writes none', async () => {
    const clock = useClock(T0)
    const store = memoryStore()
    await store.set('s1', record('u1'), { expiresAt: T0 + HOUR, sub: 'u1' })
    clock.set(T0 + HOUR)
    let runs = 0
    const result = await store.update('s1', (current) => (runs++, current), { expiresAt: T0 + 2 * HOUR, sub: 'u1' })
    expect(result).toBeNull()
    expect(runs).toBe(0)
    expect(await store.get('s1')).toBeNull()
  })

  it('an update writes the expiry it is given: a record moved later outlives its old end', async () => {
    const clock = useClock(T0)
    const store = memoryStore()
    await store.set('s1', record('u1', { n: 1 }), { expiresAt: T0 + HOUR, sub: 'u1' })
    await store.update('s1', (current) => ({ ...current, n: 2 }), { expiresAt: T0 + 2 * HOUR, sub: 'u1' })
    clock.set(T0 + HOUR)
    expect(await store.get('s1')).toEqual(record('u1', { n: 2 }))
    clock.set(T0 + 2 * HOUR)
    expect(await store.get('s1')).toBeNull()
  })
})

describe('memoryStore: the sweep of expired records', () => {
  afterEach(restoreClock)

  it('every 100th write removes the records expired by then (expiresAt reached), unread ones included', async () => {
    const clock = useClock(T0)
    const store = memoryStore()
    const live = { expiresAt: T0 + HOUR, sub: 'u1' }
    // Write 1: a record that ends at T0 + 10 and is never read again.
    await store.set('short', record('u1'), { expiresAt: T0 + 10, sub: 'u1' })
    // Writes 2..99.
    for (let i = 2; i < 100; i++) await store.set(`live-${i}`, record('u1'), live)
    // Exactly at its end: expired.
    clock.set(T0 + 10)
    expect(store.size).toBe(99)
    // Write 100 sweeps.
    await store.set('live-100', record('u1'), live)
    expect(store.size).toBe(99)
    expect(await store.get('short')).toBeNull()
  })
})

describe('memoryStore: update', () => {
  afterEach(restoreClock)

  it('returns a copy of the new record: changing the object `change` returned changes neither the result nor the store', async () => {
    const store = memoryStore()
    const options = { expiresAt: Date.now() + HOUR, sub: 'u1' }
    await store.set('s1', record('u1', { n: 1 }), options)
    const produced: StoredSession = record('u1', { n: 2 })
    const result = await store.update('s1', () => produced, options)
    produced.n = 99
    expect(result).toEqual(record('u1', { n: 2 }))
    expect(await store.get('s1')).toEqual(record('u1', { n: 2 }))
  })

  it('gives up after 100 attempts when every `change` is overtaken by another write, and rejects', async () => {
    const store = memoryStore()
    const options = { expiresAt: Date.now() + HOUR, sub: 'u1' }
    await store.set('s1', record('u1', { n: 0 }), options)
    let runs = 0
    const update = store.update(
      's1',
      async (current) => {
        runs++
        // Another writer replaces the record while this change runs, every time.
        await store.set('s1', record('u1', { n: runs * 100 }), options)
        return { ...current, n: -1 }
      },
      options,
    )
    await expect(update).rejects.toThrow(/100 update attempts/)
    expect(runs).toBe(100)
    // None of the overtaken changes was written.
    expect(await store.get('s1')).toEqual(record('u1', { n: 10_000 }))
  })

  it('keeps the session under its user when the updated record has no usable user.sub (not a string, or user null)', async () => {
    const store = memoryStore()
    const options = { expiresAt: Date.now() + HOUR, sub: 'a' }
    for (const [sid, user] of [
      ['numeric-sub', { sub: 7 }],
      ['null-user', null],
    ] as const) {
      await store.set(sid, record('a'), options)
      // The caller passes a different `sub`: the record's previous user still owns it.
      await expect(
        store.update(sid, (current) => ({ ...current, user }), { ...options, sub: 'other' }),
      ).resolves.toEqual({ user })
    }
    expect(await store.deleteByUser('a')).toBe(2)
    expect(await store.get('numeric-sub')).toBeNull()
    expect(await store.get('null-user')).toBeNull()
  })
})

describe('memoryStore: deleteByUser', () => {
  afterEach(restoreClock)

  it('removes the expired sessions of the user too, but counts only those still live', async () => {
    const clock = useClock(T0)
    const store = memoryStore()
    await store.set('live', record('a'), { expiresAt: T0 + 2 * HOUR, sub: 'a' })
    await store.set('ended', record('a'), { expiresAt: T0 + HOUR, sub: 'a' })
    clock.set(T0 + HOUR)
    expect(store.size).toBe(2)
    expect(await store.deleteByUser('a')).toBe(1)
    expect(store.size).toBe(0)
  })
})
