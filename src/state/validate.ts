/**
 * Session data must be plain JSON: what `getSession` returns after an update must be exactly
 * what the next request decrypts. This check runs on every write (and the schema on reads too).
 * @module
 */
import { type SessionIssue, SessionInvalidError } from '../errors.js'
import type { StandardSchemaV1 } from '../schema.js'
import type { StoredSession } from '../stores/types.js'
import type { JsonValue } from '../types.js'

/** Keys the middleware owns; a caller's values for them are dropped. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['internal', 'lastPath', 'lastVisit'])
const MAX_DEPTH = 32
// Strings must be well-formed Unicode. RFC 8259 leaves lone surrogates' behaviour open, and
// workerd's JSON.stringify was seen sealing a lone-surrogate key as a bare backslash (about one
// generated run in six), so a session would come back changed. In `u` mode a pair matches as one
// code point, so this matches unpaired surrogates only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const MAX_NODES = 100_000

/**
 * Returns a deep JSON copy of `input` without the reserved keys, checked against `schema`.
 * Throws {@link SessionInvalidError} listing every problem.
 */
export async function toSessionRecord(input: unknown, schema: StandardSchemaV1 | undefined): Promise<StoredSession> {
  if (!isPlainObject(input)) throw new SessionInvalidError([{ message: 'session data must be a plain object: { user: { sub }, ...claims }' }])
  const issues: SessionIssue[] = []
  let record = copyJson(input, [], issues, true)
  if (issues.length === 0) checkUser(record, issues)
  if (issues.length > 0) throw new SessionInvalidError(issues)
  if (schema) {
    const result = await schema['~standard'].validate(record)
    if (result.issues) throw new SessionInvalidError(result.issues.map(toIssue))
    // The schema may transform; its output must be JSON as well.
    record = copyJson(result.value, [], issues, true)
    if (issues.length === 0) checkUser(record, issues)
    if (issues.length > 0) throw new SessionInvalidError(issues)
  }
  return record as StoredSession
}

/** Whether a record read back from a cookie or store still passes the schema. */
export async function passesSchema(record: StoredSession, schema: StandardSchemaV1): Promise<boolean> {
  const { internal: _internal, ...input } = record
  const result = await schema['~standard'].validate(input)
  return !result.issues
}

/** Whether a record read back has the shape every session has. */
export function isSessionRecord(value: unknown): value is StoredSession {
  if (!isPlainObject(value)) return false
  const { user, internal } = value as Record<string, unknown>
  if (!isPlainObject(user) || typeof (user as Record<string, unknown>).sub !== 'string') return false
  if (!isPlainObject(internal)) return false
  const { sid, createdAt, updatedAt, expiresAt } = internal as Record<string, unknown>
  // Three plain checks, not `[...].every(...)`: this runs on every signed-in request.
  return typeof sid === 'string' && isFiniteNumber(createdAt) && isFiniteNumber(updatedAt) && isFiniteNumber(expiresAt)
}

function isFiniteNumber(value: unknown): boolean {
  return typeof value === 'number' && Number.isFinite(value)
}

function toIssue(issue: StandardSchemaV1.Issue): SessionIssue {
  const path = issue.path?.map((p) => (typeof p === 'object' ? p.key : p))
  return path ? { message: issue.message, path } : { message: issue.message }
}

function checkUser(record: JsonValue | undefined, issues: SessionIssue[]): void {
  const user = isPlainObject(record) ? (record as Record<string, JsonValue>).user : undefined
  if (!isPlainObject(user)) issues.push({ message: 'is required: { sub: string, ... }', path: ['user'] })
  else {
    const sub = (user as Record<string, JsonValue>).sub
    if (typeof sub !== 'string' || sub.length === 0) issues.push({ message: 'must be a non-empty string', path: ['user', 'sub'] })
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

function copyJson(
  value: unknown,
  path: PropertyKey[],
  issues: SessionIssue[],
  top = false,
  // Objects on the current path (a cycle) and a count of nodes visited: shared references
  // would otherwise make the walk exponential (`a.l = a.r = a`) and hang the isolate.
  walk: { ancestors: Set<object>; nodes: number } = { ancestors: new Set(), nodes: 0 },
): JsonValue | undefined {
  if (++walk.nodes > MAX_NODES) {
    if (walk.nodes === MAX_NODES + 1) issues.push({ message: `has more than ${MAX_NODES} values`, path })
    return undefined
  }
  if (typeof value === 'object' && value !== null && walk.ancestors.has(value)) {
    issues.push({ message: 'is a circular reference', path })
    return undefined
  }
  if (path.length > MAX_DEPTH) {
    issues.push({ message: `nests deeper than ${MAX_DEPTH} levels`, path })
    return undefined
  }
  switch (typeof value) {
    case 'string':
      if (LONE_SURROGATE.test(value)) {
        issues.push({ message: 'is not well-formed Unicode (a lone surrogate)', path })
        return undefined
      }
      return value
    case 'boolean':
      return value
    case 'number':
      // -0 is written as 0 in JSON: show 0 now, as the next request will.
      if (Number.isFinite(value)) return value === 0 ? 0 : value
      issues.push({ message: `${value} is not a JSON number`, path })
      return undefined
    case 'object': {
      if (value === null) return null
      if (Array.isArray(value)) {
        const out: JsonValue[] = []
        walk.ancestors.add(value)
        for (let i = 0; i < value.length; i++) {
          const item = copyJson(value[i], [...path, i], issues, false, walk)
          if (item === undefined && value[i] === undefined) issues.push({ message: 'undefined is not JSON', path: [...path, i] })
          out.push(item ?? null)
        }
        walk.ancestors.delete(value)
        return out
      }
      if (!isPlainObject(value)) {
        issues.push({ message: `${value.constructor?.name ?? 'this object'} is not a plain JSON object`, path })
        return undefined
      }
      const out: { [key: string]: JsonValue } = {}
      walk.ancestors.add(value)
      for (const key of Object.keys(value)) {
        if (top && RESERVED_KEYS.has(key)) continue
        if (LONE_SURROGATE.test(key)) {
          issues.push({ message: 'this key is not well-formed Unicode (a lone surrogate)', path: [...path, key] })
          continue
        }
        const item = value[key]
        // An undefined property is an omitted one, as in JSON.stringify: `{ ...s, flag: undefined }` removes `flag`.
        if (item === undefined) continue
        // Assigning it would set the copy's prototype instead of a key: refuse rather than lose it.
        if (key === '__proto__') {
          issues.push({ message: '"__proto__" is not allowed as a key', path: [...path, key] })
          continue
        }
        const copied = copyJson(item, [...path, key], issues, false, walk)
        if (copied !== undefined) out[key] = copied
      }
      walk.ancestors.delete(value)
      return out
    }
    default:
      issues.push({ message: `a ${typeof value} is not JSON`, path })
      return undefined
  }
}
