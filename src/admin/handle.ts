/**
 * The opaque id of a listed session. Never the session id: a page of devices, a log line or an
 * admin tool that shows it must give nobody a way to present that session.
 * @module
 */
import { encode as base64url } from '../codec/base64url.js'

// Domain separation: this digest is used for nothing else.
const LABEL = new TextEncoder().encode('hono-edge-session/session-handle\0')
// 128 bits: unique among any user's sessions, and as hard to guess as the id itself.
const HANDLE_BYTES = 16

/**
 * A one-way digest of the session id. The id is 128 random bits, so the digest cannot be turned
 * back into it, and no key is needed: code with only the store (a queue consumer) computes the
 * same handle as the middleware.
 */
export async function sessionHandle(sid: string): Promise<string> {
  const id = new TextEncoder().encode(sid)
  const input = new Uint8Array(LABEL.length + id.length)
  input.set(LABEL)
  input.set(id, LABEL.length)
  const digest = await crypto.subtle.digest('SHA-256', input)
  return base64url(new Uint8Array(digest, 0, HANDLE_BYTES))
}
