import { createServer, type Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadOrCreateKeyFile, newAdminKey, newMasterKey, type HubConfig } from './config.js';
import { buildApp, type AppOptions } from './http/app.js';
import { createLogger } from './observability/logger.js';
import { registry } from './observability/metrics.js';
import { Outbound } from './security/outbound.js';
import { Vault } from './security/vault.js';
import type { HubContext } from './services/context.js';
import { startWorker, type Worker } from './services/worker.js';
import { DEFAULT_OPERATOR_EMAIL, ensureFirstOperator } from './services/operator.js';
import type { LedgerHook } from './services/ledger/index.js';
import { HubCaches } from './services/hub-caches.js';
import { paymentStepHook } from './services/payment-steps.js';
import { invoicePaymentHook } from './services/invoices/payments.js';
import { VerifyPool } from './services/verify-pool.js';
import { openStore, type Store } from './store/store.js';
import { makePrivateDir, StartupError } from './store/data-dir.js';

export interface RunningHub {
  app: FastifyInstance;
  store: Store;
  ctx: HubContext;
  worker: Worker;
  adminKey: string;
  url: string;
  /** The Prometheus listener's URL (http://host:port/metrics) when INCASSO_METRICS_PORT is set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Use this store instead of opening one from the config (tests). */
  store?: Store;
  /**
   * Say where a generated operator key was saved (first start of `incasso serve`; the key itself is not shown) and,
   * while no operator can log into the console, the one-time link to set the operator's password. Without it no
   * console operator is made at start.
   */
  announce?: (line: string) => void;
  /** The console's session lifetimes and login throttle (tests shorten them). */
  console?: AppOptions['console'];
}

/**
 * Wires the hub together and starts listening: store (PGlite or PostgreSQL, migrated), vault, operator key,
 * HTTP app, background worker and, unless turned off, the built-in processor emulators.
 */
export async function startHub(config: HubConfig, options: StartOptions = {}): Promise<RunningHub> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // The data directory holds the keys and the PGlite database: private to the hub's user (0700, nothing under it
  // readable by others), also when an older version or a copy left it open.
  if (!config.masterKey || !config.adminKey || (!options.store && !config.databaseUrl)) {
    const { tightened, exposed } = makePrivateDir(config.dataDir);
    if (exposed)
      logger.warn(
        { dataDir: config.dataDir, tightened: tightened.length },
        'the data directory was open to other users: made it and everything in it private (0700, no group or other permissions)',
      );
    else if (tightened.length)
      logger.debug({ dataDir: config.dataDir, tightened: tightened.length }, 'removed group and other permissions inside the data directory');
  }
  const master = config.masterKey ?? loadOrCreateKeyFile(config.dataDir, 'master.key', newMasterKey).value;
  let adminKey = config.adminKey;
  if (!adminKey) {
    const file = loadOrCreateKeyFile(config.dataDir, 'admin.key', newAdminKey);
    adminKey = file.value;
    // Never on stdout (terminal scrollback, service logs): only where it is.
    if (file.created)
      options.announce?.(`Operator key created and saved in ${file.path} (mode 0600); the CLI reads it from there. To see it: cat ${file.path}`);
  }
  const store =
    options.store ??
    (await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.databaseUrl ? undefined : config.dataDir,
      poolSize: config.dbPoolSize,
      queryTimeoutMs: config.dbQueryTimeoutMs,
      preparedStatements: config.dbPreparedStatements,
    }));

  const verifier = config.verifyThreads > 0 ? new VerifyPool(config.verifyThreads) : undefined;
  // With the emulators mounted, the hub calls its own `/sandbox/` URLs (the emulators' APIs, the webhook inbox) on
  // exactly INCASSO_PUBLIC_URL's scheme, host and port: no other port or path of that host, nor any other host.
  const outbound = new Outbound({ allow: config.outboundAllow, trustedPrefixes: config.emulators ? [`${config.publicUrl}/sandbox/`] : [] });
  const ledgerHooks: LedgerHook[] = [];
  const ctx: HubContext = {
    db: store.db,
    vault: Vault.fromText(master),
    publicUrl: config.publicUrl,
    logger,
    verifier,
    emulators: config.emulators,
    outbound,
    ledgerHooks,
    caches: new HubCaches(store.db),
  };
  // The surfaces that keep their own state beside a payment hear of its changes in the ledger's transaction.
  ledgerHooks.push(paymentStepHook(ctx));
  ledgerHooks.push(invoicePaymentHook(ctx));
  // The worker starts once the app listens (below): its deliveries and janitors run side by side (each with its
  // own database connection), and a start-up that keeps the event loop busy must not make their first queries time out.
  let worker: Worker | undefined;
  ctx.onOutboxWrite = () => worker?.wake();

  const stops: Array<() => Promise<void>> = [];
  let app: FastifyInstance | undefined;
  let metricsServer: Server | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await worker?.stop();
    for (const stop of stops) await stop();
    await app?.close();
    if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
    await verifier?.close();
    if (!options.store) await store.close();
  };
  try {
    app = await buildApp({
      ctx,
      adminKey,
      requestTimeoutMs: config.requestTimeoutMs,
      rateLimits: { api: config.rateLimit, notify: config.notifyRateLimit, authFailures: config.authFailureLimit },
      trustProxy: config.trustProxy,
      console: options.console,
      mountEmulators: config.emulators
        ? async (instance) => {
            // Loaded only when enabled, so a production deployment (INCASSO_EMULATORS=0) never loads emulator code.
            const { registerEmulators } = await import('../emulators/index.js');
            const emulator = await registerEmulators(instance, { db: store.db, publicUrl: config.publicUrl });
            stops.push(() => emulator.stop());
          }
        : undefined,
    });
    await listenOrExplain(() => app!.listen({ host: config.host, port: config.port }), config.host, config.port, 'PORT');
    if (config.metricsPort !== undefined) metricsServer = await startMetricsListener(config.metricsHost, config.metricsPort);
    worker = startWorker(ctx, {
      pollMs: config.workerPollMs,
      retryScale: config.webhookRetryScale,
      rejectedNotificationRetentionDays: config.rejectedNotificationRetentionDays,
    });
    if (options.announce) await announceFirstOperator(ctx, config.operatorEmail ?? DEFAULT_OPERATOR_EMAIL, options.announce);
  } catch (e) {
    // Nothing half-started stays behind: the worker, the emulators and the store (and so the data directory lock).
    await close().catch(() => {});
    throw e;
  }
  const url = `http://${shownHost(config.host)}:${boundPort(app.server, config.port)}`;
  const metricsUrl = metricsServer ? `http://${shownHost(config.metricsHost)}:${boundPort(metricsServer, config.metricsPort!)}/metrics` : undefined;
  return { app, store, ctx, worker: worker!, adminKey, url, metricsUrl, close };
}

