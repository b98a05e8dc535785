/**
 * The example's pages: server-rendered with hono/jsx (values are escaped), no client script.
 * @module
 */
import type { CurrentUserSession, SessionData } from 'hono-edge-session'
import { raw } from 'hono/html'
import type { Child } from 'hono/jsx'
import { DIGESTS, PURPOSES, THEMES, type Digest, type Purpose, type Theme } from './claims'

const CSS = `
:root{--bg:#f6f7fb;--card:#fff;--text:#1d2330;--muted:#5c6475;--line:#dde1ea;--accent:#4f46e5;--accent-text:#fff;--warn-bg:#fff6db;--warn-line:#f2c94c;--bad:#b42318}
body.theme-dark{--bg:#11141b;--card:#1b2030;--text:#e7e9ef;--muted:#a3aab9;--line:#2e3446;--accent:#8b85ff;--accent-text:#11141b;--warn-bg:#3a3216;--warn-line:#8a7426;--bad:#ff8a80}
@media (prefers-color-scheme:dark){body.theme-system{--bg:#11141b;--card:#1b2030;--text:#e7e9ef;--muted:#a3aab9;--line:#2e3446;--accent:#8b85ff;--accent-text:#11141b;--warn-bg:#3a3216;--warn-line:#8a7426;--bad:#ff8a80}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;align-items:center;gap:1rem;padding:.75rem 1.5rem;background:var(--card);border-bottom:1px solid var(--line)}
header .brand{font-weight:700;margin-right:auto;color:var(--text);text-decoration:none}
header nav{display:flex;align-items:center;gap:1rem}
a{color:var(--accent)}
header a{text-decoration:none}
main{max-width:40rem;margin:2rem auto;padding:0 1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:1.5rem 1.75rem;box-shadow:0 1px 3px rgb(0 0 0/.06)}
h1{font-size:1.5rem;margin:0 0 .5rem}
p.lead{color:var(--muted);margin-top:0}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=text],select{width:100%;padding:.6rem .7rem;border:1px solid var(--line);border-radius:8px;font:inherit;background:var(--bg);color:var(--text)}
button{margin-top:1.25rem;padding:.6rem 1.1rem;border:0;border-radius:8px;background:var(--accent);color:var(--accent-text);font:inherit;font-weight:600;cursor:pointer}
button.link{margin:0;padding:0;background:none;color:var(--accent);font-weight:400}
.demo{background:var(--warn-bg);border:1px solid var(--warn-line);border-radius:8px;padding:.6rem .8rem;margin-bottom:1rem;font-size:.9rem}
.error{color:var(--bad);font-weight:600}
.notice{color:var(--muted)}
.visit{border-left:4px solid var(--accent);padding:.4rem .8rem;background:var(--bg);border-radius:0 8px 8px 0}
ol.steps{display:flex;gap:.5rem;list-style:none;padding:0;margin:0 0 1.25rem;font-size:.9rem}
ol.steps li{flex:1;padding:.35rem .6rem;border-radius:999px;border:1px solid var(--line);color:var(--muted);text-align:center}
ol.steps li.current{border-color:var(--accent);color:var(--accent);font-weight:600}
ol.steps li.done{color:var(--text)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{color:var(--muted)}dd{margin:0}
code{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:.9em}
`

const DATE = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'medium', timeZone: 'UTC' })

/** A time for people, in UTC (the server does not know the visitor's zone). */
export function formatTime(ms: number): string {
  return `${DATE.format(ms)} UTC`
}

type Session = SessionData

