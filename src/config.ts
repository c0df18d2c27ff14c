import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

/** Every setting the hub reads, from the environment (see the README's configuration reference). */
export interface HubConfig {
  host: string;
  port: number;
  /** Where the hub is reachable from browsers and processors; default http://HOST:PORT. */
  publicUrl: string;
  dataDir: string;
  databaseUrl?: string;
  emulators: boolean;
  adminKey?: string;
  masterKey?: string;
  logLevel: string;
  webhookRetryScale: number;
  workerPollMs: number;
  dbPoolSize: number;
  dbQueryTimeoutMs: number;
  /** PostgreSQL: named prepared statements (off behind a pooler that cannot keep them). */
  dbPreparedStatements: boolean;
  /** Threads that verify notifications (RSA, XML); 0 verifies on the main thread. */
  verifyThreads: number;
  /** Requests per second per API key on the native API, and per client address on pages; 0 turns it off. */
  rateLimit: number;
  /** Notifications per second per source address on the notification endpoints; 0 turns it off. */
  notifyRateLimit: number;
  /** Days a rejected, never-authenticated notification is kept before it is deleted; 0 keeps them. */
  rejectedNotificationRetentionDays: number;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const host = env.HOST ?? '127.0.0.1';
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    host,
    port,
    publicUrl: (env.INCASSO_PUBLIC_URL ?? `http://${shownHost}:${port}`).replace(/\/+$/, ''),
    dataDir: resolve(env.INCASSO_DATA_DIR ?? './data'),
    databaseUrl: env.DATABASE_URL || undefined,
    emulators: env.INCASSO_EMULATORS !== '0' && env.INCASSO_EMULATORS !== 'false',
    adminKey: env.INCASSO_ADMIN_KEY || undefined,
    masterKey: env.INCASSO_MASTER_KEY || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
    webhookRetryScale: Number(env.INCASSO_WEBHOOK_RETRY_SCALE ?? 1),
    workerPollMs: Number(env.INCASSO_WORKER_POLL_MS ?? 1000),
    dbPoolSize: Number(env.INCASSO_DB_POOL_SIZE ?? 10),
    dbQueryTimeoutMs: Number(env.INCASSO_DB_QUERY_TIMEOUT_MS ?? 10_000),
    dbPreparedStatements: env.INCASSO_DB_PREPARED_STATEMENTS !== '0' && env.INCASSO_DB_PREPARED_STATEMENTS !== 'false',
    verifyThreads: Number(env.INCASSO_VERIFY_THREADS ?? availableParallelism()),
    rateLimit: Number(env.INCASSO_RATE_LIMIT ?? 100),
    notifyRateLimit: Number(env.INCASSO_NOTIFY_RATE_LIMIT ?? 500),
    rejectedNotificationRetentionDays: Number(env.INCASSO_REJECTED_NOTIFICATION_RETENTION_DAYS ?? 30),
  };
}

/**
 * Reads a key from the data directory, or creates it (0600) on first start. Returns whether it was created,
 * so the caller can show a new operator key once.
 */
export function loadOrCreateKeyFile(dataDir: string, name: string, make: () => string): { value: string; created: boolean; path: string } {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, created: true, path };
}

export const newAdminKey = () => `adm_${randomBytes(32).toString('base64url')}`;
export const newMasterKey = () => randomBytes(32).toString('hex');
