#!/usr/bin/env node
/**
 * Makes sure Debian's chromium is at /usr/bin/chromium for the browser e2e test. Installs it
 * with apt when missing (we run as root in CI); never downloads a browser build of its own.
 * Usage: node scripts/ensure-chromium.mjs
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

const CHROMIUM = '/usr/bin/chromium'

function run(command, args) {
  console.log(`[ensure-chromium] $ ${[command, ...args].join(' ')}`)
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  if (result.error) fail(`${command} could not start: ${result.error.message}`)
  if (result.status !== 0) fail(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`)
}

function fail(message) {
  console.error(`[ensure-chromium] ${message}`)
  console.error('[ensure-chromium] Install it yourself with: apt-get update && apt-get install -y chromium')
  process.exit(1)
}

if (existsSync(CHROMIUM)) {
  console.log(`[ensure-chromium] ${CHROMIUM} is present.`)
} else {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    fail(`${CHROMIUM} is missing and apt-get needs root.`)
  console.log(`[ensure-chromium] ${CHROMIUM} is missing: installing Debian's chromium with apt-get.`)
  run('apt-get', ['update'])
  run('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'])
  if (!existsSync(CHROMIUM)) fail(`apt-get finished but ${CHROMIUM} is still missing.`)
}
const version = spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' })
console.log(`[ensure-chromium] ${(version.stdout || version.stderr || '').trim() || 'chromium installed'}`)
