import { Hono } from 'hono'
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

// Typed claims: what this app keeps in the session besides `user`.
declare module 'hono-edge-session' {
  interface SessionClaims {
    onboardingStep?: 'PROFILE' | 'COMPLETED'
  }
}

const app = new Hono<{ Bindings: { SESSION_SECRET: string } }>()

app.use(csrf()) // refuses cross-site form posts, so no other site can sign your users in
app.use(
  edgeSession({
    secret: (c) => c.env.SESSION_SECRET,
    onboarding: { path: '/onboarding', protect: ['/explore', '/explore/*'], loginPath: '/login' },
  }),
)

app.get('/', (c) =>
  c.html(html`<h1>Welcome</h1><p><a href="/login">Sign in</a> or <a href="/explore">explore</a>.</p>`),
)

app.get('/login', (c) =>
  c.html(html`<h1>Sign in</h1>
    <form method="post" action="/login">
      <input type="hidden" name="returnTo" value="${c.req.query('returnTo') ?? ''}">
      <label>Name <input name="name" required maxlength="40" autofocus></label>
      <button>Sign in</button>
    </form>`),
)

app.post('/login', async (c) => {
  // A demo: any name signs in. Check real credentials here, and take the user from your database.
  const form = await c.req.parseBody()
  const name =
    String(form.name ?? '')
      .trim()
      .slice(0, 40) || 'friend'
  await createSession(c, { user: { sub: crypto.randomUUID(), name }, onboardingStep: 'PROFILE' })
  // The page the gate sent the user away from, passed on through onboarding.
  const returnTo = safeRedirectPath(String(form.returnTo ?? ''), c.req.url)
  return c.redirect(returnTo ? `/onboarding?returnTo=${encodeURIComponent(returnTo)}` : '/onboarding', 303)
})

// Until onboarding is finished, the gate sends every protected page here.
app.get('/onboarding', (c) => {
  const s = getSession(c)
  if (!s) return c.redirect('/login', 303)
  return c.html(html`<h1>One more step, ${s.user.name}</h1>
    <form method="post" action="/onboarding/finish">
      <input type="hidden" name="returnTo" value="${c.req.query('returnTo') ?? ''}">
      <button>Finish onboarding</button>
    </form>`)
})

app.post('/onboarding/finish', async (c) => {
  if (!getSession(c)) return c.redirect('/login', 303)
  await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
  // Only a path on this site: never send the user to another site named in a link (open redirect).
  const returnTo = safeRedirectPath(String((await c.req.parseBody()).returnTo ?? ''), c.req.url)
  return c.redirect(returnTo ?? '/explore', 303) // this response carries the new cookie: the gate lets it through
})

// Protected: the gate answers for anonymous and unfinished users before this runs.
app.get('/explore/:topic?', (c) => {
  const s = getSession(c)!
  const topic = c.req.param('topic') ?? 'everything'
  // lastPath / lastVisit: the page viewed before this one (recorded by the middleware).
  const last = s.lastPath ? html`${s.lastPath} at <time>${new Date(s.lastVisit!).toUTCString()}</time>` : 'none yet'
  return c.html(html`<h1>Hi ${s.user.name}</h1>
    <p>Exploring ${topic}. Last page: ${last}</p>
    <p><a href="/explore">Explore</a> · <a href="/explore/cats">Cats</a> · <a href="/explore/dogs">Dogs</a></p>
    <form method="post" action="/logout"><button>Sign out</button></form>`)
})

app.post('/logout', async (c) => {
  await destroySession(c)
  return c.redirect('/login', 303)
})

export default app