function Layout(props: { title: string; session?: Session | null; children: Child }) {
  const { session } = props
  const done = session?.onboardingStep === 'COMPLETED'
  return (
    <>
      {raw('<!doctype html>')}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <link rel="icon" href="data:," />
          <title>{`${props.title} · hono-edge-session demo`}</title>
          <style>{raw(CSS)}</style>
        </head>
        <body class={`theme-${session?.preferences?.theme ?? 'system'}`}>
          <header>
            <a class="brand" href="/">
              hono-edge-session demo
            </a>
            {session ? (
              <nav>
                {done ? (
                  <>
                    <a href="/explore">Explore</a>
                    <a href="/settings">Settings</a>
                    {session.oidc ? <a href="/profile">Profile</a> : null}
                    <a href="/api/me">/api/me</a>
                  </>
                ) : null}
                <span class="notice">{userLabel(session)}</span>
                <form method="post" action="/logout">
                  <button class="link" type="submit" id="logout">
                    Sign out
                  </button>
                </form>
              </nav>
            ) : null}
          </header>
          <main>
            <div class="card">{props.children}</div>
          </main>
        </body>
      </html>
    </>
  )
}

/** Who is signed in, for people: email, else name, else the provider's id. */
function userLabel(session: Session): string {
  const { email, name, sub } = session.user
  return typeof email === 'string' ? email : typeof name === 'string' ? name : sub
}

function ReturnTo(props: { value?: string }) {
  return props.value ? <input type="hidden" name="returnTo" value={props.value} /> : null
}

function ErrorLine(props: { error?: string }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null
}

/** The previous page view of this session (handlers see the visit recorded before this one). */
function LastVisit(props: { session: Session }) {
  const { lastPath, lastVisit } = props.session
  if (lastPath === undefined || lastVisit === undefined)
    return <p class="visit">This is your first page view in this session.</p>
  return (
    <p class="visit" id="last-visit">
      Last visited <code>{lastPath}</code> at{' '}
      <time datetime={new Date(lastVisit).toISOString()}>{formatTime(lastVisit)}</time>
    </p>
  )
}

function Options<T extends string>(props: { values: readonly T[]; selected?: T; labels: Record<T, string> }) {
  return (
    <>
      {props.values.map((v) => (
        <option value={v} selected={v === props.selected}>
          {props.labels[v]}
        </option>
      ))}
    </>
  )
}

const PURPOSE_LABELS: Record<Purpose, string> = { work: 'Work', personal: 'Personal projects', study: 'Study' }
const THEME_LABELS: Record<Theme, string> = { light: 'Light', dark: 'Dark', system: 'Same as my system' }
const DIGEST_LABELS: Record<Digest, string> = { daily: 'Daily', weekly: 'Weekly', never: 'Never' }

export function LoginPage(props: {
  error?: string
  email?: string
  returnTo?: string
  notice?: string
  provider?: string
}) {
  if (props.provider)
    return (
      <Layout title="Sign in">
        <h1>Sign in</h1>
        {props.notice ? <p class="notice">{props.notice}</p> : null}
        <form method="post" action="/auth/login">
          <ReturnTo value={props.returnTo} />
          <button type="submit" id="provider-sign-in">
            Continue with {props.provider}
          </button>
        </form>
      </Layout>
    )
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      <p class="demo">
        <strong>Demo sign-in:</strong> any email address works and no email is sent. There is no password and no user
        database: your user id is derived from the address on the server, and each sign-in starts a fresh onboarding.
      </p>
      {props.notice ? <p class="notice">{props.notice}</p> : null}
      <ErrorLine error={props.error} />
      <form method="post" action="/login">
        <ReturnTo value={props.returnTo} />
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          required
          autocomplete="email"
          value={props.email ?? ''}
          placeholder="ada@example.com"
        />
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  )
}

const STEPS = [
  ['PROFILE', 'Profile'],
  ['PREFERENCES', 'Preferences'],
  ['COMPLETED', 'Done'],
] as const

function Steps(props: { current: (typeof STEPS)[number][0] }) {
  const at = STEPS.findIndex(([step]) => step === props.current)
  return (
    <ol class="steps" aria-label="Onboarding steps">
      {STEPS.map(([, label], i) => (
        <li class={i === at ? 'current' : i < at ? 'done' : ''}>
          {i + 1}. {label}
        </li>
      ))}
    </ol>
  )
}

