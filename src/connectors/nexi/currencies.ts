/**
 * Currencies Nexi XPay accepts (the OnPay contract's table, protocols/onpay.md) with their ISO 4217 numeric
 * codes and minor-unit exponents. XPay's hosted page, its results and the order report speak the alphabetic
 * code (`divisa=EUR`); the back-office money operations (contabilizza, storna) speak the numeric one
 * (`divisa=978`), as Nexi's WooCommerce plugin shows. `importo` is always an integer count of the currency's
 * minor units (Nexi: "50 EUR is 5000, 50 JPY is 50"), so the hub's minor units travel unchanged.
 */

export interface NexiCurrency {
  numeric: string;
  exponent: number;
}

export const NEXI_CURRENCIES: Readonly<Record<string, NexiCurrency>> = Object.freeze({
  EUR: { numeric: '978', exponent: 2 },
  GBP: { numeric: '826', exponent: 2 },
  USD: { numeric: '840', exponent: 2 },
  VEF: { numeric: '937', exponent: 2 },
  AUD: { numeric: '036', exponent: 2 },
  BRL: { numeric: '986', exponent: 2 },
  CHF: { numeric: '756', exponent: 2 },
  CLP: { numeric: '152', exponent: 0 },
  COP: { numeric: '170', exponent: 2 },
  CZK: { numeric: '203', exponent: 2 },
  DKK: { numeric: '208', exponent: 2 },
  INR: { numeric: '356', exponent: 2 },
  MXN: { numeric: '484', exponent: 2 },
  PEN: { numeric: '604', exponent: 2 },
  PLN: { numeric: '985', exponent: 2 },
  RON: { numeric: '946', exponent: 2 },
  SEK: { numeric: '752', exponent: 2 },
  NOK: { numeric: '578', exponent: 2 },
  CAD: { numeric: '124', exponent: 2 },
  HRK: { numeric: '191', exponent: 2 },
  HKD: { numeric: '344', exponent: 2 },
  TWD: { numeric: '901', exponent: 2 },
  KRW: { numeric: '410', exponent: 0 },
  HUF: { numeric: '348', exponent: 2 },
  PHP: { numeric: '608', exponent: 2 },
  ZAR: { numeric: '710', exponent: 2 },
  CNY: { numeric: '156', exponent: 2 },
  JPY: { numeric: '392', exponent: 0 },
  MYR: { numeric: '458', exponent: 2 },
  AED: { numeric: '784', exponent: 2 },
  ILS: { numeric: '376', exponent: 2 },
  RUB: { numeric: '643', exponent: 2 },
  SGD: { numeric: '702', exponent: 2 },
  NZD: { numeric: '554', exponent: 2 },
  TRY: { numeric: '949', exponent: 2 },
  ISK: { numeric: '352', exponent: 0 },
  THB: { numeric: '764', exponent: 2 },
});

/** The alphabetic codes, EUR first (PayMail's implied currency). */
export const NEXI_CURRENCY_CODES: readonly string[] = Object.freeze(Object.keys(NEXI_CURRENCIES));

const BY_NUMERIC: ReadonlyMap<string, string> = new Map(Object.entries(NEXI_CURRENCIES).map(([alpha, c]) => [c.numeric, alpha]));

/** `EUR` or `978` → `EUR`; undefined for anything Nexi does not accept. */
export function currencyFromDivisa(divisa: string): string | undefined {
  const upper = divisa.trim().toUpperCase();
  if (Object.prototype.hasOwnProperty.call(NEXI_CURRENCIES, upper)) return upper;
  return BY_NUMERIC.get(upper.padStart(3, '0'));
}

/** XPay's largest `importo`: eight digits ("max 99999999"). */
export const MAX_IMPORTO = 99_999_999;

/** Formats minor units as `importo`: digits only, no separator, no padding. */
export function formatImporto(minor: number): string {
  if (!Number.isSafeInteger(minor) || minor < 0 || minor > MAX_IMPORTO)
    throw new RangeError(`importo must be an integer from 0 to ${MAX_IMPORTO}, got ${minor}`);
  return String(minor);
}

/** Reads `importo` strictly (1–8 digits); undefined when it is not one. */
export function parseImporto(text: string): number | undefined {
  return /^\d{1,8}$/.test(text) ? Number(text) : undefined;
}
