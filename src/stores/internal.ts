/**
 * Helpers shared by the built-in stores (not exported from the package).
 * @module
 */
import type { StoredSession } from './types.js'

/** Compare-and-set attempts before an update gives up (the middleware then throws SessionStoreError). */
export const MAX_UPDATE_ATTEMPTS = 100

/** `user.sub` of a record: an update may change the user, and the by-user index must follow. */
export function subOf(record: StoredSession): string | undefined {
  const user = record.user
  return typeof user === 'object' && user !== null && !Array.isArray(user) && typeof user.sub === 'string'
    ? user.sub
    : undefined
}

/** A short random pause, growing with the attempt, so competing writers stop colliding. */
export function pause(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)))
}

export function parseRecord(json: string): StoredSession {
  return JSON.parse(json) as StoredSession
}
