// Bindings declared in vitest.config.ts (cloudflareTest miniflare options) for the store tests.
declare namespace Cloudflare {
  interface Env {
    SESSION_KV: KVNamespace
    SESSION_DB: D1Database
    SESSION_DO: DurableObjectNamespace<import('../../../src/stores/durable-object').SessionDurableObject>
    D1_MIGRATIONS: import('cloudflare:test').D1Migration[]
  }
}
