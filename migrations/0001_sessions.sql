-- hono-edge-session: the table of d1Store(). Apply with
--   npx wrangler d1 migrations apply <DATABASE_NAME> --remote
-- (set migrations_dir = "node_modules/hono-edge-session/migrations" on the [[d1_databases]]
-- entry, or copy this file into your own migrations folder).
CREATE TABLE IF NOT EXISTS sessions (
  sid TEXT PRIMARY KEY NOT NULL,
  sub TEXT NOT NULL,
  data TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 1
);
-- "Sign out everywhere": DELETE ... WHERE sub = ?
CREATE INDEX IF NOT EXISTS sessions_sub ON sessions (sub);
-- Cleanup of expired rows: DELETE ... WHERE expires_at <= ?
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
