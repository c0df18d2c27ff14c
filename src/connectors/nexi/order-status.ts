import type { ProcessorOutcome } from '../../core/transitions.js';
import type { AttemptReference, InboundResponse, OperationError, OperationReport } from '../types.js';
import { currencyFromDivisa, parseImporto } from './currencies.js';
import { computeMac, orderStatusMacPairs } from './mac.js';
import { readBackOfficeAnswer } from './paymail.js';
import { romeToIso } from './rome-time.js';

/**
 * Order status, "Interrogazione dettaglio ordine": `POST {host}ecomm/api/bo/situazioneOrdine` with
 * `apiKey`, `codiceTransazione`, `timeStamp`, `mac` (MAC over those three, in that order; Nexi's sample
 * api-backoffice/interrogazione-dettaglio-ordine). The answer's `report[0]` is the order: `stato`, `importo`,
 * `divisa` (alphabetic), `brand`, `dataTransazione` (`YYYY-MM-DD HH:MM:SS`, Rome) and `dettaglio[0].operazioni`
 * (`tipoOperazione`, `importo`, `stato`, `dataOperazione`), as Nexi's WooCommerce plugin and pretix-xpay read it.
 */

export const ORDER_STATUS_PATH = '/ecomm/api/bo/situazioneOrdine';

export type StatoMeaning = 'authorized' | 'captured' | 'partially_captured' | 'refunded' | 'partially_refunded' | 'declined' | 'canceled' | 'pending';

/** XPay's order `stato` words (as pretix-xpay and Nexi's WooCommerce plugin list them) and what they mean. */
export const STATO_MEANINGS: Readonly<Record<string, StatoMeaning>> = Object.freeze({
  Autorizzato: 'authorized',
  Contabilizzato: 'captured',
  'In attesa di contab.': 'captured',
  'Contabilizzato Parz.': 'partially_captured',
  Rimborsato: 'refunded',
  'Rimborsato Parz.': 'partially_refunded',
  'In attesa di storno': 'refunded',
  Stornato: 'canceled',
  Annullato: 'canceled',
  'Chiuso da backoffice': 'canceled',
  'Autor. Negata': 'declined',
  Negato: 'declined',
  'Non valido': 'declined',
  'Non Creato': 'declined',
  'Non generato': 'declined',
  'In Corso': 'pending',
  Pendente: 'pending',
  Sospeso: 'pending',
});

export function orderStatusBody(alias: string, macKey: string, codTrans: string, now: Date): Record<string, unknown> {
  const timeStamp = now.getTime();
  return {
    apiKey: alias,
    codiceTransazione: codTrans,
    timeStamp,
    mac: computeMac(orderStatusMacPairs({ apiKey: alias, codiceTransazione: codTrans, timeStamp }), macKey),
  };
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined);
const amountOf = (v: unknown): number | undefined => {
  const s = str(v);
  return s === undefined ? undefined : parseImporto(s);
};

/** Sums the amounts of the operations of one kind that XPay carried out (refunds: STORNO; captures: CONTAB.). */
function operationsTotal(operations: Json[], kind: RegExp): number | undefined {
  let total: number | undefined;
  for (const op of operations) {
    if (!kind.test(str(op.tipoOperazione) ?? '')) continue;
    const state = str(op.stato) ?? '';
    if (/negat|annullat|non /i.test(state)) continue;
    const amount = amountOf(op.importo);
    if (amount !== undefined) total = (total ?? 0) + amount;
  }
  return total;
}

/** `2024-07-25 12:41:47` or `2024-07-25 12:41:47.0` (Rome) → the result fields' `data` + `orario`. */
function dataOrario(dataTransazione: string | undefined): { data: string; orario: string } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(dataTransazione ?? '');
  return m ? { data: `${m[1]}${m[2]}${m[3]}`, orario: `${m[4]}${m[5]}${m[6]}` } : undefined;
}

