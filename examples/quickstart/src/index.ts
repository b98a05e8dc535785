// Stand-in for the Quickstart app (replaced by the real one): the routes, gate and csrf() the
// runtime smoke tests (test/runtimes) rely on, and nothing else.
import { Hono } from 'hono'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import { createSession, destroySession, edgeSession, getSession, updateSession } from 'hono-edge-session'

declare module 'hono-edge-session' {
  interface SessionClaims {
    onboardingStep?: 'PROFILE' | 'COMPLETED'
  }
}

const app = new Hono<{ Bindings: { SESSION_SECRET: string } }>()

app.use(csrf())
app.use(
  edgeSession({
    secret: (c) => c.env.SESSION_SECRET,
    onboarding: { path: '/onboarding', protect: ['/explore', '/explore/*'], loginPath: '/login' },
  }),
)

app.get('/', (c) => c.html(html`<h1>Quickstart</h1><a href="/explore">Explore</a>`))

app.get('/login', (c) => c.html(html`<form method="post" action="/login"><input name="name" required /><button>Sign in</button></form>`))

app.post('/login', async (c) => {
  const name = String((await c.req.formData()).get('name') ?? '').trim().slice(0, 80)
  if (!name) return c.text('Name is required', 400)
  await createSession(c, { user: { sub: crypto.randomUUID(), name }, onboardingStep: 'PROFILE' })
  return c.redirect('/onboarding', 303)
})

app.get('/onboarding', (c) => c.html(html`<form method="post" action="/onboarding/finish"><button>Finish</button></form>`))

app.post('/onboarding/finish', async (c) => {
  await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))
  return c.redirect('/explore', 303)
})

const explore = (c: Parameters<Parameters<typeof app.get>[1]>[0]) => {
  const s = getSession(c)!
  return c.html(html`<p>Hi ${String(s.user.name ?? s.user.sub)}</p><p>Last page: ${s.lastPath ?? 'none yet'}</p>`)
}
app.get('/explore', explore)
app.get('/explore/:topic', explore)

app.post('/logout', async (c) => {
  await destroySession(c)
  return c.redirect('/login', 303)
})

export default app
