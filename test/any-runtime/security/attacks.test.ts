/**
 * The attack matrix: one named test per class of attack from the shared brief. Forgeries use the
 * real key (derived like src/codec/keyring.ts), and each refusal has a control that the same
 * forging tool, with the legitimate header, IS accepted: a refusal proves a check, not a broken forge.
 */
import { Hono } from 'hono'
import { base64url, generateKeyPair } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  SessionConfigError,
  createSession,
  destroySession,
  destroyUserSessions,
  edgeSession,
  getSession,
  safeRedirectPath,
  updateSession,
} from '../../../src'
import type { SessionData } from '../../../src'
import { memoryStore } from '../../../src/stores/memory'
import {
  ACTIVITY,
  type AnySession,
  CookieJar,
  OLD_SECRET,
  SECRET,
  SESSION,
  T0,
  at,
  badSetCookieLines,
  deriveKeyBits,
  deriveKid,
  issue,
  probeApp,
  rawJwe,
  restoreClock,
  sealWith,
  sessionPayload,
  useClock,
} from '../../helpers'

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n))

afterEach(() => {
  restoreClock()
  vi.restoreAllMocks()
})

/** Whether this runtime lets `name` into a Cookie header at all. */
function accepts(name: string): boolean {
  try {
    new Headers({ cookie: `${name}=x` })
    return true
  } catch {
    return false
  }
}

/** The forged token's session when accepted, else null; asserts nothing leaked to the app. */
async function accepted(token: string, probe = probeApp(), name = SESSION): Promise<AnySession | null> {
  const { res, session } = await probe.send(`${name}=${token}`)
  expect(res.status).toBe(200)
  expect(probe.errors).toEqual([])
  expect(session).not.toBeUndefined()
  return session ?? null
}

