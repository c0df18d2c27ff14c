import { failureOfHttpStatus, type InboundResponse, type OperationError, type OperationFailure, type Party } from '../types.js';
import { formatImporto } from './currencies.js';
import type { Accounting } from './esito.js';
import { backOfficeResponseMacPairs, computeMac, macMatches, payMailMacPairs } from './mac.js';

/**
 * Pay-by-link "PayMail": `POST {host}ecomm/api/bo/richiestaPayMail` (JSON). Nexi's sample
 * (api-backoffice/richiesta-link-paymail/php/link.php) sends `apiKey` (the alias), `codiceTransazione`,
 * `importo` (minor units), `timeout` (the link's life in hours), `url` (where the customer returns),
 * `timeStamp` (ms since the epoch) and `mac`; hosted-page options go in `parametriAggiuntivi` with the
 * hosted page's own names (`urlpost`, `url_back`, `mail`, `descrizione`, `languageId`, `TCONTAB`, …).
 * PayMail has no `divisa`: EUR is implied. For the other currencies the hosted page's `divisa` (alphabetic,
 * as the codice base takes it) goes in `parametriAggiuntivi` — the hub's choice where the sources are silent.
 */

export const PAYMAIL_PATH = '/ecomm/api/bo/richiestaPayMail';

/** codTrans: 2–30 characters without `#`, `'` or `"` (XPay's rule). */
export const COD_TRANS_RE = /^[^#'"\s]{2,30}$/;

/** XPay's `languageId` for the ISO 639-1 languages it shows its pages in. */
export const LANGUAGE_IDS: Readonly<Record<string, string>> = Object.freeze({
  it: 'ITA',
  en: 'ENG',
  es: 'SPA',
  fr: 'FRA',
  de: 'GER',
  ja: 'JPN',
  zh: 'CHI',
  ar: 'ARA',
  ru: 'RUS',
  pt: 'POR',
});

/**
 * The custom parameter (XPay takes the merchant's own names beside its reserved ones in `parametriAggiuntivi`,
 * keeps them with the order and returns them with the result) that carries the merchant's order reference: the
 * codTrans is the hub's attempt id, unique per attempt, which the payer has never seen.
 */
export const ORDER_REFERENCE_PARAM = 'order_reference';
/** The longest order reference the hub sends (a custom parameter's value; longer ones are left out, not cut). */
export const MAX_ORDER_REFERENCE = 255;

/** `descrizione` is at most 2000 characters; `mail` at most 150. */
const MAX_DESCRIZIONE = 2000;
const MAX_MAIL = 150;

export interface PayMailInput {
  alias: string;
  macKey: string;
  codTrans: string;
  amount: number;
  currency: string;
  timeoutHours: number;
  urls: { return: string; cancel?: string; notify: string };
  description: string;
  /** The merchant's own order reference, shown to the payer instead of the codTrans. */
  orderReference?: string;
  billing?: Party;
  language?: string;
  accounting: Accounting;
  now: Date;
}

/** The link's life in whole hours: rounded up so the link never closes before the hub's deadline, at least 1. */
export function timeoutHours(expiresAt: Date | undefined, now: Date, fallbackHours: number): number {
  if (!expiresAt) return fallbackHours;
  const ms = expiresAt.getTime() - now.getTime();
  return Math.max(1, Math.ceil(ms / 3600_000));
}

export function payMailBody(input: PayMailInput): Record<string, unknown> {
  const importo = formatImporto(input.amount);
  const timeStamp = input.now.getTime();
  const extra: Record<string, string> = {
    urlpost: input.urls.notify,
    url_back: input.urls.cancel ?? input.urls.return,
    TCONTAB: input.accounting,
  };
  if (input.currency !== 'EUR') extra.divisa = input.currency;
  if (input.description) extra.descrizione = input.description.slice(0, MAX_DESCRIZIONE);
  const orderReference = input.orderReference?.trim();
  if (orderReference && orderReference.length <= MAX_ORDER_REFERENCE) extra[ORDER_REFERENCE_PARAM] = orderReference;
  const email = input.billing?.email;
  if (email && email.length <= MAX_MAIL) extra.mail = email;
  if (input.billing?.first_name) extra.nome = input.billing.first_name;
  if (input.billing?.last_name) extra.cognome = input.billing.last_name;
  const languageId = input.language ? LANGUAGE_IDS[input.language] : undefined;
  if (languageId) extra.languageId = languageId;
  return {
    apiKey: input.alias,
    codiceTransazione: input.codTrans,
    // Numbers, as Nexi's sample sends them (PHP json_encode of integers); the MAC hashes their digits.
    importo: Number(importo),
    timeout: input.timeoutHours,
    url: input.urls.return,
    timeStamp,
    mac: computeMac(payMailMacPairs({ apiKey: input.alias, codiceTransazione: input.codTrans, importo, timeStamp }), input.macKey),
    parametriAggiuntivi: extra,
  };
}

export interface BackOfficeAnswer {
  esito: string;
  idOperazione: string;
  timeStamp: string;
  json: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);

/**
 * Reads a back-office answer (every `ecomm/api/bo/*` call answers the same envelope): transport failures are
 * unreachable (408, 429, a 4xx that is not Nexi's JSON: turned away unprocessed) or unknown (5xx, an answer that is
 * not JSON, or an OK the hub cannot read or authenticate: the call may have been carried out), `esito` KO is Nexi's refusal `errore {codice, messaggio}`, and an OK must carry the response
 * MAC (`esito`, `idOperazione`, `timeStamp`) computed with this connection's key.
 */
export function readBackOfficeAnswer(res: InboundResponse, macKey: string): BackOfficeAnswer | OperationError {
  const error = (failure: OperationFailure, code: string, message: string): OperationError => ({ kind: 'error', failure, code, message });
  if (res.status === 408 || res.status === 429 || res.status >= 500)
    return error(failureOfHttpStatus(res.status), `http_${res.status}`, `Nexi answered HTTP ${res.status}`);
  let json: unknown;
  try {
    json = JSON.parse(res.body);
  } catch {
    return error(
      res.status >= 400 ? 'unreachable' : 'unknown',
      res.status >= 400 ? `http_${res.status}` : 'unreadable_answer',
      `Nexi's answer (HTTP ${res.status}) is not JSON`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return error('unknown', 'unreadable_answer', "Nexi's answer is not a JSON object");
  const body = json as Record<string, unknown>;
  const esito = str(body.esito);
  if (esito !== 'OK') {
    const errore = (typeof body.errore === 'object' && body.errore !== null ? body.errore : {}) as Record<string, unknown>;
    const codice = str(errore.codice);
    if (res.status >= 400 && !codice) return error('refused', `http_${res.status}`, `Nexi answered HTTP ${res.status}`);
    return error('refused', codice ? `nexi_${codice}` : 'nexi_ko', str(errore.messaggio) ?? `Nexi answered esito ${esito ?? '(none)'}`);
  }
  const idOperazione = str(body.idOperazione);
  const timeStamp = str(body.timeStamp);
  const mac = str(body.mac);
  if (!idOperazione || !timeStamp || !mac) return error('unknown', 'unreadable_answer', "Nexi's OK lacks idOperazione, timeStamp or mac");
  if (!macMatches(mac, computeMac(backOfficeResponseMacPairs({ esito, idOperazione, timeStamp }), macKey))) {
    return error('unknown', 'response_mac_mismatch', "the MAC of Nexi's answer does not match this connection's MAC key");
  }
  return { esito, idOperazione, timeStamp, json: body };
}
