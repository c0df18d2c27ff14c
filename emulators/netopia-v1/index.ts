import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from './accounts.js';
import { registerBackOffice } from './back-office.js';
import { registerCardPage } from './card-page.js';
import type { EmulatorContext } from './context.js';
import { IpnSender } from './ipn-sender.js';
import { registerPaymentEndpoint } from './payment-endpoint.js';
import { loadOrCreatePlatformKey } from './platform-key.js';
import { problemPage, wantsJson } from './replies.js';
import { layout } from './html.js';
import { SIGNATURE_RE } from './accounts.js';
import { BackOfficeAuth } from '../shared/back-office-auth.js';
import { ensureEmulatorSchema, type EmuDb } from './schema.js';
import type { DoublingRetryOptions } from '../shared/delivery-worker.js';
import { doublingRetryOptions, failureStatus, guardEmulatorScope, mountPrefix, mountUrl, parseFormsAsRecords } from '../shared/scope.js';

/**
 * NETOPIA API v1 emulator: the processor's side of mobilPay card payments — seller accounts, the payment
 * endpoint and hosted card page of sandboxsecure.mobilpay.ro, sandbox test cards with 3-D Secure, IPNs with
 * NETOPIA's retry behaviour, and an admin back office. It talks to merchants only over HTTP; state lives in
 * its own `emu_netopia_v1_*` tables so several processes can share it.
 */

export { ensureEmulatorSchema } from './schema.js';

export interface NetopiaV1EmulatorOptions {
  db: Kysely<any>;
  /** Absolute URL the emulator is reached at, e.g. http://127.0.0.1:8080. */
  publicUrl: string;
  /** Mount point, default '/sandbox/netopia/v1'. Must not be the root. */
  prefix?: string;
  /** IPN retries. Defaults: baseDelayMs 10 000, maxAttempts 20 (NETOPIA: "up to 20"), timeoutMs 10 000, pollMs 1000. */
  ipnRetry?: Partial<DoublingRetryOptions>;
}

export async function registerNetopiaV1Emulator(app: FastifyInstance, options: NetopiaV1EmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = mountPrefix(options.prefix, '/sandbox/netopia/v1', 'NETOPIA');
  const baseUrl = mountUrl(options.publicUrl, prefix);

  await ensureEmulatorSchema(options.db);
  const db = options.db as EmuDb;
  const platform = await loadOrCreatePlatformKey(db);
  const retry = doublingRetryOptions(options.ipnRetry, { baseDelayMs: 10_000, maxAttempts: 20, timeoutMs: 10_000, pollMs: 1000 }, 'ipnRetry');
  const sender = new IpnSender(db, retry, app.log);
  const backOffice = await BackOfficeAuth.open({
    db: options.db,
    processor: 'netopia_v1',
    prefix,
    baseUrl,
    loginLabel: 'POS signature',
    normalizeLogin: (login) => (SIGNATURE_RE.test(login.toUpperCase()) ? login.toUpperCase() : undefined),
    landing: '/orders',
    page: (title, body) => layout({ title, body }),
    wantsJson,
    sendJsonError: (reply, status, message) => reply.code(status).send({ ok: false, error: { code: status === 403 ? 403 : 401, message } }),
  });
  const ctx: EmulatorContext = { db, platform, sender, baseUrl, paymentUrl: `${baseUrl}/`, backOffice };

  await app.register(
    async (scope) => {
      // The hub may parse forms its own way; inside this scope forms are parsed NETOPIA's way.
      parseFormsAsRecords(scope);
      guardEmulatorScope(scope);

      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const status = failureStatus(error, request, 'NETOPIA');
        // NETOPIA answers every unusable request with a plain 400 error page: an oversized body or an unknown
        // content type is no different to it from a bad field.
        const shown = status === 500 || status === 404 ? status : 400;
        const message = status === 500 ? 'Generic error' : status === 413 ? 'the request body is larger than 1 MiB' : error.message;
        if (wantsJson(request)) return reply.code(shown).send({ ok: false, error: { code: status === 500 ? 99 : 48, message } });
        return problemPage(reply, { title: status === 500 ? 'generic error (99)' : 'invalid request (48)', detail: message }, shown);
      });
      scope.setNotFoundHandler((request, reply) =>
        wantsJson(request)
          ? reply.code(404).send({ ok: false, error: { code: 48, message: 'no such resource' } })
          : problemPage(reply, { title: 'Not found', detail: 'no such page' }, 404),
      );

      registerAccountRoutes(scope, ctx);
      registerPaymentEndpoint(scope, ctx);
      registerCardPage(scope, ctx);
      backOffice.register(scope);
      registerBackOffice(scope, ctx);
      scope.addHook('onClose', () => sender.stop());
    },
    { prefix },
  );

  sender.start();
  return { stop: () => sender.stop() };
}
