/**
 * Which session state belongs to which request: a property of the Hono context under a symbol
 * only this module holds. It stays out of `c.var` (nothing else can replace it) and goes with the
 * context, and costs a property read per lookup (a WeakMap costs more per request, and GC work).
 * @module
 */
import type { Context } from 'hono'
import { SessionNotMountedError } from '../errors.js'
import type { SessionState } from './session-state.js'

const STATE = Symbol('hono-edge-session.state')

type WithState = Context & { [STATE]?: SessionState }

/**
 * Makes `state` the session state of the request `c` (the middleware does, once per request).
 *
 * @example
 * ```ts
 * attachSessionState(c, new SessionState(resolved, keyring, c))
 * ```
 */
export function attachSessionState(c: Context, state: SessionState): void {
  ;(c as WithState)[STATE] = state
}

/**
 * The request's session state; throws {@link SessionNotMountedError} without the middleware.
 *
 * @example
 * ```ts
 * const signedIn = getSessionState(c).signedIn
 * ```
 */
export function getSessionState(c: Context): SessionState {
  const state = (c as WithState)[STATE]
  if (!state) throw new SessionNotMountedError()
  return state
}
