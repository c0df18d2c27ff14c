import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from './accounts.js';
import { registerCheckout } from './checkout.js';
import type { VoltEmulatorContext } from './context.js';
import { VOLT_RETRY_DELAYS_MS, VoltNotifier } from './notifier.js';
import { registerOAuthRoutes } from './oauth.js';
import { messagePage } from './pages.js';
import { registerPaymentApi } from './payments-api.js';
import { sendException } from './replies.js';
import { ensureVoltEmulatorSchema, type EmuVoltDb } from './schema.js';
import { sendHtml } from '../shared/page-layout.js';
import { failureStatus, guardEmulatorScope, mountPrefix, mountUrl, parseFormsAsRecords, positiveOption } from '../shared/scope.js';

/**
 * Volt emulator: the processor's side of Volt's Gateway API v2 — sandbox accounts (application, API user,
 * notification secret), OAuth2 password grant, payments with the hosted checkout and a choice of sandbox
 * banks, status and refund APIs, and signed notifications (X-Volt-Signed / X-Volt-Timed, User-Agent
 * Volt/2.0) with Volt's retry schedule. It talks to merchants only over HTTP; its state lives in its own
 * `emu_volt_*` tables, so several processes can share it.
 */

export { ensureVoltEmulatorSchema } from './schema.js';

export interface VoltEmulatorOptions {
  db: Kysely<any>;
  /** Absolute URL the emulator is reached at, e.g. http://127.0.0.1:8080. */
  publicUrl: string;
  /** Mount point, default '/sandbox/volt'. Must not be the root. */
  prefix?: string;
  /** Access token lifetime in seconds (Volt: 3600). */
  tokenTtlSeconds?: number;
  /** How long a checkout stays open before the payment is abandoned (default 30 minutes). */
  checkoutTtlMs?: number;
  notificationRetry?: {
    /** Waits before each retry (default Volt's 5 s, 30 s, 3 min, 10 min, 15 min). */
    delaysMs?: readonly number[];
    /** Deadline of one call to the notification URL. Default 10 000. */
    timeoutMs?: number;
    /** How often the worker looks for due retries and expired checkouts. Default 1000. */
    pollMs?: number;
  };
}

const PAGE_PATH_RE = /\/(checkout|bank)\//;

export async function registerVoltEmulator(app: FastifyInstance, options: VoltEmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = mountPrefix(options.prefix, '/sandbox/volt', 'Volt');
  const baseUrl = mountUrl(options.publicUrl, prefix);
  const retry = options.notificationRetry ?? {};
  const delaysMs = retry.delaysMs ?? VOLT_RETRY_DELAYS_MS;
  if (delaysMs.some((d) => !Number.isFinite(d) || d < 0)) throw new RangeError('notificationRetry.delaysMs must be non-negative numbers');

  await ensureVoltEmulatorSchema(options.db);
  const db = options.db as EmuVoltDb;
  const notifier = new VoltNotifier(
    db,
    {
      delaysMs,
      timeoutMs: positiveOption(retry.timeoutMs, 10_000, 'notificationRetry.timeoutMs'),
      pollMs: positiveOption(retry.pollMs, 1000, 'notificationRetry.pollMs'),
      checkoutTtlMs: positiveOption(options.checkoutTtlMs, 30 * 60_000, 'checkoutTtlMs'),
    },
    app.log,
  );
  const ctx: VoltEmulatorContext = { db, notifier, baseUrl, tokenTtlSeconds: Math.floor(positiveOption(options.tokenTtlSeconds, 3600, 'tokenTtlSeconds')) };

  await app.register(
    async (scope) => {
      // The host app may parse forms its own way; inside this scope forms are plain records.
      parseFormsAsRecords(scope);
      guardEmulatorScope(scope);

      // Every unusable request gets Volt's error shape (pages get a page), never a bare 500.
      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const failed = failureStatus(error, request, 'Volt');
        const status = failed === 500 || failed === 413 || failed === 404 ? failed : 400;
        const message =
          status === 500
            ? 'Internal server error'
            : status === 413
              ? 'The request body is larger than 1 MiB'
              : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
                ? 'Unsupported content type'
                : error.message;
        if (PAGE_PATH_RE.test(request.url)) return sendHtml(reply, status, messagePage({ title: 'Something went wrong', detail: message }));
        return sendException(reply, status, message);
      });
      scope.setNotFoundHandler((request, reply) =>
        PAGE_PATH_RE.test(request.url)
          ? sendHtml(reply, 404, messagePage({ title: 'Not found', detail: 'There is no such page.' }))
          : sendException(reply, 404, 'Not found'),
      );

      registerAccountRoutes(scope, ctx);
      registerOAuthRoutes(scope, ctx);
      registerPaymentApi(scope, ctx);
      registerCheckout(scope, ctx);
      scope.addHook('onClose', () => notifier.stop());
    },
    { prefix },
  );

  notifier.start();
  return { stop: () => notifier.stop() };
}
