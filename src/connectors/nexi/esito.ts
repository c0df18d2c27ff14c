import type { ProcessorOutcome } from '../../core/transitions.js';

/**
 * What XPay's `esito` means for the ledger. The values are XPay's own (OK, KO, ANNULLO, ERRORE, PEN; see
 * mlocati/nexi-xpay's Response constants, copied from Nexi's specifications).
 *
 * - `OK`: the payment went through. Whether money moved depends on the accounting mode (`TCONTAB`): `C`
 *   (immediate) captures, `D` (deferred) only authorizes until the merchant captures in the back office.
 * - `KO`: the issuer or XPay declined the card. XPay lets the same `codTrans` be tried again (up to three
 *   times in all), so a decline leaves the attempt open to a later success.
 * - `ANNULLO`: the customer gave up on XPay's page. The hub treats it as a failed try, not as the
 *   merchant's cancelation: the payment stays payable and the customer may come back.
 * - `ERRORE`: XPay could not process the request (bad parameters, timeout on its side): a failed try too.
 * - `PEN`: pending on the payment method's side (alternative methods); under review until a final result.
 */
export type Esito = 'OK' | 'KO' | 'ANNULLO' | 'ERRORE' | 'PEN';

export type EsitoMeaning = 'paid' | 'declined' | 'canceled_by_customer' | 'error' | 'pending';

export const ESITO_MEANINGS: Readonly<Record<Esito, EsitoMeaning>> = Object.freeze({
  OK: 'paid',
  KO: 'declined',
  ANNULLO: 'canceled_by_customer',
  ERRORE: 'error',
  PEN: 'pending',
});

export function isEsito(value: string): value is Esito {
  return Object.prototype.hasOwnProperty.call(ESITO_MEANINGS, value);
}

/** The accounting mode of the link (`TCONTAB`): C = immediate capture, D = deferred (authorization only). */
export type Accounting = 'C' | 'D';

export interface EsitoDetails {
  amount: number;
  accounting: Accounting;
  /** XPay's `codiceEsito` (numeric outcome code), when it sent one. */
  codiceEsito?: string;
  /** XPay's `messaggio` (short description of the outcome). */
  messaggio?: string;
}

/** Maps a result's `esito` onto the ledger's vocabulary; unknown values are recorded and change nothing. */
export function outcomeOfEsito(esito: string, d: EsitoDetails): ProcessorOutcome {
  if (!isEsito(esito)) return { kind: 'informational' };
  const message = d.messaggio || esito;
  switch (ESITO_MEANINGS[esito]) {
    case 'paid':
      return d.accounting === 'D' ? { kind: 'authorized', amount: d.amount } : { kind: 'captured', amount: d.amount };
    case 'declined':
      return { kind: 'failed', code: d.codiceEsito ? `KO:${d.codiceEsito}` : 'KO', message };
    case 'canceled_by_customer':
      return { kind: 'failed', code: 'ANNULLO', message: d.messaggio || 'the customer canceled the payment on the XPay page' };
    case 'error':
      return { kind: 'failed', code: d.codiceEsito ? `ERRORE:${d.codiceEsito}` : 'ERRORE', message };
    case 'pending':
      return { kind: 'pending_review' };
  }
}
