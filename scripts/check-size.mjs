#!/usr/bin/env node
/**
 * Fails when a file in src/ is over MAX_FILE_LINES lines or a function in it is over
 * MAX_FUNCTION_LINES lines (first line to last, JSDoc excluded): small files and functions are what
 * let a reader follow one request through the code. Functions are found with TypeScript's parser,
 * so methods, arrows and nested functions all count, each on its own span.
 * @module
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const MAX_FILE_LINES = 300
const MAX_FUNCTION_LINES = 60

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    if (statSync(path).isDirectory()) yield* sourceFiles(path)
    else if (/\.tsx?$/.test(entry)) yield path
  }
}

const problems = []
for (const path of sourceFiles(join(ROOT, 'src'))) {
  const text = readFileSync(path, 'utf8')
  const name = relative(ROOT, path)
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (lines > MAX_FILE_LINES) problems.push(`${name}: ${lines} lines (at most ${MAX_FILE_LINES})`)
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
      const span = end - start + 1
      if (span > MAX_FUNCTION_LINES) {
        const label = node.name ? node.name.getText(source) : `${ts.SyntaxKind[node.kind]}`
        problems.push(`${name}:${start + 1}: function ${label} is ${span} lines (at most ${MAX_FUNCTION_LINES})`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
}

if (problems.length > 0) {
  console.error(`check-size: ${problems.length} problem(s)\n${problems.map((p) => `  ${p}`).join('\n')}`)
  process.exit(1)
}
console.log(
  `check-size: every file in src/ is at most ${MAX_FILE_LINES} lines, every function at most ${MAX_FUNCTION_LINES}`,
)
