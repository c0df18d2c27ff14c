import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { currencyFromDivisa, MAX_IMPORTO } from '../../src/connectors/nexi/currencies.js';
import { backOfficeResponseMacPairs, computeMac, macMatches, orderStatusMacPairs, payMailMacPairs, type MacPairs } from '../../src/connectors/nexi/mac.js';
import { COD_TRANS_RE, MAX_ORDER_REFERENCE, ORDER_REFERENCE_PARAM } from '../../src/connectors/nexi/paymail.js';
import type { NexiContext } from './context.js';
import { findAccount, newLinkToken, type Account } from './links.js';
import { orderReport } from './order-report.js';
import { nextOperationId } from './schema.js';

/**
 * XPay's back-office API as the emulator answers it: `POST /ecomm/api/bo/richiestaPayMail` and
 * `POST /ecomm/api/bo/situazioneOrdine`, JSON in and out. Every answer is XPay's envelope
 * `{esito, idOperazione, timeStamp, mac}` (MAC over esito, idOperazione, timeStamp with the terminal's key),
 * plus `errore {codice, messaggio}` on KO. HTTP 200 either way. A PayMail request for an amount ending in 408
 * is answered late (LATE_ANSWER_AMOUNT_SUFFIX).
 */

/**
 * The `errore.codice` values the emulator uses. Nexi's own code table was not in the sources found
 * (protocols/acquirers.md §2 has the shape only), so these numbers are the emulator's; clients should rely on
 * `esito` and show `messaggio`.
 */
export const NEXI_BO_ERRORS = {
  invalidParameters: { codice: 3, messaggio: 'Parametri errati o mancanti' },
  unknownAlias: { codice: 4, messaggio: 'Alias non valido o non abilitato' },
  wrongMac: { codice: 5, messaggio: 'MAC errato' },
  duplicateCodTrans: { codice: 6, messaggio: 'Codice transazione già utilizzato' },
  internal: { codice: 96, messaggio: 'Errore interno' },
} as const;

/** A request body that was not JSON (the emulator's JSON parser never fails; routes see this instead). */
export const INVALID_JSON = Symbol('invalid JSON');

const HTTP_URL = /^https?:\/\/[^\s]{1,2000}$/;
/** A link lives at most a year here; Nexi's own limit is not documented in the sources. */
const MAX_TIMEOUT_HOURS = 24 * 365;

type Json = Record<string, unknown>;

/**
 * The test knob for a client's time-outs: a PayMail request whose `importo` ends in 408 (minor units: 14.08,
 * 1 234.08 …) is carried out as any other (the link is made, the payer can pay it) and answered only after
 * `lateAnswerMs` (the emulator's option, default 60 s: past any client deadline), or never if the client hangs
 * up first — the case where a processor did the work and its answer was lost.
 */
export const LATE_ANSWER_AMOUNT_SUFFIX = 408;

function answerLate(request: FastifyRequest, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      request.raw.socket?.off('close', done);
      resolve();
    }
    // A client that gave up gets nothing; the emulator does not hold the request (or its own shutdown) longer.
    request.raw.socket?.once('close', done);
  });
}

/** Digits from a JSON number or string (PHP sends integers, other clients strings). */
function digits(v: unknown, max: number): string | undefined {
  const s =
    typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? String(v) : typeof v === 'string' && /^\d{1,16}$/.test(v) ? String(Number(v)) : undefined;
  return s !== undefined && Number(s) <= max ? s : undefined;
}

function optionalText(v: unknown, max: number): string | null | false {
  if (v === undefined || v === null || v === '') return null;
  return typeof v === 'string' && v.length <= max ? v : false;
}

