// The built package, imported by its name as a Node user would (ESM, dist/, declared exports):
// a sign-in, a read and an update through a Hono app.
import { Hono } from 'hono'
import { createSession, edgeSession, getSession, updateSession } from 'hono-edge-session'
import { mintSessionCookie } from 'hono-edge-session/testing'

const secret = 'dist-check-secret-0123456789abcdefghij'
const app = new Hono()
app.use(edgeSession({ secret }))
app.post('/login', async (c) => c.json(await createSession(c, { user: { sub: 'u1' } })))
app.post('/done', async (c) => c.json(await updateSession(c, (s) => ({ ...s, onboardingStep: 'COMPLETED' }))))
app.get('/me', (c) => c.json(getSession(c)))

// What a browser keeps of a response's Set-Cookie lines: the pairs, minus the deletions (Max-Age=0).
const kept = (res) =>
  res.headers
    .getSetCookie()
    .filter((line) => !/;\s*Max-Age=0(;|$)/i.test(line))
    .map((line) => line.split(';')[0])
    .join('; ')
const login = await app.request('/login', { method: 'POST' })
const done = await app.request('/done', { method: 'POST', headers: { cookie: kept(login) } })
const updated = kept(done)
const me = await (await app.request('/me', { headers: { cookie: updated } })).json()
const minted = await mintSessionCookie({ secret, data: { user: { sub: 'u2' } } })
const other = await (await app.request('/me', { headers: { cookie: minted.cookie } })).json()
if (me?.onboardingStep !== 'COMPLETED' || other?.user?.sub !== 'u2') {
  console.error('dist check failed', { me, other })
  process.exit(1)
}
console.log('dist: the built package imports by name on Node and round-trips a session')
