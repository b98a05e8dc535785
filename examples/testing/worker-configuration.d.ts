// What `npx wrangler types` writes for this wrangler.toml (trimmed): the bindings' types.
declare namespace Cloudflare {
  interface Env {
    SESSION_SECRET: string
    NOTES: KVNamespace
    SESSION_DO: DurableObjectNamespace<import('./src/index').SessionDurableObject>
  }
}
interface Env extends Cloudflare.Env {}
