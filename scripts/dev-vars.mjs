#!/usr/bin/env node
/**
 * Creates .dev.vars for `wrangler dev` from .dev.vars.example, with a freshly generated random
 * SESSION_SECRET, when .dev.vars is missing. An existing .dev.vars is left alone.
 * Usage: node scripts/dev-vars.mjs [target]   (default target: .dev.vars in the project root)
 */
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = resolve(process.argv[2] ?? join(root, '.dev.vars'))
const example = join(root, '.dev.vars.example')
const PLACEHOLDER = /^SESSION_SECRET=.*$/m

/** The example's text with a new 256-bit secret. */
export function devVarsText() {
  const template = readFileSync(example, 'utf8')
  if (!PLACEHOLDER.test(template)) throw new Error(`${example} has no SESSION_SECRET= line`)
  return template.replace(PLACEHOLDER, `SESSION_SECRET="${randomBytes(32).toString('base64url')}"`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (existsSync(target)) {
    console.log(`[dev-vars] ${target} exists; keeping it.`)
  } else {
    writeFileSync(target, devVarsText(), { mode: 0o600 })
    console.log(`[dev-vars] wrote ${target} with a new random SESSION_SECRET (local development only).`)
  }
}
