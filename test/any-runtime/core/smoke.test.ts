import { describe, expect, it } from 'vitest'
import { CookieJar, createApp } from '../../helpers'

describe('core smoke', () => {
  it('logs in, reads, updates, logs out', async () => {
    const app = createApp()
    const jar = new CookieJar()
    let res = await app.request('/session')
    expect(await res.json()).toEqual({ session: null, cookie: null })
    expect(res.headers.getSetCookie()).toEqual([])

    res = await app.request('/login', { method: 'POST', body: JSON.stringify({ sub: 'u1' }) })
    expect(res.status).toBe(200)
    jar.apply(res)
    const lines = res.headers.getSetCookie()
    expect(lines).toHaveLength(4)
    expect(lines.slice(1).map((l) => l.slice(0, l.indexOf(';')))).toEqual([
      '__Host-session.0=',
      '__Host-session.1=',
      '__Host-session.2=',
    ])
    expect(lines[0]).toMatch(
      /^__Host-session=[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+; Max-Age=28800; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect(res.headers.get('cache-control')).toBe('private, no-store')

    res = await app.request('/session', { headers: { cookie: jar.header } })
    const body = (await res.json()) as { session: { user: { sub: string } } }
    expect(body.session.user.sub).toBe('u1')
    expect(res.headers.getSetCookie()).toEqual([])

    res = await app.request('/update', {
      method: 'POST',
      headers: { cookie: jar.header },
      body: JSON.stringify({ onboardingStep: 'COMPLETED' }),
    })
    expect(((await res.json()) as { onboardingStep: string }).onboardingStep).toBe('COMPLETED')
    jar.apply(res)
    res = await app.request('/session', { headers: { cookie: jar.header } })
    expect(((await res.json()) as { session: { onboardingStep: string } }).session.onboardingStep).toBe('COMPLETED')

    res = await app.request('/logout', { method: 'POST', headers: { cookie: jar.header } })
    jar.apply(res)
    expect(jar.header).toBe('')
  })
})
