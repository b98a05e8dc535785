/**
 * Proof that `npm run test:bun` / `npm run test:deno` really run on Bun / Deno at the versions
 * pinned in package.json (Vitest's test workers are processes of the runtime that started it),
 * and that the package works there end to end through app.request.
 */
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { itWorksThroughAppRequest } from '../helpers/runtime-proof'

const runtime = process.env.TEST_RUNTIME
const pinned = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    devDependencies: Record<string, string>
  }
).devDependencies
const globals = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } }

describe(`runtime: ${runtime}`, () => {
  it('runs on the runtime it names, at the pinned version', () => {
    expect(['bun', 'deno']).toContain(runtime)
    if (runtime === 'bun') {
      expect(globals.Deno).toBeUndefined()
      expect(globals.Bun?.version).toBe(pinned.bun)
    } else {
      expect(globals.Bun).toBeUndefined()
      expect(globals.Deno?.version.deno).toBe(pinned.deno)
    }
  })

  itWorksThroughAppRequest(String(runtime))
})
