import { CompactEncrypt, base64url } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  ACTIVITY,
  CookieJar,
  SESSION,
  SESSION_CHUNKS,
  apiCall,
  clearingLines,
  createOnboardingApp,
  jarWith,
  navigation,
  postJson,
} from '../../helpers'

const FORGED = {
  onboardingStep: 'COMPLETED',
  role: 'admin',
  user: { sub: 'someone-else' },
  sub: 'someone-else',
  internal: { sid: 'x', expiresAt: 9e15 },
}
const FORGED_FIELDS: Record<string, string> = {
  onboardingStep: 'COMPLETED',
  role: 'admin',
  sub: 'someone-else',
  'user[sub]': 'someone-else',
  'user.sub': 'someone-else',
  user: '{"sub":"someone-else"}',
}

interface Seen {
  user: { sub: string }
  role?: string
  onboardingStep?: string
  displayName?: string
  internal: { sid: string; createdAt: number; expiresAt: number }
}

async function session(app: ReturnType<typeof createOnboardingApp>['app'], jar: CookieJar): Promise<Seen | null> {
  return (await (await app.request('/auth/session', { headers: apiCall(jar.header) })).json()) as Seen | null
}

function form(fields: Record<string, string>, cookie: string, multipart: boolean): RequestInit {
  const headers = apiCall(cookie)
  if (multipart) {
    const body = new FormData()
    for (const [k, v] of Object.entries(fields)) body.append(k, v)
    return { method: 'POST', headers, body }
  }
  return {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }
}

