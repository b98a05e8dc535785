/**
 * Session data must be plain JSON: what `getSession` returns after an update must be exactly
 * what the next request decrypts. This check runs on every write (and the schema on reads too).
 * @module
 */
import { type SessionIssue, SessionInvalidError } from '../errors.js'
import type { StandardSchemaV1 } from '../schema.js'
import type { JsonValue } from '../types.js'
import { type RecordFields, type SessionRecord, isPlainObject } from './record.js'

/** Keys the middleware owns; a caller's values for them are dropped. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['internal', 'lastPath', 'lastVisit'])
const MAX_DEPTH = 32
// Strings must be well-formed Unicode. RFC 8259 leaves lone surrogates' behaviour open, and
// workerd's JSON.stringify was seen sealing a lone-surrogate key as a bare backslash (about one
// generated run in six), so a session would come back changed. In `u` mode a pair matches as one
// code point, so this matches unpaired surrogates only.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u
const nativeIsWellFormed = (String.prototype as { isWellFormed?: (this: string) => boolean }).isWellFormed
/** `String.prototype.isWellFormed` where the runtime has it (O(1) for the usual one-byte string), else the regex. */
const isWellFormed: (text: string) => boolean = nativeIsWellFormed
  ? (text) => nativeIsWellFormed.call(text)
  : (text) => !LONE_SURROGATE.test(text)
