/**
 * Global setup of the workerd run (vitest.config.ts): keeps two kinds of line that workerd prints
 * on every run out of the output, and says how many there were in one line at the end.
 *
 * - `WebSocket peer disconnected`: the pool closes each test file's runner socket when the file is
 *   done; workerd logs that as an exception. Harmless, and the pool has no option to silence it
 *   (its own list of ignored messages is fixed).
 * - `A header value for "cookie" contains non-ASCII characters`: the security tests send such
 *   Cookie headers on purpose (prefix-bypass spellings, Latin-1 and UTF-8 bytes), and workerd warns
 *   with a hex dump of the whole header each time a Headers object holds one.
 *
 * Everything else passes through unchanged. Runs in Vitest's main process, where the pool relays
 * workerd's logs to stdout/stderr.
 */
import type { TestProject } from 'vitest/node'

const EXPECTED: ReadonlyArray<{ readonly what: string; readonly line: RegExp }> = [
  {
    what: '"WebSocket peer disconnected" (the pool closing a finished file\'s runner)',
    line: /disconnected: WebSocket peer disconnected/,
  },
  {
    what: 'non-ASCII Cookie header warnings (sent on purpose by the security tests)',
    line: /^A header value for "cookie" contains non-ASCII characters/,
  },
]

type Write = typeof process.stdout.write

export default function quietWorkerd(_project: TestProject): () => void {
  const counts = EXPECTED.map(() => 0)
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write
    stream.write = function filtered(this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
      const text =
        typeof chunk === 'string' ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk).toString('utf8') : ''
      const index = EXPECTED.findIndex(({ line }) => line.test(text))
      if (index === -1) return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest)
      counts[index] = (counts[index] ?? 0) + 1
      const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined
      done?.()
      return true
    } as Write
  }
  // The filter stays on after this: the last runner's socket closes after teardown.
  return () => {
    const hidden = EXPECTED.map(({ what }, i) => `${counts[i]} ${what}`).filter((_, i) => (counts[i] ?? 0) > 0)
    if (hidden.length > 0) process.stdout.write(`workerd: left out ${hidden.join(' and ')}\n`)
  }
}
