import { applyD1Migrations } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll } from 'vitest'
import { d1Store } from '../../../src'
import { describeSessionAdmin } from './suite'

beforeAll(async () => {
  await applyD1Migrations(env.SESSION_DB, env.D1_MIGRATIONS)
})

describeSessionAdmin('d1', () => d1Store(env.SESSION_DB))
