/**
 * Sessions in a D1 (SQLite) database.
 * @module
 */
import { SessionConfigError } from '../errors.js'
import { MAX_UPDATE_ATTEMPTS, pause, parseRecord as parse, subOf } from './internal.js'
import type { SessionStore, StoredSession, StoreWriteOptions } from './types.js'

/** The part of a D1 prepared statement this store uses. */
export interface D1StatementLike {
  bind(...values: unknown[]): D1StatementLike
  first<T = Record<string, unknown>>(): Promise<T | null>
  run(): Promise<{ meta: { changes: number } }>
  all<T = Record<string, unknown>>(): Promise<{ results: T[] }>
}

/** The part of a D1 binding (`D1Database`) this store uses. */
export interface D1DatabaseLike {
  prepare(query: string): D1StatementLike
  /** Runs the statements in one transaction; one result per statement, in order. */
  batch(statements: D1StatementLike[]): Promise<Array<{ meta: { changes: number }; results?: unknown[] }>>
}

/** Options of {@link d1Store}. */
export interface D1StoreOptions {
  /** Table name; must exist with the columns of `migrations/0001_sessions.sql`. Default `'sessions'`. */
  table?: string
  /**
   * Share of sign-ins (0 to 1) that also delete up to 100 expired rows, in the same round trip.
   * Default 0.1. Use {@link cleanupExpiredSessions} from a cron trigger as well, or instead (0).
   */
  cleanupRate?: number
}

/** Options of {@link cleanupExpiredSessions}. */
export interface CleanupOptions {
  /** Default `'sessions'`. */
  table?: string
  /** Rows deleted per statement (short statements keep the database responsive). Default 1000. */
  batchSize?: number
  /** Most statements per call; what is left waits for the next run. Default 100. */
  maxBatches?: number
}

const DEFAULT_TABLE = 'sessions'
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const OPPORTUNISTIC_CLEANUP_ROWS = 100
// A settled write is refused for this long: far longer than any statement can be on its way.
const FENCE_MS = 10 * 60 * 1000
// Fence rows share the table, under ids no session id can take (session ids are base64url).
const FENCE_PREFIX = '~fence:'

/**
 * Keeps sessions in a D1 table: strongly consistent reads and writes (through the primary
 * database), optimistic atomic updates, "sign out everywhere", and expired rows cleaned up.
 *
 * Create the table with the migration shipped in the package, then apply it:
 * ```toml
 * [[d1_databases]]
 * binding = "DB"
 * database_name = "app"
 * database_id = "..."
 * migrations_dir = "node_modules/hono-edge-session/migrations"
 * ```
 * ```sh
 * npx wrangler d1 migrations apply app --local    # for wrangler dev
 * npx wrangler d1 migrations apply app --remote   # production
 * ```
 *
 * - `update` is optimistic: it reads the row and its version, runs `change`, and writes with
 *   `UPDATE ... WHERE sid = ? AND version = ?`, retrying when another write came first. No
 *   concurrent update is lost, but `change` may run more than once: keep it free of side effects.
 *   A row deleted meanwhile (sign-out in another tab) stays deleted.
 * - Pass the database binding itself, not a `withSession()` session: a read replica may return
 *   a session that was already signed out or changed.
 * - `deleteByUser` deletes every row of the user and returns how many of them had not expired.
 * - `expires_at` holds the earlier of the idle deadline and the absolute end; `touch` moves it
 *   later (never past the absolute end), so rows of sessions that ended idle expire and are
 *   cleaned up like the others. No schema change: `0001_sessions.sql` is all it needs.
 * - `settle` (after a write timed out) inserts a short-lived fence row that makes the late write
 *   a no-op, in the same transaction as the read that tells whether it landed.
 * - D1 runs one query at a time per database (about 1,000 queries/s at 1 ms each); every request
 *   with a session reads one row. Beyond that, use {@link durableObjectStore}.
 *
 * @example
 * ```ts
 * import { env } from 'cloudflare:workers'
 * import { cleanupExpiredSessions, d1Store, edgeSession } from 'hono-edge-session'
 *
 * app.use(edgeSession({ secret: (c) => c.env.SESSION_SECRET, store: d1Store(env.DB) }))
 * export default {
 *   fetch: app.fetch,
 *   // wrangler.toml: [triggers] crons = ["0 * * * *"]
 *   scheduled: async (_event, env) => { await cleanupExpiredSessions(env.DB) },
 * }
 * ```
 */
