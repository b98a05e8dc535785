import { type Context, Hono } from 'hono'
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import {
  createSession,
  destroySession,
  edgeSession,
  getSession,
  safeRedirectPath,
  updateSession,
} from 'hono-edge-session'
import * as oauth from 'oauth4webapi'

type Tokens = { accessToken: string; expiresAt: number; refreshToken?: string; idToken?: string }
declare module 'hono-edge-session' {
  interface SessionClaims {
    oidc?: Tokens
  }
}

type Env = { SESSION_SECRET: string; OIDC_ISSUER: string; OIDC_CLIENT_ID: string; OIDC_CLIENT_SECRET: string }
type Provider = { as: oauth.AuthorizationServer; client: oauth.Client; auth: oauth.ClientAuth; scope: string }
type Transaction = { verifier: string; state: string; nonce: string; returnTo?: string }

const app = new Hono<{ Bindings: Env }>()
app.use(csrf())
app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET }))

// Discovery on first use, once per isolate: Workers allow no fetch at module scope.
let provider: Promise<Provider> | undefined
function getProvider(env: Env): Promise<Provider> {
  provider ??= (async () => {
    const issuer = new URL(env.OIDC_ISSUER)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer))
    const scope = `openid profile email${as.scopes_supported?.includes('offline_access') ? ' offline_access' : ''}`
    return {
      as,
      client: { client_id: env.OIDC_CLIENT_ID },
      auth: oauth.ClientSecretBasic(env.OIDC_CLIENT_SECRET),
      scope,
    }
  })().catch((error) => {
    provider = undefined // the provider was down: try again on the next request
    throw error
  })
  return provider
}

// The sign-in's transaction rides in a signed, HttpOnly, __Host- cookie, under a key of its own.
const TX_COOKIE = { prefix: 'host', path: '/', httpOnly: true, secure: true, sameSite: 'Lax' } as const
let txKey: Promise<ArrayBuffer> | undefined
function transactionKey(env: Env): Promise<ArrayBuffer> {
  const text = new TextEncoder()
  txKey ??= crypto.subtle
    .importKey('raw', text.encode(env.SESSION_SECRET), 'HKDF', false, ['deriveBits'])
    .then((k) =>
      crypto.subtle.deriveBits(
        { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(), info: text.encode('oidc-tx') },
        k,
        256,
      ),
    )
  return txKey
}

const callbackUrl = (c: Context) => new URL('/auth/callback', c.req.url).href
const sameOrigin = (c: Context, path: unknown) =>
  safeRedirectPath(typeof path === 'string' ? path : undefined, new URL(c.req.url).origin)

app.get('/login', (c) =>
  c.html(html`<form method="post" action="/auth/login">
    <input type="hidden" name="returnTo" value="${sameOrigin(c, c.req.query('returnTo')) ?? ''}"><button>Sign in</button>
  </form>`),
)

app.post('/auth/login', async (c) => {
  const { as, client, scope } = await getProvider(c.env)
  const tx: Transaction = {
    verifier: oauth.generateRandomCodeVerifier(),
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
  }
  const returnTo = sameOrigin(c, (await c.req.parseBody()).returnTo)
  if (returnTo) tx.returnTo = returnTo
  await setSignedCookie(c, 'oidc-tx', JSON.stringify(tx), await transactionKey(c.env), { ...TX_COOKIE, maxAge: 600 })
  const url = new URL(as.authorization_endpoint ?? '')
  url.search = new URLSearchParams({
    client_id: client.client_id,
    redirect_uri: callbackUrl(c),
    response_type: 'code',
    scope,
    state: tx.state,
    nonce: tx.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(tx.verifier),
    code_challenge_method: 'S256',
  }).toString()
  return c.redirect(url.href, 303)
})

