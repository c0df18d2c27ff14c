import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAccount } from './accounts.js';
import type { EmulatorContext } from './context.js';
import { insertOrGetOrder, isPayable, type Order } from './orders.js';
import { isProblem, openRequest, validateOrder } from './payment-request.js';
import { problemPage } from './replies.js';

/**
 * `POST /` and `POST /:lang`: the browser form a merchant's site auto-submits to sandboxsecure.mobilpay.ro
 * (`env_key`, `data`, `cipher`, `iv`). Works for any client that seals like NETOPIA's libraries do.
 *
 * An order is keyed by (signature, order id). Posting an order that is still waiting for a card shows its
 * page again, as a customer pressing Back and resubmitting would expect; posting a finished one is
 * "duplicate request (56)"; reusing an open order id with another amount or currency is "generic error (99)",
 * the code NETOPIA gives for the same order id with a different price.
 */

/** Languages with their own wording; any other two-letter code gets English. */
const PAGE_LANGUAGES = new Set(['ro', 'en']);

/** Where an order waiting for the customer continues: the card form, or the 3-D Secure step. */
export function continueUrl(ctx: EmulatorContext, order: Order): string {
  return `${ctx.baseUrl}/${order.status === 'three_ds' ? '3ds' : 'card'}/${order.purchase}`;
}

export function registerPaymentEndpoint(app: FastifyInstance, ctx: EmulatorContext): void {
  const handle = async (request: FastifyRequest, reply: FastifyReply, lang: string) => {
    // Only a browser form post is a payment request; a JSON body with the same names is not.
    const isForm = /^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '');
    const form = isForm ? ((request.body ?? {}) as Record<string, string>) : undefined;
    const opened = openRequest(form, ctx.platform.privateKey);
    if (isProblem(opened)) return problemPage(reply, opened);
    const account = await findAccount(ctx.db, opened.signature);
    if (!account) return problemPage(reply, { title: 'invalid request (48)', detail: `no seller account has the signature ${opened.signature}` });
    const valid = validateOrder(opened.root);
    if (isProblem(valid)) return problemPage(reply, valid);

    const { order, amountMinor, amountRon } = valid;
    const { order: stored, created } = await insertOrGetOrder(ctx.db, {
      signature: account.signature,
      order_id: order.id,
      lang,
      request_xml: opened.xml,
      currency: order.invoice.currency,
      amount_minor: amountMinor,
      amount_ron: amountRon,
      details: order.invoice.details,
      confirm_url: order.url.confirm,
      return_url: order.url.return,
      ipn_cipher: order.ipn_cipher ?? 'rc4',
      capture: account.capture,
    });
    if (!created) {
      if (!isPayable(stored))
        return problemPage(reply, { title: 'duplicate request (56)', detail: `order ${order.id} has already been processed (purchase ${stored.purchase})` });
      if (stored.amount_minor !== amountMinor || stored.currency !== order.invoice.currency) {
        return problemPage(reply, { title: 'generic error (99)', detail: `order ${order.id} is already open with a different amount or currency` });
      }
    }
    return reply.redirect(continueUrl(ctx, stored), 303);
  };

  app.post('/', (request, reply) => handle(request, reply, 'ro'));
  app.post<{ Params: { lang: string } }>('/:lang', (request, reply) => {
    const lang = request.params.lang.toLowerCase();
    if (!/^[a-z]{2}$/.test(lang)) return problemPage(reply, { title: 'Not found', detail: 'no such page' }, 404);
    return handle(request, reply, PAGE_LANGUAGES.has(lang) ? lang : 'en');
  });
}