export function d1Store(database: D1DatabaseLike, options: D1StoreOptions = {}): SessionStore {
  if (typeof database?.prepare !== 'function' || typeof database.batch !== 'function')
    throw new SessionConfigError('d1Store() needs a D1 database binding (env.DB).')
  const table = tableName(options.table, 'd1Store()')
  const cleanupRate = options.cleanupRate ?? 0.1
  if (typeof cleanupRate !== 'number' || !(cleanupRate >= 0 && cleanupRate <= 1))
    throw new SessionConfigError(`d1Store() cleanupRate must be a number from 0 to 1; got ${String(cleanupRate)}.`)

  const sql = d1Statements(table)

  return {
    async get(sid) {
      const row = await database.prepare(sql.select).bind(sid, Date.now()).first<{ data: string }>()
      return row ? parse(row.data) : null
    },

    async set(sid, data, { expiresAt, idleExpiresAt, sub, writeId }) {
      const write = database
        .prepare(sql.upsert)
        .bind(sid, sub, JSON.stringify(data), deadline(expiresAt, idleExpiresAt), fenceOf(writeId))
      // Riding along with a write costs no extra round trip; a bounded delete keeps it short.
      if (Math.random() < cleanupRate) await database.batch([write, database.prepare(sql.sweep).bind(Date.now())])
      else await write.run()
    },

    async delete(sid, options) {
      await database.prepare(sql.remove).bind(sid, fenceOf(options?.writeId)).run()
    },

    async settle(sid, writeId) {
      const now = Date.now()
      const [, read] = await database.batch([
        database.prepare(sql.fence).bind(FENCE_PREFIX + writeId, now + FENCE_MS),
        database.prepare(sql.select).bind(sid, now),
      ])
      const row = read?.results?.[0] as { data: string } | undefined
      return row ? parse(row.data) : null
    },

    async touch(sid, { expiresAt, idleExpiresAt }) {
      await database.prepare(sql.extend).bind(sid, deadline(expiresAt, idleExpiresAt), Date.now()).run()
    },

    update: (sid, change, options) =>
      updateRow(database, sql, sid, change, { ...options, writeId: fenceOf(options.writeId) }),

    ...userSessions(database, sql),
  }
}

/** A d1Store's methods over one user's rows (the `sub` column): the devices page, sign-out everywhere. */
function userSessions(
  database: D1DatabaseLike,
  sql: ReturnType<typeof d1Statements>,
): Pick<Required<SessionStore>, 'listByUser' | 'deleteByUser'> {
  return {
    async listByUser(sub) {
      if (sub === '') return []
      const { results } = await database
        .prepare(sql.listUser)
        .bind(sub, Date.now())
        .all<{ sid: string; data: string; expires_at: number }>()
      return results.map((row) => ({ sid: row.sid, data: parse(row.data), until: row.expires_at }))
    },

    async deleteByUser(sub) {
      // Only live sessions count as ended (like the other stores); expired rows not swept yet go
      // too, in the same transaction, so the count and the deletion agree.
      const [live] = await database.batch([
        database.prepare(sql.removeLiveOfUser).bind(sub, Date.now()),
        database.prepare(sql.removeUser).bind(sub),
      ])
      return live?.meta.changes ?? 0
    },
  }
}

/** The fence row a write id names in the table; `null` (matches no row) without one. */
function fenceOf(writeId: string | undefined): string | null {
  return writeId === undefined ? null : FENCE_PREFIX + writeId
}

/** The statements of a d1Store on `table`, built once. */
function d1Statements(table: string) {
  // Every write is refused once its caller settled it (a fence row under ?fence; NULL never matches).
  const notFenced = (n: number) => `NOT EXISTS (SELECT 1 FROM ${table} WHERE sid = ?${n})`
  return {
    select: `SELECT data, version FROM ${table} WHERE sid = ?1 AND expires_at > ?2`,
    upsert:
      `INSERT INTO ${table} (sid, sub, data, expires_at, version) SELECT ?1, ?2, ?3, ?4, 1 WHERE ${notFenced(5)} ` +
      'ON CONFLICT (sid) DO UPDATE SET sub = excluded.sub, data = excluded.data, expires_at = excluded.expires_at, version = version + 1',
    // expires_at never moves earlier: a touch may have moved it later since the caller read it.
    replace: `UPDATE ${table} SET sub = ?1, data = ?2, expires_at = MAX(expires_at, ?3), version = version + 1 WHERE sid = ?4 AND version = ?5 AND ${notFenced(6)}`,
    remove: `DELETE FROM ${table} WHERE sid = ?1 AND ${notFenced(2)}`,
    // The fence row expires like a session row, so the cleanups remove it.
    fence: `INSERT INTO ${table} (sid, sub, data, expires_at, version) VALUES (?1, '', 'null', ?2, 0) ON CONFLICT (sid) DO NOTHING`,
    // Only ever later, never past the absolute end (?2 is already capped by it), never a dead row.
    extend: `UPDATE ${table} SET expires_at = ?2 WHERE sid = ?1 AND expires_at > ?3 AND expires_at < ?2`,
    removeLiveOfUser: `DELETE FROM ${table} WHERE sub = ?1 AND expires_at > ?2`,
    removeUser: `DELETE FROM ${table} WHERE sub = ?1`,
    // Fence rows have sub '' (no user has it: user.sub is never empty when listed).
    listUser: `SELECT sid, data, expires_at FROM ${table} WHERE sub = ?1 AND expires_at > ?2 ORDER BY sid`,
    sweep: expiredDelete(table, OPPORTUNISTIC_CLEANUP_ROWS),
  }
}

