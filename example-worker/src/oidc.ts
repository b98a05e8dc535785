/**
 * Sign-in with any OpenID Connect provider, through oauth4webapi: discovery, Authorization Code
 * with PKCE, `state` and `nonce` checked, the provider's tokens kept in the session and refreshed
 * before use, and the provider's own sign-out. On when OIDC_ISSUER, OIDC_CLIENT_ID and
 * OIDC_CLIENT_SECRET are set; otherwise the example keeps its demo sign-in.
 * @module
 */
import type { Context } from 'hono'
import { type SessionData, SessionMissingError, destroySession, getSession, updateSession } from 'hono-edge-session'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import * as oauth from 'oauth4webapi'
import type { ProviderTokens } from './claims'

export interface OidcBindings {
  /** The provider's issuer URL, e.g. `https://accounts.google.com` (its discovery document is read from it). */
  OIDC_ISSUER?: string
  OIDC_CLIENT_ID?: string
  OIDC_CLIENT_SECRET?: string
  /** Space-separated scopes. Default: `openid profile email`, plus `offline_access` when the provider lists it. */
  OIDC_SCOPE?: string
  /** Needed for the transaction cookie's key; see app.tsx. */
  SESSION_SECRET: string
  SESSION_COOKIE_SECURE?: string
}

/** The provider could not be reached or answered something unusable: shown as a 502 page. */
export class ProviderError extends Error {
  override name = 'ProviderError'
}

/** The OIDC settings are half there: shown as a configuration page naming what is missing. */
export class OidcConfigError extends Error {
  override name = 'OidcConfigError'
}

const SETTINGS = ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'] as const
/** Refresh this long before the access token expires, so it does not expire on its way to the API. */
const REFRESH_MARGIN_MS = 30_000
/** How long one request may hold the right to refresh (store mode) before another may take over. */
const REFRESH_LEASE_MS = 10_000
const REFRESH_POLL_MS = 200
/** Used when the provider does not say how long its access tokens last. */
const DEFAULT_LIFETIME_S = 3600
const PROVIDER_TIMEOUT_MS = 10_000
const TRANSACTION_COOKIE = 'oidc-transaction'
/** Cookie mode: names the refresh token a refresh was refused for, so a second refusal signs out. */
const REFUSED_COOKIE = 'oidc-refused'
/** Cookie mode: how long a refused request waits for a concurrent request's new cookie to land before the browser asks again. */
const RETRY_WAIT_MS = 1_000
const TRANSACTION_TTL_S = 600
const CALLBACK_PATH = '/auth/callback'

/** Whether a provider is configured; throws when only some of the three settings are. */
export function oidcEnabled(env: OidcBindings): boolean {
  const missing = SETTINGS.filter((name) => !env[name])
  if (missing.length === SETTINGS.length) return false
  if (missing.length > 0)
    throw new OidcConfigError(
      `OpenID Connect sign-in needs ${missing.join(' and ')} too (in .dev.vars, or as secrets).`,
    )
  return true
}

interface Provider {
  as: oauth.AuthorizationServer
  client: oauth.Client
  auth: oauth.ClientAuth
  scope: string
  /** Options for every request to the provider. */
  http: { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean }
}

// Discovery once per isolate (keyed by the env object, as the session middleware in app.tsx).
const providers = new WeakMap<OidcBindings, Promise<Provider>>()

function provider(env: OidcBindings): Promise<Provider> {
  let found = providers.get(env)
  if (!found) {
    found = discover(env)
    // A provider that was down must not stay down for this isolate: forget the failure.
    found.catch(() => providers.delete(env))
    providers.set(env, found)
  }
  return found
}

async function discover(env: OidcBindings): Promise<Provider> {
  const issuer = new URL(env.OIDC_ISSUER as string)
  const http: Provider['http'] = { signal: () => AbortSignal.timeout(PROVIDER_TIMEOUT_MS) }
  // Plain http only for a provider on this machine (local tests); anything else must be https.
  if (issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname))
    http[oauth.allowInsecureRequests] = true
  let as: oauth.AuthorizationServer
  try {
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, http))
  } catch (error) {
    throw new ProviderError(`Could not read the discovery document of ${issuer.href}.`, { cause: error })
  }
  const methods = as.token_endpoint_auth_methods_supported
  const auth =
    methods?.includes('client_secret_post') && !methods.includes('client_secret_basic')
      ? oauth.ClientSecretPost(env.OIDC_CLIENT_SECRET as string)
      : oauth.ClientSecretBasic(env.OIDC_CLIENT_SECRET as string)
  const scope =
    env.OIDC_SCOPE ?? `openid profile email${as.scopes_supported?.includes('offline_access') ? ' offline_access' : ''}`
  return { as, client: { client_id: env.OIDC_CLIENT_ID as string }, auth, scope, http }
}

