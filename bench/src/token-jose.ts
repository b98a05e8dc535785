/**
 * The jose-based token codec that src/codec/token.ts replaced (kept as it was, with the zip fix),
 * so every bench run shows before and after side by side. Not used by the package.
 * @module
 */
import { CompactEncrypt, compactDecrypt } from 'jose'
import type { JWEHeaderParameters } from 'jose'
import type { KeyPurpose, Keyring, SecretKeys } from '../../src/codec/keyring'
// The contract (claims, result, refusal) is the package's own; only the implementation differs.
import { type OpenedToken, type TokenClaims, TokenRefused } from '../../src/codec/token'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
// Pinned: a token naming any other algorithm, PBES2 (its p2c is a DoS lever) or `zip` is refused
// (jose inflates `zip: DEF` by default; 0 turns that off).
const DECRYPT_OPTIONS = {
  keyManagementAlgorithms: ['dir'],
  contentEncryptionAlgorithms: ['A256GCM'],
  maxDecompressedLength: 0,
}
// A JWE compact token of a session that fits in the cookie limits is far below this.
const MAX_TOKEN_CHARS = 64 * 1024
// Tokens issued by another edge location may carry an `iat` slightly ahead of this clock.
const CLOCK_SKEW_SECONDS = 30

/** Seals `payload` (its `iat` and `exp` included) with the current secret's key for `purpose`. */
export function sealToken(payload: TokenClaims & object, keys: SecretKeys, purpose: KeyPurpose): Promise<string> {
  return new CompactEncrypt(encoder.encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: keys.kid })
    .encrypt(keys[purpose])
}

/**
 * Opens a token. The key is looked up by `kid` in the fixed keyring only; the header is
 * unverified input, so nothing is ever derived from it. Throws {@link TokenRefused}.
 */
export async function openToken<P extends object>(
  token: string,
  keyring: Keyring,
  purpose: KeyPurpose,
  nowMs: number,
): Promise<OpenedToken<P>> {
  if (token.length > MAX_TOKEN_CHARS) throw new TokenRefused('malformed')
  let kid: string | undefined
  let plaintext: Uint8Array
  try {
    ;({ plaintext } = await compactDecrypt(
      token,
      (header: JWEHeaderParameters) => {
        kid = header.kid
        const keys = kid === undefined ? undefined : keyring.byKid.get(kid)
        if (!keys) throw new TokenRefused('undecryptable')
        return keys[purpose]
      },
      DECRYPT_OPTIONS,
    ))
  } catch (error) {
    throw error instanceof TokenRefused ? error : new TokenRefused('undecryptable')
  }
  let payload: unknown
  try {
    payload = JSON.parse(decoder.decode(plaintext))
  } catch {
    throw new TokenRefused('malformed')
  }
  if (!isTokenPayload(payload)) throw new TokenRefused('malformed')
  const now = nowMs / 1000
  if (payload.exp <= now || payload.iat > now + CLOCK_SKEW_SECONDS) throw new TokenRefused('expired')
  return { payload: payload as P & TokenClaims, stale: kid !== keyring.current.kid }
}

function isTokenPayload(value: unknown): value is TokenClaims {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const { iat, exp } = value as Record<string, unknown>
  return typeof iat === 'number' && Number.isFinite(iat) && typeof exp === 'number' && Number.isFinite(exp)
}
