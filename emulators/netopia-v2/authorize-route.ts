import type { FastifyInstance } from 'fastify';
import { errorPage } from '../netopia-v1/payment-pages.js';
import { sendHtml } from '../shared/page-layout.js';
import type { EmulatorV2Context } from './context.js';
import { findOrderByPaReq } from './orders.js';
import { authenticationPage } from './pages.js';
import { isAbsoluteHttpUrl } from './start-request.js';

/**
 * `POST /sandbox/authorize`: the sandbox's stand-in for the card issuer's ACS (protocols/netopia.md §2.3,
 * docs "Authorize a payment"). The merchant's page posts the start answer's `formData` (`paReq`, `backUrl`)
 * here from the customer's browser; the page offers "Authorize" and "Fail authentication", and either button
 * posts `paRes` straight to `backUrl`, as a bank would. The merchant then sends that paRes to
 * `/payment/card/verify-auth`, which is where the outcome takes effect: each button carries its own paRes.
 */
export function registerAuthorizeRoute(app: FastifyInstance, ctx: EmulatorV2Context): void {
  app.post('/sandbox/authorize', async (request, reply) => {
    const form = typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, string | undefined>) : {};
    const { paReq, backUrl } = form;
    if (!paReq || !isAbsoluteHttpUrl(backUrl)) {
      return sendHtml(
        reply,
        400,
        errorPage({ title: 'Invalid request (48)', detail: 'the authentication request needs the paReq and backUrl of the payment (posted as a form)' }),
      );
    }
    const order = await findOrderByPaReq(ctx.db, paReq);
    if (!order || order.status !== 15 || order.mode !== 'direct' || !order.pa_res_ok || !order.pa_res_fail) {
      return sendHtml(
        reply,
        400,
        errorPage({ title: 'Invalid request (48)', detail: 'there is no payment waiting for authentication with this paReq', backUrl }),
      );
    }
    const merchant = await ctx.db.selectFrom('emu_netopia_v2_accounts').select('name').where('signature', '=', order.signature).executeTakeFirst();
    return sendHtml(
      reply,
      200,
      authenticationPage({
        order,
        merchant: merchant?.name ?? order.signature,
        forms: { authorize: { action: backUrl, fields: { paRes: order.pa_res_ok } }, fail: { action: backUrl, fields: { paRes: order.pa_res_fail } } },
      }),
    );
  });
}
