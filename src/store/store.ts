import { createHash } from 'node:crypto';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { PGlitePool } from './pglite-pool.js';
import { migrate } from './migrations.js';
import { lockDataDir, makePrivateDir, restrictUmask } from './data-dir.js';
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
  /**
   * PGlite in memory: start from this dump of a data directory (PGlite's `dumpDataDir()`) instead of creating an
   * empty one. Creating one (initdb, in WebAssembly) costs seconds; the tests start each database from one dump
   * made and migrated once per run. Pending migrations still run as usual on top of it.
   */
  pgliteDump?: Blob;
  /** PostgreSQL schema to use (created if missing); tests give each file its own. */
  schema?: string;
  poolSize?: number;
  /**
   * PostgreSQL: the longest a query may go unanswered before its connection is given up (default 10 000 ms).
   * The hub's queries take milliseconds; a connection that stops answering (a vanished host, a black-holed
   * network) would otherwise hold its pool slot, and the requests behind it, forever.
   */
  queryTimeoutMs?: number;
  /**
   * PostgreSQL: send each distinct query text as a named prepared statement, parsed once per connection
   * (default true). It cuts the server's CPU per statement by about 40% (bench/RESULTS.md). Turn it off behind a
   * pooler that cannot keep prepared statements (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
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
      try {
        await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } finally {
        c.release();
      }
    }
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: hubClients(pool, { preparedStatements: options.preparedStatements ?? true }) }) });
    store = { db, kind: 'postgres', close: () => db.destroy() };
  } else {
    // On disk: private files (see restrictUmask) and one process at a time (see lockDataDir), both before PGlite
    // creates or opens anything.
    let lock: ReturnType<typeof lockDataDir> | undefined;
    if (options.dataDir) {
      restrictUmask();
      makePrivateDir(options.dataDir);
      lock = lockDataDir(options.dataDir);
    }
    let pglite: PGlite;
    try {
      if (options.pgliteDump && options.dataDir) throw new Error('pgliteDump is for an in-memory PGlite, not a data directory');
      pglite = options.pgliteDump ? new PGlite({ loadDataDir: options.pgliteDump }) : new PGlite(options.dataDir ? `${options.dataDir}/pglite` : undefined);
      await pglite.waitReady;
    } catch (e) {
      lock?.release();
      throw e;
    }
    const pool = new PGlitePool(pglite);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    const dataDir = options.dataDir;
    store = {
      db,
      kind: 'pglite',
      close: async () => {
        try {
          await db.destroy();
          // PGlite writes a few files as it shuts down (statistics): private too (see restrictUmask).
          if (dataDir) makePrivateDir(dataDir);
        } finally {
          lock?.release();
        }
      },
    };
  }
  if (options.migrate !== false) {
    try {
      await migrate(store.db);
    } catch (e) {
      await store.close().catch(() => {});
      throw e;
    }
  }
  // The files PGlite unpacked and chmod-ed as it opened (see restrictUmask).
  if (store.kind === 'pglite' && options.dataDir) makePrivateDir(options.dataDir);
  return store;
}

/** The most distinct statements one connection prepares; texts beyond it are sent unnamed, as before. */
const MAX_PREPARED_PER_CONNECTION = 500;

/** Which statement names each connection has prepared (a connection lives as long as its pg client). */
const preparedBy = new WeakMap<pg.PoolClient, Set<string>>();

const statementNames = new Map<string, string>();

/** A statement name for a query text: the same text always gets the same name, on every connection. */
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `incasso_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    // Bounded like the connections' own sets; the texts are the code's, so it rarely fills.
    if (statementNames.size >= 4 * MAX_PREPARED_PER_CONNECTION) statementNames.clear();
    statementNames.set(text, name);
  }
  return name;
}

/**
 * The pool as Kysely sees it, with two differences:
 * - a connection whose query failed in a way that leaves it unusable is discarded when released instead of going
 *   back to the pool: a timed-out query (node-postgres rejects it, but the connection still waits for its answer,
 *   so every later query on it would hang too), or a prepared statement whose tables changed shape under it (a
 *   migration applied by another process: PostgreSQL refuses to run the old plan, so the connection and its
 *   statements are dropped and the next one prepares afresh);
 * - with `preparedStatements`, Kysely's queries go out as named statements, each text parsed once per
 *   connection. Kysely builds its texts from the code, not from values (values are parameters), so the set of
 *   texts is small; a connection prepares at most MAX_PREPARED_PER_CONNECTION of them.
 */
function hubClients(pool: pg.Pool, options: { preparedStatements: boolean }) {
  return {
    async connect() {
      const client = await pool.connect();
      let unusable = false;
      let prepared = preparedBy.get(client);
      if (!prepared) preparedBy.set(client, (prepared = new Set()));
      const nameFor = (text: string) => {
        if (!options.preparedStatements) return undefined;
        const name = statementName(text);
        if (prepared!.has(name)) return name;
        if (prepared!.size >= MAX_PREPARED_PER_CONNECTION) return undefined;
        prepared!.add(name);
        return name;
      };
      return new Proxy(client, {
        get(target, property, receiver) {
          if (property === 'query') {
            return (...args: unknown[]) => {
              const name = typeof args[0] === 'string' && Array.isArray(args[1]) ? nameFor(args[0]) : undefined;
              const query = target.query as (...a: unknown[]) => unknown;
              const result = name ? query.call(target, { name, text: args[0], values: args[1] }) : query.apply(target, args);
              if (result && typeof (result as Promise<unknown>).catch === 'function') {
                (result as Promise<unknown>).catch((e: unknown) => {
                  if (e instanceof Error && /Query read timeout/.test(e.message)) unusable = true;
                  if ((e as { code?: string }).code === '0A000' && /cached plan/.test((e as Error).message)) unusable = true;
                });
              }
              return result;
            };
          }
          if (property === 'release')
            return () => target.release(unusable ? new Error('connection discarded: a timed-out query or a stale prepared statement') : undefined);
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
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connect ECONNREFUSED|Query read timeout/i.test(
    message,
  );
}