/** The profile's form fields (onboarding step 1 and settings). */
function ProfileFields(props: { profile: Session['profile'] }) {
  const { profile } = props
  return (
    <>
      <label for="displayName">Display name</label>
      <input
        id="displayName"
        name="displayName"
        type="text"
        required
        maxlength={40}
        value={profile?.displayName ?? ''}
      />
      <label for="purpose">What brings you here?</label>
      <select id="purpose" name="purpose">
        <Options values={PURPOSES} selected={profile?.purpose} labels={PURPOSE_LABELS} />
      </select>
    </>
  )
}

/** The preferences' form fields (onboarding step 2 and settings). */
function PreferenceFields(props: { theme?: Theme; digest?: Digest }) {
  return (
    <>
      <label for="theme">Theme</label>
      <select id="theme" name="theme">
        <Options values={THEMES} selected={props.theme} labels={THEME_LABELS} />
      </select>
      <label for="digest">Email digest</label>
      <select id="digest" name="digest">
        <Options values={DIGESTS} selected={props.digest} labels={DIGEST_LABELS} />
      </select>
    </>
  )
}

/** An onboarding step: its place in the steps, a heading, the form that posts the step. */
function StepForm(props: {
  session: Session
  title: string
  step: (typeof STEPS)[number][0]
  heading: string
  lead: Child
  action: string
  error?: string
  returnTo?: string
  submit: string
  children: Child
}) {
  return (
    <Layout title={props.title} session={props.session}>
      <Steps current={props.step} />
      <h1>{props.heading}</h1>
      <p class="lead">{props.lead}</p>
      <ErrorLine error={props.error} />
      <form method="post" action={props.action}>
        <ReturnTo value={props.returnTo} />
        {props.children}
        <button type="submit">{props.submit}</button>
      </form>
    </Layout>
  )
}

export function ProfileStep(props: { session: Session; error?: string; returnTo?: string }) {
  const profile = props.session.profile
  return (
    <StepForm
      {...props}
      title="Your profile"
      step="PROFILE"
      heading="Tell us about you"
      lead="You can use the app once onboarding is finished. Step 1 of 2."
      action="/onboarding/profile"
      submit="Continue"
    >
      <ProfileFields profile={profile} />
    </StepForm>
  )
}

export function PreferencesStep(props: { session: Session; error?: string; returnTo?: string }) {
  const prefs = props.session.preferences
  const back = `/onboarding/profile${props.returnTo ? `?returnTo=${encodeURIComponent(props.returnTo)}` : ''}`
  return (
    <StepForm
      {...props}
      title="Preferences"
      step="PREFERENCES"
      heading="Your preferences"
      lead={
        <>
          Step 2 of 2. <a href={back}>Back to profile</a>
        </>
      }
      action="/onboarding/preferences"
      submit="Finish onboarding"
    >
      <PreferenceFields theme={prefs?.theme} digest={prefs?.digest ?? 'weekly'} />
    </StepForm>
  )
}

export function DoneStep(props: { session: Session; next: string }) {
  return (
    <Layout title="All set" session={props.session}>
      <Steps current="COMPLETED" />
      <h1>You're all set, {props.session.profile?.displayName ?? userLabel(props.session)}!</h1>
      <p class="lead">Onboarding is finished and saved in your session. The rest of the app is open now.</p>
      <p>
        <a href={props.next} id="continue">
          Continue to {props.next} →
        </a>
      </p>
    </Layout>
  )
}

export function ExplorePage(props: { session: Session }) {
  const { session } = props
  return (
    <Layout title="Explore" session={session}>
      <h1>Explore</h1>
      <p class="lead">Welcome back, {session.profile?.displayName ?? userLabel(session)}.</p>
      <Plan session={session} />
      <LastVisit session={session} />
      <p>
        This page is protected: anonymous visitors are sent to sign in, and signed-in users who have not finished
        onboarding are sent to onboarding, both by the session middleware before this handler runs.
      </p>
    </Layout>
  )
}

/** The plan the billing webhook set (free until it says otherwise). */
function Plan(props: { session: Session }) {
  return (
    <p id="plan">
      Plan: <strong>{props.session.billingPlan ?? 'free'}</strong>
    </p>
  )
}

