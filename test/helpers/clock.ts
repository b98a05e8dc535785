/**
 * The tests' one fake clock. Only `Date` is faked: store timeouts, promises, crypto and workerd's
 * own timers keep running for real. {@link T0} is fixed so that sizes are deterministic: token
 * iat/exp have 10 digits, millisecond timestamps 13.
 */
import { afterEach, beforeEach, vi } from 'vitest'

export const T0 = Date.UTC(2030, 0, 15, 9, 0, 0)
export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE

export interface Clock {
  now(): number
  /** Moves the clock to the absolute time `ms`. */
  set(ms: number): void
  advance(ms: number): void
}

/** Fakes `Date` from `start` (default {@link T0}). Call {@link restoreClock} in afterEach. */
export function useClock(start: number = T0): Clock {
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(start)
  return {
    now: () => Date.now(),
    set: (ms) => vi.setSystemTime(ms),
    advance: (ms) => vi.setSystemTime(Date.now() + ms),
  }
}

export function restoreClock(): void {
  vi.useRealTimers()
}

/** Moves the faked clock to `ms` after {@link T0}. */
export function at(ms: number): void {
  vi.setSystemTime(T0 + ms)
}

/** {@link useClock} at {@link T0} before each test of the calling file or describe, {@link restoreClock} after. */
export function useFakeDate(): void {
  beforeEach(() => {
    useClock()
  })
  afterEach(restoreClock)
}
