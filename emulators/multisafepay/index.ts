import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from './accounts.js';
import { registerApiRoutes } from './api.js';
import { apiError, type EmulatorContext } from './context.js';
import { messagePage } from './html.js';
import { Notifier, type NotificationRetryOptions } from './notifier.js';
import { expireDueOrders, resolveDueReviews } from './orders.js';
import { registerPaymentPage } from './payment-page.js';
import { ensureEmulatorSchema, type EmuDb } from './schema.js';
import { failureStatus, guardEmulatorScope, mountPrefix, mountUrl, parseFormsAsRecords } from '../shared/scope.js';

/**
 * MultiSafepay emulator: the processor's side of payment links — test websites with API keys, the JSON API
 * of testapi.multisafepay.com/v1/json (create, get, cancel and refund orders) with MultiSafepay's error
 * envelope, the hosted payment page with its test cards and 3-D Secure step, link expiry, and webhook
 * notifications signed with the website's API key and retried MultiSafepay's way. It talks to merchants only
 * over HTTP; state lives in its own `emu_multisafepay_*` tables, so several processes can share it.
 */

export { ensureEmulatorSchema } from './schema.js';

export interface MultisafepayEmulatorOptions {
  db: Kysely<any>;
  /** Absolute URL the emulator is reached at, e.g. http://127.0.0.1:8080. */
  publicUrl: string;
  /** Mount point, default '/sandbox/multisafepay'. Must not be the root. */
  prefix?: string;
  notificationRetry?: Partial<NotificationRetryOptions>;
  /** How long uncleared test payments stay under review. Default 180 000 (the docs' "after 3 minutes"). */
  reviewDelayMs?: number;
}

function positive(value: number | undefined, fallback: number, name: string, min = Number.MIN_VALUE): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw new RangeError(`${name} must be a number of at least ${min}`);
  return v;
}

/** API clients speak JSON under /v1/json; everything else is a browser page. */
function isApi(request: FastifyRequest, prefix: string): boolean {
  const path = request.url.slice(prefix.length);
  return path.startsWith('/v1/') || path.startsWith('/accounts');
}

export async function registerMultisafepayEmulator(app: FastifyInstance, options: MultisafepayEmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = mountPrefix(options.prefix, '/sandbox/multisafepay', 'MultiSafepay');
  const baseUrl = mountUrl(options.publicUrl, prefix);
  const retry = options.notificationRetry ?? {};
  const retryOptions: NotificationRetryOptions = {
    baseDelayMs: positive(retry.baseDelayMs, 15 * 60_000, 'notificationRetry.baseDelayMs'),
    backoffFactor: positive(retry.backoffFactor, 1, 'notificationRetry.backoffFactor', 1),
    maxAttempts: Math.floor(positive(retry.maxAttempts, 4, 'notificationRetry.maxAttempts', 1)),
    timeoutMs: positive(retry.timeoutMs, 10_000, 'notificationRetry.timeoutMs'),
    pollMs: positive(retry.pollMs, 1000, 'notificationRetry.pollMs'),
  };

  await ensureEmulatorSchema(options.db);
  const db = options.db as EmuDb;
  const notifier = new Notifier(db, retryOptions, app.log, async () => {
    await expireDueOrders(db);
    await resolveDueReviews(db);
  });
  const ctx: EmulatorContext = { db, notifier, baseUrl, reviewDelayMs: positive(options.reviewDelayMs, 180_000, 'reviewDelayMs', 0) };

  await app.register(
    async (scope) => {
      parseFormsAsRecords(scope);
      guardEmulatorScope(scope);

      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const status = failureStatus(error, request, 'MultiSafepay');
        if (isApi(request, prefix)) {
          if (status === 500) return apiError(reply, 500, 1000, 'Unknown error');
          return apiError(reply, 400, 1016, status === 413 ? 'Missing data: the request body is larger than 1 MiB' : `Missing data: ${error.message}`);
        }
        return messagePage(reply, status === 500 ? 500 : 400, {
          title: status === 500 ? 'Something went wrong' : 'Invalid request',
          detail: status === 500 ? 'Please try again later.' : error.message,
        });
      });
      scope.setNotFoundHandler((request, reply) =>
        isApi(request, prefix)
          ? apiError(reply, 404, 1000, 'Unknown error: no such API resource')
          : messagePage(reply, 404, { title: 'Page not found', detail: 'There is no page at this address.' }),
      );

      registerAccountRoutes(scope, ctx);
      registerApiRoutes(scope, ctx);
      registerPaymentPage(scope, ctx);
      scope.addHook('onClose', () => notifier.stop());
    },
    { prefix },
  );

  notifier.start();
  return { stop: () => notifier.stop() };
}
