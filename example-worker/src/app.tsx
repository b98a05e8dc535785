/**
 * The example app: sign-in (with an OpenID Connect provider when one is configured, else the
 * demo's "any email"), a two-step onboarding nobody can skip, protected pages that show the
 * previous visit, a JSON endpoint and sign-out. Every session change is made here, on the
 * server, from checked form fields or the provider's checked answers.
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import {
  type SessionData,
  SessionConfigError,
  SessionMissingError,
  createSession,
  destroyOtherSessions,
  destroySession,
  edgeSession,
  getSession,
  listSessions,
  safeRedirectPath,
  sessionAdmin,
  updateSession,
} from 'hono-edge-session'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import { PLANS, type Plan, checkEmail, checkPreferences, checkProfile, demoUserId } from './claims'
import {
  type OidcBindings,
  OidcConfigError,
  ProviderError,
  finishSignIn,
  freshAccessToken,
  oidcEnabled,
  signOutUrl,
  startSignIn,
  userInfo,
} from './oidc'
import { type StoreBindings, sessionStore } from './session-store'
import {
  DoneStep,
  ErrorPage,
  ExplorePage,
  LoginPage,
  PreferencesStep,
  ProfilePage,
  ProfileStep,
  SettingsPage,
} from './views'

export interface Env extends StoreBindings, OidcBindings {
  /** At least 32 bytes. `npm run dev` writes one to .dev.vars; in production: `wrangler secret put SESSION_SECRET`. */
  SESSION_SECRET: string
  /** `"false"` only for plain-http local development in Safari, which refuses Secure cookies there. */
  SESSION_COOKIE_SECURE?: string
  /**
   * Turns on the demo billing webhook (POST /webhooks/plan): callers must send it in the
   * `x-webhook-secret` header. A secret (`wrangler secret put WEBHOOK_SECRET`), never a [vars] entry.
   */
  WEBHOOK_SECRET?: string
}

const app = new Hono<{ Bindings: Env }>()

// The session cookie is SameSite=Lax, so cross-site form posts arrive without it; on top of that,
// refuse any form post whose Origin (or Sec-Fetch-Site) says it came from another site.
app.use(csrf())

// The middleware needs the bindings (the store lives in env), so it is built on the first request
// and kept: options are checked once, keys derived once per isolate. Keyed by the env object, which
// workerd hands to every request of an isolate (so this builds once); a WeakMap, so an env the
// runtime drops (or a test's own env) takes its middleware with it.
const sessions = new WeakMap<Env, MiddlewareHandler>()
app.use((c, next) => {
  let session = sessions.get(c.env)
  if (!session) {
    const store = sessionStore(c.env)
    session = edgeSession({
      secret: (c) => c.env.SESSION_SECRET,
      store,
      // With a store: a short browser summary and the country, for "Your sessions" in /settings.
      // Personal data, kept with the session and gone with it.
      device: store !== undefined,
      cookie: { secure: c.env.SESSION_COOKIE_SECURE !== 'false' },
      onboarding: {
        path: '/onboarding',
        home: '/explore',
        // Anonymous visitors of these are sent to /login (pages) or get 401 JSON (scripts).
        protect: ['/explore', '/settings', '/profile', '/api/*', '/onboarding/*'],
        loginPath: '/login',
      },
    })
    sessions.set(c.env, session)
  }
  return session(c, next)
})

/** On protected routes the gate has already turned anonymous requests away. */
function signedIn(c: Context): SessionData {
  const session = getSession(c)
  if (!session) throw new HTTPException(401, { message: 'Sign in first.' })
  return session
}

