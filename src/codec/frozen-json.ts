/**
 * JSON values as the session keeps them. Values parsed from a token are shared through the
 * isolate cache (src/codec/token-cache.ts), so they are frozen; whoever hands them out gives a copy;
 * and an update is compared with what it replaces member by member, never by serializing both.
 * @module
 */

/**
 * Freezes a value JSON.parse built, all the way down, and returns it.
 *
 * @example
 * ```ts
 * const payload = deepFreeze(JSON.parse(text))
 * ```
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value
  for (const item of Object.values(value)) deepFreeze(item)
  return Object.freeze(value)
}

/**
 * A deep, unfrozen copy of JSON data (plain objects, arrays, strings, finite numbers, booleans,
 * null), as `JSON.parse(JSON.stringify(value))` would build it, without a string in between: undefined members
 * are dropped and undefined array items become null, as JSON.stringify writes them.
 *
 * @example
 * ```ts
 * const mine = copyJson(shared) // change it freely
 * ```
 */
export function copyJson<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value
  if (Array.isArray(value)) {
    const list = new Array<unknown>(value.length)
    for (let i = 0; i < value.length; i++) list[i] = copyJson(value[i]) ?? null
    return list as T
  }
  const source = value as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(source)) {
    const item = copyJson(source[key])
    if (item === undefined) continue
    // An own "__proto__" key (JSON.parse makes one) must stay a key, not become the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value: item, writable: true, enumerable: true, configurable: true })
    else out[key] = item
  }
  return out as T
}

/**
 * Whether two JSON values are equal: the same members with equal values, whatever their order.
 * Stops at the first difference.
 *
 * @example
 * ```ts
 * equalJson({ a: 1, b: [2] }, { b: [2], a: 1 }) // true
 * ```
 */
export function equalJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!equalJson(a[i], b[i])) return false
    return true
  }
  return !Array.isArray(b) && equalMembers(a as Record<string, unknown>, b as Record<string, unknown>, undefined)
}

/**
 * Whether two JSON objects have equal members, `except` one key (compared by neither side).
 *
 * @example
 * ```ts
 * equalMembers({ a: 1, id: 'x' }, { a: 1, id: 'y' }, 'id') // true
 * ```
 */
export function equalMembers(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
  except: string | undefined,
): boolean {
  const keys = Object.keys(a)
  let count = 0
  for (const key of keys) {
    if (key === except) continue
    if (!Object.hasOwn(b, key) || !equalJson(a[key], b[key])) return false
    count++
  }
  return count === Object.keys(b).length - (except !== undefined && Object.hasOwn(b, except) ? 1 : 0)
}
