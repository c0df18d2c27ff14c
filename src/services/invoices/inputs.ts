import {
  computeTotals,
  formatQuantity,
  isVatRate,
  lineProblems,
  parseQuantity,
  type InvoiceLineInput,
  type InvoiceTotals,
  type VatRate,
} from '../../core/invoice-totals.js';
import { isKnownCurrency } from '../../core/money.js';
import { countryByAlpha2 } from '../../core/countries.js';
import { isRealWallClock, wallClockAt, wallClockParts } from '../../core/wall-clock.js';
import { FieldErrors } from '../../core/validation.js';
import { invoicePayUrl, type HubBase } from '../hub-urls.js';
import type { Invoice, InvoiceCollection, InvoiceLine, InvoiceSeries } from '../../store/schema.js';

/**
 * The invoicing module's inputs (checked here, whoever calls: the API, the console, the CLI) and how its rows are
 * presented (the API's JSON, the events' data).
 */

export const INVOICE_KINDS = ['proforma', 'invoice'] as const;
export type InvoiceKind = (typeof INVOICE_KINDS)[number];
/** "an invoice", "a proforma": for messages. */
export const article = (kind: InvoiceKind) => (kind === 'invoice' ? 'an invoice' : 'a proforma');
export const INVOICE_STATUSES = ['draft', 'issued', 'paid', 'canceled'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export const INVOICE_LANGUAGES = ['ro', 'en', 'it'] as const;
export type InvoiceLanguage = (typeof INVOICE_LANGUAGES)[number];

/** The CNP written for a natural person who gave none (ANAF's B2C practice: 13 zeros). */
export const ANONYMOUS_CNP = '0000000000000';
/** Where "today" is, for an issue date: the invoices are Romanian documents. */
export const INVOICE_TIME_ZONE = 'Europe/Bucharest';

export interface BuyerInput {
  type: 'company' | 'person';
  name: string;
  /** CUI/CIF of a company (with or without the RO prefix of a VAT payer). */
  fiscal_code?: string;
  trade_register?: string;
  /** A person's CNP; `0000000000000` when not given. */
  cnp?: string;
  address?: string;
  city?: string;
  county?: string;
  country?: string;
  email?: string;
  phone?: string;
}

export interface InvoiceLineInputBody {
  description: string;
  /** Up to 3 decimals: 1.5, "1.5" or "1,5". */
  quantity: number | string;
  /** Default `buc`. */
  unit?: string;
  /** Minor units per unit. */
  unit_price: number;
  vat_rate: VatRate;
}

export interface InvoiceDraftInput {
  kind: InvoiceKind;
  series_id?: string;
  /** `YYYY-MM-DD`; the day it is issued when absent. */
  issue_date?: string;
  due_date?: string;
  currency?: string;
  language?: InvoiceLanguage;
  buyer: BuyerInput;
  lines: InvoiceLineInputBody[];
  notes?: string;
  /** Card payment for this document; null or absent follows the merchant's setting. */
  card_payment?: boolean | null;
}

export type InvoiceDraftChanges = Partial<Omit<InvoiceDraftInput, 'kind' | 'series_id' | 'issue_date' | 'due_date' | 'notes'>> & {
  series_id?: string | null;
  issue_date?: string | null;
  due_date?: string | null;
  notes?: string | null;
};

export interface SellerProfileInput {
  name: string;
  fiscal_code: string;
  trade_register?: string | null;
  address: string;
  city: string;
  county?: string | null;
  country?: string;
  iban?: string | null;
  bank?: string | null;
  vat_payer: boolean;
  email?: string | null;
  phone?: string | null;
}

export interface SeriesInput {
  kind: InvoiceKind;
  prefix: string;
  next_number?: number;
  padding?: number;
  is_default?: boolean;
}

export interface SeriesChanges {
  prefix?: string;
  next_number?: number;
  padding?: number;
  is_default?: boolean;
}

export interface InvoiceSettingsInput {
  card_payment_default?: boolean;
  auto_fiscal_from_proforma?: boolean;
  auto_collection?: boolean;
}

// ---- checks

/** Today's date in Romania, `YYYY-MM-DD`. */
export function todayInRomania(now = new Date()): string {
  return wallClockParts(wallClockAt(now, INVOICE_TIME_ZONE)).date;
}

export function isCalendarDate(text: unknown): text is string {
  if (typeof text !== 'string') return false;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  return m !== null && isRealWallClock({ year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: 0, minute: 0, second: 0 });
}

/** A Romanian CUI/CIF: 2 to 10 digits, optionally after `RO`, whose last digit is the control digit (key 753217532). */
export function isRomanianFiscalCode(text: string): boolean {
  const m = /^(?:RO)?\s*(\d{2,10})$/i.exec(text.trim());
  if (!m) return false;
  const digits = m[1]!;
  const body = digits.slice(0, -1).padStart(9, '0');
  const key = '753217532';
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(body[i]) * Number(key[i]);
  const control = ((sum * 10) % 11) % 10;
  return control === Number(digits[digits.length - 1]);
}

/** A CNP: 13 digits with its control digit (key 279146358279), or the 13 zeros of an anonymous buyer. */
export function isCnp(text: string): boolean {
  if (text === ANONYMOUS_CNP) return true;
  if (!/^[1-9]\d{12}$/.test(text)) return false;
  const key = '279146358279';
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(text[i]) * Number(key[i]);
  const control = sum % 11 === 10 ? 1 : sum % 11;
  return control === Number(text[12]);
}

/** An IBAN with its mod-97 check (spaces allowed). */
export function isIban(text: string): boolean {
  const iban = text.replace(/\s+/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of rearranged) {
    const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rest = (rest * 10 + Number(d)) % 97;
  }
  return rest === 1;
}

const text = (v: unknown, max: number): v is string => typeof v === 'string' && v.trim().length > 0 && v.length <= max;
const optionalText = (v: unknown, max: number) => v === undefined || v === null || (typeof v === 'string' && v.length <= max);
const trimmedOrNull = (v: string | null | undefined) => (v === undefined || v === null || v.trim() === '' ? null : v.trim());

/** A buyer as stored: trimmed, the fiscal code without spaces, a person's CNP defaulted. */
export function normalizeBuyer(buyer: BuyerInput, errors: FieldErrors, at = 'buyer'): Record<string, unknown> {
  if (buyer === null || typeof buyer !== 'object') {
    errors.add(at, 'is required');
    return {};
  }
  if (buyer.type !== 'company' && buyer.type !== 'person') errors.add(`${at}.type`, 'must be "company" or "person"');
  if (!text(buyer.name, 200)) errors.add(`${at}.name`, 'is required (at most 200 characters)');
  const country = (buyer.country ?? 'RO').toUpperCase();
  if (!countryByAlpha2(country)) errors.add(`${at}.country`, 'must be an ISO 3166-1 alpha-2 code');
  const out: Record<string, unknown> = { type: buyer.type, name: typeof buyer.name === 'string' ? buyer.name.trim() : buyer.name };
  if (buyer.type === 'company') {
    const code = typeof buyer.fiscal_code === 'string' ? buyer.fiscal_code.replace(/\s+/g, '').toUpperCase() : '';
    if (!code) errors.add(`${at}.fiscal_code`, 'is required for a company (CUI/CIF)');
    else if (country === 'RO' && !isRomanianFiscalCode(code))
      errors.add(`${at}.fiscal_code`, 'is not a valid Romanian CUI/CIF (its control digit does not match)');
    else if (code.length > 30) errors.add(`${at}.fiscal_code`, 'must be at most 30 characters');
    out.fiscal_code = code;
    if (!optionalText(buyer.trade_register, 50)) errors.add(`${at}.trade_register`, 'must be at most 50 characters');
    out.trade_register = trimmedOrNull(buyer.trade_register);
    if (buyer.cnp !== undefined) errors.add(`${at}.cnp`, 'is for a person; a company has a fiscal_code');
  } else if (buyer.type === 'person') {
    const cnp = buyer.cnp === undefined || buyer.cnp === '' ? ANONYMOUS_CNP : String(buyer.cnp).trim();
    if (!isCnp(cnp)) errors.add(`${at}.cnp`, 'must be a valid CNP (13 digits with its control digit), or left out');
    out.cnp = cnp;
    if (buyer.fiscal_code !== undefined) errors.add(`${at}.fiscal_code`, 'is for a company; a person has an optional cnp');
  }
  for (const [field, max] of [
    ['address', 500],
    ['city', 100],
    ['county', 100],
  ] as const) {
    if (!optionalText(buyer[field], max)) errors.add(`${at}.${field}`, `must be at most ${max} characters`);
    out[field] = trimmedOrNull(buyer[field]);
  }
  out.country = country;
  if (
    buyer.email !== undefined &&
    buyer.email !== '' &&
    !(typeof buyer.email === 'string' && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(buyer.email) && buyer.email.length <= 254)
  )
    errors.add(`${at}.email`, 'must be an e-mail address');
  out.email = trimmedOrNull(buyer.email);
  if (buyer.phone !== undefined && buyer.phone !== '' && !(typeof buyer.phone === 'string' && /^\+?[0-9 ()-]{6,20}$/.test(buyer.phone)))
    errors.add(`${at}.phone`, 'must be digits, optionally with a leading +');
  out.phone = trimmedOrNull(buyer.phone);
  return out;
}

export interface CheckedLine extends InvoiceLineInput {
  description: string;
  unit: string;
}

export function checkLines(lines: InvoiceLineInputBody[] | undefined, errors: FieldErrors): CheckedLine[] {
  if (!Array.isArray(lines) || lines.length === 0) {
    errors.add('lines', 'must have at least one line');
    return [];
  }
  if (lines.length > 500) {
    errors.add('lines', 'at most 500 lines');
    return [];
  }
  const out: CheckedLine[] = [];
  lines.forEach((l, i) => {
    if (!text(l?.description, 500)) errors.add(`lines[${i}].description`, 'is required (at most 500 characters)');
    if (l?.unit !== undefined && !text(l.unit, 20)) errors.add(`lines[${i}].unit`, 'must be 1 to 20 characters');
    const q = parseQuantity(l?.quantity);
    if (q === null) errors.add(`lines[${i}].quantity`, 'must be a number with at most 3 decimals');
    const line: CheckedLine = {
      description: typeof l?.description === 'string' ? l.description.trim() : '',
      unit: typeof l?.unit === 'string' ? l.unit.trim() : 'buc',
      quantityThousandths: q ?? 1,
      unitPrice: l?.unit_price,
      vatRate: l?.vat_rate,
    };
    for (const p of lineProblems(line, i)) if (!(q === null && p.field.endsWith('.quantity'))) errors.add(p.field, p.message.replace(/^.*?: /, ''));
    out.push(line);
  });
  return out;
}

export function checkCurrency(currency: unknown, errors: FieldErrors): string {
  const c = currency === undefined ? 'RON' : currency;
  if (typeof c !== 'string' || !/^[A-Z]{3}$/.test(c) || !isKnownCurrency(c)) errors.add('currency', 'must be an ISO 4217 currency code the hub knows');
  return c as string;
}

export function checkDates(issue: string | null | undefined, due: string | null | undefined, errors: FieldErrors): void {
  if (issue !== undefined && issue !== null && !isCalendarDate(issue)) errors.add('issue_date', 'must be a date YYYY-MM-DD');
  if (due !== undefined && due !== null && !isCalendarDate(due)) errors.add('due_date', 'must be a date YYYY-MM-DD');
  if (isCalendarDate(issue) && isCalendarDate(due) && due < issue) errors.add('due_date', 'must not be before the issue date');
}

export const SERIES_PREFIX = /^[A-Za-z0-9][A-Za-z0-9./_-]{0,19}$/;

/** A series' printed number: its prefix and the number, zero-padded to `padding` digits. */
export function fullNumber(series: Pick<InvoiceSeries, 'prefix' | 'padding'>, number: number): string {
  return `${series.prefix}${String(number).padStart(series.padding, '0')}`;
}

// ---- presentation

export function totalsOf(lines: readonly InvoiceLineInput[], paid: number): InvoiceTotals {
  return computeTotals(lines, paid);
}

export function storedRate(rate: VatRate): '21' | '11' | '9' | '0' | 'exempt' {
  return String(rate) as '21' | '11' | '9' | '0' | 'exempt';
}

export function rateOf(stored: string): VatRate {
  const r = stored === 'exempt' ? 'exempt' : Number(stored);
  if (!isVatRate(r)) throw new Error(`stored VAT rate ${stored} is not one of VAT_RATES`);
  return r;
}

export function vatBreakdownJson(t: InvoiceTotals): { rate: VatRate; taxable_amount: number; tax_amount: number }[] {
  return t.vat.map((v) => ({ rate: v.rate, taxable_amount: v.taxableAmount, tax_amount: v.taxAmount }));
}

export function presentLine(l: InvoiceLine) {
  return {
    position: l.position,
    description: l.description,
    quantity: formatQuantity(l.quantity_thousandths),
    unit: l.unit,
    unit_price: l.unit_price,
    vat_rate: rateOf(l.vat_rate),
    net: l.net,
  };
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/**
 * A document as the API shows it. `cardPaymentDefault` is the merchant's setting: `card_payment` is what applies
 * to this document, `card_payment_override` what the document itself says (null: it follows the setting);
 * `pay_url` is its pay link (`services/hub-urls.ts`) while card payment is on.
 */
export function presentInvoice(inv: Invoice, lines: InvoiceLine[] | undefined, cardPaymentDefault: boolean, hub: HubBase) {
  const cardPayment = inv.card_payment ?? cardPaymentDefault;
  return {
    id: inv.id,
    object: 'invoice' as const,
    kind: inv.kind,
    status: inv.status,
    series_id: inv.series_id,
    number: inv.full_number,
    sequence_number: inv.number,
    issue_date: inv.issue_date,
    due_date: inv.due_date,
    currency: inv.currency,
    language: inv.language,
    buyer: inv.buyer,
    seller: inv.seller,
    notes: inv.notes,
    card_payment: cardPayment,
    card_payment_override: inv.card_payment,
    // The buyer's pay link, while card payment is on for an issued (or paid: the page says so) document.
    pay_url: cardPayment && inv.pay_token !== null && (inv.status === 'issued' || inv.status === 'paid') ? invoicePayUrl(hub, inv.pay_token) : null,
    ...(lines ? { lines: lines.map(presentLine) } : {}),
    totals: {
      net: inv.net,
      vat: inv.vat_breakdown,
      vat_total: inv.vat_total,
      total: inv.total,
      amount_paid: inv.amount_paid,
      amount_due: inv.total - inv.amount_paid,
    },
    related_invoice_id: inv.related_invoice_id,
    storno_of_id: inv.storno_of_id,
    issued_at: iso(inv.issued_at),
    paid_at: iso(inv.paid_at),
    canceled_at: iso(inv.canceled_at),
    created_at: iso(inv.created_at)!,
    updated_at: iso(inv.updated_at)!,
  };
}
export type InvoiceView = ReturnType<typeof presentInvoice>;

export function presentSeries(s: InvoiceSeries) {
  return {
    id: s.id,
    object: 'invoice_series' as const,
    kind: s.kind,
    prefix: s.prefix,
    next_number: s.next_number,
    next_full_number: fullNumber(s, s.next_number),
    padding: s.padding,
    is_default: s.is_default,
    last_issued_number: s.last_issued_number,
    created_at: iso(s.created_at)!,
    updated_at: iso(s.updated_at)!,
  };
}

export function presentCollection(c: InvoiceCollection) {
  return {
    id: c.id,
    object: 'collection' as const,
    invoice_id: c.invoice_id,
    collected_on: c.collected_on,
    amount: c.amount,
    currency: c.currency,
    method: c.method,
    processor: c.processor,
    processor_reference: c.processor_reference,
    payment_id: c.payment_id,
    reversed_by_id: c.reversed_by_id,
    overpayment: c.overpayment,
    created_at: iso(c.created_at)!,
  };
}