export function readOrderStatus(res: InboundResponse, macKey: string, attempt: AttemptReference): OperationReport | OperationError {
  const answer = readBackOfficeAnswer(res, macKey);
  if ('kind' in answer) return answer;
  const codTrans = attempt.reference;
  const report = Array.isArray(answer.json.report) ? answer.json.report.map(obj).filter((r): r is Json => r !== undefined) : [];
  const order =
    report.find((r) => str(r.codiceTransazione) === codTrans) ??
    (report.length === 1 && str(report[0]!.codiceTransazione) === undefined ? report[0] : undefined);
  if (!order) {
    // Nothing was paid on the link yet: Nexi knows no transaction by this code.
    return { outcome: { kind: 'informational' }, dedupeKey: `${codTrans}:status:none`, summary: { processor_status: 'none', action: 'none' } };
  }
  const stato = str(order.stato) ?? str(obj(Array.isArray(order.dettaglio) ? order.dettaglio[0] : undefined)?.stato) ?? '';
  const meaning = Object.prototype.hasOwnProperty.call(STATO_MEANINGS, stato) ? STATO_MEANINGS[stato] : undefined;
  const currency = currencyFromDivisa(str(order.divisa) ?? attempt.currency);
  if (currency && currency !== attempt.currency)
    return {
      kind: 'error',
      failure: 'refused',
      code: 'currency_mismatch',
      message: `Nexi reports the order in ${currency}, the attempt is in ${attempt.currency}`,
    };
  const amount = amountOf(order.importo) ?? attempt.amount;
  if (amount > attempt.amount)
    return { kind: 'error', failure: 'refused', code: 'amount_mismatch', message: `Nexi reports ${amount}, more than the attempt's ${attempt.amount}` };
  const detail = obj(Array.isArray(order.dettaglio) ? order.dettaglio[0] : undefined) ?? {};
  const operations = Array.isArray(detail.operazioni) ? detail.operazioni.map(obj).filter((o): o is Json => o !== undefined) : [];
  const when = dataOrario(str(order.dataTransazione));

  let outcome: ProcessorOutcome;
  let key: string;
  switch (meaning) {
    case 'authorized':
      outcome = { kind: 'authorized', amount };
      key = `${codTrans}:authorized`;
      break;
    case 'captured':
      outcome = { kind: 'captured', amount };
      key = `${codTrans}:captured`;
      break;
    case 'partially_captured': {
      const captured = Math.min(operationsTotal(operations, /^CONTAB/i) ?? amount, amount);
      outcome = { kind: 'captured', amount: captured };
      key = `${codTrans}:captured:${captured}`;
      break;
    }
    case 'refunded':
    case 'partially_refunded': {
      const refunded = Math.min(operationsTotal(operations, /^(STORNO|RIMBORSO)/i) ?? amount, amount);
      outcome = { kind: 'refunded', totalRefunded: refunded };
      key = `${codTrans}:refunded:${refunded}`;
      break;
    }
    case 'declined':
      outcome = { kind: 'failed', code: `KO:${stato}`, message: stato };
      key = when ? `${codTrans}:KO:${when.data}${when.orario}` : `${codTrans}:KO:${stato}`;
      break;
    case 'canceled':
      outcome = { kind: 'canceled' };
      key = `${codTrans}:canceled`;
      break;
    case 'pending':
      outcome = { kind: 'pending_review' };
      key = `${codTrans}:PEN`;
      break;
    default:
      outcome = { kind: 'informational' };
      key = `${codTrans}:status:${stato}`;
  }
  const summary: Record<string, unknown> = { processor_status: stato, action: meaning ?? 'unknown', importo: str(order.importo), divisa: str(order.divisa) };
  const brand = str(order.brand);
  if (brand) summary.payment_method = brand;
  const time = when && romeToIso(when.data, when.orario);
  if (time) summary.processor_time = time;
  const pan = str(order.pan);
  if (pan && !/^\d{12,19}$/.test(pan)) summary.pan = pan;
  return { outcome, dedupeKey: key, summary };
}