describe('forged claims from the client change nothing', () => {
  it('login: identity, role and step come from the server, whatever the body says (JSON, urlencoded, multipart)', async () => {
    const { app } = createOnboardingApp()
    const bodies: RequestInit[] = [
      postJson({ username: 'ada', password: 'pw-ada', ...FORGED }),
      form({ username: 'ada', password: 'pw-ada', ...FORGED_FIELDS }, '', false),
      form({ username: 'ada', password: 'pw-ada', ...FORGED_FIELDS }, '', true),
    ]
    for (const init of bodies) {
      const res = await app.request('/login', init)
      expect(res.status).toBe(200)
      const jar = new CookieJar().apply(res)
      const seen = await session(app, jar)
      expect(seen).toMatchObject({ user: { sub: 'user-ada' }, role: 'member', onboardingStep: 'PROFILE' })
      expect(seen?.internal.sid).not.toBe('x')
      expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(303)
    }
  })

  it('onboarding steps and profile updates take only their whitelisted field', async () => {
    const { app, hits } = createOnboardingApp()
    const jar = new CookieJar().apply(await app.request('/login', postJson({ username: 'ada', password: 'pw-ada' })))
    const start = await session(app, jar)

    for (const init of [
      postJson({ displayName: 'Ada', ...FORGED }, jar.header),
      form({ displayName: 'Ada', ...FORGED_FIELDS }, jar.header, false),
      form({ displayName: 'Ada', ...FORGED_FIELDS }, jar.header, true),
    ]) {
      const res = await app.request('/onboarding/profile', init)
      expect(res.status).toBe(200)
      jar.apply(res)
      const seen = await session(app, jar)
      expect(seen).toMatchObject({
        user: { sub: 'user-ada' },
        role: 'member',
        onboardingStep: 'PREFERENCES',
        displayName: 'Ada',
      })
      // Same session: an update never moves the id, the creation time or the absolute expiry.
      expect(seen?.internal).toMatchObject({
        sid: start?.internal.sid,
        createdAt: start?.internal.createdAt,
        expiresAt: start?.internal.expiresAt,
      })
    }
    // The signed-in area refuses the forged step outright: the gate still holds.
    const profile = await app.request('/profile', postJson({ displayName: 'Eve', ...FORGED }, jar.header))
    expect(profile.status).toBe(403)
    expect(hits.protected).toBe(0)
    expect((await app.request('/explore', { headers: navigation(jar.header) })).status).toBe(303)

    // After finishing for real, a profile update still cannot raise the role or swap the user.
    jar.apply(await app.request('/onboarding/finish', { method: 'POST', headers: apiCall(jar.header) }))
    for (const init of [
      postJson({ displayName: 'Ada L.', ...FORGED }, jar.header),
      form({ displayName: 'Ada L.', ...FORGED_FIELDS }, jar.header, true),
    ]) {
      const res = await app.request('/profile', init)
      expect(res.status).toBe(200)
      jar.apply(res)
      expect(await session(app, jar)).toMatchObject({
        user: { sub: 'user-ada' },
        role: 'member',
        onboardingStep: 'COMPLETED',
        displayName: 'Ada L.',
      })
    }
  })

  it('hand-made cookies are refused: plain JSON, alg none, a foreign key, a tampered token, an activity token, prefix case variants', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/explore'] } })
    const now = Math.floor(Date.now() / 1000)
    const record = {
      user: { sub: 'someone-else' },
      role: 'admin',
      onboardingStep: 'COMPLETED',
      internal: { sid: 'forged', createdAt: 0, updatedAt: Date.now(), expiresAt: Date.now() + 3.6e6 },
    }
    const claims = { iat: now, exp: now + 3600, s: record }
    const json = base64url.encode(JSON.stringify(claims))
    const algNone = `${base64url.encode('{"alg":"none"}')}.${json}.`
    const real = await jarWith({ onboardingStep: 'PROFILE', sub: 'victim' })
    const realToken = real.cookies.get(SESSION) ?? ''
    const kid = (
      JSON.parse(new TextDecoder().decode(base64url.decode(realToken.split('.')[0] ?? ''))) as { kid: string }
    ).kid
    const foreignKey = crypto.getRandomValues(new Uint8Array(32))
    const foreign = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid })
      .encrypt(foreignKey)
    const parts = realToken.split('.')
    // The ciphertext's first character changed, always (a fixed 'AA' ending left it as it was once in ~1,700 runs).
    const ct = parts[3] ?? ''
    const tampered = [parts[0], parts[1], parts[2], `${ct[0] === 'A' ? 'B' : 'A'}${ct.slice(1)}`, parts[4]].join('.')
    // A real activity token (same secret, other purpose) presented as the session.
    const activityApp = createOnboardingApp().app
    const page = await activityApp.request('/onboarding/profile', { headers: navigation(real.header) })
    const activityToken = new CookieJar().apply(page).cookies.get(ACTIVITY) ?? ''
    expect(activityToken).not.toBe('')

    const forgedCookies = [
      `${SESSION}=${json}`,
      `${SESSION}=${algNone}`,
      `${SESSION}=${foreign}`,
      `${SESSION}=${tampered}`,
      `${SESSION}=${activityToken}`,
      `${SESSION}=${encodeURIComponent(JSON.stringify(record))}`,
      `${SESSION}.0=${json}`,
      `__host-session=${realToken}`,
      `__HOST-session=${realToken}`,
    ]
    for (const cookie of forgedCookies) {
      const seen = await app.request('/auth/session', { headers: apiCall(cookie) })
      expect(await seen.json(), cookie.slice(0, 40)).toBeNull()
      // Anonymous, so the protected page sends them to log in.
      const res = await app.request('/explore', { headers: navigation(cookie) })
      expect(res.status).toBe(303)
      expect(res.headers.get('location')).toBe('/login?returnTo=%2Fexplore')
    }
    // The refused cookie is cleared, never rewritten into something valid.
    const cleared = await app.request('/auth/session', { headers: apiCall(`${SESSION}=${tampered}`) })
    expect(cleared.headers.getSetCookie()).toEqual(clearingLines([SESSION, ...SESSION_CHUNKS]))
    expect(hits.protected).toBe(0)
  })

  it('a forged cookie planted beside a real one does not upgrade it: the pair is refused', async () => {
    const { app, hits } = createOnboardingApp({ onboarding: { protect: ['/explore'] } })
    const real = await jarWith({ onboardingStep: 'PROFILE' })
    const done = await jarWith({ onboardingStep: 'COMPLETED', sub: 'someone-else' })
    const planted = `${real.header}; ${SESSION}=${done.cookies.get(SESSION)}`
    expect(await (await app.request('/auth/session', { headers: apiCall(planted) })).json()).toBeNull()
    expect((await app.request('/explore', { headers: navigation(planted) })).status).toBe(303)
    expect(hits.protected).toBe(0)
  })
})
