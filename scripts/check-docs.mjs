#!/usr/bin/env node
/**
 * Checks the README and docs/: every relative link leads to a file that exists (and, with a
 * `#fragment`, to a heading of that Markdown file), and every code block that shows a file is
 * that file, byte for byte. A block is tied to a file by an HTML comment on the line before its
 * fence:
 *
 *   <!-- file: examples/quickstart/src/index.ts -->
 *   ```ts
 *   ...the whole file...
 *   ```
 *
 * so the Quickstart users paste is the very file CI type-checks and drives in workerd.
 * Usage: node scripts/check-docs.mjs
 */
import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs'
import { dirname, join, normalize } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const MARKED_BLOCK = /^<!-- file: (\S+) -->\n(`{3,})[\w-]*\n([\s\S]*?)\n\2$/gm

/** Every marked block of one Markdown text: the file it names and its content. */
export function markedBlocks(markdown) {
  return [...markdown.matchAll(MARKED_BLOCK)].map(([, file, , body]) => ({ file, body: `${body}\n` }))
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading) {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The anchors of a Markdown text's headings (outside code fences), duplicates numbered as GitHub does. */
export function anchors(markdown) {
  const seen = new Map()
  const out = new Set()
  for (const [, text] of withoutCode(markdown).matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(text)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n ? `${base}-${n}` : base)
  }
  return out
}

function withoutCode(markdown) {
  return markdown.replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')
}

/** Relative links of a Markdown text: `[text](target)`, outside code fences and inline code. */
export function relativeLinks(markdown) {
  const text = withoutCode(markdown).replace(/`[^`\n]*`/g, '')
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target]) => target)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t))
}

// Run as a script (imported, it only lends its helpers: scripts/check-pack.mjs uses relativeLinks).
if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) checkDocs()

function checkDocs() {
  const docs = [
    'README.md',
    ...readdirSync(join(root, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ]
  const problems = []
  let checked = 0
  let links = 0
  for (const doc of docs) {
    const markdown = readFileSync(join(root, doc), 'utf8')
    for (const target of relativeLinks(markdown)) {
      links++
      const [path = '', fragment] = target.split('#')
      const file = path ? normalize(join(dirname(doc), decodeURIComponent(path))) : doc
      if (!existsSync(join(root, file))) {
        problems.push(`${doc}: link to ${target}: ${file} does not exist`)
        continue
      }
      if (
        fragment !== undefined &&
        file.endsWith('.md') &&
        !anchors(readFileSync(join(root, file), 'utf8')).has(fragment)
      ) {
        problems.push(`${doc}: link to ${target}: ${file} has no heading with that anchor`)
      }
    }
    for (const { file, body } of markedBlocks(markdown)) {
      let actual
      try {
        actual = readFileSync(join(root, file), 'utf8')
      } catch {
        problems.push(`${doc}: names ${file}, which does not exist`)
        continue
      }
      checked++
      if (actual !== body) {
        const a = actual.split('\n')
        const b = body.split('\n')
        const line = a.findIndex((text, i) => text !== b[i])
        problems.push(
          `${doc}: the block for ${file} differs from the file at line ${line + 1}:\n  file: ${JSON.stringify(a[line])}\n  doc:  ${JSON.stringify(b[line])}`,
        )
      }
    }
  }
  if (
    !docs.some(
      (doc) =>
        doc === 'README.md' &&
        markedBlocks(readFileSync(join(root, doc), 'utf8')).some((b) => b.file === 'examples/quickstart/src/index.ts'),
    )
  ) {
    problems.push('README.md: no block marked <!-- file: examples/quickstart/src/index.ts -->')
  }
  if (problems.length) {
    console.error(`[check-docs] ${problems.length} problem(s):\n${problems.join('\n')}`)
    console.error('Fix the link, or copy the file into the document (or the block into the file) so they agree.')
    process.exit(1)
  }
  console.log(
    `[check-docs] ${docs.length} documents: ${links} relative links resolve, ${checked} code blocks match their files.`,
  )
}
