import type { InboundNotification, NotificationVerdict } from '../types.js';
import { currencyFromDivisa, parseImporto } from './currencies.js';
import { ESITO_MEANINGS, isEsito, outcomeOfEsito, type Accounting } from './esito.js';
import { computeMac, macMatches, resultMacPairs } from './mac.js';
import { romeToIso } from './rome-time.js';
import { isStorableValue } from '../../core/storable-text.js';

/**
 * The payment result XPay sends to `urlpost` (server to server, POST `application/x-www-form-urlencoded`)
 * and appends to `url` / `url_back` when it sends the customer back (GET query string). Same fields, same
 * MAC: `sha1(codTrans=…esito=…importo=…divisa=…data=…orario=…codAut=… + key)`.
 */

/** Why a result was refused (the `code` of a rejected verdict; the hub only records it). */
export const NEXI_NOTIFICATION_ERRORS = {
  missingFields: 1,
  badMac: 2,
  otherAlias: 3,
  badAmount: 4,
  badCurrency: 5,
  badReference: 6,
  unreadable: 7,
} as const;

/** Fields the MAC covers; `codAut` is empty on a KO but still present (and hashed). */
const MAC_FIELDS = ['codTrans', 'esito', 'importo', 'divisa', 'data', 'orario', 'mac'] as const;

/** Fields that are shown back to the merchant when present (never the full PAN: XPay sends it masked). */
const INFORMATIVE_FIELDS = [
  'codiceEsito',
  'messaggio',
  'brand',
  'nazionalita',
  'pan',
  'scadenza_pan',
  'tipoTransazione',
  'tipoProdotto',
  'regione',
  'languageId',
  'codiceConvenzione',
] as const;

export interface ResultFields {
  [name: string]: string;
}

/** A result's fields from the POST body, or from the return URL's query string when the body is empty. */
export function readResultFields(n: InboundNotification): ResultFields {
  const text = n.body.length > 0 ? n.body.toString('utf8') : (n.query ?? '');
  const fields: ResultFields = {};
  // A repeated name keeps its first value: the MAC-covered fields are never repeated by XPay.
  for (const [name, value] of new URLSearchParams(text)) if (!(name in fields)) fields[name] = value;
  return fields;
}

/** Masks anything that looks like a full card number, in case a result ever carried one. */
function safePan(pan: string): string {
  const digits = pan.replace(/\D/g, '');
  return /^\d{12,19}$/.test(pan) ? `${digits.slice(0, 6)}${'*'.repeat(digits.length - 10)}${digits.slice(-4)}` : pan;
}

export function verifyResult(fields: ResultFields, credentials: { alias: string; macKey: string }, accounting: Accounting): NotificationVerdict {
  const reject = (code: number, reason: string): NotificationVerdict => ({ ok: false, permanent: true, code, reason });
  const missing = MAC_FIELDS.filter((name) => fields[name] === undefined);
  if (missing.length) return reject(NEXI_NOTIFICATION_ERRORS.missingFields, `missing ${missing.join(', ')}`);
  const f = {
    codTrans: fields.codTrans!,
    esito: fields.esito!,
    importo: fields.importo!,
    divisa: fields.divisa!,
    data: fields.data!,
    orario: fields.orario!,
    codAut: fields.codAut ?? '',
  };
  if (!macMatches(fields.mac!, computeMac(resultMacPairs(f), credentials.macKey))) {
    return reject(NEXI_NOTIFICATION_ERRORS.badMac, "the MAC does not match this connection's MAC key");
  }
  // Signed by this key, but a result for another terminal of the same merchant is still not ours.
  if (fields.alias !== undefined && fields.alias !== credentials.alias) return reject(NEXI_NOTIFICATION_ERRORS.otherAlias, 'the result is for another alias');
  if (f.codTrans.length < 1 || f.codTrans.length > 30) return reject(NEXI_NOTIFICATION_ERRORS.badReference, 'codTrans must be 1 to 30 characters');
  const amount = parseImporto(f.importo);
  if (amount === undefined) return reject(NEXI_NOTIFICATION_ERRORS.badAmount, 'importo must be 1 to 8 digits');
  const currency = currencyFromDivisa(f.divisa);
  if (!currency) return reject(NEXI_NOTIFICATION_ERRORS.badCurrency, `divisa ${JSON.stringify(f.divisa.slice(0, 10))} is not a currency Nexi accepts`);

  const outcome = outcomeOfEsito(f.esito, { amount, accounting, codiceEsito: fields.codiceEsito, messaggio: fields.messaggio });
  const processorTime = romeToIso(f.data, f.orario);
  const summary: Record<string, unknown> = {
    processor_status: f.esito,
    action: isEsito(f.esito) ? ESITO_MEANINGS[f.esito] : 'unknown',
    codTrans: f.codTrans,
    importo: f.importo,
    divisa: f.divisa,
    data: f.data,
    orario: f.orario,
  };
  if (f.codAut) summary.codAut = f.codAut;
  if (fields.brand) summary.payment_method = fields.brand;
  if (processorTime) summary.processor_time = processorTime;
  for (const name of INFORMATIVE_FIELDS) {
    const value = fields[name];
    if (value) summary[name] = name === 'pan' ? safePan(value) : value;
  }
  // A success is one fact per transaction; declines may repeat (XPay allows three tries per codTrans), each
  // told apart by when it happened.
  // (A success is keyed by what it did, captured or authorized, so that an order report saying the same
  // thing shares the key.)
  const dedupeKey = f.esito === 'OK' ? `${f.codTrans}:${outcome.kind}` : `${f.codTrans}:${f.esito}:${f.data}${f.orario}`;
  return { ok: true, reference: f.codTrans, outcome, dedupeKey, expected: { amount, currency }, summary };
}

/** Reads and verifies one result; never throws, whatever the bytes. */
export function verifyResultNotification(n: InboundNotification, credentials: { alias: string; macKey: string }, accounting: Accounting): NotificationVerdict {
  try {
    const verdict = verifyResult(readResultFields(n), credentials, accounting);
    // MAC'd, but text the ledger cannot store (U+0000, a lone surrogate): no resend can ever record it.
    if (!isStorableValue(verdict))
      return { ok: false, permanent: true, code: NEXI_NOTIFICATION_ERRORS.unreadable, reason: 'the result holds a NUL character or malformed Unicode' };
    return verdict;
  } catch (e) {
    return { ok: false, permanent: true, code: NEXI_NOTIFICATION_ERRORS.unreadable, reason: `unreadable result: ${(e as Error).message}` };
  }
}
