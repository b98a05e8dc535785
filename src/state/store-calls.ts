/**
 * A request's calls to its session store, under one time budget: every store call of a request
 * shares one `storeTimeout`, so a hung store holds a request (a sign-out after the read, say) once,
 * not once per call. A write the store can settle keeps a reserve of that time for asking it
 * afterwards whether the write landed; failures come back as {@link SessionStoreError}s that say
 * whether anything was written.
 * @module
 */
import { encode as base64url } from '../codec/base64url.js'
import { SessionError, SessionStoreError, type StoreWriteOutcome } from '../errors.js'
import type { SessionStore, StoredSession } from '../stores/types.js'

// Names one store write, so that a write given up on can be refused if it arrives late.
const WRITE_ID_BYTES = 12
// A write that can be settled leaves this fraction of storeTimeout for the settle call.
const SETTLE_RESERVE_DIVISOR = 5

/** Carries an error thrown by the caller's update function through a store's `update`, unwrapped by {@link StoreCalls.write}. */
export class CallerError {
  constructor(readonly error: unknown) {}
}

/**
 * Rethrows the caller's own error that {@link CallerError} carried, or `error` itself.
 *
 * @example
 * ```ts
 * try {
 *   await changeRecord()
 * } catch (error) {
 *   unwrapCallerError(error)
 * }
 * ```
 */
export function unwrapCallerError(error: unknown): never {
  throw error instanceof CallerError ? error.error : error
}

/** A store call the request had no store time left for: it never reached the store. */
class StoreTimeSpent extends Error {
  constructor(storeTimeoutMs: number) {
    super(`store calls of this request took their ${storeTimeoutMs} ms already`)
  }
}

/**
 * A fresh id for one store write (see `StoreWriteOptions.writeId`).
 *
 * @example
 * ```ts
 * await store.set(sid, record, { expiresAt, sub, writeId: writeId() })
 * ```
 */
export function writeId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(WRITE_ID_BYTES)))
}

/**
 * The error of a failed write, saying whether the store was changed.
 *
 * @example
 * ```ts
 * throw storeFailure(false, cause) // nothing was changed
 * ```
 */
export function storeFailure(written: StoreWriteOutcome, cause: unknown): SessionStoreError {
  const message =
    written === false
      ? 'The session store failed; nothing was changed.'
      : written === true
        ? 'The session store failed after ending the previous session; the new one was not written, so this request is signed out.'
        : 'The session store failed or timed out; whether the change was written is unknown.'
  return new SessionStoreError(message, { cause, written })
}

/**
 * One request's store calls. Made per request: the budget is this request's.
 *
 * @example
 * ```ts
 * const calls = new StoreCalls(store, 5000)
 * const record = await calls.call(() => store.get(sid))
 * await calls.write((signal) => store.delete(sid, { signal }))
 * ```
 */
export class StoreCalls {
  /** Store time left to this request, ms. */
  #budgetMs: number

  constructor(
    readonly store: SessionStore,
    private readonly timeoutMs: number,
  ) {
    this.#budgetMs = timeoutMs
  }

  /**
   * Runs a store call within what is left of the budget. A write that will be settled leaves
   * `reserveMs` of it for the settle. With nothing left the store is not called at all.
   */
  call<T>(call: () => Promise<T>, controller?: AbortController, reserveMs = 0): Promise<T> {
    const budget = this.#budgetMs
    const allowed = budget - reserveMs
    if (allowed <= 0) return Promise.reject(new StoreTimeSpent(this.timeoutMs))
    const started = Date.now()
    // Assigned synchronously by the executor below. Not `| undefined`: workers-types' clearTimeout refuses it.
    let timer!: ReturnType<typeof setTimeout>
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // A write's reserve stays for its settle.
        this.#budgetMs = reserveMs
        const error = new Error(`store calls of this request timed out after ${this.timeoutMs} ms`)
        controller?.abort(error)
        reject(error)
      }, allowed)
    })
    let promise: Promise<T>
    try {
      promise = call()
    } catch (error) {
      // A store that throws instead of rejecting failed all the same, never a 500.
      promise = Promise.reject(error)
    }
    return Promise.race([promise, timeout]).finally(() => {
      clearTimeout(timer)
      this.#budgetMs = Math.min(this.#budgetMs, budget - (Date.now() - started))
    })
  }

  /**
   * Runs a store write within the budget. The signal aborts on timeout, so a store that retries
   * (compare-and-set) stops instead of writing after the caller was told it failed. With `settle`
   * and a store that has one, the write leaves a fifth of `storeTimeout` for it: a hung store holds
   * the request one `storeTimeout` in all, settle included.
   */
  async write<T>(write: (signal: AbortSignal) => Promise<T>, settle?: (failure: unknown) => Promise<T>): Promise<T> {
    const controller = new AbortController()
    // Only a write whose outcome the store can tell keeps time back for asking it.
    const reserveMs = settle && this.store.settle ? this.timeoutMs / SETTLE_RESERVE_DIVISOR : 0
    try {
      return await this.call(() => write(controller.signal), controller, reserveMs)
    } catch (error) {
      if (error instanceof SessionError) throw error
      if (error instanceof CallerError) unwrapCallerError(error)
      // Never sent to the store: nothing was written.
      if (error instanceof StoreTimeSpent) throw storeFailure(false, error)
      // A failed or timed-out write may still land: `settle` finds out, or throws saying what is known.
      if (settle) return settle(error)
      throw storeFailure('unknown', error)
    }
  }

  /**
   * After a failed write: the record as the store holds it now that the write named `id` can no
   * longer land (`null`: none), or `undefined` when the store cannot tell (no `settle`, or it failed
   * too). Runs within what is left of the budget: at least the settle reserve after a write that
   * timed out.
   */
  async settled(sid: string, id: string): Promise<StoredSession | null | undefined> {
    const { store } = this
    const settle = store.settle
    if (!settle) return undefined
    try {
      return await this.call(() => settle.call(store, sid, id))
    } catch {
      return undefined
    }
  }

  /** A best-effort delete: never rejects (a record left behind still ends with its session). */
  deleteQuietly(sid: string): Promise<void> {
    return this.write(() => this.store.delete(sid)).then(
      () => undefined,
      () => undefined,
    )
  }
}

/**
 * A best-effort delete that outlives the response where the platform allows: on Workers the
 * response does not wait for it (waitUntil); elsewhere (Node, Bun, Deno, `app.request()` in tests)
 * it is returned to be awaited, so it is never dropped.
 *
 * @example
 * ```ts
 * const pending = deleteAfterResponse(calls, sid, c)
 * if (pending) await pending
 * ```
 */
export function deleteAfterResponse(
  calls: StoreCalls,
  sid: string,
  c: { readonly executionCtx: { waitUntil(promise: Promise<unknown>): void } },
): Promise<void> | undefined {
  const deletion = calls.deleteQuietly(sid)
  let context: { waitUntil(promise: Promise<unknown>): void } | undefined
  try {
    context = c.executionCtx
  } catch {
    // No ExecutionContext: awaited instead.
  }
  if (!context) return deletion
  context.waitUntil(deletion)
  return undefined
}
