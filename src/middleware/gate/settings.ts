/**
 * The `onboarding` option checked and resolved once, when the middleware or a standalone gate is
 * built: the entry, home and login paths, the completion test and the compiled path rules.
 * @module
 */
import { SessionConfigError } from '../../errors.js'
import type { OnboardingOptions, SessionData } from '../../types.js'
import { type PathMatcher, compileAllowRules, compileProtectRules, normalizePath, safeRedirectPath } from './paths.js'

/** The `onboarding` option, resolved. */
export interface GateSettings {
  readonly entry: string
  /** `entry` normalized, to compare paths with. */
  readonly entryKey: string
  readonly home: string
  readonly loginPath: string
  readonly isComplete: (session: SessionData<object>) => boolean
  readonly allow: PathMatcher
  readonly protect?: PathMatcher
  readonly isLogin: PathMatcher
}

const DEFAULT_ALLOW = [
  '/login',
  '/logout',
  '/signin',
  '/signout',
  '/auth/*',
  '/callback/*',
  '/api/auth/*',
  '/static/*',
  '/assets/*',
  '/favicon.ico',
  '/robots.txt',
]

/**
 * Resolves `onboarding` (also for {@link createGate} and {@link onboardingGate}). Throws
 * {@link SessionConfigError} for a wrong option.
 *
 * @example
 * ```ts
 * const settings = resolveOnboarding({ path: '/welcome', allow: ['/help/*'] })
 * ```
 */
export function resolveOnboarding<Claims extends object>(options: OnboardingOptions<Claims>): GateSettings {
  if (typeof options !== 'object' || options === null)
    throw new SessionConfigError('onboarding must be an options object ({} for the defaults).')
  const entry = options.path ?? '/onboarding'
  const home = options.home ?? '/'
  const loginPath = options.loginPath ?? '/login'
  for (const [label, value] of [
    ['onboarding.path', entry],
    ['onboarding.home', home],
    ['onboarding.loginPath', loginPath],
  ] as const) {
    if (typeof value !== 'string' || safeRedirectPath(value) !== value || /[?#]/.test(value))
      throw new SessionConfigError(`${label} must be a plain path such as "/x"; got ${JSON.stringify(value)}.`)
  }
  const entryKey = normalizePath(entry)
  if (isUnder(home, entryKey))
    throw new SessionConfigError('onboarding.home must not be the onboarding page itself (it would loop).')
  const isComplete = options.isComplete ?? isOnboarded
  if (typeof isComplete !== 'function') throw new SessionConfigError('onboarding.isComplete must be a function.')
  const allow = compileAllowRules([entry, `${entry}/*`, ...DEFAULT_ALLOW, ...(options.allow ?? [])], 'onboarding.allow')
  const protect = options.protect?.length ? compileProtectRules(options.protect, 'onboarding.protect') : undefined
  const isLogin = compileAllowRules([loginPath], 'onboarding.loginPath')
  // The app's test takes its own claims type; the gate hands it the session it read.
  const complete = isComplete as (session: SessionData<object>) => boolean
  return { entry, entryKey, home, loginPath, isComplete: complete, allow, ...(protect ? { protect } : {}), isLogin }
}

/**
 * Whether `path` is the onboarding entry (`entryKey`, normalized) or below it.
 *
 * @example
 * ```ts
 * isUnder('/onboarding/step-2', normalizePath('/onboarding')) // true
 * ```
 */
export function isUnder(path: string, entryKey: string): boolean {
  const key = normalizePath(path)
  return key === entryKey || key.startsWith(`${entryKey}/`)
}

function isOnboarded(session: SessionData<object>): boolean {
  return (session as { onboardingStep?: unknown }).onboardingStep === 'COMPLETED'
}
