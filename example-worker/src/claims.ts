/**
 * What the example keeps in the session, and the only ways a form can change it: each field is
 * read from a whitelist and checked here, on the server. Nothing else from a request body ever
 * reaches `createSession` / `updateSession`.
 * @module
 */

export type OnboardingStep = 'PROFILE' | 'PREFERENCES' | 'COMPLETED'
export type Purpose = 'work' | 'personal' | 'study'
export type Theme = 'light' | 'dark' | 'system'
export type Digest = 'daily' | 'weekly' | 'never'
/** Set by the billing webhook (POST /webhooks/plan), never by a form of the user's. */
export type Plan = 'free' | 'pro'
export const PLANS: readonly Plan[] = ['free', 'pro']

export interface Profile {
  displayName: string
  purpose: Purpose
}

export interface Preferences {
  theme: Theme
  digest: Digest
}

/**
 * The OpenID provider's tokens (sign-in through OIDC only; see oidc.ts). Kept in the session,
 * which is encrypted in the cookie or stored server-side: never in a signed-only token.
 */
export interface ProviderTokens {
  accessToken: string
  /** When the access token expires, in ms since the epoch. */
  expiresAt: number
  refreshToken?: string
  /** For the provider's sign-out (`id_token_hint`). */
  idToken?: string
  /** With an atomic store: the request that is refreshing now, so others wait for it instead of refreshing too. */
  refreshing?: { by: string; until: number }
}

// Typed claims for every getSession / updateSession in this app.
declare module 'hono-edge-session' {
  interface SessionClaims {
    onboardingStep?: OnboardingStep
    profile?: Profile
    preferences?: Preferences
    oidc?: ProviderTokens
    billingPlan?: Plan
  }
}

export const PURPOSES: readonly Purpose[] = ['work', 'personal', 'study']
export const THEMES: readonly Theme[] = ['light', 'dark', 'system']
export const DIGESTS: readonly Digest[] = ['daily', 'weekly', 'never']

/** Field values of a posted form; `File` parts are ignored. */
export type FormFields = Record<string, string | File | (string | File)[]>

/** A result: the value, or a message to show next to the form. */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string }

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/
// Letters, marks, digits, spaces and a little punctuation: no markup, no control characters.
const DISPLAY_NAME = /^[\p{L}\p{M}\p{N} .'-]{1,40}$/u

function text(form: FormFields, name: string): string {
  const value = form[name]
  return typeof value === 'string' ? value.trim() : ''
}

function oneOf<T extends string>(form: FormFields, name: string, allowed: readonly T[]): T | undefined {
  const value = text(form, name)
  return (allowed as readonly string[]).includes(value) ? (value as T) : undefined
}

/** The sign-in form: an email address, lower-cased. */
export function checkEmail(form: FormFields): Checked<string> {
  const email = text(form, 'email').toLowerCase()
  if (email.length > 254 || !EMAIL.test(email))
    return { ok: false, error: 'Enter an email address such as ada@example.com.' }
  return { ok: true, value: email }
}

/** The profile step (and the profile part of the settings page). */
export function checkProfile(form: FormFields): Checked<Profile> {
  const displayName = text(form, 'displayName').replace(/\s+/g, ' ')
  if (!DISPLAY_NAME.test(displayName))
    return { ok: false, error: "Display name: 1-40 letters, digits, spaces or . ' -" }
  const purpose = oneOf(form, 'purpose', PURPOSES)
  if (!purpose) return { ok: false, error: 'Choose what brings you here.' }
  return { ok: true, value: { displayName, purpose } }
}

/** The preferences step (and the preferences part of the settings page). */
export function checkPreferences(form: FormFields): Checked<Preferences> {
  const theme = oneOf(form, 'theme', THEMES)
  const digest = oneOf(form, 'digest', DIGESTS)
  if (!theme || !digest) return { ok: false, error: 'Choose a theme and how often to get the digest.' }
  return { ok: true, value: { theme, digest } }
}

/**
 * The demo's user id: derived from the email on the server, so the same address is the same
 * user. A real app would look the user up (or create them) in its own database here.
 */
export async function demoUserId(email: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(`demo-user:${email}`))
  const hex = [...new Uint8Array(digest).slice(0, 12)].map((b) => b.toString(16).padStart(2, '0')).join('')
  return `demo_${hex}`
}