/** A same-origin path to go back to after sign-in or onboarding; never a sign-in or onboarding page (loops). */
function returnTo(c: Context, value: unknown): string | undefined {
  const path = safeRedirectPath(typeof value === 'string' ? value : undefined, new URL(c.req.url).origin)
  return path && !/^\/(onboarding|login)(?:[/?#]|$)/i.test(path) ? path : undefined
}

function withReturnTo(path: string, back: string | undefined): string {
  return back ? `${path}?returnTo=${encodeURIComponent(back)}` : path
}

app.get('/', (c) => c.redirect(getSession(c) ? '/explore' : '/login', 303))

app.get('/login', (c) => {
  const back = returnTo(c, c.req.query('returnTo'))
  if (getSession(c)) return c.redirect(back ?? '/explore', 303)
  const notice = c.req.query('signedOut') === '1' ? 'You are signed out.' : undefined
  const provider = oidcEnabled(c.env) ? new URL(c.env.OIDC_ISSUER as string).host : undefined
  return c.html(<LoginPage returnTo={back} notice={notice} provider={provider} />)
})

app.post('/login', async (c) => {
  // With a real provider, the demo's "any email" sign-in is off.
  if (oidcEnabled(c.env)) return c.redirect('/login', 303)
  const form = await c.req.parseBody()
  const back = returnTo(c, form.returnTo)
  const email = checkEmail(form)
  if (!email.ok) return c.html(<LoginPage error={email.error} returnTo={back} />, 400)
  // Only what the server decided goes in: the id derived from the checked email, the first step.
  await createSession(c, {
    user: { sub: await demoUserId(email.value), email: email.value },
    onboardingStep: 'PROFILE',
  })
  return c.redirect(back ?? '/explore', 303)
})

app.post('/logout', async (c) => {
  // Through the provider's end-session endpoint when it has one (read before the session goes).
  const next = await signOutUrl(c, '/login?signedOut=1')
  await destroySession(c)
  return c.redirect(next, 303)
})

// OpenID Connect sign-in (see oidc.ts): the provider's page, then back to the callback.
app.post('/auth/login', async (c) => {
  if (!oidcEnabled(c.env)) return c.notFound()
  const form = await c.req.parseBody()
  return startSignIn(c, returnTo(c, form.returnTo))
})

app.get('/auth/callback', async (c) => {
  if (!oidcEnabled(c.env)) return c.notFound()
  const result = await finishSignIn(c)
  if ('error' in result)
    return c.html(<ErrorPage title="Sign-in did not complete" message={result.error} link="/login" />, 400)
  // A new session, with the provider's tokens in it; onboarding starts as with the demo sign-in.
  await createSession(c, { user: result.user, onboardingStep: 'PROFILE', oidc: result.tokens })
  return c.redirect(returnTo(c, result.returnTo) ?? '/explore', 303)
})

// Onboarding. The gate keeps unfinished users here; these handlers keep the steps in order.
app.get('/onboarding', (c) => {
  const session = signedIn(c)
  const step = session.onboardingStep === 'PREFERENCES' ? 'preferences' : 'profile'
  return c.redirect(withReturnTo(`/onboarding/${step}`, returnTo(c, c.req.query('returnTo'))), 303)
})

app.get('/onboarding/profile', (c) =>
  c.html(<ProfileStep session={signedIn(c)} returnTo={returnTo(c, c.req.query('returnTo'))} />),
)

app.post('/onboarding/profile', async (c) => {
  const session = signedIn(c)
  const form = await c.req.parseBody()
  const back = returnTo(c, form.returnTo)
  const profile = checkProfile(form)
  if (!profile.ok) return c.html(<ProfileStep session={session} error={profile.error} returnTo={back} />, 400)
  await updateSession(c, (s) => ({
    ...s,
    profile: profile.value,
    onboardingStep: s.onboardingStep === 'COMPLETED' ? s.onboardingStep : ('PREFERENCES' as const),
  }))
  return c.redirect(withReturnTo('/onboarding/preferences', back), 303)
})

app.get('/onboarding/preferences', (c) => {
  const session = signedIn(c)
  const back = returnTo(c, c.req.query('returnTo'))
  if (session.onboardingStep === 'PROFILE') return c.redirect(withReturnTo('/onboarding/profile', back), 303)
  return c.html(<PreferencesStep session={session} returnTo={back} />)
})

app.post('/onboarding/preferences', async (c) => {
  const session = signedIn(c)
  const form = await c.req.parseBody()
  const back = returnTo(c, form.returnTo)
  if (session.onboardingStep === 'PROFILE') return c.redirect(withReturnTo('/onboarding/profile', back), 303)
  const preferences = checkPreferences(form)
  if (!preferences.ok)
    return c.html(<PreferencesStep session={session} error={preferences.error} returnTo={back} />, 400)
  await updateSession(c, (s) => ({ ...s, preferences: preferences.value, onboardingStep: 'COMPLETED' as const }))
  return c.redirect(withReturnTo('/onboarding/done', back), 303)
})

app.get('/onboarding/done', (c) => {
  const session = signedIn(c)
  const back = returnTo(c, c.req.query('returnTo'))
  if (session.onboardingStep !== 'COMPLETED') return c.redirect(withReturnTo('/onboarding', back), 303)
  return c.html(<DoneStep session={session} next={back ?? '/explore'} />)
})

// Protected pages: only signed-in users who finished onboarding get here.
app.get('/explore', (c) => c.html(<ExplorePage session={signedIn(c)} />))

/** The signed-in user's devices, with a store; `undefined` in cookie mode (nothing to list). */
async function devices(c: Context<{ Bindings: Env }>) {
  return sessionStore(c.env) ? await listSessions(c) : undefined
}

app.get('/settings', async (c) =>
  c.html(
    <SettingsPage
      session={signedIn(c)}
      sessions={await devices(c)}
      saved={c.req.query('saved') === '1'}
      ended={c.req.query('ended')}
    />,
  ),
)

// "Your sessions": sign one device out. The id is an opaque handle from listSessions, and only
// the signed-in user's own sessions can match it (sub from the session, never from the form).
app.post('/settings/sessions/:id/end', async (c) => {
  const { user } = signedIn(c)
  const ended = await sessionAdmin({ store: sessionStore(c.env) }).destroy(user.sub, c.req.param('id'))
  return c.redirect(`/settings?ended=${ended ? 'one' : 'none'}`, 303)
})

// "Sign out everywhere else": this browser stays signed in.
app.post('/settings/sessions/others', async (c) => {
  signedIn(c)
  await destroyOtherSessions(c)
  return c.redirect('/settings?ended=others', 303)
})

// A demo billing webhook: a payment provider would call it when a user's plan changes. It has no
// session of its own; the change reaches every session of the user on their next request. Who may
// call it is this app's decision: here, whoever knows WEBHOOK_SECRET.
app.post('/webhooks/plan', async (c) => {
  if (!c.env.WEBHOOK_SECRET)
    return c.json({ error: 'not_configured', message: 'Set WEBHOOK_SECRET to turn this webhook on.' }, 404)
  if (!(await sameSecret(c.req.header('x-webhook-secret') ?? '', c.env.WEBHOOK_SECRET)))
    return c.json({ error: 'unauthorized' }, 401)
  const store = sessionStore(c.env)
  if (!store)
    return c.json(
      { error: 'no_store', message: 'Sessions kept in cookies cannot be changed from outside: set SESSION_STORE.' },
      501,
    )
  const body = (await c.req.json().catch(() => null)) as { sub?: unknown; plan?: unknown } | null
  const sub = body?.sub
  const plan = body?.plan
  if (typeof sub !== 'string' || sub === '' || !PLANS.includes(plan as Plan))
    return c.json({ error: 'bad_request', message: `Send { "sub": "...", "plan": "${PLANS.join('" | "')}" }.` }, 400)
  const changed = await sessionAdmin({ store }).update(sub, (s) => ({ ...s, billingPlan: plan as Plan }))
  return c.json({ changed })
})

/** Compares two secrets in time that does not depend on where they differ. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const digest = async (text: string) =>
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  const [a, b] = await Promise.all([digest(given), digest(expected)])
  let difference = 0
  for (let i = 0; i < a.length; i++) difference |= (a[i] as number) ^ (b[i] as number)
  return difference === 0
}

app.post('/settings', async (c) => {
  const session = signedIn(c)
  const form = await c.req.parseBody()
  const profile = checkProfile(form)
  const preferences = checkPreferences(form)
  if (!profile.ok || !preferences.ok) {
    const error = !profile.ok ? profile.error : !preferences.ok ? preferences.error : undefined
    return c.html(<SettingsPage session={session} sessions={await devices(c)} error={error} />, 400)
  }
  await updateSession(c, (s) => ({ ...s, profile: profile.value, preferences: preferences.value }))
  return c.redirect('/settings?saved=1', 303)
})

// Pages that call the provider with the user's access token, refreshed first when needed.
/** Whether the store updates atomically, so that concurrent refreshes of one session can be made one. */
const atomicStore = (env: Env) => sessionStore(env)?.update !== undefined
/** Shown when the provider refused to refresh the access token. */
const REFUSED =
  'Your sign-in with the provider has ended (it was revoked or has expired there), so you are signed out here too. Sign in again to continue.'

app.get('/profile', async (c) => {
  const session = signedIn(c)
  c.header('Cache-Control', 'private, no-store')
  if (!session.oidc) return c.html(<ProfilePage session={session} />)
  const access = await freshAccessToken(c, atomicStore(c.env))
  if (access === 'retry') return c.redirect(c.req.url, 307)
  if (access === 'signed-out') return c.html(<ErrorPage title="Signed out" message={REFUSED} link="/login" />, 401)
  return c.html(<ProfilePage session={signedIn(c)} info={await userInfo(c, access.token, session.user.sub)} />)
})

app.get('/api/profile', async (c) => {
  const session = signedIn(c)
  c.header('Cache-Control', 'private, no-store')
  if (!session.oidc) return c.json({ error: 'no_provider' }, 404)
  const access = await freshAccessToken(c, atomicStore(c.env))
  if (access === 'retry') return c.redirect(c.req.url, 307)
  if (access === 'signed-out') return c.json({ error: 'signed_out', message: REFUSED }, 401)
  return c.json(await userInfo(c, access.token, session.user.sub))
})

app.get('/api/me', (c) => {
  const { user, onboardingStep, profile, preferences, billingPlan, lastPath, lastVisit, internal } = signedIn(c)
  return c.json({
    user,
    onboardingStep,
    plan: billingPlan ?? 'free',
    profile: profile ?? null,
    preferences: preferences ?? null,
    lastPath: lastPath ?? null,
    lastVisit: lastVisit ?? null,
    session: { createdAt: internal.createdAt, expiresAt: internal.expiresAt },
  })
})

app.notFound((c) => c.html(<ErrorPage title="Not found" message="There is no page at this address." />, 404))

app.onError((error, c) => {
  if (error instanceof HTTPException) return error.getResponse()
  // Signed out meanwhile (from another device, say): sign in again.
  if (error instanceof SessionMissingError) return c.redirect('/login', 303)
  if (error instanceof SessionConfigError) {
    console.error(error)
    // Its message says what to fix (a missing or short SESSION_SECRET, a missing SESSION_DO binding, ...)
    // and never holds a secret's value.
    return c.html(<ErrorPage title="Server not configured" message={error.message} />, 500)
  }
  if (error instanceof OidcConfigError)
    return c.html(<ErrorPage title="Server not configured" message={error.message} />, 500)
  if (error instanceof ProviderError) {
    console.error(error)
    return c.html(
      <ErrorPage title="The sign-in provider did not answer" message={`${error.message} Please try again.`} />,
      502,
    )
  }
  console.error(error)
  return c.html(<ErrorPage title="Something went wrong" message="Please try again." />, 500)
})

export default app