export async function envelope(ctx: NexiContext, account: Account | undefined, esito: 'OK' | 'KO', extra: Json = {}): Promise<Json> {
  const idOperazione = String(await nextOperationId(ctx.db));
  const timeStamp = Date.now();
  // Without a known alias there is no key to sign with: the KO goes out unsigned.
  const mac = account ? computeMac(backOfficeResponseMacPairs({ esito, idOperazione, timeStamp }), account.mac_key) : '';
  return { esito, idOperazione, timeStamp, mac, ...extra };
}

async function ko(
  ctx: NexiContext,
  reply: FastifyReply,
  account: Account | undefined,
  error: { codice: number; messaggio: string },
  detail?: string,
): Promise<FastifyReply> {
  return reply
    .code(200)
    .send(await envelope(ctx, account, 'KO', { errore: { codice: error.codice, messaggio: detail ? `${error.messaggio}: ${detail}` : error.messaggio } }));
}

/** The alias and the MAC check common to every back-office call; undefined when a KO was sent. */
async function authenticate(
  ctx: NexiContext,
  reply: FastifyReply,
  body: unknown,
  pairsOf: (b: Json) => MacPairs | undefined,
): Promise<{ account: Account; body: Json } | undefined> {
  if (body === INVALID_JSON || typeof body !== 'object' || body === null || Array.isArray(body)) {
    await ko(ctx, reply, undefined, NEXI_BO_ERRORS.invalidParameters, 'the body must be a JSON object');
    return undefined;
  }
  const b = body as Json;
  const account = typeof b.apiKey === 'string' && b.apiKey.length <= 100 ? await findAccount(ctx.db, b.apiKey) : undefined;
  if (!account) {
    await ko(ctx, reply, undefined, NEXI_BO_ERRORS.unknownAlias);
    return undefined;
  }
  const pairs = pairsOf(b);
  if (!pairs) {
    await ko(ctx, reply, account, NEXI_BO_ERRORS.invalidParameters, 'codiceTransazione, importo or timeStamp missing or malformed');
    return undefined;
  }
  if (typeof b.mac !== 'string' || !macMatches(b.mac, computeMac(pairs, account.mac_key))) {
    await ko(ctx, reply, account, NEXI_BO_ERRORS.wrongMac);
    return undefined;
  }
  return { account, body: b };
}

