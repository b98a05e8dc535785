/** The strict base64url codec: native and portable paths agree, and only canonical input decodes. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decode, decodeWithTable, encode, encodeWithTable } from '../../../src/codec/base64url'

/** A reference decoder, independent of both: atob on the standard alphabet, then re-encode to check canonical form. */
function reference(text: string): number[] | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return undefined
  const bytes = Array.from(
    atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4)),
    (c) => c.charCodeAt(0),
  )
  return encodeWithTable(new Uint8Array(bytes)) === text ? bytes : undefined
}

describe('base64url', () => {
  it('encodes known vectors (RFC 4648 with the URL alphabet, no padding)', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ]
    for (const [plain, encoded] of vectors) {
      const bytes = new TextEncoder().encode(plain)
      expect(encode(bytes)).toBe(encoded)
      expect(encodeWithTable(bytes)).toBe(encoded)
      expect(decode(encoded)).toEqual(bytes)
      expect(decodeWithTable(encoded)).toEqual(bytes)
    }
    expect(encode(new Uint8Array([251, 255]))).toBe('-_8')
  })

  it('the portable encoder matches the native one, and both round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = encodeWithTable(bytes)
        expect(encode(bytes)).toBe(text)
        expect(decode(text)).toEqual(bytes)
        expect(decodeWithTable(text)).toEqual(bytes)
      }),
    )
  })

  it('refuses padding, whitespace, the standard alphabet and non-canonical endings', () => {
    for (const bad of [
      'Zg==',
      'Zg=',
      'Zm9v\n',
      ' Zm9v',
      'Zm 9v',
      'Zm+v',
      'Zm/v',
      'Z',
      'Zh',
      'Zm9',
      'Zm8x_',
      'Zmé',
      '\u0100AAA',
    ]) {
      expect(decode(bad), bad).toBeUndefined()
      expect(decodeWithTable(bad), bad).toBeUndefined()
    }
    // 'Zh' and 'Zm9' decode to 'f' and 'fo' in lenient decoders: the unused bits are not zero.
    expect(decode('Zg')).toEqual(new Uint8Array([102]))
  })

  it('native and portable decoders accept exactly the same strings, as the reference does', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/= \n.'
    const agree = (text: string) => {
      const expected = reference(text)
      const native = decode(text)
      const portable = decodeWithTable(text)
      expect(native === undefined ? undefined : Array.from(native), text).toEqual(expected)
      expect(portable === undefined ? undefined : Array.from(portable), text).toEqual(expected)
    }
    // Short strings (the table loop) ...
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 24 }), (chars) => agree(chars.join(''))),
      { numRuns: 2000 },
    )
    // ... and long ones (the native decoder, from 64 characters): valid encodings, then one edit.
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 40, maxLength: 160 }),
        fc.nat(),
        fc.constantFrom(...alphabet),
        fc.constantFrom('replace', 'insert', 'insert twice', 'append', 'none'),
        (bytes, at, char, edit) => {
          const text = encodeWithTable(bytes)
          const i = at % text.length
          const edited =
            edit === 'replace'
              ? text.slice(0, i) + char + text.slice(i + 1)
              : edit === 'insert'
                ? text.slice(0, i) + char + text.slice(i)
                : edit === 'insert twice'
                  ? text.slice(0, i) + char + char + text.slice(i)
                  : edit === 'append'
                    ? text + char
                    : text
          agree(edited)
        },
      ),
      { numRuns: 3000 },
    )
  })
})

describe('base64url: non-ASCII and padding around the native threshold', () => {
  // The property test's alphabet has no character above U+007F: such characters, in long input
  // (the native decoder) and in short input (the table loop), at the end or inside.
  it('refuses characters outside ASCII and padding on both sides of the native threshold', () => {
    const bytes = Uint8Array.from({ length: 120 }, (_, i) => (i * 37 + 11) & 0xff)
    for (let n = 40; n <= 60; n++) {
      const text = encodeWithTable(bytes.subarray(0, n))
      expect(Array.from(decode(text) ?? []), `${text.length} chars`).toEqual(Array.from(bytes.subarray(0, n)))
      for (const bad of [
        `${text}=`,
        `${text} `,
        `${text.slice(0, 20)}\n${text.slice(20)}`,
        `${text.slice(0, -1)}\u00e9`,
        `\u00e9${text.slice(1)}`,
        `${text.slice(0, 30)}\u0100${text.slice(31)}`,
      ]) {
        expect(decode(bad), JSON.stringify(bad)).toBeUndefined()
        expect(decodeWithTable(bad), JSON.stringify(bad)).toBeUndefined()
      }
    }
  })
})
