/**
 * Which session state belongs to which request. A WeakMap keyed by the Hono context keeps the
 * state out of `c.var` (nothing else can replace it) and lets it go with the context.
 * @module
 */
import type { Context } from 'hono'
import { SessionNotMountedError } from '../errors.js'
import type { SessionState } from './session-state.js'

const states = new WeakMap<Context, SessionState>()

export function attachSessionState(c: Context, state: SessionState): void {
  states.set(c, state)
}

/** The request's session state; throws {@link SessionNotMountedError} without the middleware. */
export function getSessionState(c: Context): SessionState {
  const state = states.get(c)
  if (!state) throw new SessionNotMountedError()
  return state
}
