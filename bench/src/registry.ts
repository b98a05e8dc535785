/** Every bench case, by id. @module */
import { codecCases } from './codec-cases'
import type { CaseFactory } from './harness'
import { profileCases } from './profile-jose.mjs'
import { middlewareCases } from './profile-middleware'
import { requestCases } from './request-cases'
import { traceCases } from './trace-cases'

export const registry: Readonly<Record<string, CaseFactory>> = {
  ...codecCases,
  ...requestCases,
  ...traceCases,
  ...profileCases,
  ...middlewareCases,
}
