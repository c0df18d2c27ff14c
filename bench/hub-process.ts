import { readConfig } from '../src/config.js';
import { availableParallelism } from 'node:os';
// One hub in its own process, configured from the environment, so the benchmark can measure it from outside
// (HTTP load, RSS and CPU from /proc/<pid>) without the load generator sharing its event loop.
//
//   BENCH_HUB_DATABASE_URL  PostgreSQL connection string; absent → embedded PGlite in BENCH_HUB_DATA_DIR
//   BENCH_HUB_DATA_DIR      PGlite data directory (durable: commits go to disk)
//   BENCH_HUB_ADMIN_KEY, BENCH_HUB_MASTER_KEY, BENCH_HUB_POOL_SIZE, BENCH_HUB_LOG_LEVEL, BENCH_HUB_PREPARED_STATEMENTS
//
// Talks to the parent over the IPC channel: sends {type:'ready', url, pid}; answers {type:'sql', id, text} with
// {type:'sql', id, rows} (read-only checks after the load: counts of paid payments and so on),
// {type:'stats', id} with {type:'stats', id, queries} (statements sent to the database so far) and {type:'mem', id}
// with {type:'mem', id, memory} (process.memoryUsage(): V8 heap and external memory, for the soak); on
// {type:'close'}, on SIGTERM/SIGINT, or when the parent goes away, closes the hub (store included) and exits.
import { createServer } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { PGlite } from '@electric-sql/pglite';
import { createLogger } from '../src/observability/logger.js';
import { startHub, type RunningHub } from '../src/server.js';

// Counts the statements the hub sends to its database (BEGIN and COMMIT included), so the benchmark can report
// round trips per request. A counter increment per query: no measurable overhead.
let queries = 0;
function countCalls(proto: { query: (...args: any[]) => any }) {
  const original = proto.query;
  proto.query = function (this: unknown, ...args: any[]) {
    queries++;
    return original.apply(this, args);
  };
}
countCalls(pg.Client.prototype as unknown as { query: (...args: any[]) => any });
{
  let proto: any = PGlite.prototype;
  while (proto && !Object.prototype.hasOwnProperty.call(proto, 'query')) proto = Object.getPrototypeOf(proto);
  if (proto) countCalls(proto);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is required`);
  return v;
}

const send = (message: unknown) => {
  if (process.send) process.send(message);
};

let hub: RunningHub | undefined;
let closing: Promise<void> | undefined;

function shutdown(code: number): Promise<void> {
  closing ??= (async () => {
    try {
      await hub?.close();
    } catch (e) {
      process.stderr.write(`hub close failed: ${(e as Error).message}\n`);
      code = code || 1;
    }
    process.exit(code);
  })();
  return closing;
}

process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('disconnect', () => void shutdown(0));

process.on('message', (raw) => {
  const message = raw as { type: string; id?: number; text?: string };
  if (message.type === 'close') {
    void shutdown(0);
  } else if (message.type === 'stats') {
    send({ type: 'stats', id: message.id, queries });
  } else if (message.type === 'mem') {
    send({ type: 'mem', id: message.id, memory: process.memoryUsage() });
  } else if (message.type === 'sql' && hub) {
    sql
      .raw(message.text ?? '')
      .execute(hub.store.db)
      .then((r) => send({ type: 'sql', id: message.id, rows: r.rows }))
      .catch((e: Error) => send({ type: 'sql', id: message.id, error: e.message }));
  }
});

try {
  const port = await freePort();
  const databaseUrl = process.env.BENCH_HUB_DATABASE_URL || undefined;
  const logLevel = process.env.BENCH_HUB_LOG_LEVEL ?? 'warn';
  hub = await startHub(
    {
      ...readConfig({}),
      host: '127.0.0.1',
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      dataDir: databaseUrl ? '/nonexistent-bench-data-dir' : required('BENCH_HUB_DATA_DIR'),
      databaseUrl,
      emulators: false,
      adminKey: required('BENCH_HUB_ADMIN_KEY'),
      masterKey: required('BENCH_HUB_MASTER_KEY'),
      logLevel,
      webhookRetryScale: 1,
      workerPollMs: 1000,
      dbPoolSize: Number(process.env.BENCH_HUB_POOL_SIZE ?? 10),
      dbPreparedStatements: process.env.BENCH_HUB_PREPARED_STATEMENTS !== '0',
      verifyThreads: Number(process.env.BENCH_HUB_VERIFY_THREADS ?? availableParallelism()),
      // The load comes from one address and one key: measure the hub, not its throttle.
      rateLimit: 0,
      notifyRateLimit: 0,
    },
    { logger: createLogger(logLevel, process.stderr) },
  );
  process.stdout.write(`hub listening on ${hub.url} (pid ${process.pid}, ${hub.store.kind})\n`);
  send({ type: 'ready', url: hub.url, pid: process.pid, store: hub.store.kind });
} catch (e) {
  process.stderr.write(`hub failed to start: ${(e as Error).stack ?? e}\n`);
  await shutdown(1);
}
