/**
 * The bench worker: `GET /batch?case=<id>&iterations=<n>` runs one timed batch inside workerd and
 * answers `{ ms, ops, info }`. The runner (bench/run.mjs) decides how many batches.
 * @module
 */
import { clock, runBatch } from './harness'
import { registry } from './registry'

clock.install()

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (url.pathname === '/cases') return Response.json(Object.keys(registry))
    const id = url.searchParams.get('case') ?? ''
    const iterations = Number(url.searchParams.get('iterations') ?? '1')
    try {
      return Response.json(await runBatch(registry, id, iterations))
    } catch (error) {
      return Response.json(
        { error: error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error) },
        { status: 500 },
      )
    }
  },
}
