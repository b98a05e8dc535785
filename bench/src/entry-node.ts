/**
 * The bench in Node: a child process of bench/run.mjs that runs one timed batch per IPC message,
 * exactly as the worker does per request.
 * @module
 */
import { clock, runBatch } from './harness'
import { registry } from './registry'

interface NodeProcess {
  on(event: 'message', listener: (message: { seq: number; id: string; iterations: number }) => void): void
  send(message: unknown): void
}
const proc = (globalThis as unknown as { process: NodeProcess }).process

clock.install()
proc.on('message', ({ seq, id, iterations }) => {
  runBatch(registry, id, iterations).then(
    (result) => proc.send({ seq, result }),
    (error: unknown) =>
      proc.send({ seq, error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) }),
  )
})
proc.send({ ready: true })