/** A d1Store's `update`: compare-and-set on the row's version, tried again when another write came first. */
async function updateRow(
  database: D1DatabaseLike,
  sql: ReturnType<typeof d1Statements>,
  sid: string,
  change: Parameters<NonNullable<SessionStore['update']>>[1],
  {
    expiresAt,
    idleExpiresAt,
    sub,
    signal,
    writeId: fence,
  }: Omit<StoreWriteOptions, 'writeId'> & { writeId: string | null },
): Promise<StoredSession | null> {
  for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
    if (attempt > 0) await pause(attempt)
    const row = await database.prepare(sql.select).bind(sid, Date.now()).first<{ data: string; version: number }>()
    if (!row) return null
    const next = await change(parse(row.data))
    signal?.throwIfAborted()
    const result = await database
      .prepare(sql.replace)
      .bind(subOf(next) ?? sub, JSON.stringify(next), deadline(expiresAt, idleExpiresAt), sid, row.version, fence)
      .run()
    if (result.meta.changes === 1) return next
  }
  throw new Error(`d1Store: the session kept changing during ${MAX_UPDATE_ATTEMPTS} update attempts.`)
}

/**
 * Deletes expired sessions from the D1 table, in short statements. Call it from a cron trigger;
 * returns how many rows were deleted.
 *
 * @example
 * ```ts
 * // wrangler.toml: [triggers] crons = ["17 * * * *"]
 * export default {
 *   fetch: app.fetch,
 *   async scheduled(_controller, env) {
 *     await cleanupExpiredSessions(env.DB)
 *   },
 * } satisfies ExportedHandler<Env>
 * ```
 */
export async function cleanupExpiredSessions(database: D1DatabaseLike, options: CleanupOptions = {}): Promise<number> {
  const table = tableName(options.table, 'cleanupExpiredSessions()')
  const batchSize = options.batchSize ?? 1000
  const maxBatches = options.maxBatches ?? 100
  for (const [label, value] of [
    ['batchSize', batchSize],
    ['maxBatches', maxBatches],
  ] as const) {
    if (!Number.isInteger(value) || value < 1)
      throw new SessionConfigError(`cleanupExpiredSessions() ${label} must be a whole number of 1 or more.`)
  }
  const statement = expiredDelete(table, batchSize)
  let total = 0
  for (let i = 0; i < maxBatches; i++) {
    const { meta } = await database.prepare(statement).bind(Date.now()).run()
    total += meta.changes
    if (meta.changes < batchSize) break
  }
  return total
}

/** When the row stops being a session: `expires_at` holds the earlier of the idle deadline and the absolute end. */
function deadline(expiresAt: number, idleExpiresAt: number | undefined): number {
  return idleExpiresAt === undefined ? expiresAt : Math.min(expiresAt, idleExpiresAt)
}

// D1 is built without DELETE ... LIMIT; a subquery bounds the statement instead.
function expiredDelete(table: string, limit: number): string {
  return `DELETE FROM ${table} WHERE sid IN (SELECT sid FROM ${table} WHERE expires_at <= ?1 LIMIT ${limit})`
}

function tableName(value: string | undefined, where: string): string {
  const table = value ?? DEFAULT_TABLE
  // Interpolated into SQL: only a plain identifier is allowed.
  if (typeof table !== 'string' || !TABLE_NAME.test(table))
    throw new SessionConfigError(
      `${where} table must be a plain SQL identifier (letters, digits, _); got ${JSON.stringify(table)}.`,
    )
  return table
}