const MAX_NODES = 100_000
// A key JSON.stringify must escape: a quote, a backslash or U+0000-U+001F. JSON.parse in workerd
// and Deno can read such a key back as another (a `"` key as `\` once the isolate has parsed a
// same-shaped object whose key was a backslash), so the session would come back changed. Refused
// on every runtime: a cookie written on one may be read on another.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
const ESCAPED_KEY = /["\\\u0000-\u001F]/
const ESCAPED_KEY_MESSAGE =
  'this key holds a quote, a backslash or a control character: JSON.parse on Workers and Deno can read such a key back altered'

/**
 * Returns a deep JSON copy of `input` without the reserved keys, checked against `schema`.
 * Throws {@link SessionInvalidError} listing every problem.
 *
 * @example
 * ```ts
 * const fields = await toSessionRecord({ user: { sub: 'u1' }, plan: 'pro' }, undefined)
 * ```
 */
export async function toSessionRecord(input: unknown, schema: StandardSchemaV1 | undefined): Promise<RecordFields> {
  assertPlainObject(input)
  const walk = newWalk(undefined)
  return schema ? schemaChecked(input, schema, walk) : checkedFields(input, walk)
}

/**
 * {@link toSessionRecord} of an update of `current`, in the same walk that compares the copy with
 * `current`: `null` when the user and claims come out equal to `current`'s (`internal` aside,
 * members in any order), so an unchanged update writes nothing. Synchronous without a schema.
 * Throws {@link SessionInvalidError} for bad data: at once, or (with a schema) as the rejection.
 *
 * @example
 * ```ts
 * const fields = toUpdatedFields({ ...current, plan: 'pro' }, undefined, current)
 * if (fields === null) return // nothing changed
 * ```
 */
export function toUpdatedFields(
  input: unknown,
  schema: StandardSchemaV1 | undefined,
  current: SessionRecord,
): RecordFields | null | Promise<RecordFields | null> {
  assertPlainObject(input)
  const walk = newWalk(current)
  if (!schema) {
    const fields = checkedFields(input, walk)
    return walk.same ? null : fields
  }
  return schemaChecked(input, schema, walk).then((fields) => (walk.same ? null : fields))
}

/** Throws {@link SessionInvalidError} unless a caller's `input` is a plain object. */
function assertPlainObject(input: unknown): void {
  if (!isPlainObject(input))
    throw new SessionInvalidError([{ message: 'session data must be a plain object: { user: { sub }, ...claims }' }])
}

/** `input` checked, then passed through `schema`; `walk` copies (and compares) the schema's output once it is accepted. */
async function schemaChecked(input: unknown, schema: StandardSchemaV1, walk: Walk): Promise<RecordFields> {
  const record = checkedFields(input, newWalk(undefined))
  const result = await schema['~standard'].validate(record)
  if (result.issues) throw new SessionInvalidError(result.issues.map(toIssue))
  // The schema may transform; its output must be JSON as well.
  const output = checkedFields(result.value, newWalk(undefined))
  // Reads check what was written against the same schema: an output it refuses (a transform
  // that is not idempotent, string -> array) would sign the user out on the next request.
  const reread = await schema['~standard'].validate(output)
  if (reread.issues)
    throw new SessionInvalidError(
      reread.issues.map((issue) => {
        const { message, path } = toIssue(issue)
        const explained = `${message} (in the schema's own output: reads check the stored session against the schema, so it must accept what it returns)`
        return path ? { message: explained, path } : { message: explained }
      }),
    )
  // What is kept (and compared with the record it replaces) is copied once the schema is done with
  // `output`: a schema that holds, freezes or changes what it was handed cannot reach the session.
  return checkedFields(output, walk)
}

/** A checked copy of a record's fields; throws {@link SessionInvalidError} listing every problem. */
function checkedFields(input: unknown, walk: Walk): RecordFields {
  const record = checkedCopy(input, walk, walk.base, true)
  const { issues } = walk
  if (issues.length > 0 || !hasUser(record, issues)) throw new SessionInvalidError(issues)
  return record
}

/**
 * Whether a record read back from a cookie or store still passes the schema.
 *
 * @example
 * ```ts
 * if (!(await passesSchema(record, schema))) refuse('schema')
 * ```
 */
export async function passesSchema(record: SessionRecord, schema: StandardSchemaV1): Promise<boolean> {
  const { internal: _internal, ...input } = record
  const result = await schema['~standard'].validate(input)
  return !result.issues
}

function toIssue(issue: StandardSchemaV1.Issue): SessionIssue {
  const path = issue.path?.map((p) => (typeof p === 'object' ? p.key : p))
  return path ? { message: issue.message, path } : { message: issue.message }
}

/** Whether the copy has a `user` with a non-empty `sub`; what is wrong goes into `issues`. */
function hasUser(record: JsonValue | undefined, issues: SessionIssue[]): record is RecordFields {
  const user = isPlainObject(record) ? record.user : undefined
  if (!isPlainObject(user)) {
    issues.push({ message: 'is required: { sub: string, ... }', path: ['user'] })
    return false
  }
  if (typeof user.sub === 'string' && user.sub.length > 0) return true
  issues.push({ message: 'must be a non-empty string', path: ['user', 'sub'] })
  return false
}

/**
 * One walk over a caller's value: the path to the value being copied (a stack, copied only into
 * an issue), the objects on it (a cycle), a count of values visited (shared references would
 * otherwise make the walk exponential, `a.l = a.r = a`, and hang the isolate), and what is wrong.
 * With a `base` (the record an update replaces) the same walk compares the copy with it, value
 * for value: `same` turns false at the first difference and the comparing stops there.
 * Nothing is allocated per value but the copy and each object's key list (twice when compared):
 * this runs on every update.
 */
interface Walk {
  readonly path: PropertyKey[]
  readonly ancestors: object[]
  nodes: number
  readonly issues: SessionIssue[]
  readonly base: SessionRecord | undefined
  same: boolean
}

function newWalk(base: SessionRecord | undefined): Walk {
  return { path: [], ancestors: [], nodes: 0, issues: [], base, same: base !== undefined }
}

function report(walk: Walk, message: string, key?: PropertyKey): undefined {
  walk.issues.push({ message, path: key === undefined ? [...walk.path] : [...walk.path, key] })
  return undefined
}

/** A checked copy of `value`, compared with `base` (its counterpart in the walk's base) while `walk.same` holds. */
function checkedCopy(value: unknown, walk: Walk, base: unknown, top = false): JsonValue | undefined {
  if (++walk.nodes > MAX_NODES)
    return walk.nodes === MAX_NODES + 1 ? report(walk, `has more than ${MAX_NODES} values`) : undefined
  // The ancestors are at most MAX_DEPTH: a scan is cheaper than hashing into a Set.
  if (typeof value === 'object' && value !== null && walk.ancestors.includes(value))
    return report(walk, 'is a circular reference')
  if (walk.path.length > MAX_DEPTH) return report(walk, `nests deeper than ${MAX_DEPTH} levels`)
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value)) return report(walk, 'is not well-formed Unicode (a lone surrogate)')
      break
    case 'boolean':
      break
    case 'number':
      if (!Number.isFinite(value)) return report(walk, `${value} is not a JSON number`)
      // -0 is written as 0 in JSON: show 0 now, as the next request will.
      if (value === 0) value = 0
      break
    case 'object':
      if (value === null) break
      if (Array.isArray(value)) return copyArray(value, walk, base)
      if (!isPlainObject(value))
        return report(walk, `${value.constructor?.name ?? 'this object'} is not a plain JSON object`)
      return copyObject(value, walk, base, top)
    default:
      return report(walk, `a ${typeof value} is not JSON`)
  }
  // A string, boolean, finite number or null: equal exactly when the same primitive (0 === -0).
  if (value !== base) walk.same = false
  return value as JsonValue
}

