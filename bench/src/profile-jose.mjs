/**
 * Where jose's time goes on a compact JWE (dir + A256GCM) of a ~300-byte session. Each case runs
 * one step of jose's own code path in isolation, calling jose's internal modules by file (plain
 * JS, so the package's export map does not hide them). `npm run bench -- --profile`.
 * @module
 */
import { CompactEncrypt, compactDecrypt } from 'jose'
import { prepareDecrypt } from '../../node_modules/jose/dist/webapi/lib/jwe_decrypt.js'
import { checkEncryptHeaders } from '../../node_modules/jose/dist/webapi/lib/jwe_encrypt.js'
import { parseJoseHeader, validateCrit, JWE_RECOGNIZED } from '../../node_modules/jose/dist/webapi/lib/validate.js'
import { validateZip } from '../../node_modules/jose/dist/webapi/lib/deflate.js'
import { decode as b64uDecode, encode as b64uEncode } from '../../node_modules/jose/dist/webapi/util/base64url.js'
import { concat, encode as asciiEncode } from '../../node_modules/jose/dist/webapi/lib/buffer_utils.js'
import { prepareKey, rawKey } from '../../node_modules/jose/dist/webapi/lib/key.js'
import { jweEncryption } from '../../node_modules/jose/dist/webapi/lib/jwe_algorithms.js'
import { JWEInvalid } from '../../node_modules/jose/dist/webapi/util/errors.js'
import { userSession, T0 } from './fixtures'

const OPTIONS = { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] }
const HEADER = { alg: 'dir', enc: 'A256GCM', kid: 'AbCdEfGhIjKl' }
const encoder = new TextEncoder()

let fixture
async function setup() {
  fixture ??= (async () => {
    const key = await crypto.subtle.importKey('raw', crypto.getRandomValues(new Uint8Array(32)), 'AES-GCM', false, [
      'encrypt',
      'decrypt',
    ])
    const plaintext = encoder.encode(JSON.stringify({ iat: T0 / 1000, exp: T0 / 1000 + 28800, s: userSession() }))
    const token = await new CompactEncrypt(plaintext).setProtectedHeader(HEADER).encrypt(key)
    const [h, , iv, ct, tag] = token.split('.')
    const ivBytes = b64uDecode(iv)
    const sealed = concat(b64uDecode(ct), b64uDecode(tag))
    const aad = asciiEncode(h)
    return { key, plaintext, token, h, iv, ct, tag, ivBytes, sealed, aad }
  })()
  return fixture
}

/** A case that awaits `op()` per iteration. */
const loop = (make) => async () => {
  const f = await setup()
  const op = make(f)
  return {
    async run(n) {
      for (let i = 0; i < n; i++) await op()
    },
  }
}
/** A case for a synchronous step: no await per iteration, so promise plumbing is not counted. */
const syncLoop = (make) => async () => {
  const f = await setup()
  const op = make(f)
  let sink = 0
  return {
    async run(n) {
      for (let i = 0; i < n; i++) sink ^= op() ? 1 : 0
      if (sink === 2) throw new Error('unreachable')
    },
  }
}

async function nestedAwaits(depth) {
  if (depth === 0) return 1
  return await nestedAwaits(depth - 1)
}

export const profileCases = {
  'profile:decrypt-full': loop((f) => () => compactDecrypt(f.token, () => f.key, OPTIONS)),
  'profile:decrypt-subtle': loop(
    (f) => () =>
      crypto.subtle.decrypt({ name: 'AES-GCM', iv: f.ivBytes, additionalData: f.aad, tagLength: 128 }, f.key, f.sealed),
  ),
  'profile:decrypt-split-b64': syncLoop((f) => () => {
    const parts = f.token.split('.')
    return (
      concat(b64uDecode(parts[3]), b64uDecode(parts[4])).length +
      b64uDecode(parts[2]).length +
      asciiEncode(parts[0]).length
    )
  }),
  'profile:decrypt-header': syncLoop((f) => () => {
    const header = parseJoseHeader(f.h, JWEInvalid, 'x')
    validateCrit(JWEInvalid, JWE_RECOGNIZED, undefined, header, header)
    validateZip(header, header)
    return header
  }),
  'profile:decrypt-options': syncLoop(() => () => prepareDecrypt(OPTIONS)),
  'profile:decrypt-key-checks': loop(
    (f) => () =>
      prepareKey(jweEncryption('A256GCM'), f.key, 'decrypt').then((k) =>
        rawKey(k, jweEncryption('A256GCM').subtle, 'decrypt'),
      ),
  ),
  'profile:encrypt-full': loop((f) => () => new CompactEncrypt(f.plaintext).setProtectedHeader(HEADER).encrypt(f.key)),
  'profile:encrypt-subtle': loop(
    (f) => () =>
      crypto.subtle.encrypt(
        { name: 'AES-GCM', iv: crypto.getRandomValues(new Uint8Array(12)), additionalData: f.aad, tagLength: 128 },
        f.key,
        f.plaintext,
      ),
  ),
  'profile:encrypt-headers': syncLoop((f) => () => checkEncryptHeaders([f.plaintext, HEADER])),
  'profile:encrypt-b64': syncLoop((f) => () => {
    const h = b64uEncode(JSON.stringify(HEADER))
    const aad = asciiEncode(h)
    return (
      [h, b64uEncode(f.ivBytes), b64uEncode(f.sealed.subarray(0, -16)), b64uEncode(f.sealed.subarray(-16))].join('.')
        .length + aad.length
    )
  }),
  'profile:await-x8': loop(() => () => nestedAwaits(8)),
}
