/**
 * base64url without padding (RFC 4648 §5), strict on input: only the 64 URL-safe characters, no
 * padding, no whitespace, and canonical (the unused low bits of the last character are zero), so
 * a byte string has exactly one accepted encoding. Uses the runtime's native `Uint8Array` base64
 * (workerd, recent V8) for long input when present, a table loop otherwise; both accept exactly
 * the same inputs (test/any-runtime/codec/base64url.test.ts).
 * @module
 */

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
/** Character code -> 6-bit value, -1 for anything outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1)
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i
// Below this many characters the table loop is faster than the native call (measured in workerd).
const NATIVE_FROM = 64
const ENCODE_OPTIONS = { alphabet: 'base64url', omitPadding: true } as const
const DECODE_OPTIONS = { alphabet: 'base64url' } as const

type NativeEncode = (
  this: Uint8Array,
  options: { readonly alphabet: 'base64url'; readonly omitPadding: boolean },
) => string
type NativeDecode = (text: string, options: { readonly alphabet: 'base64url' }) => Uint8Array<ArrayBuffer>
const nativeEncode = (Uint8Array.prototype as { toBase64?: NativeEncode }).toBase64
const nativeDecode = (Uint8Array as { fromBase64?: NativeDecode }).fromBase64

/**
 * Encodes bytes as base64url without padding.
 *
 * @example
 * ```ts
 * encode(new Uint8Array([251, 255])) // '-_8'
 * ```
 */
export function encode(bytes: Uint8Array): string {
  return nativeEncode ? nativeEncode.call(bytes, ENCODE_OPTIONS) : encodeWithTable(bytes)
}

/**
 * Decodes strict base64url; `undefined` for anything else (never throws).
 *
 * @example
 * ```ts
 * decode('-_8')  // Uint8Array [251, 255]
 * decode('-_9')  // undefined: not canonical
 * decode('-_8=') // undefined: padding
 * ```
 */
export function decode(text: string): Uint8Array<ArrayBuffer> | undefined {
  // The native call has a fixed cost that the table loop beats on short input (IVs, tags, headers).
  if (!nativeDecode || text.length < NATIVE_FROM) return decodeWithTable(text)
  if (!isCanonicalLength(text)) return undefined
  let bytes: Uint8Array<ArrayBuffer>
  try {
    bytes = nativeDecode(text, DECODE_OPTIONS)
  } catch {
    return undefined
  }
  // The native decoder also skips whitespace and takes padding. Every character of a canonical
  // text carries 6 bits, so it decodes to exactly 3/4 of its length; a skipped character or a
  // padding one always yields fewer bytes (the lengths that could tie are not canonical, above).
  return bytes.length === (text.length * 3) >>> 2 ? bytes : undefined
}

/** Length and last character of a canonical encoding (the unused low bits must be zero). */
function isCanonicalLength(text: string): boolean {
  const rest = text.length % 4
  if (rest === 0) return true
  if (rest === 1) return false
  const code = text.charCodeAt(text.length - 1)
  const last = code < 128 ? (VALUES[code] as number) : -1
  if (last < 0) return false
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0
}

/** The portable encoder. Exported for tests, which check it against the native one. */
export function encodeWithTable(bytes: Uint8Array): string {
  let out = ''
  const n = bytes.length
  const whole = n - (n % 3)
  let i = 0
  for (; i < whole; i += 3) {
    const v = ((bytes[i] as number) << 16) | ((bytes[i + 1] as number) << 8) | (bytes[i + 2] as number)
    out +=
      ALPHABET.charAt(v >>> 18) +
      ALPHABET.charAt((v >>> 12) & 63) +
      ALPHABET.charAt((v >>> 6) & 63) +
      ALPHABET.charAt(v & 63)
  }
  if (n - whole === 1) {
    const v = bytes[i] as number
    out += ALPHABET.charAt(v >>> 2) + ALPHABET.charAt((v & 3) << 4)
  } else if (n - whole === 2) {
    const v = ((bytes[i] as number) << 8) | (bytes[i + 1] as number)
    out += ALPHABET.charAt(v >>> 10) + ALPHABET.charAt((v >>> 4) & 63) + ALPHABET.charAt((v & 15) << 2)
  }
  return out
}

/** The portable strict decoder. Exported for tests, which check it against the native one. */
export function decodeWithTable(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!isCanonicalLength(text)) return undefined
  const n = text.length
  const out = new Uint8Array((n * 3) >>> 2)
  let bits = 0
  let count = 0
  let o = 0
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? (VALUES[code] as number) : -1
    if (value < 0) return undefined
    bits = ((bits << 6) | value) & 0xffff
    count += 6
    if (count >= 8) {
      count -= 8
      out[o++] = (bits >>> count) & 0xff
    }
  }
  return out
}
