import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { startHub, type RunningHub } from '../../src/server.js';
import { readConfig } from '../../src/config.js';
import type { Store } from '../../src/store/store.js';
import { parseOutboundAllow } from '../../src/security/outbound.js';
import { openTestStore } from './store.js';

export { eventually } from './eventually.js';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface TestHub extends RunningHub {
  /** Every log line the hub wrote, as parsed JSON (for log scans). */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
}

/**
 * A hub on a fresh database (PGlite or PostgreSQL per the test run), on a free loopback port, emulators on.
 * The outbound guard is on as in production: a test whose receivers or processor doubles listen on 127.0.0.1
 * says so with `outboundAllow` (INCASSO_OUTBOUND_ALLOW's syntax, e.g. '127.0.0.1').
 */
export async function startTestHub(
  options: {
    emulators?: boolean;
    logLevel?: string;
    webhookRetryScale?: number;
    verifyThreads?: number;
    rateLimit?: number;
    notifyRateLimit?: number;
    outboundAllow?: string;
    requestTimeoutMs?: number;
    /** Serve /metrics on a listener of its own, on any free port. */
    metricsListener?: boolean;
    /** Failed authentications per address per 10 s (off unless given). */
    authFailureLimit?: number;
    trustProxy?: false | number | string[];
    /** The console's session lifetimes and failed logins per address. */
    console?: import('../../src/http/app.js').AppOptions['console'];
    /** Use this store (another hub's database, e.g. two hubs on one database); the caller closes it. */
    store?: Store;
    /** The vault's master key (hex): hubs on one database that read each other's connections share it. */
    masterKey?: string;
    /** Lets a test see the hub's database (e.g. count its statements): the hub uses what this returns. */
    wrapDb?: (db: Store['db']) => Store['db'];
  } = {},
): Promise<TestHub> {
  const port = await freePort();
  const rawLogs: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        rawLogs.push(line);
        try {
          logs.push(JSON.parse(line));
        } catch {
          logs.push({ unparsed: line });
        }
      }
      done();
    },
  });
  const opened = options.store ?? (await openTestStore());
  const store: Store = options.wrapDb ? Object.create(opened, { db: { value: options.wrapDb(opened.db) } }) : opened;
  const hub = await startHub(
    {
      // Defaults for everything else, as an empty environment gives them; then what a test needs.
      ...readConfig({}),
      host: '127.0.0.1',
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      dataDir: '/nonexistent-test-data-dir',
      emulators: options.emulators ?? true,
      adminKey: `adm_${randomBytes(24).toString('base64url')}`,
      masterKey: options.masterKey ?? randomBytes(32).toString('hex'),
      logLevel: options.logLevel ?? 'info',
      webhookRetryScale: options.webhookRetryScale ?? 0.0002,
      workerPollMs: 50,
      dbPoolSize: 5,
      verifyThreads: options.verifyThreads ?? 1,
      rateLimit: options.rateLimit ?? 0,
      notifyRateLimit: options.notifyRateLimit ?? 0,
      authFailureLimit: options.authFailureLimit ?? 0,
      trustProxy: options.trustProxy ?? false,
      outboundAllow: parseOutboundAllow(options.outboundAllow),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.metricsListener ? { metricsPort: 0 } : {}),
    },
    { store, logger: createLogger(options.logLevel ?? 'info', sink), console: options.console },
  );
  const close = hub.close.bind(hub);
  return Object.assign(hub, {
    logs,
    rawLogs,
    async close() {
      await close();
      if (!options.store) await store.close();
    },
  });
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A tiny JSON client for the native API. */
export function apiClient(baseUrl: string, key?: string) {
  return async function call<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const response = await fetch(baseUrl + path, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed as T };
  };
}
