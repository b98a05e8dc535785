/**
 * hono-edge-session: encrypted sessions for Hono on Cloudflare Workers and any Web-standard
 * runtime, updatable from the server and visible to downstream handlers at once.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { edgeSession, getSession, updateSession } from 'hono-edge-session'
 *
 * const app = new Hono<{ Bindings: { SESSION_SECRET: string } }>()
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, onboarding: {} }))
 * app.post('/onboarding/finish', async (c) => {
 *   await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
 *   return c.redirect('/explore', 303)
 * })
 * ```
 * @module
 */
export { edgeSession } from './middleware/edge-session.js'
export { onboardingGate, createGate, safeRedirectPath } from './middleware/gate/index.js'
export type { GateDecision } from './middleware/gate/index.js'
export { isHtmlNavigation, isPageNavigation } from './middleware/activity/index.js'
export {
  getSession,
  createSession,
  updateSession,
  destroySession,
  destroyUserSessions,
  isSessionUnreadable,
} from './session.js'
export * from './admin/index.js'
export {
  SessionError,
  SessionConfigError,
  SessionNotMountedError,
  SessionMissingError,
  SessionInvalidError,
  SessionTooLargeError,
  SessionCommittedError,
  SessionStoreError,
  SessionUnsupportedError,
} from './errors.js'
export type { SessionErrorCode, SessionIssue, StoreWriteOutcome } from './errors.js'
export type {
  JsonValue,
  SessionUser,
  SessionInternal,
  SessionDevice,
  SessionClaims,
  SessionData,
  SessionInput,
  SecretInput,
  SessionCookieOptions,
  SessionDurationOptions,
  PathRule,
  OnboardingOptions,
  ActivityOptions,
  InvalidReason,
  EdgeSessionOptions,
} from './types.js'
export type { StandardSchemaV1 } from './schema.js'
export type {
  SessionStore,
  StoreDeleteOptions,
  StoredSession,
  StoreTouchOptions,
  StoreWriteOptions,
  UserSessionRecord,
} from './stores/types.js'
export * from './stores/index.js'