// ---------------------------------------------------------------------------------------------
// Sign-in: the transaction cookie carries PKCE verifier, state, nonce and returnTo from the
// redirect to the provider to the callback: encrypted, HttpOnly, Secure, __Host-, 10 minutes,
// and deleted by the callback whatever its outcome (single use).

interface Transaction {
  /** PKCE code verifier */
  v: string
  s: string
  n: string
  /** returnTo, checked again at the callback */
  r?: string
  /** expiry, ms */
  e: number
}

/** Redirects to the provider's sign-in page. `returnTo` must already be a checked same-origin path. */
export async function startSignIn(
  c: Context<{ Bindings: OidcBindings }>,
  returnTo: string | undefined,
): Promise<Response> {
  const { as, client, scope } = await provider(c.env)
  if (!as.authorization_endpoint) throw new ProviderError('The provider has no authorization_endpoint.')
  const transaction: Transaction = {
    v: oauth.generateRandomCodeVerifier(),
    s: oauth.generateRandomState(),
    n: oauth.generateRandomNonce(),
    e: Date.now() + TRANSACTION_TTL_S * 1000,
  }
  if (returnTo) transaction.r = returnTo
  const url = new URL(as.authorization_endpoint)
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: callbackUrl(c),
    response_type: 'code',
    scope,
    code_challenge: await oauth.calculatePKCECodeChallenge(transaction.v),
    code_challenge_method: 'S256',
    state: transaction.s,
    nonce: transaction.n,
  }).toString()
  setCookie(c, TRANSACTION_COOKIE, await seal(c.env.SESSION_SECRET, transaction), {
    ...cookieOptions(c),
    maxAge: TRANSACTION_TTL_S,
  })
  c.header('Cache-Control', 'private, no-store')
  return c.redirect(url.href, 303)
}

/** What a completed sign-in yields, for the app to put in a new session. */
export interface SignedIn {
  user: { sub: string; name?: string; email?: string }
  tokens: ProviderTokens
  returnTo?: string
}

/** The callback: checks state, exchanges the code (PKCE), checks the ID token and its nonce. */
export async function finishSignIn(c: Context<{ Bindings: OidcBindings }>): Promise<SignedIn | { error: string }> {
  const sealed = getCookie(c, TRANSACTION_COOKIE, secure(c) ? 'host' : undefined)
  // Single use: gone whatever happens next.
  deleteCookie(c, TRANSACTION_COOKIE, cookieOptions(c))
  c.header('Cache-Control', 'private, no-store')
  const transaction = sealed ? await open(c.env.SESSION_SECRET, sealed) : undefined
  if (!transaction || transaction.e < Date.now())
    return { error: 'This sign-in has expired or was started in another tab. Please sign in again.' }
  const p = await provider(c.env)
  let params: URLSearchParams
  try {
    params = oauth.validateAuthResponse(p.as, p.client, new URL(c.req.url), transaction.s)
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError)
      return { error: `The provider refused the sign-in (${error.error}).` }
    return { error: 'The sign-in response did not match this browser’s sign-in. Please sign in again.' }
  }
  let response: oauth.TokenEndpointResponse
  try {
    const answer = await oauth.authorizationCodeGrantRequest(
      p.as,
      p.client,
      p.auth,
      params,
      callbackUrl(c),
      transaction.v,
      p.http,
    )
    response = await oauth.processAuthorizationCodeResponse(p.as, p.client, answer, {
      expectedNonce: transaction.n,
      requireIdToken: true,
    })
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return { error: `The provider refused the sign-in (${error.error}).` }
    // A wrong nonce, issuer or audience in the ID token: not this browser's sign-in.
    if (error instanceof oauth.OperationProcessingError)
      return { error: 'The provider’s answer failed its checks. Please sign in again.' }
    throw new ProviderError('The provider’s token endpoint did not answer.', { cause: error })
  }
  const claims = oauth.getValidatedIdTokenClaims(response) as oauth.IDToken
  const user: SignedIn['user'] = { sub: claims.sub }
  if (typeof claims.name === 'string') user.name = claims.name
  if (typeof claims.email === 'string') user.email = claims.email
  const signedIn: SignedIn = { user, tokens: tokensFrom(response, Date.now()) }
  if (transaction.r) signedIn.returnTo = transaction.r
  return signedIn
}

