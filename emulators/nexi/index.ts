import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { registerAccountRoutes } from './accounts.js';
import { INVALID_JSON, NEXI_BO_ERRORS, registerBackOffice } from './back-office.js';
import type { NexiContext } from './context.js';
import { registerInspect } from './inspect.js';
import { registerLinkPage } from './link-page.js';
import { Notifier } from './notifier.js';
import { noticePage } from './pages.js';
import { ensureNexiSchema, type EmuNexiDb } from './schema.js';
import type { DoublingRetryOptions } from '../shared/delivery-worker.js';
import { sendHtml } from '../shared/page-layout.js';
import { NUL_IN_URL, doublingRetryOptions, failureStatus, guardEmulatorScope, mountPrefix, mountUrl, parseFormsAsRecords } from '../shared/scope.js';

/**
 * Nexi XPay (legacy) emulator: test terminals (alias + MAC key), the back-office API of int-ecommerce.nexi.it
 * (`/ecomm/api/bo/richiestaPayMail`, `/ecomm/api/bo/situazioneOrdine`), the PayMail checkout page with test
 * cards, and signed results to `urlpost` retried until the merchant answers HTTP 200. Mounted under
 * `/sandbox/nexi`, so a client of the real API works with `${publicUrl}/sandbox/nexi` as its host. It talks
 * to merchants only over HTTP; its state is in its own `emu_nexi_*` tables, shared by several processes.
 */

export { ensureNexiSchema } from './schema.js';
export { NEXI_BO_ERRORS } from './back-office.js';
export { TEST_CARDS } from './test-cards.js';

export interface NexiEmulatorOptions {
  db: Kysely<any>;
  /** Absolute URL the emulator is reached at, e.g. http://127.0.0.1:8080. */
  publicUrl: string;
  /** Mount point, default '/sandbox/nexi'. Must not be the root. */
  prefix?: string;
  /**
   * Retries of results to urlpost. Defaults: baseDelayMs 60 000, maxAttempts 10 (the emulator's choice: Nexi
   * documents none), timeoutMs 10 000, pollMs 1000.
   */
  notifyRetry?: Partial<DoublingRetryOptions>;
  /**
   * How late a PayMail request for an amount ending in 408 (e.g. 14.08 EUR) is answered, after the link was made:
   * default 60 000 ms, past any client's deadline (a client's time-out after the processor did the work).
   */
  lateAnswerMs?: number;
}

const JSON_TYPE = 'application/json';

const isApi = (request: FastifyRequest) => /\/ecomm\/api\/|\/accounts|\/back-office\//.test(request.url);

export async function registerNexiEmulator(app: FastifyInstance, options: NexiEmulatorOptions): Promise<{ stop(): Promise<void> }> {
  const prefix = mountPrefix(options.prefix, '/sandbox/nexi', 'Nexi');
  await ensureNexiSchema(options.db);
  const db = options.db as EmuNexiDb;
  const retry = doublingRetryOptions(options.notifyRetry, { baseDelayMs: 60_000, maxAttempts: 10, timeoutMs: 10_000, pollMs: 1000 }, 'notifyRetry');
  const notifier = new Notifier(db, retry, app.log);
  const ctx: NexiContext = { db, notifier, baseUrl: mountUrl(options.publicUrl, prefix), lateAnswerMs: options.lateAnswerMs ?? 60_000 };

  await app.register(
    async (scope) => {
      // Inside this scope bodies are read XPay's way: forms as PHP reads them, JSON that never fails to parse
      // (a body that is not JSON reaches the route as INVALID_JSON and gets XPay's KO, not a framework error).
      parseFormsAsRecords(scope);
      if (scope.hasContentTypeParser(JSON_TYPE)) scope.removeContentTypeParser(JSON_TYPE);
      scope.addContentTypeParser(JSON_TYPE, { parseAs: 'string' }, (_request, body, done) => {
        try {
          done(null, JSON.parse(body as string));
        } catch {
          done(null, INVALID_JSON);
        }
      });
      guardEmulatorScope(scope);
      scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
        const status = failureStatus(error, request, 'Nexi');
        if (isApi(request)) {
          const e = status === 500 ? NEXI_BO_ERRORS.internal : NEXI_BO_ERRORS.invalidParameters;
          const detail =
            status === 413 ? 'the body is larger than 1 MiB' : status === 415 ? 'the body must be JSON' : status === 500 ? undefined : error.message;
          // Built without the database (it may be what failed): no operation number, no key to sign with.
          // XPay answers a bad back-office call with KO and 200; the emulator's own pages (accounts, inspection)
          // keep the status.
          const code = status === 500 ? 500 : /\/ecomm\/api\//.test(request.url) && error.code !== NUL_IN_URL ? 200 : status;
          return reply.code(code).send({
            esito: 'KO',
            idOperazione: '0',
            timeStamp: Date.now(),
            mac: '',
            errore: { codice: e.codice, messaggio: detail ? `${e.messaggio}: ${detail}` : e.messaggio },
          });
        }
        return sendHtml(
          reply,
          status === 500 ? 500 : 400,
          noticePage(status === 500 ? 'Internal error' : 'Invalid request', status === 500 ? 'Please try again later.' : error.message),
        );
      });
      scope.setNotFoundHandler(async (request, reply) =>
        isApi(request)
          ? reply.code(404).send({ esito: 'KO', errore: { codice: NEXI_BO_ERRORS.invalidParameters.codice, messaggio: 'no such service' } })
          : sendHtml(reply, 404, noticePage('Not found', 'There is no such page.')),
      );

      registerAccountRoutes(scope, ctx);
      registerBackOffice(scope, ctx);
      registerLinkPage(scope, ctx);
      registerInspect(scope, ctx);
      scope.addHook('onClose', () => notifier.stop());
    },
    { prefix },
  );

  notifier.start();
  return { stop: () => notifier.stop() };
}