const ENDED: Record<string, string> = {
  one: 'That device is signed out.',
  none: 'That session had already ended.',
  others: 'Every other device is signed out; this one stays signed in.',
}

/** "Your sessions": every device signed in to this account, this one marked. */
function YourSessions(props: { sessions: CurrentUserSession[] }) {
  const { sessions } = props
  return (
    <section id="sessions">
      <h2>Your sessions</h2>
      <p class="lead">
        Where you are signed in. Browser and country are recorded at sign-in for this list, and go when the session
        ends.
      </p>
      <ul>
        {sessions.map((s) => (
          <li class={s.current ? 'current' : undefined}>
            <strong>{s.device?.browser ?? 'Unknown browser'}</strong>
            {s.device?.country ? ` · ${s.device.country}` : ''} · signed in {formatTime(s.createdAt)}
            {s.current ? (
              <span class="notice"> (this device)</span>
            ) : (
              <form method="post" action={`/settings/sessions/${encodeURIComponent(s.id)}/end`}>
                <button class="link" type="submit">
                  Sign out
                </button>
              </form>
            )}
          </li>
        ))}
      </ul>
      {sessions.length > 1 ? (
        <form method="post" action="/settings/sessions/others">
          <button type="submit" id="sign-out-others">
            Sign out everywhere else
          </button>
        </form>
      ) : null}
    </section>
  )
}

export function SettingsPage(props: {
  session: Session
  sessions?: CurrentUserSession[]
  error?: string
  saved?: boolean
  ended?: string
}) {
  const { session } = props
  const { profile, preferences, internal } = session
  const ended = props.ended === undefined ? undefined : ENDED[props.ended]
  return (
    <Layout title="Settings" session={session}>
      <h1>Settings</h1>
      <Plan session={session} />
      <LastVisit session={session} />
      {ended ? <p class="notice">{ended}</p> : null}
      {props.saved ? <p class="notice">Saved.</p> : null}
      <ErrorLine error={props.error} />
      <form method="post" action="/settings">
        <ProfileFields profile={profile} />
        <PreferenceFields theme={preferences?.theme} digest={preferences?.digest} />
        <button type="submit">Save</button>
      </form>
      <h2>Session</h2>
      <dl>
        <dt>User id</dt>
        <dd>
          <code>{session.user.sub}</code>
        </dd>
        <dt>Signed in</dt>
        <dd>{formatTime(internal.createdAt)}</dd>
        <dt>Ends at the latest</dt>
        <dd>{formatTime(internal.expiresAt)}</dd>
      </dl>
      {props.sessions ? <YourSessions sessions={props.sessions} /> : null}
    </Layout>
  )
}

export function ErrorPage(props: { title: string; message: string; link?: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p id="message">{props.message}</p>
      {props.link ? (
        <p>
          <a href={props.link}>Sign in</a>
        </p>
      ) : null}
    </Layout>
  )
}

/** What the provider says about the user (its userinfo endpoint, called with the access token). */
export function ProfilePage(props: { session: Session; info?: Record<string, unknown> }) {
  const { session, info } = props
  return (
    <Layout title="Profile" session={session}>
      <h1>Your account at the provider</h1>
      {info ? (
        <>
          <p class="lead">Fetched just now from the provider's userinfo endpoint with your access token.</p>
          <dl id="userinfo">
            {Object.entries(info).map(([key, value]) => (
              <>
                <dt>{key}</dt>
                <dd>
                  <code>{typeof value === 'string' ? value : JSON.stringify(value)}</code>
                </dd>
              </>
            ))}
          </dl>
          <p class="notice">
            Access token valid until{' '}
            <span id="token-expiry">{session.oidc ? formatTime(session.oidc.expiresAt) : ''}</span>
          </p>
        </>
      ) : (
        <p class="lead">You signed in with the demo sign-in: there is no provider to ask.</p>
      )}
    </Layout>
  )
}
