import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
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

/**
 * The payer pages' link token of an order. Purchase ids are sequential, so a page found by its purchase id alone
 * would let anyone see, decline or pay another merchant's open order: the card form and the 3-D Secure step are
 * reached only with `?t=<token>`, an HMAC of the purchase id under a key derived from the emulator's platform
 * private key (kept in the database, so the link survives a restart and works on every process).
 */
const pageKeys = new WeakMap<object, Buffer>();
export function payerPageToken(ctx: EmulatorContext, purchase: string): string {
  let key = pageKeys.get(ctx.platform.privateKey);
  if (!key) {
    key = createHash('sha256')
      .update('netopia-v1 payer pages\0')
      .update(ctx.platform.privateKey.export({ type: 'pkcs8', format: 'der' }))
      .digest();
    pageKeys.set(ctx.platform.privateKey, key);
  }
  return createHmac('sha256', key).update(purchase).digest('base64url');
}

/** Whether a request's `t` is the order's payer-page token (compared in constant time). */
export function hasPayerPageToken(ctx: EmulatorContext, purchase: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length > 100) return false;
  const expected = Buffer.from(payerPageToken(ctx, purchase));
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A payer page of an order (`card`, `card/cancel` or `3ds`), with its token. */
export function payerPageUrl(ctx: EmulatorContext, order: Pick<Order, 'purchase'>, page: 'card' | 'card/cancel' | '3ds'): string {
  const [first, rest] = page.split('/');
  return `${ctx.baseUrl}/${first}/${order.purchase}${rest ? `/${rest}` : ''}?t=${payerPageToken(ctx, String(order.purchase))}`;
}

/** Where an order waiting for the customer continues: the card form, or the 3-D Secure step. */
export function continueUrl(ctx: EmulatorContext, order: Order): string {
  return payerPageUrl(ctx, order, order.status === 'three_ds' ? '3ds' : 'card');
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
