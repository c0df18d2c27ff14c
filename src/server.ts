import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { loadOrCreateKeyFile, newAdminKey, newMasterKey, type HubConfig } from './config.js';
import { buildApp } from './http/app.js';
import { createLogger } from './observability/logger.js';
import { Vault } from './security/vault.js';
import type { HubContext } from './services/context.js';
import { startWorker, type Worker } from './services/worker.js';
import { VerifyPool } from './services/verify-pool.js';
import { openStore, type Store } from './store/store.js';

export interface RunningHub {
  app: FastifyInstance;
  store: Store;
  ctx: HubContext;
  worker: Worker;
  adminKey: string;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Use this store instead of opening one from the config (tests). */
  store?: Store;
  /** Print the generated operator key (first start of `incasso serve`). */
  announce?: (line: string) => void;
}

/**
 * Wires the hub together and starts listening: store (PGlite or PostgreSQL, migrated), vault, operator key,
 * HTTP app, background worker and, unless turned off, the built-in processor emulators.
 */
export async function startHub(config: HubConfig, options: StartOptions = {}): Promise<RunningHub> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const master = config.masterKey ?? loadOrCreateKeyFile(config.dataDir, 'master.key', newMasterKey).value;
  let adminKey = config.adminKey;
  if (!adminKey) {
    const file = loadOrCreateKeyFile(config.dataDir, 'admin.key', newAdminKey);
    adminKey = file.value;
    if (file.created) options.announce?.(`Operator key (saved in ${file.path}, shown once): ${adminKey}`);
  }
  const store = options.store ?? (await openStore({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, poolSize: config.dbPoolSize, queryTimeoutMs: config.dbQueryTimeoutMs, preparedStatements: config.dbPreparedStatements }));

  const verifier = config.verifyThreads > 0 ? new VerifyPool(config.verifyThreads) : undefined;
  const ctx: HubContext = { db: store.db, vault: Vault.fromText(master), publicUrl: config.publicUrl, logger, verifier, emulators: config.emulators };

  const stops: Array<() => Promise<void>> = [];
  const app = await buildApp({
    ctx,
    adminKey,
    rateLimits: { api: config.rateLimit, notify: config.notifyRateLimit },
    mountEmulators: config.emulators
      ? async (instance) => {
          // Loaded only when enabled, so a production deployment (INCASSO_EMULATORS=0) never loads emulator code.
          const { registerEmulators } = await import('../emulators/index.js');
          const emulator = await registerEmulators(instance, { db: store.db, publicUrl: config.publicUrl });
          stops.push(() => emulator.stop());
        }
      : undefined,
  });
  await app.listen({ host: config.host, port: config.port });
  // The worker starts once the app is built: its deliveries and janitors run side by side (each with its own
  // database connection), and a start-up that keeps the event loop busy must not make their first queries time out.
  const worker = startWorker(ctx, { pollMs: config.workerPollMs, retryScale: config.webhookRetryScale, rejectedNotificationRetentionDays: config.rejectedNotificationRetentionDays });
  ctx.onOutboxWrite = () => worker.wake();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${port}`;

  let closed = false;
  return {
    app,
    store,
    ctx,
    worker,
    adminKey,
    url,
    async close() {
      if (closed) return;
      closed = true;
      await worker.stop();
      for (const stop of stops) await stop();
      await app.close();
      await verifier?.close();
      if (!options.store) await store.close();
    },
  };
}
