/**
 * SessionDurableObject behaviour that durable-object.test.ts did not pin (mutation audit of
 * src/stores/durable-object.ts): a deleted id stays dead until the latest expiry it was known
 * with, however often it is deleted again.
 */
import { runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { uniqueSub } from '../../helpers/stores'

const HOUR = 60 * 60 * 1000
const sessionObject = (sid: string) => env.SESSION_DO.get(env.SESSION_DO.idFromName(`session:sid:${sid}`))
const tombstoneOf = (sid: string) => runInDurableObject(sessionObject(sid), (_, state) => state.storage.kv.get<number>('tombstone'))

describe('SessionDurableObject (mutants)', () => {
  it('a second delete (sign out everywhere after a sign-out) never shortens the tombstone', async () => {
    const sub = uniqueSub('tomb')
    const expiresAt = Date.now() + 8 * HOUR
    const object = sessionObject('tomb-twice')
    expect(await object.writeSession('{"user":{"sub":"x"}}', sub, expiresAt)).toBe(true)
    await object.deleteSession(expiresAt)
    expect(await tombstoneOf('tomb-twice')).toBe(expiresAt)
    // Without an expiry (the index did not know it), and with an earlier one.
    await object.deleteSession()
    await object.deleteSession(Date.now() + HOUR)
    expect(await tombstoneOf('tomb-twice')).toBe(expiresAt)
    expect(await object.writeSession('{"user":{"sub":"x"}}', sub, expiresAt)).toBe(false)
    expect(await object.readSession()).toBeNull()
  })
})
