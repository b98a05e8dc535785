import { describe, expect, it } from 'vitest'
import { memoryStore } from '../../../src'
import { describeStoreBehaviour } from '../../helpers/store-behaviour'
import { deferred } from '../../helpers/stores'

describeStoreBehaviour('memory', () => memoryStore())

const HOUR = 60 * 60 * 1000
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
    await store.update('s1', (current) => ({ ...current, user: { sub: 'b' } }), { expiresAt: Date.now() + HOUR, sub: 'a' })
    expect(await store.deleteByUser('b')).toBe(1)
    expect(await store.get('s1')).toBeNull()
  })
})