app.get('/auth/callback', async (c) => {
  const saved = await getSignedCookie(c, await transactionKey(c.env), 'oidc-tx', 'host')
  deleteCookie(c, 'oidc-tx', TX_COOKIE) // single use, whatever happens next
  if (!saved) return c.text('This sign-in has expired. Please sign in again.', 400)
  const tx = JSON.parse(saved) as Transaction
  const { as, client, auth } = await getProvider(c.env)
  let tokens: oauth.TokenEndpointResponse
  try {
    const params = oauth.validateAuthResponse(as, client, new URL(c.req.url), tx.state)
    const res = await oauth.authorizationCodeGrantRequest(as, client, auth, params, callbackUrl(c), tx.verifier)
    tokens = await oauth.processAuthorizationCodeResponse(as, client, res, {
      expectedNonce: tx.nonce,
      requireIdToken: true,
    })
  } catch (error) {
    // A wrong state or nonce, or the provider said no: not a sign-in. Anything else (network): a 500.
    const refused =
      error instanceof oauth.OperationProcessingError ||
      error instanceof oauth.ResponseBodyError ||
      error instanceof oauth.AuthorizationResponseError
    if (!refused) throw error
    return c.text('Sign-in failed. Please sign in again.', 400)
  }
  const claims = oauth.getValidatedIdTokenClaims(tokens) as oauth.IDToken
  const user = { sub: claims.sub, ...(typeof claims.email === 'string' && { email: claims.email }) }
  await createSession(c, { user, oidc: toTokens(tokens) })
  return c.redirect(sameOrigin(c, tx.returnTo) ?? '/profile', 303)
})

function toTokens(r: oauth.TokenEndpointResponse, previous?: Tokens): Tokens {
  const tokens: Tokens = { accessToken: r.access_token, expiresAt: Date.now() + (r.expires_in ?? 3600) * 1000 }
  const refreshToken = r.refresh_token ?? previous?.refreshToken // a provider that does not rotate may leave it out
  const idToken = r.id_token ?? previous?.idToken
  if (refreshToken) tokens.refreshToken = refreshToken
  if (idToken) tokens.idToken = idToken
  return tokens
}

/** A valid access token, refreshed first when it expires within 30 s; null when the user is (now) signed out. */
async function accessToken(c: Context<{ Bindings: Env }>): Promise<string | null> {
  const old = getSession(c)?.oidc
  if (!old) return null
  if (old.expiresAt - 30_000 > Date.now()) return old.accessToken
  let fresh: Tokens | undefined
  if (old.refreshToken) {
    const { as, client, auth } = await getProvider(c.env)
    try {
      const res = await oauth.refreshTokenGrantRequest(as, client, auth, old.refreshToken)
      fresh = toTokens(await oauth.processRefreshTokenResponse(as, client, res), old)
    } catch (error) {
      // invalid_grant: revoked, expired or already used. Anything else (provider down) keeps the session.
      if (!(error instanceof oauth.ResponseBodyError && error.error === 'invalid_grant')) throw error
    }
  }
  if (!fresh) {
    await destroySession(c)
    return null
  }
  const oidc = fresh
  await updateSession(c, (s) => ({ ...s, oidc }))
  return oidc.accessToken
}

app.get('/profile', async (c) => {
  const session = getSession(c)
  if (!session) return c.redirect('/login?returnTo=/profile', 303)
  const token = await accessToken(c)
  if (!token)
    return c.html(html`<h1>Signed out</h1><p>Your sign-in has ended. <a href="/login">Sign in again</a>.</p>`, 401)
  const { as, client } = await getProvider(c.env)
  const info = await oauth.processUserInfoResponse(
    as,
    client,
    session.user.sub,
    await oauth.userInfoRequest(as, client, token),
  )
  return c.html(
    html`<h1>Hello ${info.name ?? info.email ?? info.sub}</h1><form method="post" action="/logout"><button>Sign out</button></form>`,
  )
})

app.post('/logout', async (c) => {
  const idToken = getSession(c)?.oidc?.idToken
  const p = await getProvider(c.env).catch(() => undefined) // down: sign out here anyway
  await destroySession(c)
  if (!idToken || !p?.as.end_session_endpoint) return c.redirect('/login', 303)
  const url = new URL(p.as.end_session_endpoint)
  url.search = new URLSearchParams({
    id_token_hint: idToken,
    post_logout_redirect_uri: new URL('/login', c.req.url).href,
    client_id: p.client.client_id,
  }).toString()
  return c.redirect(url.href, 303)
})

export default app