export function registerBackOffice(app: FastifyInstance, ctx: NexiContext): void {
  app.post('/ecomm/api/bo/richiestaPayMail', async (request, reply) => {
    const auth = await authenticate(ctx, reply, request.body, (b) => {
      const importo = digits(b.importo, MAX_IMPORTO);
      const timeStamp = digits(b.timeStamp, Number.MAX_SAFE_INTEGER);
      if (typeof b.codiceTransazione !== 'string' || !importo || !timeStamp) return undefined;
      return payMailMacPairs({ apiKey: b.apiKey as string, codiceTransazione: b.codiceTransazione, importo, timeStamp });
    });
    if (!auth) return reply;
    const { account, body } = auth;
    const extra = body.parametriAggiuntivi ?? {};
    const problems: string[] = [];
    if (typeof extra !== 'object' || extra === null || Array.isArray(extra)) problems.push('parametriAggiuntivi must be an object');
    const p = (typeof extra === 'object' && extra !== null ? extra : {}) as Json;
    const codTrans = body.codiceTransazione as string;
    if (!COD_TRANS_RE.test(codTrans)) problems.push('codiceTransazione must be 2-30 characters without # \' "');
    const importo = Number(digits(body.importo, MAX_IMPORTO));
    if (!(importo > 0)) problems.push('importo must be a positive whole number of minor units');
    const timeout = Number(digits(body.timeout, MAX_TIMEOUT_HOURS));
    if (!(timeout >= 1)) problems.push(`timeout must be a whole number of hours from 1 to ${MAX_TIMEOUT_HOURS}`);
    const url = body.url;
    if (typeof url !== 'string' || !HTTP_URL.test(url)) problems.push('url must be an http(s) URL');
    // The hosted page's names inside parametriAggiuntivi; the official sample's urlBack/urlPost are taken too.
    const urlBack = p.url_back ?? body.urlBack ?? url;
    if (typeof urlBack !== 'string' || !HTTP_URL.test(urlBack)) problems.push('url_back must be an http(s) URL');
    const urlPost = p.urlpost ?? body.urlPost ?? null;
    if (urlPost !== null && (typeof urlPost !== 'string' || !HTTP_URL.test(urlPost))) problems.push('urlpost must be an http(s) URL');
    const divisa = p.divisa === undefined ? 'EUR' : typeof p.divisa === 'string' ? currencyFromDivisa(p.divisa) : undefined;
    if (!divisa) problems.push('divisa is not a currency XPay accepts');
    const accounting = p.TCONTAB ?? 'C';
    if (accounting !== 'C' && accounting !== 'D') problems.push('TCONTAB must be C or D');
    const texts = {
      descrizione: optionalText(p.descrizione, 2000),
      [ORDER_REFERENCE_PARAM]: optionalText(p[ORDER_REFERENCE_PARAM], MAX_ORDER_REFERENCE),
      mail: optionalText(p.mail, 150),
      nome: optionalText(p.nome, 150),
      cognome: optionalText(p.cognome, 150),
      languageId: optionalText(p.languageId, 3),
    };
    for (const [name, value] of Object.entries(texts)) if (value === false) problems.push(`${name} is too long or not text`);
    if (problems.length) return ko(ctx, reply, account, NEXI_BO_ERRORS.invalidParameters, problems.join('; '));

    const token = newLinkToken();
    const idOperazione = await nextOperationId(ctx.db);
    const link = await ctx.db
      .insertInto('emu_nexi_links')
      .values({
        token,
        alias: account.alias,
        cod_trans: codTrans,
        importo,
        divisa: divisa!,
        accounting: accounting as 'C' | 'D',
        url: url as string,
        url_back: urlBack as string,
        url_post: urlPost as string | null,
        descrizione: texts.descrizione || null,
        order_reference: texts[ORDER_REFERENCE_PARAM] || null,
        mail: texts.mail || null,
        nome: texts.nome || null,
        cognome: texts.cognome || null,
        language_id: texts.languageId || null,
        status: 'open',
        id_operazione: idOperazione,
        expires_at: new Date(Date.now() + timeout * 3600_000),
      })
      .onConflict((oc) => oc.columns(['alias', 'cod_trans']).doNothing())
      .returning('token')
      .executeTakeFirst();
    if (!link) return ko(ctx, reply, account, NEXI_BO_ERRORS.duplicateCodTrans);
    // The link exists (and PayMail e-mails it to the payer) whether or not the client ever reads this answer.
    if (importo % 1000 === LATE_ANSWER_AMOUNT_SUFFIX) await answerLate(request, ctx.lateAnswerMs);
    const timeStamp = Date.now();
    const ok = { esito: 'OK', idOperazione: String(idOperazione), timeStamp };
    return { ...ok, mac: computeMac(backOfficeResponseMacPairs(ok), account.mac_key), payMailUrl: `${ctx.baseUrl}/ecomm/ecomm/paymail/${link.token}` };
  });

  app.post('/ecomm/api/bo/situazioneOrdine', async (request, reply) => {
    const auth = await authenticate(ctx, reply, request.body, (b) => {
      const timeStamp = digits(b.timeStamp, Number.MAX_SAFE_INTEGER);
      if (typeof b.codiceTransazione !== 'string' || b.codiceTransazione.length > 30 || !timeStamp) return undefined;
      return orderStatusMacPairs({ apiKey: b.apiKey as string, codiceTransazione: b.codiceTransazione, timeStamp });
    });
    if (!auth) return reply;
    const report = await orderReport(ctx.db, auth.account.alias, auth.body.codiceTransazione as string);
    return envelope(ctx, auth.account, 'OK', { report });
  });
}
