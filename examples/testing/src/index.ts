/**
 * A small app of your own: sessions in a Durable Object, notes in Workers KV. Its tests
 * (test/) run it in workerd with the bindings of wrangler.toml.
 */
import { env } from 'cloudflare:workers'
import { Hono } from 'hono'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import { createSession, destroySession, durableObjectStore, edgeSession, getSession } from 'hono-edge-session'

// The Durable Object class behind SESSION_DO (wrangler.toml).
export { SessionDurableObject } from 'hono-edge-session/durable-object'

// `Env`: the bindings of wrangler.toml, as `npx wrangler types` declares them (worker-configuration.d.ts).
const app = new Hono<{ Bindings: Env }>()

app.use(csrf())
app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, store: durableObjectStore(env.SESSION_DO) }))

app.get('/login', (c) =>
  c.html(html`<form method="post" action="/login"><input name="name" required><button>Sign in</button></form>`),
)

app.post('/login', async (c) => {
  const name = String((await c.req.formData()).get('name') ?? '')
    .trim()
    .slice(0, 40)
  if (!name) return c.text('Name is required', 400)
  await createSession(c, { user: { sub: name.toLowerCase(), name } })
  return c.redirect('/notes', 303)
})

app.get('/notes', async (c) => {
  const s = getSession(c)
  if (!s) return c.redirect('/login', 303)
  const notes = (await c.env.NOTES.get<string[]>(`notes:${s.user.sub}`, 'json')) ?? []
  return c.html(html`<h1>Notes of ${s.user.name}</h1><ul>${notes.map((n) => html`<li>${n}</li>`)}</ul>
    <form method="post" action="/notes"><input name="text" required><button>Add</button></form>
    <form method="post" action="/logout"><button>Sign out</button></form>`)
})

app.post('/notes', async (c) => {
  const s = getSession(c)
  if (!s) return c.json({ error: 'login_required' }, 401)
  const text = String((await c.req.formData()).get('text') ?? '')
    .trim()
    .slice(0, 200)
  const key = `notes:${s.user.sub}`
  const notes = (await c.env.NOTES.get<string[]>(key, 'json')) ?? []
  if (text) await c.env.NOTES.put(key, JSON.stringify([...notes, text]))
  return c.redirect('/notes', 303)
})

app.get('/api/me', (c) => {
  const s = getSession(c)
  return s ? c.json({ sub: s.user.sub, name: s.user.name }) : c.json({ error: 'login_required' }, 401)
})

app.post('/logout', async (c) => {
  await destroySession(c)
  return c.redirect('/login', 303)
})

export default app
