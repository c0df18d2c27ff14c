import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { NexiContext } from './context.js';
import { findAccount } from './links.js';

/** Whether the request carries the terminal's key: `Authorization: Basic <alias:MAC key>`, for this alias. */
async function holdsKey(ctx: NexiContext, request: FastifyRequest, alias: string): Promise<boolean> {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(request.headers.authorization ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || decoded.slice(0, colon) !== alias) return false;
  const account = await findAccount(ctx.db, alias);
  if (!account) return false;
  const given = Buffer.from(decoded.slice(colon + 1), 'utf8');
  const key = Buffer.from(account.mac_key, 'utf8');
  return given.length === key.length && timingSafeEqual(given, key);
}

/**
 * The test environment's view of one link (what XPay's back office shows an operator): the link, its card
 * tries, and each urlpost notification with its delivery log. JSON, for scripts and tests, and only for the
 * holder of the terminal's MAC key (`Authorization: Basic <alias:MAC key>`): anyone else gets 401.
 */
export function registerInspect(app: FastifyInstance, ctx: NexiContext): void {
  app.get<{ Params: { alias: string; codTrans: string } }>('/back-office/links/:alias/:codTrans', async (request, reply) => {
    if (!(await holdsKey(ctx, request, request.params.alias))) {
      return reply
        .code(401)
        .send({ esito: 'KO', errore: { codice: 3, messaggio: "send the terminal's alias and MAC key: Authorization: Basic <alias:MAC key>" } });
    }
    const link = await ctx.db
      .selectFrom('emu_nexi_links')
      .selectAll()
      .where('alias', '=', request.params.alias)
      .where('cod_trans', '=', request.params.codTrans)
      .executeTakeFirst();
    if (!link) return reply.code(404).send({ esito: 'KO', errore: { codice: 3, messaggio: 'no such link' } });
    const id = Number(link.id);
    const payments = await ctx.db.selectFrom('emu_nexi_payments').selectAll().where('link_id', '=', id).orderBy('id').execute();
    const notifications = await ctx.db.selectFrom('emu_nexi_notifications').selectAll().where('link_id', '=', id).orderBy('id').execute();
    const attempts = notifications.length
      ? await ctx.db
          .selectFrom('emu_nexi_notification_attempts')
          .selectAll()
          .where(
            'notification_id',
            'in',
            notifications.map((n) => Number(n.id)),
          )
          .orderBy('attempt')
          .execute()
      : [];
    return {
      link: {
        cod_trans: link.cod_trans,
        status: link.status,
        tries: link.tries,
        importo: Number(link.importo),
        divisa: link.divisa,
        accounting: link.accounting,
        expires_at: link.expires_at,
        url: link.url,
        url_back: link.url_back,
        url_post: link.url_post,
      },
      payments: payments.map((p) => ({
        esito: p.esito,
        codice_esito: p.codice_esito,
        messaggio: p.messaggio,
        brand: p.brand,
        pan: p.pan,
        data: p.data,
        orario: p.orario,
      })),
      notifications: notifications.map((n) => ({
        id: Number(n.id),
        status: n.status,
        attempts: n.attempts,
        next_attempt_at: n.next_attempt_at,
        fields: n.fields,
        log: attempts
          .filter((a) => Number(a.notification_id) === Number(n.id))
          .map((a) => ({ attempt: a.attempt, http_status: a.http_status, outcome: a.outcome, error: a.error })),
      })),
    };
  });
}
