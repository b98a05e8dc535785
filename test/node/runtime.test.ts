/**
 * Proof that the Node run is really Node (not workerd through a pool), and that the package
 * works there end to end through app.request: sign in, read, update, the gate, sign out.
 */
import { describe, expect, it } from 'vitest'
import { itWorksThroughAppRequest } from '../helpers/runtime-proof'

describe('runtime: Node', () => {
  it('runs on Node, not in workerd', () => {
    expect(typeof process).toBe('object')
    expect(process.versions.node).toMatch(/^\d+\.\d+\.\d+$/)
    expect(process.release.name).toBe('node')
    expect(typeof (globalThis as { WebSocketPair?: unknown }).WebSocketPair).toBe('undefined')
  })

  itWorksThroughAppRequest('node')
})