/** {@link checkedCopy} of an array: each item checked, and none dropped (an undefined one is refused). */
function copyArray(value: unknown[], walk: Walk, base: unknown): JsonValue[] {
  const { path, ancestors } = walk
  const out: JsonValue[] = []
  const others = walk.same && Array.isArray(base) && base.length === value.length ? base : undefined
  if (!others) walk.same = false
  ancestors.push(value)
  for (let i = 0; i < value.length; i++) {
    path.push(i)
    // JSON.stringify would write null here; refused instead, so nothing changes silently.
    const item =
      value[i] === undefined ? report(walk, 'undefined is not JSON') : checkedCopy(value[i], walk, others?.[i])
    path.pop()
    out.push(item ?? null)
  }
  ancestors.pop()
  return out
}

/**
 * {@link checkedCopy} of a plain object: reserved keys dropped at the top, undefined values
 * omitted. Equal to `base` when it has the same members with equal values (at the top, its
 * `internal` left out).
 */
function copyObject(
  value: Record<string, unknown>,
  walk: Walk,
  base: unknown,
  top: boolean,
): { [key: string]: JsonValue } {
  const { path, ancestors } = walk
  const out: { [key: string]: JsonValue } = {}
  const others = walk.same && isPlainObject(base) ? base : undefined
  if (!others) walk.same = false
  let count = 0
  ancestors.push(value)
  for (const key of Object.keys(value)) {
    if (top && RESERVED_KEYS.has(key)) continue
    if (!isWellFormed(key)) {
      report(walk, 'this key is not well-formed Unicode (a lone surrogate)', key)
      continue
    }
    const item = value[key]
    // An undefined property is an omitted one, as in JSON.stringify: `{ ...s, flag: undefined }` removes `flag`.
    if (item === undefined) continue
    // Only a key that is written: an undefined member is how a caller drops one stored before.
    if (ESCAPED_KEY.test(key)) {
      report(walk, ESCAPED_KEY_MESSAGE, key)
      continue
    }
    // Assigning it would set the copy's prototype instead of a key: refuse rather than lose it.
    if (key === '__proto__') {
      report(walk, '"__proto__" is not allowed as a key', key)
      continue
    }
    if (walk.same && !Object.hasOwn(others as object, key)) walk.same = false
    path.push(key)
    const copied = checkedCopy(item, walk, walk.same ? others?.[key] : undefined)
    path.pop()
    if (copied !== undefined) {
      out[key] = copied
      count++
    }
  }
  ancestors.pop()
  if (walk.same && others && count !== Object.keys(others).length - (top && Object.hasOwn(others, 'internal') ? 1 : 0))
    walk.same = false
  return out
}