describe('attack matrix', () => {
  it('control: a forgery sealed with the real key and the legitimate header is accepted', async () => {
    const key = await deriveKeyBits(SECRET, SESSION, 'session')
    const token = await sealWith(
      sessionPayload(Date.now()),
      { alg: 'dir', enc: 'A256GCM', kid: await deriveKid(SECRET) },
      key,
    )
    expect((await accepted(token))?.user.sub).toBe('forged-admin')
  })

  it('swapped alg/enc: tokens under any other algorithm are refused, even with the real key material', async () => {
    const kid = await deriveKid(SECRET)
    const payload = sessionPayload(Date.now())
    const rsa = await generateKeyPair('RSA-OAEP-256')
    const ec = await generateKeyPair('ECDH-ES')
    const variants: Array<[string, Promise<string>]> = [
      [
        'dir + A128GCM',
        sealWith(payload, { alg: 'dir', enc: 'A128GCM', kid }, await deriveKeyBits(SECRET, SESSION, 'session', 128)),
      ],
      [
        'dir + A192GCM',
        sealWith(payload, { alg: 'dir', enc: 'A192GCM', kid }, await deriveKeyBits(SECRET, SESSION, 'session', 192)),
      ],
      // The very same 256 bits, used by another content algorithm (key confusion).
      [
        'dir + A128CBC-HS256',
        sealWith(
          payload,
          { alg: 'dir', enc: 'A128CBC-HS256', kid },
          await deriveKeyBits(SECRET, SESSION, 'session', 256),
        ),
      ],
      [
        'dir + A256CBC-HS512',
        sealWith(
          payload,
          { alg: 'dir', enc: 'A256CBC-HS512', kid },
          await deriveKeyBits(SECRET, SESSION, 'session', 512),
        ),
      ],
      [
        'A256KW + A256GCM',
        sealWith(payload, { alg: 'A256KW', enc: 'A256GCM', kid }, await deriveKeyBits(SECRET, SESSION, 'session')),
      ],
      [
        'A256GCMKW + A256GCM',
        sealWith(payload, { alg: 'A256GCMKW', enc: 'A256GCM', kid }, await deriveKeyBits(SECRET, SESSION, 'session')),
      ],
      ['RSA-OAEP-256 (attacker key)', sealWith(payload, { alg: 'RSA-OAEP-256', enc: 'A256GCM', kid }, rsa.publicKey)],
      ['ECDH-ES (attacker key)', sealWith(payload, { alg: 'ECDH-ES', enc: 'A256GCM', kid }, ec.publicKey)],
    ]
    for (const [label, token] of variants) {
      const probe = probeApp()
      expect(await accepted(await token, probe), label).toBeNull()
      expect(probe.invalid, label).toEqual(['undecryptable'])
    }
    // Not JWE at all: an unsecured JWT (alg none), a JWS, plain base64url JSON.
    const b64 = (v: unknown) => btoa(JSON.stringify(v)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')
    for (const token of [
      `${b64({ alg: 'none' })}.${b64(payload)}.`,
      `${b64({ alg: 'HS256', kid })}.${b64(payload)}.${b64('sig')}`,
      b64(payload),
    ]) {
      expect(await accepted(token)).toBeNull()
    }
  })

  it('the header allowlist itself: the real key and cipher (AES-256-GCM, header as AAD) under a header naming anything but dir + A256GCM is refused', async () => {
    // Everything else about these tokens is right, so only the check of alg and enc can refuse them.
    const key = await crypto.subtle.importKey(
      'raw',
      (await deriveKeyBits(SECRET, SESSION, 'session')) as Uint8Array<ArrayBuffer>,
      'AES-GCM',
      false,
      ['encrypt'],
    )
    const text = new TextEncoder()
    const gcmUnder = async (header: object) => {
      const protectedHeader = base64url.encode(text.encode(JSON.stringify(header)))
      const iv = crypto.getRandomValues(new Uint8Array(12))
      const plain = text.encode(JSON.stringify(sessionPayload(Date.now())))
      const sealed = new Uint8Array(
        await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: text.encode(protectedHeader) }, key, plain),
      )
      return `${protectedHeader}..${base64url.encode(iv)}.${base64url.encode(sealed.subarray(0, -16))}.${base64url.encode(sealed.subarray(-16))}`
    }
    const kid = await deriveKid(SECRET)
    expect((await accepted(await gcmUnder({ alg: 'dir', enc: 'A256GCM', kid })))?.user.sub, 'control').toBe(
      'forged-admin',
    )
    for (const header of [
      { alg: 'none', enc: 'A256GCM', kid },
      { alg: 'A256GCMKW', enc: 'A256GCM', kid },
      { alg: 'A256KW', enc: 'A256GCM', kid },
      { alg: 'dir', enc: 'A128GCM', kid },
      { alg: 'dir', enc: 'A256CBC-HS512', kid },
      { alg: 'DIR', enc: 'A256GCM', kid },
      { alg: 'dir', enc: 'a256gcm', kid },
    ]) {
      const probe = probeApp()
      expect(await accepted(await gcmUnder(header), probe), JSON.stringify(header)).toBeNull()
      expect(probe.invalid, JSON.stringify(header)).toEqual(['undecryptable'])
    }
  })

  it('zip: a DEF-compressed token sealed with the real key is refused', async () => {
    const kid = await deriveKid(SECRET)
    const key = await deriveKeyBits(SECRET, SESSION, 'session')
    const probe = probeApp()
    const token = await sealWith(sessionPayload(Date.now()), { alg: 'dir', enc: 'A256GCM', kid, zip: 'DEF' }, key)
    expect(await accepted(token, probe)).toBeNull()
    expect(probe.invalid).toEqual(['undecryptable'])
  })

  it('PBES2: a header with a huge p2c is refused without running PBKDF2', async () => {
    const probe = probeApp()
    await probe.send(null) // derive the app's keys first, so the spies see only the attack
    const subtle = crypto.subtle
    const pbkdf2 = (algorithm: unknown) =>
      JSON.stringify(algorithm ?? null)
        .toUpperCase()
        .includes('PBKDF2')
    const calls: unknown[] = []
    for (const method of ['importKey', 'deriveBits', 'deriveKey'] as const) {
      const original = subtle[method].bind(subtle) as (...args: unknown[]) => Promise<unknown>
      vi.spyOn(subtle, method).mockImplementation(((...args: unknown[]) => {
        if (args.some(pbkdf2)) calls.push(args)
        return original(...args)
      }) as never)
    }
    const kid = await deriveKid(SECRET)
    for (const alg of ['PBES2-HS256+A128KW', 'PBES2-HS512+A256KW']) {
      const token = rawJwe(
        { alg, enc: 'A256GCM', kid, p2s: 'c2FsdHNhbHRzYWx0c2FsdA', p2c: 2 ** 31 - 1 },
        { encryptedKey: random(40), iv: random(12), ciphertext: random(64), tag: random(16) },
      )
      expect(await accepted(token, probe), alg).toBeNull()
    }
    expect(probe.invalid).toEqual(['undecryptable', 'undecryptable'])
    expect(calls).toEqual([])
  })

  it('kid: unknown, missing and retired kids are refused; the current key under another kid too', async () => {
    const key = await deriveKeyBits(SECRET, SESSION, 'session')
    const payload = sessionPayload(Date.now())
    const oldKid = await deriveKid(OLD_SECRET)
    const cases: Array<[string, Promise<string>]> = [
      ['unknown kid', sealWith(payload, { alg: 'dir', enc: 'A256GCM', kid: 'AAAAAAAAAAAA' }, key)],
      ['missing kid', sealWith(payload, { alg: 'dir', enc: 'A256GCM' }, key)],
      ['kid of a secret no longer configured', sealWith(payload, { alg: 'dir', enc: 'A256GCM', kid: oldKid }, key)],
      ['kid "__proto__"', sealWith(payload, { alg: 'dir', enc: 'A256GCM', kid: '__proto__' }, key)],
      // Key substitution: the current kid, the retired secret's key.
      [
        'current kid, old key',
        sealWith(
          payload,
          { alg: 'dir', enc: 'A256GCM', kid: await deriveKid(SECRET) },
          await deriveKeyBits(OLD_SECRET, SESSION, 'session'),
        ),
      ],
    ]
    for (const [label, token] of cases) expect(await accepted(await token), label).toBeNull()

    // A real cookie of the retired secret: accepted while the secret is still listed, refused once it is dropped.
    const old = await issue({ user: { sub: 'u1' } }, { secret: OLD_SECRET })
    expect((await accepted(old.token, probeApp({ secret: [SECRET, OLD_SECRET] })))?.user.sub).toBe('u1')
    expect(await accepted(old.token, probeApp({ secret: SECRET }))).toBeNull()
  })

  it('purpose separation: an activity token, or a session sealed with the activity key, is never a session', async () => {
    // A genuine activity cookie, from a page view of a genuine session.
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: 'u1' } })
      return c.body(null, 204)
    })
    app.get('/page', (c) => c.html('<p>page</p>'))
    const jar = new CookieJar()
    jar.apply(await app.request('/login', { method: 'POST' }))
    jar.apply(await app.request('/page', { headers: { cookie: jar.header, accept: 'text/html' } }))
    const activityToken = jar.cookies.get(ACTIVITY)
    expect(activityToken).toMatch(/^[\w-]+\.\.[\w-]+\.[\w-]+\.[\w-]+$/)
    const probe = probeApp()
    expect(await accepted(activityToken as string, probe)).toBeNull()

    // next-auth CVE-2023-48309 shape: a well-formed session payload under the same secret, other purpose.
    const activityKey = await deriveKeyBits(SECRET, ACTIVITY, 'activity')
    const forged = await sealWith(
      sessionPayload(Date.now()),
      { alg: 'dir', enc: 'A256GCM', kid: await deriveKid(SECRET) },
      activityKey,
    )
    expect(await accepted(forged, probe)).toBeNull()
    expect(probe.invalid).toEqual(['undecryptable', 'undecryptable'])
  })

  it('cookie-name separation: a token issued for another cookie name with the same secret is refused', async () => {
    const admin = await issue({ user: { sub: 'u1' }, role: 'admin' }, { cookie: { name: 'admin' } })
    expect(admin.cookie.startsWith('__Host-admin=')).toBe(true)
    // Control: the owner of that name accepts it.
    expect((await accepted(admin.token, probeApp({ cookie: { name: 'admin' } }), '__Host-admin'))?.role).toBe('admin')
    expect(await accepted(admin.token)).toBeNull()
    // The plain-http development cookie (`session`, no prefix) uses another key too.
    const plain = await issue({ user: { sub: 'u1' } }, { cookie: { secure: false } })
    expect(plain.cookie.startsWith('session=')).toBe(true)
    expect(await accepted(plain.token)).toBeNull()
    const forged = await sealWith(
      sessionPayload(Date.now()),
      { alg: 'dir', enc: 'A256GCM', kid: await deriveKid(SECRET) },
      await deriveKeyBits(SECRET, 'session', 'session'),
    )
    expect(await accepted(forged)).toBeNull()
  })

  it('expired: past inactivity, past the absolute lifetime, and forged exp or expiresAt in the past are refused', async () => {
    useClock()
    const { token } = await issue({ user: { sub: 'u1' } }, { duration: { absolute: 3600, inactivity: 600 } })
    const probe = probeApp({ duration: { absolute: 3600, inactivity: 600 } })
    at(599_000)
    expect((await accepted(token, probe))?.user.sub).toBe('u1')
    // The previous request was not activity-tracked into the jar: the token alone is 601 s idle.
    at(601_000)
    expect(await accepted(token, probe)).toBeNull()
    expect(probe.invalid).toEqual(['inactive'])

    restoreClock()
    const now = Date.now()
    const key = await deriveKeyBits(SECRET, SESSION, 'session')
    const kid = await deriveKid(SECRET)
    const header = { alg: 'dir', enc: 'A256GCM', kid }
    const pastExp = sessionPayload(now, { iat: Math.floor(now / 1000) - 7200, exp: Math.floor(now / 1000) - 1 })
    const pastRecord = sessionPayload(now, {
      record: {
        user: { sub: 'x' },
        internal: { sid: 's', createdAt: now - 9e6, updatedAt: now - 1000, expiresAt: now - 1 },
      },
    })
    const strict = probeApp()
    expect(await accepted(await sealWith(pastExp, header, key), strict)).toBeNull()
    expect(await accepted(await sealWith(pastRecord, header, key), strict)).toBeNull()
    expect(strict.invalid).toEqual(['expired', 'expired'])
  })

  it('not yet valid: a token whose iat is far in the future is refused (small clock skew is tolerated)', async () => {
    const now = Date.now()
    const key = await deriveKeyBits(SECRET, SESSION, 'session')
    const header = { alg: 'dir', enc: 'A256GCM', kid: await deriveKid(SECRET) }
    const seconds = Math.floor(now / 1000)
    const probe = probeApp()
    expect(
      await accepted(
        await sealWith(sessionPayload(now, { iat: seconds + 86_400, exp: seconds + 90_000 }), header, key),
        probe,
      ),
    ).toBeNull()
    expect(probe.invalid).toEqual(['expired'])
    // Control: another edge location's clock a few seconds ahead is fine.
    expect((await accepted(await sealWith(sessionPayload(now, { iat: seconds + 5 }), header, key)))?.user.sub).toBe(
      'forged-admin',
    )
  })

  it('absolute lifetime: steady activity and updates never extend the session past duration.absolute', async () => {
    useClock()
    const duration = { absolute: 3600, inactivity: 600 }
    const app = new Hono()
    let seen: AnySession | null = null
    app.use(edgeSession({ secret: SECRET, duration }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: 'u1' } })
      return c.body(null, 204)
    })
    app.post('/extend', async (c) => {
      // A handler trying to push the end out: internal is the middleware's, whatever is passed.
      await updateSession(c, (s) => ({
        ...s,
        internal: { ...s.internal, expiresAt: T0 + 365 * 86_400_000, createdAt: Date.now() },
      }))
      return c.body(null, 204)
    })
    app.get('*', (c) => {
      seen = getSession(c) as AnySession | null
      return c.html('<p>page</p>')
    })
    const jar = new CookieJar()
    jar.apply(await app.request('/login', { method: 'POST' }))
    let maxAgeLimitHeld = true
    for (let minute = 5; minute <= 65; minute += 5) {
      at(minute * 60_000)
      const checkMaxAge = (res: Response) => {
        for (const line of res.headers.getSetCookie())
          if (Number(/Max-Age=(\d+)/.exec(line)?.[1]) > 3600 - minute * 60) maxAgeLimitHeld = false
        return res
      }
      if (minute === 30)
        jar.apply(checkMaxAge(await app.request('/extend', { method: 'POST', headers: { cookie: jar.header } })))
      seen = null
      jar.apply(
        checkMaxAge(await app.request(`/page/${minute}`, { headers: { cookie: jar.header, accept: 'text/html' } })),
      )
      if (minute < 60) {
        // Alive at 55 minutes although idle-timeout is 10: the activity really was refreshing it.
        expect(seen, `minute ${minute}`).not.toBeNull()
        expect((seen as AnySession | null)?.internal.expiresAt).toBe(T0 + 3_600_000)
      } else expect(seen, `minute ${minute}`).toBeNull()
    }
    expect(maxAgeLimitHeld).toBe(true)
  })

  it('attribute injection: ; CRLF = and quotes in claims and paths never reach a Set-Cookie line unencoded', async () => {
    const evil = 'x"; Domain=evil.example; Path=/admin\r\nSet-Cookie: admin=1; Max-Age=99999\r\n\r\n<script>'
    // As a key, without the quote and CRLF: a write refuses keys with those (JSON.parse on workerd can misread them).
    const evilKey = 'x; Domain=evil.example; Path=/admin Set-Cookie: admin=1; Max-Age=99999 <script>'
    const app = new Hono()
    let seen: AnySession | null = null
    // recordQuery: the query reaches lastPath too.
    app.use(edgeSession({ secret: SECRET, activity: { recordQuery: true } }))
    app.post('/login', async (c) => {
      await createSession<Record<string, unknown>>(c, {
        user: { sub: evil, [evilKey]: evil },
        note: evil,
        list: [evil, { [evilKey]: evil }],
      })
      return c.body(null, 204)
    })
    app.get('*', (c) => {
      seen = getSession(c) as AnySession | null
      return c.html('<p>page</p>')
    })
    const login = await app.request('/login', { method: 'POST' })
    const jar = new CookieJar().apply(login)
    const path = `/p/${encodeURIComponent(evil)}?q=${encodeURIComponent(evil)};Domain=evil.example`
    const page = await app.request(path, { headers: { cookie: jar.header, accept: 'text/html' } })
    for (const res of [login, page]) {
      expect(res.headers.getSetCookie().length).toBeGreaterThan(0)
      expect(badSetCookieLines(res)).toEqual([])
    }
    // The values themselves survived intact, sealed inside the token.
    expect(seen).toMatchObject({
      user: { sub: evil, [evilKey]: evil },
      note: evil,
      list: [evil, { [evilKey]: evil }],
    })
    jar.apply(page)
    await app.request('/next', { headers: { cookie: jar.header, accept: 'text/html' } })
    expect((seen as AnySession | null)?.lastPath).toBe(path)
    // Options cannot carry attributes either.
    expect(() => edgeSession({ secret: SECRET, cookie: { name: 'a; Domain=evil.example' } })).toThrow(
      SessionConfigError,
    )
    expect(() => edgeSession({ secret: SECRET, cookie: { domain: 'example.com; Path=/x' } })).toThrow(
      SessionConfigError,
    )
  })

  it('oversized Cookie header (64 KB): our cookies that big are no session, never a 5xx; other cookies that big cost nothing', async () => {
    const { token } = await issue({ user: { sub: 'u1' } })
    const probe = probeApp()
    const junk = 'j'.repeat(64 * 1024)
    const chunks = Array.from({ length: 200 }, (_, i) => `${SESSION}.${i}=${'A'.repeat(330)}`).join('; ')
    for (const header of [
      `${SESSION}=${junk}`,
      `${SESSION}=${'A'.repeat(64 * 1024)}`,
      chunks,
      `${SESSION}=${token}; ${chunks}`,
    ]) {
      expect(header.length).toBeGreaterThanOrEqual(64 * 1024)
      const { res, session } = await probe.send(header)
      expect(res.status).toBe(200)
      expect(session).toBeNull()
      expect(badSetCookieLines(res)).toEqual([])
    }
    expect(probe.invalid).toEqual(['oversized', 'oversized', 'oversized', 'incomplete'])
    // The site's other cookies (a cookie bomb from a sibling subdomain, say) do not log the user out.
    const { res, session } = await probe.send(`junk=${junk}; ${SESSION}=${token}`)
    expect(res.status).toBe(200)
    expect(session?.user.sub).toBe('u1')
    expect(probe.errors).toEqual([])
  })

  it('login CSRF: an attacker cookie planted under a non-prefixed or differently-cased name is ignored under __Host-', async () => {
    const victim = await issue({ user: { sub: 'victim' } })
    const attacker = await issue({ user: { sub: 'attacker' } })
    const probe = probeApp()
    // Anything a sibling subdomain or a plain-http page can set (no __Host- cookie can be set from there).
    for (const name of [
      'session',
      '__host-session',
      '__HOST-session',
      '__Host-Session',
      '__Secure-session',
      'Host-session',
    ]) {
      expect((await probe.send(`${name}=${attacker.token}`)).session, name).toBeNull()
      // Beside the victim's own cookie, in either order: the victim stays the victim.
      expect((await probe.send(`${name}=${attacker.token}; ${SESSION}=${victim.token}`)).session?.user.sub, name).toBe(
        'victim',
      )
      expect((await probe.send(`${SESSION}=${victim.token}; ${name}=${attacker.token}`)).session?.user.sub, name).toBe(
        'victim',
      )
    }
    // Browsers apply the prefix rules only to names that start with `__Host-`; a server that strips
    // Unicode whitespace would read these as `__Host-session` (the "cookie prefix bypass").
    // Sent as the runtime would see the UTF-8 bytes from the network (one char per byte), and as
    // decoded Unicode where the runtime accepts such a header (workerd does, Node refuses it).
    for (const name of [
      '\u2000__Host-session',
      '\ufeff__Host-session',
      '\u00a0__Host-session',
      '__Host-session\u3000',
      '\u000b__Host-session',
    ]) {
      const forms = [String.fromCharCode(...new TextEncoder().encode(name))]
      if (accepts(name)) forms.push(name)
      for (const form of forms)
        expect((await probe.send(`${form}=${attacker.token}`)).session, JSON.stringify(form)).toBeNull()
    }
    // Why the prefix matters: without it the planted cookie IS the session.
    const plainAttacker = await issue({ user: { sub: 'attacker' } }, { cookie: { secure: false } })
    expect(
      (await probeApp({ cookie: { secure: false } }).send(`session=${plainAttacker.token}`)).session?.user.sub,
    ).toBe('attacker')
  })

  it('reads our value between SP/HTAB but not other spaces, and skips pairs without "=" however many', async () => {
    const victim = await issue({ user: { sub: 'victim' } })
    const probe = probeApp()
    for (const header of [
      `${SESSION}= ${victim.token}\t`,
      `${SESSION}=\t ${victim.token}  `,
      `x; y; ${SESSION} = ${victim.token} ; z`,
      `${'a;'.repeat(5000)}${SESSION}=${victim.token}`,
      `${'a=b'.repeat(50)}; ${SESSION}=${victim.token}; c=${'d'.repeat(100)}`,
    ])
      expect((await probe.send(header)).session?.user.sub, header.slice(0, 40)).toBe('victim')
    for (const header of [`${SESSION}=\u00a0${victim.token}`, `${SESSION}=${victim.token}\u00a0`])
      expect((await probe.send(header)).session).toBeNull()
    // Thousands of spaces inside a value: just a bad value (trimmed by index, so read in linear time).
    expect((await probe.send(`${SESSION}= a${' '.repeat(20000)}b`)).session).toBeNull()
    expect(
      (await probe.send(`${ACTIVITY}= a${' '.repeat(20000)}b; ${SESSION}=${victim.token}`)).session?.user.sub,
    ).toBe('victim')
  })

  it('duplicate __Host-session names are ambiguous: no session, whichever comes first', async () => {
    const victim = await issue({ user: { sub: 'victim' } })
    const attacker = await issue({ user: { sub: 'attacker' } })
    const probe = probeApp()
    for (const header of [
      `${SESSION}=${attacker.token}; ${SESSION}=${victim.token}`,
      `${SESSION}=${victim.token}; ${SESSION}=${attacker.token}`,
      `${SESSION}=${victim.token}; ${SESSION}=${victim.token}`,
      `${SESSION}=${victim.token}; ${SESSION}.0=${attacker.token}`,
    ]) {
      const { res, session } = await probe.send(header)
      expect(session).toBeNull()
      // The ambiguous cookies are cleared, with the attributes the browser needs to drop them.
      expect(
        res.headers
          .getSetCookie()
          .some((l) => l.startsWith(`${SESSION}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`)),
      ).toBe(true)
    }
    expect(probe.invalid).toEqual(['duplicate', 'duplicate', 'duplicate', 'incomplete'])
  })

  it('replay after logout with a store: the old cookie is refused (and after re-login, and after "log out everywhere")', async () => {
    const store = memoryStore()
    const app = new Hono()
    let seen: AnySession | null = null
    app.use(edgeSession({ secret: SECRET, store }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: 'u1' } })
      return c.body(null, 204)
    })
    app.post('/logout', async (c) => {
      await destroySession(c)
      return c.body(null, 204)
    })
    app.post('/logout-everywhere', async (c) => {
      const n = await destroyUserSessions(c, (getSession(c) as SessionData).user.sub)
      return c.json({ n })
    })
    app.get('/', (c) => {
      seen = getSession(c) as AnySession | null
      return c.body(null, 204)
    })
    const read = async (cookie: string) => {
      seen = null
      await app.request('/', { headers: { cookie } })
      return seen as AnySession | null
    }
    const login = async (cookie = '') =>
      new CookieJar().apply(await app.request('/login', { method: 'POST', headers: { cookie } })).header

    const a = await login()
    expect((await read(a))?.user.sub).toBe('u1')
    await app.request('/logout', { method: 'POST', headers: { cookie: a } })
    expect(await read(a)).toBeNull()

    // Session fixation: signing in on top of a session replaces it; the old id is dead.
    const b = await login()
    const c = await login(b)
    expect(await read(b)).toBeNull()
    expect((await read(c))?.user.sub).toBe('u1')

    // "Log out everywhere": another device's session ends too.
    const d = await login()
    const res = await app.request('/logout-everywhere', { method: 'POST', headers: { cookie: c } })
    expect(await res.json()).toEqual({ n: 2 })
    expect(await read(c)).toBeNull()
    expect(await read(d)).toBeNull()
  })

  it('cookie-only sessions: a copy kept past logout stays valid until it expires (server-side logout needs a store)', async () => {
    const { cookie } = await issue({ user: { sub: 'u1' } })
    const app = new Hono()
    app.use(edgeSession({ secret: SECRET }))
    app.post('/logout', async (c) => {
      await destroySession(c)
      return c.body(null, 204)
    })
    const res = await app.request('/logout', { method: 'POST', headers: { cookie } })
    expect(res.headers.getSetCookie()).toEqual(
      [SESSION, `${SESSION}.0`, `${SESSION}.1`, `${SESSION}.2`].map(
        (name) => `${name}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax`,
      ),
    )
    // The browser drops it; a stolen copy does not: documented limitation (see docs/security.md).
    expect((await probeApp().send(cookie)).session?.user.sub).toBe('u1')
  })

  it('open redirect through returnTo: off-site targets never become a Location', async () => {
    const payloads = [
      'https://evil.example',
      '//evil.example',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      '/..//evil.example',
      '/.//evil.example',
      '/%2e%2e//evil.example',
      '/a/../..//evil.example',
      '/\t/evil.example',
      '/\n/evil.example',
      'http:evil.example',
      'https:/evil.example',
      'javascript:alert(1)',
      'data:text/html,hi',
      ' //evil.example',
      '\u0000//evil.example',
      '//evil.example/%2F..',
      '/%5Cevil.example',
    ]
    const origin = 'https://app.example'
    const sameOrigin = (location: string | null | undefined) =>
      location == null ||
      (location.startsWith('/') &&
        !location.startsWith('//') &&
        !location.startsWith('/\\') &&
        new URL(location, origin).origin === origin)
    for (const p of payloads) expect(sameOrigin(safeRedirectPath(p, origin)), p).toBe(true)

    const app = new Hono()
    app.use(edgeSession({ secret: SECRET, onboarding: { home: '/home' } }))
    app.get('*', (c) => c.text('page'))
    const done = await issue({ user: { sub: 'u1' }, onboardingStep: 'COMPLETED' })
    for (const p of payloads) {
      const res = await app.request(`${origin}/onboarding?returnTo=${encodeURIComponent(p)}`, {
        headers: { cookie: done.cookie, accept: 'text/html' },
      })
      expect(res.status, p).toBe(303)
      expect(sameOrigin(res.headers.get('location')), `${p} -> ${res.headers.get('location')}`).toBe(true)
    }
    // Control: a same-origin target is honoured.
    const ok = await app.request(`${origin}/onboarding?returnTo=%2Fsettings%3Ftab%3D1`, {
      headers: { cookie: done.cookie, accept: 'text/html' },
    })
    expect(ok.headers.get('location')).toBe('/settings?tab=1')
  })

  it('gate bypass: encoded, oddly-cased and dotted paths with every HTTP method never reach a gated handler', async () => {
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'PROPFIND']
    const variants = [
      '/explore',
      '/Explore',
      '/EXPLORE',
      '/explore/',
      '//explore',
      '/explore//',
      '/./explore',
      '/%65xplore',
      '/%45XPLORE',
      '/explore%2F',
      '/%2Fexplore',
      '/explore/x',
      '/explore;x=1',
      '/explore?returnTo=/onboarding',
      '/onboarding/../explore',
      '/onboarding/%2e%2e/explore',
      '/onboarding/%2E%2E/explore',
      '/onboarding/..%2Fexplore',
      '/onboarding%2F..%2Fexplore',
      '/onboarding/%2e%2e%2fexplore',
      '/onboarding/..;/explore',
      '/onboarding\\..\\explore',
      '/static/../explore',
      '/static/..%2Fexplore',
      '/static%2F..%2Fexplore',
      '/login/../explore',
      '/login%2F..%2Fexplore',
      '/api/me',
      '/API/me',
      '/api//me',
      '/api/me%00',
    ]
    for (const strict of [true, false]) {
      const reached: string[] = []
      const app = new Hono({ strict })
      app.use(edgeSession({ secret: SECRET, onboarding: { protect: ['/explore', '/explore/*', '/api/*'] } }))
      app.on(methods, ['/explore', '/explore/*', '/api/me', '/EXPLORE', '/Explore'], (c) => {
        reached.push(`${c.req.method} ${c.req.path}`)
        return c.text('gated content')
      })
      app.all('*', (c) => c.text('other'))
      const mid = await issue({ user: { sub: 'u1' }, onboardingStep: 'PROFILE' })
      const done = await issue({ user: { sub: 'u1' }, onboardingStep: 'COMPLETED' })
      for (const who of [mid.cookie, null]) {
        for (const method of methods) {
          for (const path of variants) {
            for (const accept of ['text/html', 'application/json']) {
              const headers: Record<string, string> = { accept }
              if (who) headers.cookie = who
              const res = await app.request(path, { method, headers })
              expect(res.status, `${method} ${path}`).toBeLessThan(500)
            }
          }
        }
        expect(reached, `strict=${strict} ${who ? 'mid-onboarding' : 'anonymous'}`).toEqual([])
      }
      // Control: a user who finished onboarding reaches it with every method.
      for (const method of methods) await app.request('/explore', { method, headers: { cookie: done.cookie } })
      expect(reached).toHaveLength(methods.length)
    }
  })

  it('tokens never travel in URLs or bodies: redirects, gate answers and refusals carry no cookie value', async () => {
    const mid = await issue({ user: { sub: 'u1' }, onboardingStep: 'PROFILE' })
    const reasons: unknown[] = []
    const app = new Hono()
    app.use(
      edgeSession({
        secret: SECRET,
        onboarding: { protect: ['/explore'] },
        onInvalid: (_r, _c, error) => reasons.push(error),
      }),
    )
    app.get('*', (c) => c.text('page'))
    const seenText: string[] = []
    const record = async (res: Response) => {
      seenText.push(res.headers.get('location') ?? '', await res.text())
      return res
    }
    await record(await app.request('/explore?x=1', { headers: { cookie: mid.cookie, accept: 'text/html' } }))
    await record(await app.request('/explore?x=1', { headers: { cookie: mid.cookie, accept: 'application/json' } }))
    await record(await app.request('/explore', { headers: { accept: 'text/html' } }))
    await record(await app.request('/explore', { headers: { cookie: `${mid.cookie}x`, accept: 'text/html' } }))
    expect(seenText.some((t) => t.includes('/onboarding?returnTo='))).toBe(true)
    const token = mid.token
    for (const text of seenText)
      expect(text.includes(token.slice(0, 40)) || text.includes(token.slice(-40))).toBe(false)
    // The refusal hook gets an error, never one that quotes the token.
    expect(reasons.length).toBeGreaterThan(0)
    for (const error of reasons) expect(String((error as Error)?.message ?? error)).not.toContain(token.slice(-40))
  })

  it('forged claims posted by a client change nothing the server did not decide', async () => {
    const app = new Hono()
    let seen: AnySession | null = null
    app.use(edgeSession({ secret: SECRET, onboarding: {} }))
    app.post('/login', async (c) => {
      await createSession(c, { user: { sub: 'alice' }, onboardingStep: 'PROFILE' })
      return c.body(null, 204)
    })
    // Like the README's recipe: read one checked field, decide the rest on the server.
    app.post('/onboarding/profile', async (c) => {
      const form = await c.req.parseBody()
      const name = typeof form.displayName === 'string' ? form.displayName.slice(0, 40) : ''
      await updateSession(c, (s) => ({ ...s, displayName: name, onboardingStep: 'PREFERENCES' }))
      return c.body(null, 204)
    })
    app.get('*', (c) => {
      seen = getSession(c) as AnySession | null
      return c.json(seen)
    })
    const jar = new CookieJar().apply(await app.request('/login', { method: 'POST' }))
    await app.request('/onboarding', { headers: { cookie: jar.header } })
    const before = seen as AnySession | null
    expect(before?.user.sub).toBe('alice')

    const forged = new URLSearchParams({
      displayName: 'Eve',
      onboardingStep: 'COMPLETED',
      role: 'admin',
      sub: 'bob',
      'user[sub]': 'bob',
      'user.sub': 'bob',
      'internal[expiresAt]': '9999999999999',
    })
    const res = await app.request('/onboarding/profile', {
      method: 'POST',
      body: forged,
      headers: { cookie: jar.header, 'x-session': JSON.stringify({ user: { sub: 'bob' }, role: 'admin' }) },
    })
    expect(res.status).toBe(204)
    jar.apply(res)
    await app.request('/onboarding', { headers: { cookie: jar.header } })
    const after = seen as AnySession | null
    expect(after).toEqual({
      ...before,
      displayName: 'Eve',
      onboardingStep: 'PREFERENCES',
      internal: { ...before?.internal, updatedAt: after?.internal.updatedAt },
    })
    expect(after?.role).toBeUndefined()

    // Still gated: the client cannot skip onboarding by claiming it finished.
    const gated = await app.request('/explore', { headers: { cookie: jar.header, accept: 'application/json' } })
    expect(gated.status).toBe(403)
    // A cookie the client wrote itself (claims as JSON, or a JWE-looking string) is no session at all.
    const b64 = btoa(JSON.stringify({ user: { sub: 'bob' }, onboardingStep: 'COMPLETED', role: 'admin' }))
    for (const cookie of [
      `${SESSION}=${b64}`,
      `${SESSION}=${encodeURIComponent(b64)}`,
      `${SESSION}=eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..AAAA.AAAA.AAAA`,
    ]) {
      seen = null
      await app.request('/login-free', { headers: { cookie } })
      expect(seen).toBeNull()
    }
  })
})
