/**
 * An invoice's totals, in integers only (pure). Quantities are integer thousandths (1.5 kg is 1500), prices and
 * amounts integer minor units of the document's currency (bani). The VAT is computed per rate on the sum of the
 * lines of that rate, as EN 16931 rule BR-CO-17 says (VAT category tax amount = taxable amount × rate / 100,
 * rounded), never per line and then summed: per-line rounding drifts by up to half a ban per line.
 *
 * Rounding rule, used for both the line nets and the VAT per rate: to the nearest minor unit, a half rounded
 * AWAY FROM ZERO (0.5 → 1, −0.5 → −1), as the Romanian and EN 16931 practice of "round half up" means for the
 * amounts of a storno (negated) document too, so a storno's totals are exactly the negated totals of the invoice
 * it corrects.
 *
 * The limits keep every intermediate and every sum a safe integer (|x| ≤ 2^53 − 1): the product quantity × price
 * is computed in BigInt (it can exceed 2^53), every other value is bounded by the limits below.
 */

/** VAT rates in Romania since 1 August 2025 (Law 141/2025): standard 21, reduced 11, transitional 9, 0, and exempt. */
export const VAT_RATES = [21, 11, 9, 0, 'exempt'] as const;
export type VatRate = (typeof VAT_RATES)[number];

/** A quantity's thousandths: at most 1 000 000 units (1 000 000 000 thousandths), either sign (a storno negates). */
export const MAX_QUANTITY_THOUSANDTHS = 1_000_000_000;
/** A unit price's absolute value: at most 10 000 000.00 in a two-decimal currency. */
export const MAX_UNIT_PRICE_MINOR = 1_000_000_000;
/** Lines on one document. */
export const MAX_LINES = 500;
/**
 * A line's net in absolute value (10 000 000 000.00). Quantity and price alone would allow 10^15 per line; with
 * this cap 500 lines sum to at most 5·10^14, their VAT to at most 21 % of that, and the total to at most
 * 6.05·10^14, well below 2^53 − 1 ≈ 9·10^15.
 */
export const MAX_LINE_NET_MINOR = 1_000_000_000_000;

export interface InvoiceLineInput {
  /** Integer thousandths of the unit: 2500 is 2.5. Never 0. */
  quantityThousandths: number;
  /** Integer minor units per unit (may be negative: a discount line). */
  unitPrice: number;
  vatRate: VatRate;
}

export interface VatBreakdown {
  rate: VatRate;
  /** Σ of the line nets at this rate (BT-116). */
  taxableAmount: number;
  /** round(taxableAmount × rate / 100), 0 when exempt (BT-117). */
  taxAmount: number;
}

export interface InvoiceTotals {
  /** Each line's net, in the order given. */
  lineNets: number[];
  /** One entry per rate present, in the order of VAT_RATES. */
  vat: VatBreakdown[];
  /** Σ line nets (BT-106 / BT-109). */
  net: number;
  /** Σ VAT per rate (BT-110). */
  vatTotal: number;
  /** net + vatTotal (BT-112). */
  total: number;
  /** What was collected (BT-113). */
  paid: number;
  /** total − paid (BT-115, BR-CO-16). */
  due: number;
}

