import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { errorPage } from '../netopia-v1/payment-pages.js';
import { sendHtml } from '../shared/page-layout.js';
import type { DoublingRetryOptions } from '../shared/delivery-worker.js';
import { addFormParser, doublingRetryOptions, failureStatus, guardEmulatorScope, mountPrefix, mountUrl } from '../shared/scope.js';
import { registerAccountRoutes } from './accounts.js';
import { registerAuthorizeRoute } from './authorize-route.js';
import type { EmulatorV2Context } from './context.js';
import { registerDeliveryLog } from './deliveries.js';
import { sendApiError } from './errors.js';
import { registerHostedRoutes } from './hosted-routes.js';
import { IpnSender } from './ipn-sender.js';
import { registerOperationRoutes } from './operation-routes.js';
import { loadOrCreateSigningKey } from './platform-key.js';
import { ensureNetopiaV2Schema, type EmuV2Db } from './schema.js';
import { registerStartRoute } from './start-route.js';

/**
 * NETOPIA Payments API v2 emulator (JSON + API key, JWT-signed IPN): the processor's side of
 * secure.sandbox.netopia-payments.com — sandbox accounts (API key + POS signature), `/payment/card/start`
 * in hosted and direct-card modes, the hosted card page with the sandbox test cards, 3-D Secure through
 * `/sandbox/authorize` and `/payment/card/verify-auth`, `/operation/status`, `/operation/credit`, and IPNs
 * signed with one platform key (RS512), retried from a durable queue. It talks to merchants only over HTTP;
 * its state lives in its own `emu_netopia_v2_*` tables so several processes can share it.
 */

export { ensureNetopiaV2Schema } from './schema.js';
export { JWT_ISSUER } from './ipn-sender.js';

export interface NetopiaV2EmulatorOptions {
  db: Kysely<any>;
  /** Absolute URL the emulator is reached at, e.g. http://127.0.0.1:8080. */
  publicUrl: string;
  /** Mount point, default '/sandbox/netopia/v2'. Must not be the root. */
  prefix?: string;
  /**
   * IPN retries. Defaults: baseDelayMs 10 000, maxAttempts 20 (v1's documented "up to 20"; v2 documents none),
   * timeoutMs 10 000, pollMs 1000.
   */
  ipnRetry?: Partial<DoublingRetryOptions>;
}

export async function registerNetopiaV2Emulator(app: FastifyInstance, options: NetopiaV2EmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = mountPrefix(options.prefix, '/sandbox/netopia/v2', 'NETOPIA v2');
  const baseUrl = mountUrl(options.publicUrl, prefix);

  await ensureNetopiaV2Schema(options.db);
  const db = options.db as EmuV2Db;
  const platform = await loadOrCreateSigningKey(db);
  const retry = doublingRetryOptions(options.ipnRetry, { baseDelayMs: 10_000, maxAttempts: 20, timeoutMs: 10_000, pollMs: 1000 }, 'ipnRetry');
  const sender = new IpnSender(db, platform.privateKey, retry, app.log);
  const ctx: EmulatorV2Context = { db, platform, sender, baseUrl };
  // Pages get NETOPIA's HTML error page; everything else is the JSON API and gets NETOPIA's error body.
  const isPage = (request: FastifyRequest) => {
    const path = request.url.split('?')[0] ?? '';
    return path.startsWith(`${prefix}/ui/`) || path === `${prefix}/sandbox/authorize`;
  };

  await app.register(
    async (scope) => {
      // Bodies are read the emulator's way whatever the host app parses: JSON as text (the routes parse it and
      // answer NETOPIA's error for bad JSON), forms as PHP's $_POST would see them, anything else as text.
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      addFormParser(scope);
      scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
      guardEmulatorScope(scope);

      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const status = failureStatus(error, request, 'NETOPIA v2');
        const message = status === 500 ? 'Generic error' : status === 413 ? 'the request body is larger than 1 MiB' : error.message;
        if (isPage(request))
          return sendHtml(reply, status, errorPage({ title: status === 500 ? 'Generic error (99)' : 'Invalid request (48)', detail: message }));
        return sendApiError(reply, status, status === 500 ? '99' : '48', { message });
      });
      scope.setNotFoundHandler((request, reply) =>
        isPage(request)
          ? sendHtml(reply, 404, errorPage({ title: 'Not found', detail: 'no such page' }))
          : sendApiError(reply, 404, '48', { message: 'Not found: no such API endpoint' }),
      );

      registerAccountRoutes(scope, ctx);
      registerStartRoute(scope, ctx);
      registerOperationRoutes(scope, ctx);
      registerHostedRoutes(scope, ctx);
      registerAuthorizeRoute(scope, ctx);
      registerDeliveryLog(scope, ctx);
      scope.addHook('onClose', () => sender.stop());
    },
    { prefix },
  );

  sender.start();
  return { stop: () => sender.stop() };
}
