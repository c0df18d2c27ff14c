import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGlitePool } from './pglite-pool.js';
import { migrate } from './migrations.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

export interface Store {
  readonly db: Db;
  readonly kind: 'pglite' | 'postgres';
  close(): Promise<void>;
}

export interface StoreOptions {
  /** PostgreSQL connection string; when absent the embedded PGlite is used. */
  databaseUrl?: string;
  /** PGlite data directory; undefined means in memory (tests). */
  dataDir?: string;
  /** PostgreSQL schema to use (created if missing); tests give each file its own. */
  schema?: string;
  poolSize?: number;
  /**
   * PostgreSQL: the longest a query may go unanswered before its connection is given up (default 10 000 ms).
   * The hub's queries take milliseconds; a connection that stops answering (a vanished host, a black-holed
   * network) would otherwise hold its pool slot, and the requests behind it, forever.
   */
  queryTimeoutMs?: number;
  /** Apply pending migrations on open (default true). */
  migrate?: boolean;
}

// bigint columns hold minor-unit amounts bounded by Number.MAX_SAFE_INTEGER, so plain numbers are exact.
pg.types.setTypeParser(20, (v) => Number(v));

export async function openStore(options: StoreOptions = {}): Promise<Store> {
  let store: Store;
  if (options.databaseUrl) {
    const schema = options.schema;
    if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      options: schema ? `-c search_path=${schema}` : undefined,
      connectionTimeoutMillis: 5000,
      query_timeout: options.queryTimeoutMs ?? 10_000,
      // Lets the operating system notice a dead peer on idle connections too.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // A client that loses its server connection emits 'error': idle ones through the pool, checked-out ones on
    // themselves. Without a listener either would crash the process; the query in flight fails on its own
    // and the pool replaces the client.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    if (schema) {
      const c = await pool.connect();
      try { await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`); } finally { c.release(); }
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: discardingTimedOutClients(pool) }) });
    store = { db, kind: 'postgres', close: () => db.destroy() };
  } else {
    if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
    const pglite = new PGlite(options.dataDir ? `${options.dataDir}/pglite` : undefined);
    await pglite.waitReady;
    const pool = new PGlitePool(pglite);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    store = { db, kind: 'pglite', close: () => db.destroy() };
  }
  if (options.migrate !== false) await migrate(store.db);
  return store;
}

/**
 * The pool as Kysely sees it, except that a connection whose query timed out is discarded when released instead
 * of going back to the pool: node-postgres rejects the query but the connection still waits for its answer, so
 * every later query on it would hang too.
 */
function discardingTimedOutClients(pool: pg.Pool) {
  return {
    async connect() {
      const client = await pool.connect();
      let timedOut = false;
      return new Proxy(client, {
        get(target, property, receiver) {
          if (property === 'query') {
            return (...args: unknown[]) => {
              const result = (target.query as (...a: unknown[]) => unknown)(...args);
              if (result && typeof (result as Promise<unknown>).catch === 'function') {
                (result as Promise<unknown>).catch((e: unknown) => {
                  if (e instanceof Error && /Query read timeout/.test(e.message)) timedOut = true;
                });
              }
              return result;
            };
          }
          if (property === 'release') return () => target.release(timedOut ? new Error('query timed out; connection discarded') : undefined);
          return Reflect.get(target, property, receiver);
        },
      });
    },
    end: () => pool.end(),
  };
}

/**
 * Whether an error means the database cannot be reached right now (as opposed to a bad query): connection
 * refused or lost, the server shutting down, or no pooled connection within the timeout. Callers answer
 * "try again later" for these.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as { code?: unknown; message?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P01-57P03 (admin shutdown, crash shutdown, cannot connect now).
  if (/^08/.test(code) || /^57P0[123]$/.test(code)) return true;
  const message = typeof err.message === 'string' ? err.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Query read timeout/i.test(message);
}
