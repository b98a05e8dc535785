/**
 * Test helpers for apps that use hono-edge-session: mint a valid session cookie without going
 * through your sign-in flow.
 * @module
 */
import { Hono } from 'hono'
import { edgeSession } from '../middleware/edge-session.js'
import { createSession } from '../session.js'
import type { EdgeSessionOptions, SessionClaims, SessionData, SessionInput } from '../types.js'

/** What {@link mintSessionCookie} needs: the same options as the app's middleware, plus the data. */
export type MintOptions<Claims extends object = SessionClaims> = Omit<EdgeSessionOptions<Claims>, 'onboarding'> & {
  /** The session to create: `{ user: { sub }, ...claims }`. */
  data: SessionInput<Claims>
  /** Bindings for a `secret` given as a function of the context (`c.env.SESSION_SECRET`). */
  env?: object
}

/** A minted session. */
export interface MintedSession<Claims extends object = SessionClaims> {
  /** Ready for a request's `Cookie` header. */
  readonly cookie: string
  /** The `Set-Cookie` lines the middleware wrote. */
  readonly setCookie: readonly string[]
  /** The session as `getSession` will return it. */
  readonly session: SessionData<Claims>
}

/**
 * Creates a session exactly as `createSession` does in your app (it runs the real middleware)
 * and returns it as a Cookie header. Pass the same `secret`, `cookie`, `duration` and `store`
 * options as your app.
 *
 * @example
 * ```ts
 * import { mintSessionCookie } from 'hono-edge-session/testing'
 *
 * const { cookie } = await mintSessionCookie({
 *   secret: TEST_SECRET,
 *   data: { user: { sub: 'u1' }, onboardingStep: 'COMPLETED' },
 * })
 * const res = await app.request('/explore', { headers: { cookie } }, env)
 * ```
 */
export async function mintSessionCookie<Claims extends object = SessionClaims>(
  options: MintOptions<Claims>,
): Promise<MintedSession<Claims>> {
  const { data, env, ...middlewareOptions } = options
  const app = new Hono()
  let session: SessionData<Claims> | undefined
  let failure: { error: unknown } | undefined
  // Rethrown as is (SessionInvalidError, SessionConfigError, ...), and kept off Hono's default console.error.
  app.onError((error, c) => {
    failure = { error }
    return c.body(null, 500)
  })
  app.use(edgeSession({ ...middlewareOptions, onboarding: false } as EdgeSessionOptions<Claims>))
  app.post('/', async (c) => {
    session = await createSession<Claims>(c, data)
    return c.body(null, 204)
  })
  const res = await app.request('/', { method: 'POST' }, env)
  if (failure) throw failure.error
  if (res.status !== 204 || !session) throw new Error(`mintSessionCookie failed: ${res.status} ${await res.text()}`)
  const setCookie = res.headers.getSetCookie()
  const cookie = setCookie
    .filter((line) => !/;\s*Max-Age=0(;|$)/i.test(line))
    .map((line) => line.slice(0, line.indexOf(';')))
    .join('; ')
  return { cookie, setCookie, session }
}