function callbackUrl(c: Context): string {
  return new URL(CALLBACK_PATH, c.req.url).href
}

function secure(c: Context<{ Bindings: OidcBindings }>): boolean {
  return c.env.SESSION_COOKIE_SECURE !== 'false'
}

function cookieOptions(c: Context<{ Bindings: OidcBindings }>) {
  // `prefix: 'host'` names it __Host-oidc-transaction: Secure, Path=/, no Domain.
  return secure(c)
    ? ({ prefix: 'host', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' } as const)
    : ({ path: '/', httpOnly: true, sameSite: 'Lax' } as const)
}

// ---------------------------------------------------------------------------------------------
// The access token, refreshed before use.

function tokensFrom(response: oauth.TokenEndpointResponse, now: number, previous?: ProviderTokens): ProviderTokens {
  const tokens: ProviderTokens = {
    accessToken: response.access_token,
    expiresAt: now + (response.expires_in ?? DEFAULT_LIFETIME_S) * 1000,
  }
  // A provider that does not rotate may leave the refresh token (or ID token) out of a refresh answer.
  const refreshToken = response.refresh_token ?? previous?.refreshToken
  const idToken = response.id_token ?? previous?.idToken
  if (refreshToken) tokens.refreshToken = refreshToken
  if (idToken) tokens.idToken = idToken
  return tokens
}

function isFresh(tokens: ProviderTokens, now: number): boolean {
  return tokens.expiresAt - REFRESH_MARGIN_MS > now
}

/** The provider's answer to a refresh: new tokens, or `'refused'` (invalid_grant: revoked, expired, already used). */
async function refreshGrant(p: Provider, refreshToken: string): Promise<oauth.TokenEndpointResponse | 'refused'> {
  try {
    const answer = await oauth.refreshTokenGrantRequest(p.as, p.client, p.auth, refreshToken, p.http)
    return await oauth.processRefreshTokenResponse(p.as, p.client, answer)
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant') return 'refused'
    throw new ProviderError('The provider could not refresh the access token.', { cause: error })
  }
}

/**
 * What {@link freshAccessToken} found: the token; `'signed-out'` when the provider refused the
 * refresh (the session is ended: show a page that says so); `'retry'` when the browser should
 * send the same request again (answer `c.redirect(c.req.url, 307)`).
 */
export type AccessToken = { token: string } | 'signed-out' | 'retry'

/**
 * A valid access token for the signed-in user, refreshed first when it has expired or is about
 * to. With an atomic store (`atomic`), concurrent requests of a session refresh once; in the
 * cookie, each request that finds the token expired refreshes on its own (see docs/oidc.md).
 *
 * @throws {ProviderError} the provider did not answer (the session is kept)
 */
export async function freshAccessToken(c: Context<{ Bindings: OidcBindings }>, atomic: boolean): Promise<AccessToken> {
  const tokens = getSession(c)?.oidc
  if (!tokens) return 'signed-out'
  if (isFresh(tokens, Date.now())) return { token: tokens.accessToken }
  return atomic ? refreshOnce(c) : refreshHere(c, tokens)
}

/**
 * Cookie mode: this request refreshes and writes the cookie; concurrent requests do the same,
 * and the browser keeps the cookie of the last response. A refusal may mean that a concurrent
 * request of this browser spent the same refresh token a moment ago (a provider that rotates
 * refresh tokens refuses a second use) and its response, with the new token, is on its way: so
 * a first refusal waits a moment and has the browser ask again with its cookies as they are
 * then; only a second refusal of the same refresh token signs out.
 */
async function refreshHere(c: Context<{ Bindings: OidcBindings }>, tokens: ProviderTokens): Promise<AccessToken> {
  if (!tokens.refreshToken) return signOut(c)
  const result = await refreshGrant(await provider(c.env), tokens.refreshToken)
  if (result === 'refused') {
    const mark = await fingerprint(tokens.refreshToken)
    const canRetry = c.req.method === 'GET' || c.req.method === 'HEAD'
    if (!canRetry || getCookie(c, REFUSED_COOKIE, secure(c) ? 'host' : undefined) === mark) return signOut(c)
    await new Promise((resolve) => setTimeout(resolve, RETRY_WAIT_MS))
    setCookie(c, REFUSED_COOKIE, mark, { ...cookieOptions(c), maxAge: 60 })
    c.header('Cache-Control', 'private, no-store')
    return 'retry'
  }
  const next = tokensFrom(result, Date.now(), tokens)
  await updateSession(c, (s) => ({ ...s, oidc: next }))
  return { token: next.accessToken }
}

/** A short, one-way name for a refresh token (never the token itself in a second cookie). */
async function fingerprint(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(`oidc-refused:${token}`))
  return toBase64url(new Uint8Array(digest).slice(0, 16))
}

/** Thrown from an update function to read the stored session without writing it. */
const READ_ONLY = Symbol('read only')

/**
 * Store mode, with an atomic `updateSession`: one request takes a short lease in the stored
 * session and refreshes; the others wait for its tokens instead of spending the same refresh
 * token (which a provider that rotates refresh tokens would refuse, or answer with a second
 * token family). Update functions here have no side effects: an optimistic store may run them twice.
 */
async function refreshOnce(c: Context<{ Bindings: OidcBindings }>): Promise<AccessToken> {
  const me = crypto.randomUUID()
  const deadline = Date.now() + 2 * REFRESH_LEASE_MS
  while (Date.now() < deadline) {
    const now = Date.now()
    let seen: SessionData | undefined
    let leased = false
    const claimed = await updateSessionIfNeeded(c, (s) => {
      // An optimistic store may run this more than once: only the last run counts.
      seen = s
      leased = false
      const t = s.oidc
      if (!t?.refreshToken || isFresh(t, now) || (t.refreshing && t.refreshing.until > now)) throw READ_ONLY
      leased = true
      return { ...s, oidc: { ...t, refreshing: { by: me, until: now + REFRESH_LEASE_MS } } }
    })
    if (!claimed) return signOutQuietly(c) // ended meanwhile (signed out in another tab)
    const tokens = seen?.oidc
    if (!tokens) return 'signed-out'
    if (isFresh(tokens, now)) return { token: tokens.accessToken }
    if (!tokens.refreshToken) return signOut(c)
    if (!leased) {
      // Another request is refreshing: wait for its tokens.
      await new Promise((resolve) => setTimeout(resolve, REFRESH_POLL_MS))
      continue
    }
    let result: Awaited<ReturnType<typeof refreshGrant>>
    try {
      result = await refreshGrant(await provider(c.env), tokens.refreshToken)
    } catch (error) {
      // Let the next request try at once instead of waiting for the lease to run out.
      await updateSessionIfNeeded(c, (s) => {
        if (s.oidc?.refreshing?.by !== me) throw READ_ONLY
        const { refreshing: _, ...rest } = s.oidc
        return { ...s, oidc: rest }
      }).catch(() => undefined)
      throw error
    }
    if (result === 'refused') {
      // Refused: revoked, unless a request that took over an expired lease refreshed meanwhile.
      const latest = await readStored(c)
      if (latest?.oidc && isFresh(latest.oidc, Date.now())) return { token: latest.oidc.accessToken }
      return signOut(c)
    }
    const next = tokensFrom(result, Date.now(), tokens)
    let saved: ProviderTokens | undefined
    await updateSession(c, (s) => {
      // A request that took over after our lease ran out has written tokens already (the provider
      // honoured both refreshes, so it does not rotate strictly): keep those, one set is enough.
      const keep = s.oidc && s.oidc.refreshing?.by !== me && isFresh(s.oidc, Date.now())
      saved = keep ? s.oidc : next
      return { ...s, oidc: saved }
    })
    return { token: (saved as ProviderTokens).accessToken }
  }
  throw new ProviderError('Refreshing the access token took too long; please try again.')
}

/** `updateSession` whose function may throw {@link READ_ONLY} (nothing written); `false` when the session is gone. */
async function updateSessionIfNeeded(c: Context, change: (s: SessionData) => SessionData): Promise<boolean> {
  try {
    await updateSession(c, change)
  } catch (error) {
    if (error === READ_ONLY) return true
    if (error instanceof SessionMissingError) return false
    throw error
  }
  return true
}

/** The session as the store has it now, read through the atomic update without writing. */
async function readStored(c: Context): Promise<SessionData | null> {
  let seen: SessionData | null = null
  const present = await updateSessionIfNeeded(c, (s) => {
    seen = s
    throw READ_ONLY
  })
  return present ? seen : null
}

/** A refused refresh: the grant is gone, so is the session. */
async function signOut(c: Context): Promise<'signed-out'> {
  await destroySession(c)
  return 'signed-out'
}

async function signOutQuietly(c: Context): Promise<'signed-out'> {
  if (getSession(c)) await destroySession(c)
  return 'signed-out'
}

/** The provider's userinfo for the signed-in user, fetched with the access token. */
export async function userInfo(
  c: Context<{ Bindings: OidcBindings }>,
  accessToken: string,
  sub: string,
): Promise<oauth.UserInfoResponse> {
  const p = await provider(c.env)
  try {
    return await oauth.processUserInfoResponse(
      p.as,
      p.client,
      sub,
      await oauth.userInfoRequest(p.as, p.client, accessToken, p.http),
    )
  } catch (error) {
    throw new ProviderError('The provider’s userinfo endpoint failed.', { cause: error })
  }
}

// ---------------------------------------------------------------------------------------------
// Sign-out

/**
 * Where to send the browser after `destroySession`: the provider's end-session endpoint when it
 * has one (it signs out there, then comes back to `back`), else `back`. Call it before
 * `destroySession`: it needs the session's ID token.
 */
export async function signOutUrl(c: Context<{ Bindings: OidcBindings }>, back: string): Promise<string> {
  const idToken = getSession(c)?.oidc?.idToken
  if (!idToken || !oidcEnabled(c.env)) return back
  let endpoint: string | undefined
  try {
    endpoint = (await provider(c.env)).as.end_session_endpoint
  } catch {
    // The provider is down: the local sign-out still happens.
  }
  if (!endpoint) return back
  const url = new URL(endpoint)
  url.searchParams.set('id_token_hint', idToken)
  url.searchParams.set('post_logout_redirect_uri', new URL(back, c.req.url).href)
  url.searchParams.set('client_id', c.env.OIDC_CLIENT_ID as string)
  return url.href
}

// ---------------------------------------------------------------------------------------------
// The transaction cookie's encryption: AES-GCM under a key derived (HKDF) from SESSION_SECRET
// for this purpose only, so it can never be taken for a session cookie or the other way round.

const encoder = new TextEncoder()
const keys = new Map<string, Promise<CryptoKey>>()

function transactionKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret)
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey']).then((material) =>
      crypto.subtle.deriveKey(
        {
          name: 'HKDF',
          hash: 'SHA-256',
          salt: encoder.encode(TRANSACTION_COOKIE),
          info: encoder.encode('example oidc transaction v1'),
        },
        material,
        { name: 'AES-GCM', length: 256 },
        false,
        ['encrypt', 'decrypt'],
      ),
    )
    keys.set(secret, key)
  }
  return key
}

async function seal(secret: string, transaction: Transaction): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const data = encoder.encode(JSON.stringify(transaction))
  const sealed = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, await transactionKey(secret), data)
  return `${toBase64url(iv)}.${toBase64url(new Uint8Array(sealed))}`
}

/** The transaction, or `undefined` for anything tampered, truncated or foreign. */
async function open(secret: string, value: string): Promise<Transaction | undefined> {
  try {
    const [iv, sealed] = value.split('.').map(fromBase64url)
    if (!iv || !sealed || iv.length !== 12) return undefined
    const data = await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, await transactionKey(secret), sealed)
    const transaction = JSON.parse(new TextDecoder().decode(data)) as Transaction
    return typeof transaction.v === 'string' &&
      typeof transaction.s === 'string' &&
      typeof transaction.n === 'string' &&
      typeof transaction.e === 'number'
      ? transaction
      : undefined
  } catch {
    return undefined
  }
}

function toBase64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0))
}