export class InvoiceTotalsError extends Error {
  override name = 'InvoiceTotalsError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

/** n / d rounded to the nearest integer, a half away from zero (d > 0). */
export function divRoundHalfAwayFromZero(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('the divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (2n * d);
  return negative ? -q : q;
}

export function isVatRate(value: unknown): value is VatRate {
  return (VAT_RATES as readonly unknown[]).includes(value);
}

/** A line's net: round(quantity × unit price), in minor units. */
export function lineNet(line: InvoiceLineInput): number {
  return Number(divRoundHalfAwayFromZero(BigInt(line.quantityThousandths) * BigInt(line.unitPrice), 1000n));
}

/** The problems of one line against the limits, as `lines[i].field` messages. */
export function lineProblems(line: InvoiceLineInput, index: number): InvoiceTotalsError[] {
  const out: InvoiceTotalsError[] = [];
  const at = (f: string) => `lines[${index}].${f}`;
  const q = line.quantityThousandths;
  if (!Number.isSafeInteger(q) || q === 0 || Math.abs(q) > MAX_QUANTITY_THOUSANDTHS)
    out.push(new InvoiceTotalsError(at('quantity'), 'must be a non-zero number with at most 3 decimals, at most 1000000 in absolute value'));
  if (!Number.isSafeInteger(line.unitPrice) || Math.abs(line.unitPrice) > MAX_UNIT_PRICE_MINOR)
    out.push(new InvoiceTotalsError(at('unit_price'), `must be an integer of minor units, at most ${MAX_UNIT_PRICE_MINOR} in absolute value`));
  if (!isVatRate(line.vatRate)) out.push(new InvoiceTotalsError(at('vat_rate'), 'must be one of 21, 11, 9, 0, "exempt"'));
  if (out.length === 0 && Math.abs(lineNet(line)) > MAX_LINE_NET_MINOR)
    out.push(new InvoiceTotalsError(at('unit_price'), `quantity × unit price must be at most ${MAX_LINE_NET_MINOR} minor units in absolute value`));
  return out;
}

/**
 * The totals of a document's lines, with `paid` already collected. Throws InvoiceTotalsError (the first problem)
 * when a line is outside the limits; `lineProblems` lists them all for a form.
 */
export function computeTotals(lines: readonly InvoiceLineInput[], paid = 0): InvoiceTotals {
  if (lines.length > MAX_LINES) throw new InvoiceTotalsError('lines', `at most ${MAX_LINES} lines`);
  lines.forEach((l, i) => {
    const problem = lineProblems(l, i)[0];
    if (problem) throw problem;
  });
  if (!Number.isSafeInteger(paid)) throw new InvoiceTotalsError('amount_paid', 'must be an integer of minor units');
  const lineNets = lines.map(lineNet);
  const bases = new Map<VatRate, number>();
  lines.forEach((l, i) => bases.set(l.vatRate, (bases.get(l.vatRate) ?? 0) + lineNets[i]!));
  const vat: VatBreakdown[] = [];
  for (const rate of VAT_RATES) {
    const base = bases.get(rate);
    if (base === undefined) continue;
    const taxAmount = rate === 'exempt' || rate === 0 ? 0 : Number(divRoundHalfAwayFromZero(BigInt(base) * BigInt(rate), 100n));
    vat.push({ rate, taxableAmount: base, taxAmount });
  }
  const net = lineNets.reduce((a, b) => a + b, 0);
  const vatTotal = vat.reduce((a, v) => a + v.taxAmount, 0);
  const total = net + vatTotal;
  return { lineNets, vat, net, vatTotal, total, paid, due: total - paid };
}

/** "2.5" / "2,500" / 2.5 → 2500 thousandths; null when it is not a number with at most 3 decimals. */
export function parseQuantity(value: unknown): number | null {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : typeof value === 'string' ? value.trim() : '';
  const m = /^(-)?(\d{1,7})(?:[.,](\d{1,3}))?$/.exec(text);
  if (!m) return null;
  const thousandths = Number(m[2]) * 1000 + Number((m[3] ?? '').padEnd(3, '0'));
  return m[1] ? -thousandths : thousandths;
}

/** 2500 → "2.5", 1000 → "1", −1250 → "-1.25": the shortest decimal text of a quantity. */
export function formatQuantity(thousandths: number): string {
  const sign = thousandths < 0 ? '-' : '';
  const abs = Math.abs(thousandths);
  const whole = Math.floor(abs / 1000);
  const frac = String(abs % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return `${sign}${whole}${frac ? `.${frac}` : ''}`;
}
