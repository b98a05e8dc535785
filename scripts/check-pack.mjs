// The package as published: packs it (which runs `prepack`, so dist/ is built fresh), then checks
// that the tarball holds what a user needs and nothing else, that every file the README links to
// is in it (docs/ ships for that), and lints it with publint and
// @arethetypeswrong/cli (ESM-only: the CommonJS `require` resolution is not a target).
// Usage: node scripts/check-pack.mjs   (writes .tmp/pack/<name>-<version>.tgz)
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'
import { relativeLinks } from './check-docs.mjs'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const OUT = join(ROOT, '.tmp/pack')
rmSync(OUT, { recursive: true, force: true })
mkdirSync(OUT, { recursive: true })

const run = (command, args) =>
  execFileSync(command, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', OUT]))
const tarball = join(OUT, packed.filename)
const files = packed.files.map((file) => file.path).sort()

// What a user needs: the built modules and their types, the D1 migrations, the licence and docs.
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^dist\/.+\.(js|d\.ts)$/,
  /^migrations\/[^/]+\.sql$/,
  /^docs\/[^/]+\.md$/,
]
const REQUIRED = [
  'LICENSE',
  'README.md',
  'package.json',
  'dist/index.js',
  'dist/index.d.ts',
  'dist/testing/index.js',
  'dist/testing/index.d.ts',
  'dist/stores/durable-object.js',
  'dist/stores/durable-object.d.ts',
]
const unexpected = files.filter((path) => !ALLOWED.some((pattern) => pattern.test(path)))
const missing = REQUIRED.filter((path) => !files.includes(path))
// The README is the package's front page: each file it links to must be in the package too (a
// link to a folder needs a file under it).
const shipped = (path) => files.includes(path) || files.some((file) => file.startsWith(`${path.replace(/\/$/, '')}/`))
const brokenReadmeLinks = relativeLinks(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  .map((target) => target.split('#')[0])
  .filter((path) => path !== '' && !shipped(posix.normalize(decodeURIComponent(path))))
if (unexpected.length > 0 || missing.length > 0 || brokenReadmeLinks.length > 0) {
  console.error('pack check failed', { unexpected, missing, brokenReadmeLinks })
  process.exit(1)
}
console.log(
  `pack: ${files.length} files, ${packed.size} bytes packed (${packed.unpackedSize} unpacked): ${packed.filename}`,
)

const bin = (name) => join(ROOT, 'node_modules/.bin', name)
execFileSync(bin('publint'), ['--strict', tarball], { cwd: ROOT, stdio: 'inherit' })
execFileSync(bin('attw'), [tarball, '--profile', 'esm-only'], { cwd: ROOT, stdio: 'inherit' })
