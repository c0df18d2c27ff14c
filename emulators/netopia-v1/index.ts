import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from './accounts.js';
import { registerBackOffice } from './back-office.js';
import { registerCardPage } from './card-page.js';
import type { EmulatorContext } from './context.js';
import { CONTENT_SECURITY_POLICY } from './html.js';
import { IpnSender } from './ipn-sender.js';
import { registerPaymentEndpoint } from './payment-endpoint.js';
import { loadOrCreatePlatformKey } from './platform-key.js';
import { problemPage, wantsJson } from './replies.js';
import { ensureEmulatorSchema, type EmuDb } from './schema.js';

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
  ipnRetry?: {
    /** First retry delay; attempt n waits baseDelayMs × 2^(n-1), at most one hour. Default 10 000. */
    baseDelayMs?: number;
    /** Attempts per IPN, the first included. Default 20 (NETOPIA: "up to 20"). */
    maxAttempts?: number;
    /** Deadline of one call to the confirm URL. Default 10 000. */
    timeoutMs?: number;
    /** How often the worker looks for due retries. Default 1000. */
    pollMs?: number;
  };
}

const FORM = 'application/x-www-form-urlencoded';
const BODY_LIMIT = 1024 * 1024;

/** Form fields as a record; a repeated name keeps its last value, as PHP's $_POST does. */
function parseForm(text: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(text));
}

function positive(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`ipnRetry.${name} must be a positive number`);
  return v;
}

export async function registerNetopiaV1Emulator(app: FastifyInstance, options: NetopiaV1EmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = (options.prefix ?? '/sandbox/netopia/v1').replace(/\/+$/, '');
  if (!/^\/[^?#]*$/.test(prefix)) throw new Error('the NETOPIA emulator prefix must be a path below the root, e.g. /sandbox/netopia/v1');
  const baseUrl = options.publicUrl.replace(/\/+$/, '') + prefix;

  await ensureEmulatorSchema(options.db);
  const db = options.db as EmuDb;
  const platform = await loadOrCreatePlatformKey(db);
  const retry = options.ipnRetry ?? {};
  const sender = new IpnSender(
    db,
    {
      baseDelayMs: positive(retry.baseDelayMs, 10_000, 'baseDelayMs'),
      maxAttempts: Math.floor(positive(retry.maxAttempts, 20, 'maxAttempts')),
      timeoutMs: positive(retry.timeoutMs, 10_000, 'timeoutMs'),
      pollMs: positive(retry.pollMs, 1000, 'pollMs'),
    },
    app.log,
  );
  const ctx: EmulatorContext = { db, platform, sender, baseUrl, paymentUrl: `${baseUrl}/` };

  await app.register(
    async (scope) => {
      // The hub may parse forms its own way; inside this scope forms are parsed NETOPIA's way.
      if (scope.hasContentTypeParser(FORM)) scope.removeContentTypeParser(FORM);
      scope.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, parseForm(body as string)));
      // Whatever limit the host app has, no body the emulator reads (form or JSON) may exceed 1 MiB.
      scope.addHook('onRoute', (route) => {
        route.bodyLimit = BODY_LIMIT;
      });

      scope.addHook('onSend', async (_request, reply) => {
        reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
        reply.header('x-content-type-options', 'nosniff');
        reply.header('cache-control', 'no-store');
      });

      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        if (status === 500) request.log.error({ err: error }, 'NETOPIA emulator request failed');
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
      registerBackOffice(scope, ctx);
      scope.addHook('onClose', () => sender.stop());
    },
    { prefix },
  );

  sender.start();
  return { stop: () => sender.stop() };
}
