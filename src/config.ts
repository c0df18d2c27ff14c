import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseOutboundAllow, type OutboundAllowList } from './security/outbound.js';

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
  /** The e-mail of the console operator a first start creates (INCASSO_OPERATOR_EMAIL; default operator@localhost). */
  operatorEmail?: string;
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
  /** Failed authentications per source address per 10 s before that address is refused (429); 0 turns it off. */
  authFailureLimit: number;
  /** Whose X-Forwarded-For gives the client's address: a hop count, or proxy addresses/CIDRs; false trusts none. */
  trustProxy: false | number | string[];
  /** Internal hosts and CIDRs that webhooks, callbacks and processor endpoints may reach (INCASSO_OUTBOUND_ALLOW). */
  outboundAllow: OutboundAllowList;
  /** The longest a client may take to send a whole request (headers and body); its headers get at most 10 s of it. */
  requestTimeoutMs: number;
  /** Port of the separate Prometheus /metrics listener (0: any free port); undefined: no metrics listener. */
  metricsPort?: number;
  metricsHost: string;
  /** Days a rejected, never-authenticated notification is kept before it is deleted; 0 keeps them. */
  rejectedNotificationRetentionDays: number;
}

/**
 * `INCASSO_TRUST_PROXY`: unset (or 0) trusts no proxy; a whole number trusts that many hops in front of the hub;
 * otherwise a comma-separated list of proxy addresses or CIDRs (or proxy-addr's names `loopback`, `linklocal`,
 * `uniquelocal`).
 */
export function parseTrustProxy(value: string | undefined): false | number | string[] {
  const text = (value ?? '').trim();
  if (text === '' || text === '0') return false;
  if (/^\d+$/.test(text)) {
    const hops = Number(text);
    if (hops > 32) throw new Error(`INCASSO_TRUST_PROXY: ${text} hops is not plausible (a hop count, or proxy addresses/CIDRs)`);
    return hops;
  }
  const entries = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) continue;
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const okBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= max);
    if (family === 0 || extra !== undefined || !okBits) {
      throw new Error(
        `INCASSO_TRUST_PROXY: ${JSON.stringify(entry)} is neither an address nor a CIDR (give a hop count, or proxy addresses/CIDRs separated by commas)`,
      );
    }
  }
  return entries.length ? entries : false;
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
    operatorEmail: env.INCASSO_OPERATOR_EMAIL || undefined,
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
    authFailureLimit: Number(env.INCASSO_AUTH_FAILURE_LIMIT ?? 20),
    trustProxy: parseTrustProxy(env.INCASSO_TRUST_PROXY),
    outboundAllow: parseOutboundAllow(env.INCASSO_OUTBOUND_ALLOW),
    requestTimeoutMs: positiveNumber(env, 'INCASSO_REQUEST_TIMEOUT_MS', 30_000),
    metricsPort: env.INCASSO_METRICS_PORT ? portNumber(env.INCASSO_METRICS_PORT, 'INCASSO_METRICS_PORT') : undefined,
    metricsHost: env.INCASSO_METRICS_HOST || '127.0.0.1',
    rejectedNotificationRetentionDays: Number(env.INCASSO_REJECTED_NOTIFICATION_RETENTION_DAYS ?? 30),
  };
}

function positiveNumber(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number of milliseconds, got ${raw}`);
  return n;
}

function portNumber(raw: string, name: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${name} must be a port number, got ${raw}`);
  return port;
}

/**
 * Reads a key from the data directory, or creates it (0600) on first start. Returns whether it was created,
 * so the caller can show a new operator key once.
 */
export function loadOrCreateKeyFile(dataDir: string, name: string, make: () => string): { value: string; created: boolean; path: string } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, name);
  if (existsSync(path)) return { value: readFileSync(path, 'utf8').trim(), created: false, path };
  const value = make();
  writeFileSync(path, value + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, created: true, path };
}

export const newAdminKey = () => `adm_${randomBytes(32).toString('base64url')}`;
export const newMasterKey = () => randomBytes(32).toString('hex');
