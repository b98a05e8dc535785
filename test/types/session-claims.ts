/**
 * Type-level checks, run by `tsc -p tsconfig.json` (nothing executes): once SessionClaims is
 * augmented, claims written by createSession / updateSession are checked against it.
 */
import type { Context } from 'hono'
import { createSession, getSession, updateSession } from '../../src'

declare module '../../src' {
  interface SessionClaims {
    /** Only for these checks; optional, so no other code notices it. */
    typeCheckTier?: 'free' | 'pro'
  }
}

interface Explicit {
  plan: 'basic' | 'team'
}

export async function accepted(c: Context): Promise<void> {
  await createSession(c, { user: { sub: 'u' }, typeCheckTier: 'free' })
  const updated = await updateSession(c, (s) => ({ ...s, typeCheckTier: 'pro' }))
  const tier: 'free' | 'pro' | undefined = updated.typeCheckTier
  await updateSession(c, { ...updated, typeCheckTier: 'free' })
  await updateSession<Explicit>(c, (s) => ({ ...s, plan: 'team' }))
  const plan: 'basic' | 'team' | undefined = getSession<Explicit>(c)?.plan
  void tier
  void plan
}

export async function refused(c: Context): Promise<void> {
  // @ts-expect-error not one of the augmented values
  await createSession(c, { user: { sub: 'u' }, typeCheckTier: 'gold' })
  // @ts-expect-error not one of the augmented values, from an update function
  await updateSession(c, (s) => ({ ...s, typeCheckTier: 'gold' }))
  // @ts-expect-error not one of the augmented values, as a whole object
  await updateSession(c, { user: { sub: 'u' }, typeCheckTier: 'gold' })
  // @ts-expect-error a claim nobody declared
  await createSession(c, { user: { sub: 'u' }, role: 'admin' })
  // @ts-expect-error user is required
  await createSession(c, { typeCheckTier: 'free' })
  // @ts-expect-error the explicit claims are checked too
  await updateSession<Explicit>(c, (s) => ({ ...s, plan: 'enterprise' }))
}