/**
 * A hub nobody can log into as the operator (a fresh data directory or database) makes its operator and says, in
 * one line, the one-time link that sets its password: the only secret the hub ever prints. It works once, expires
 * (PASSWORD_LINK_TTL_MS), and is useless once the password is set, so a copy left in a terminal's scrollback or a
 * service's log opens nothing later; until it is used, whoever reads that output can claim the console, as whoever
 * reads `<data dir>/admin.key` holds the operator key. Printed only while no operator has a password or a live
 * link, so a restart prints nothing (and several processes starting together print one link between them).
 */
async function announceFirstOperator(ctx: HubContext, email: string, announce: (line: string) => void): Promise<void> {
  if (!/^[^\s@<>"]{1,64}@[^\s@<>"]{1,189}$/.test(email))
    throw new StartupError(`INCASSO_OPERATOR_EMAIL must be an e-mail address, got ${JSON.stringify(email.slice(0, 100))}`);
  const first = await ensureFirstOperator(ctx, email);
  if (first?.kind === 'email_taken')
    announce(
      `No console operator was made: ${first.email} is a merchant's user. Set INCASSO_OPERATOR_EMAIL to another address, or run: incasso users create --role operator --email ADDRESS`,
    );
  else if (first)
    announce(
      `Console operator ${first.email}${first.created ? ' created' : ' has no password yet'}: set its password at ${first.setPasswordUrl} (works once, until ${first.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    );
}

const shownHost = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);

function boundPort(server: Server, fallback: number): number {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : fallback;
}

/** Listens, turning "address in use" into one line that says which setting to change. */
async function listenOrExplain(listen: () => Promise<unknown>, host: string, port: number, setting: string): Promise<void> {
  try {
    await listen();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new StartupError(`port ${port} on ${host} is already in use (another incasso or another program): stop it, or set ${setting} to another port`);
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on port ${port} on ${host}: set ${setting} to a port above 1023`);
    if (code === 'EADDRNOTAVAIL')
      throw new StartupError(`cannot listen on ${host}: it is not an address of this machine (set ${setting === 'PORT' ? 'HOST' : 'INCASSO_METRICS_HOST'})`);
    throw e;
  }
}

/**
 * Prometheus metrics on a listener of their own (INCASSO_METRICS_PORT), never on the public one: they tell an
 * outsider request rates, processors in use and failure counts. Bind it to a private address the scraper reaches.
 */
async function startMetricsListener(host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType, 'x-content-type-options': 'nosniff' }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await listenOrExplain(
    () =>
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      }),
    host,
    port,
    'INCASSO_METRICS_PORT',
  );
  return server;
}
