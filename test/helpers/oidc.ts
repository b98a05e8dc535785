/**
 * A stub OpenID provider's signing, for the example's and the recipe's workerd tests (the browser
 * tests use a real local provider).
 * @module
 */
import { SignJWT } from 'jose'

/** The issuer the stub providers answer for. */
export const STUB_ISSUER = 'https://id.example.com'

/** An ID token for user `ada` of client `app`, valid for five minutes, carrying `nonce`. */
export function stubIdToken(privateKey: CryptoKey, nonce: string): Promise<string> {
  return new SignJWT({ nonce, email: 'ada@example.com' })
    .setProtectedHeader({ alg: 'RS256' })
    .setIssuer(STUB_ISSUER)
    .setAudience('app')
    .setSubject('ada')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(privateKey)
}
