import type { FastifyInstance, FastifyReply } from 'fastify';
import type { NexiContext } from './context.js';
import { expireNow, findAccount, findLinkByToken, settle, withResult, type Link, type TryResult } from './links.js';
import { checkoutPage, linkNotice, pageLanguage } from './pages.js';
import { cardOutcome, maskPan, validateCard } from './test-cards.js';
import { sendHtml } from '../shared/page-layout.js';

/**
 * The PayMail link (`payMailUrl`): XPay's checkout page for one codTrans. Paying sends the result to
 * `urlpost` (first attempt before the browser moves, then the retry queue) and the browser to `url` with the
 * result fields and their MAC; Cancel does the same with esito ANNULLO towards `url_back`. A declined card
 * also goes back to `url` (esito KO), as the codice base does; the link stays usable for the codTrans's
 * remaining tries. The PAN and CVV are used for the decision and dropped; only the masked PAN is kept.
 */

type Params = { Params: { token: string } };
type Form = Record<string, string | undefined>;

const formOf = (body: unknown): Form => (typeof body === 'object' && body !== null ? (body as Form) : {});

export function registerLinkPage(app: FastifyInstance, ctx: NexiContext): void {
  const base = (link: Link) => `${ctx.baseUrl}/ecomm/ecomm/paymail/${link.token}`;
  const langOf = (reply: FastifyReply, link: Link | undefined) => pageLanguage(link, reply.request.headers['accept-language']);

  /** The link if it takes payments; otherwise the page that says why has been sent. */
  const openLink = async (reply: FastifyReply, token: string): Promise<Link | undefined> => {
    const link = await findLinkByToken(ctx.db, token);
    const lang = langOf(reply, link);
    if (!link) return void sendHtml(reply, 404, linkNotice(lang, 'invalidTitle', 'noSuchLink'));
    if (link.status === 'expired') return void sendHtml(reply, 410, linkNotice(lang, 'expiredTitle', 'expired'));
    if (link.status !== 'open') return void sendHtml(reply, 409, linkNotice(lang, 'usedTitle', 'used', link.url));
    return link;
  };

  const merchant = async (link: Link) => (await findAccount(ctx.db, link.alias))?.name ?? link.alias;

  const render = async (
    reply: FastifyReply,
    link: Link,
    status: number,
    extra: { errors?: Parameters<typeof checkoutPage>[0]['errors']; values?: Parameters<typeof checkoutPage>[0]['values'] } = {},
  ) =>
    sendHtml(
      reply,
      status,
      checkoutPage({
        link,
        lang: langOf(reply, link),
        merchant: await merchant(link),
        payAction: base(link),
        cancelAction: `${base(link)}/cancel`,
        expireAction: `${base(link)}/expire`,
        ...extra,
      }),
    );

  /** Records the outcome, notifies urlpost once, then sends the browser where XPay sends it. */
  const finish = async (reply: FastifyReply, link: Link, result: TryResult) => {
    const account = await findAccount(ctx.db, link.alias);
    if (!account) return sendHtml(reply, 404, linkNotice(langOf(reply, link), 'invalidTitle', 'noTerminal'));
    const settled = await settle(ctx.db, Number(link.id), account.mac_key, result, ctx.notifier.leaseMs);
    if (!settled) return sendHtml(reply, 409, linkNotice(langOf(reply, link), 'usedTitle', 'used', link.url));
    if (settled.notificationId !== undefined) await ctx.notifier.deliverNow(settled.notificationId);
    return reply.redirect(withResult(result.esito === 'ANNULLO' ? settled.link.url_back : settled.link.url, settled.fields), 303);
  };

  app.get<Params>('/ecomm/ecomm/paymail/:token', async (request, reply) => {
    const link = await openLink(reply, request.params.token);
    if (!link) return reply;
    return render(reply, link, 200);
  });

  app.post<Params>('/ecomm/ecomm/paymail/:token', async (request, reply) => {
    const link = await openLink(reply, request.params.token);
    if (!link) return reply;
    const form = formOf(request.body);
    const checked = validateCard(form, new Date());
    if (!checked.ok)
      return render(reply, link, 400, { errors: checked.errors, values: { brand: form.brand, card_number: form.card_number, expiry: form.expiry } });
    const outcome = cardOutcome(checked.card.pan);
    const card = { brand: checked.card.brand, pan: maskPan(checked.card.pan), scadenza: checked.card.scadenza };
    return finish(
      reply,
      link,
      outcome.approved
        ? { esito: 'OK', codiceEsito: '0', messaggio: 'Message OK', ...card }
        : { esito: 'KO', codiceEsito: outcome.codiceEsito, messaggio: outcome.messaggio, ...card },
    );
  });

  app.post<Params>('/ecomm/ecomm/paymail/:token/cancel', async (request, reply) => {
    const link = await openLink(reply, request.params.token);
    if (!link) return reply;
    return finish(reply, link, { esito: 'ANNULLO', codiceEsito: '', messaggio: "Annullato dall'utente" });
  });

  // The sandbox's control for "the customer never paid": the link closes now, as it would after `timeout` hours.
  app.post<Params>('/ecomm/ecomm/paymail/:token/expire', async (request, reply) => {
    const link = await openLink(reply, request.params.token);
    if (!link) return reply;
    await expireNow(ctx.db, Number(link.id));
    return reply.redirect(base(link), 303);
  });
}
