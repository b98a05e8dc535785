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
  createSession,
  destroySession,
  edgeSession,
  getSession,
  safeRedirectPath,
  updateSession,
} from 'hono-edge-session'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import { checkEmail, checkPreferences, checkProfile, demoUserId } from './claims'
import { type OidcBindings, OidcConfigError, ProviderError, finishSignIn, freshAccessToken, oidcEnabled, signOutUrl, startSignIn, userInfo } from './oidc'
import { type StoreBindings, sessionStore } from './session-store'
import { DoneStep, ErrorPage, ExplorePage, LoginPage, PreferencesStep, ProfilePage, ProfileStep, SettingsPage } from './views'

export interface Env extends StoreBindings, OidcBindings {
  /** At least 32 bytes. `npm run dev` writes one to .dev.vars; in production: `wrangler secret put SESSION_SECRET`. */
  SESSION_SECRET: string
  /** `"false"` only for plain-http local development in Safari, which refuses Secure cookies there. */
  SESSION_COOKIE_SECURE?: string
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
    session = edgeSession({
      secret: (c) => c.env.SESSION_SECRET,
      store: sessionStore(c.env),
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
  await createSession(c, { user: { sub: await demoUserId(email.value), email: email.value }, onboardingStep: 'PROFILE' })
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
  if ('error' in result) return c.html(<ErrorPage title="Sign-in did not complete" message={result.error} link="/login" />, 400)
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

app.get('/onboarding/profile', (c) => c.html(<ProfileStep session={signedIn(c)} returnTo={returnTo(c, c.req.query('returnTo'))} />))

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
  if (!preferences.ok) return c.html(<PreferencesStep session={session} error={preferences.error} returnTo={back} />, 400)
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

app.get('/settings', (c) => c.html(<SettingsPage session={signedIn(c)} saved={c.req.query('saved') === '1'} />))

app.post('/settings', async (c) => {
  const session = signedIn(c)
  const form = await c.req.parseBody()
  const profile = checkProfile(form)
  const preferences = checkPreferences(form)
  if (!profile.ok || !preferences.ok) {
    const error = !profile.ok ? profile.error : !preferences.ok ? preferences.error : undefined
    return c.html(<SettingsPage session={session} error={error} />, 400)
  }
  await updateSession(c, (s) => ({ ...s, profile: profile.value, preferences: preferences.value }))
  return c.redirect('/settings?saved=1', 303)
})

// Pages that call the provider with the user's access token, refreshed first when needed.
/** Whether the store updates atomically, so that concurrent refreshes of one session can be made one. */
const atomicStore = (env: Env) => sessionStore(env)?.update !== undefined
/** Shown when the provider refused to refresh the access token. */
const REFUSED = 'Your sign-in with the provider has ended (it was revoked or has expired there), so you are signed out here too. Sign in again to continue.'

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
  const { user, onboardingStep, profile, preferences, lastPath, lastVisit, internal } = signedIn(c)
  return c.json({
    user,
    onboardingStep,
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
  if (error instanceof SessionConfigError) {
    console.error(error)
    // Its message says what to fix (a missing or short SESSION_SECRET, a missing SESSION_DO binding, ...)
    // and never holds a secret's value.
    return c.html(<ErrorPage title="Server not configured" message={error.message} />, 500)
  }
  if (error instanceof OidcConfigError) return c.html(<ErrorPage title="Server not configured" message={error.message} />, 500)
  if (error instanceof ProviderError) {
    console.error(error)
    return c.html(<ErrorPage title="The sign-in provider did not answer" message={`${error.message} Please try again.`} />, 502)
  }
  console.error(error)
  return c.html(<ErrorPage title="Something went wrong" message="Please try again." />, 500)
})

export default app
