import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  computeTotals,
  divRoundHalfAwayFromZero,
  formatQuantity,
  lineNet,
  lineProblems,
  parseQuantity,
  InvoiceTotalsError,
  MAX_LINES,
  MAX_LINE_NET_MINOR,
  MAX_QUANTITY_THOUSANDTHS,
  MAX_UNIT_PRICE_MINOR,
  VAT_RATES,
  type InvoiceLineInput,
} from '../../src/core/invoice-totals.js';

const RUNS = Number(process.env.INCASSO_FUZZ_RUNS ?? 1000);

describe('invoice totals: worked examples by hand', () => {
  it('rounds a half away from zero', () => {
    assert.equal(divRoundHalfAwayFromZero(5n, 10n), 1n); // 0.5 → 1
    assert.equal(divRoundHalfAwayFromZero(-5n, 10n), -1n); // −0.5 → −1
    assert.equal(divRoundHalfAwayFromZero(14n, 10n), 1n);
    assert.equal(divRoundHalfAwayFromZero(15n, 10n), 2n);
    assert.equal(divRoundHalfAwayFromZero(-15n, 10n), -2n);
    assert.equal(divRoundHalfAwayFromZero(-14n, 10n), -1n);
    assert.equal(divRoundHalfAwayFromZero(0n, 7n), 0n);
  });

  it('a line net is quantity × unit price rounded to the ban: 1.5 kg × 33.33 = 49.995 → 50.00', () => {
    assert.equal(lineNet({ quantityThousandths: 1500, unitPrice: 3333, vatRate: 21 }), 5000);
    // 0.333 × 10.00 = 3.33; 2.345 × 0.01 = 0.02345 → 0.02
    assert.equal(lineNet({ quantityThousandths: 333, unitPrice: 1000, vatRate: 21 }), 333);
    assert.equal(lineNet({ quantityThousandths: 2345, unitPrice: 1, vatRate: 21 }), 2);
    // a storno line: −1.5 × 33.33 = −49.995 → −50.00
    assert.equal(lineNet({ quantityThousandths: -1500, unitPrice: 3333, vatRate: 21 }), -5000);
  });

  it('VAT per rate on the sum of the lines (BR-CO-17), not per line', () => {
    // Ten lines of 0.10 at 21 %: per line 0.021 → 0.02, 0.20 in all; per rate 1.00 × 21 % = 0.21. The rule gives 0.21.
    const ten = Array.from({ length: 10 }, () => ({ quantityThousandths: 1000, unitPrice: 10, vatRate: 21 as const }));
    const t = computeTotals(ten);
    assert.deepEqual(t.vat, [{ rate: 21, taxableAmount: 100, taxAmount: 21 }]);
    assert.equal(t.total, 121);
  });

  it('a Romanian invoice with every rate', () => {
    const lines: InvoiceLineInput[] = [
      { quantityThousandths: 2000, unitPrice: 4990, vatRate: 21 }, // 2 × 49.90 = 99.80
      { quantityThousandths: 1250, unitPrice: 1999, vatRate: 21 }, // 1.25 × 19.99 = 24.9875 → 24.99
      { quantityThousandths: 3000, unitPrice: 1050, vatRate: 11 }, // 3 × 10.50 = 31.50
      { quantityThousandths: 1000, unitPrice: 100000, vatRate: 9 }, // 1000.00
      { quantityThousandths: 1000, unitPrice: 500, vatRate: 0 }, // 5.00
      { quantityThousandths: 1000, unitPrice: 20000, vatRate: 'exempt' }, // 200.00
    ];
    const t = computeTotals(lines, 50000);
    assert.deepEqual(t.lineNets, [9980, 2499, 3150, 100000, 500, 20000]);
    assert.deepEqual(t.vat, [
      { rate: 21, taxableAmount: 12479, taxAmount: 2621 }, // 124.79 × 21 % = 26.2059 → 26.21
      { rate: 11, taxableAmount: 3150, taxAmount: 347 }, // 31.50 × 11 % = 3.465 → 3.47 (half away from zero)
      { rate: 9, taxableAmount: 100000, taxAmount: 9000 },
      { rate: 0, taxableAmount: 500, taxAmount: 0 },
      { rate: 'exempt', taxableAmount: 20000, taxAmount: 0 },
    ]);
    assert.equal(t.net, 136129);
    assert.equal(t.vatTotal, 11968);
    assert.equal(t.total, 148097);
    assert.equal(t.paid, 50000);
    assert.equal(t.due, 98097);
  });

  it('a storno is exactly the negated invoice', () => {
    const lines: InvoiceLineInput[] = [
      { quantityThousandths: 1500, unitPrice: 3333, vatRate: 21 },
      { quantityThousandths: 3000, unitPrice: 1050, vatRate: 11 },
    ];
    const t = computeTotals(lines);
    const s = computeTotals(lines.map((l) => ({ ...l, quantityThousandths: -l.quantityThousandths })));
    assert.equal(s.total, -t.total);
    assert.equal(s.vatTotal, -t.vatTotal);
  });

  it('refuses lines outside the limits, with the field', () => {
    assert.throws(
      () => computeTotals([{ quantityThousandths: 0, unitPrice: 1, vatRate: 21 }]),
      (e: unknown) => e instanceof InvoiceTotalsError && e.field === 'lines[0].quantity',
    );
    assert.throws(() => computeTotals([{ quantityThousandths: 1000, unitPrice: 1.5, vatRate: 21 }]), InvoiceTotalsError);
    assert.throws(() => computeTotals([{ quantityThousandths: 1000, unitPrice: 1, vatRate: 19 as never }]), /vat_rate/);
    assert.throws(() => computeTotals([{ quantityThousandths: MAX_QUANTITY_THOUSANDTHS + 1, unitPrice: 1, vatRate: 21 }]), /quantity/);
    assert.throws(() => computeTotals([{ quantityThousandths: 1000, unitPrice: MAX_UNIT_PRICE_MINOR + 1, vatRate: 21 }]), /unit_price/);
    assert.throws(
      () => computeTotals([{ quantityThousandths: MAX_QUANTITY_THOUSANDTHS, unitPrice: MAX_UNIT_PRICE_MINOR, vatRate: 21 }]),
      /quantity × unit price/,
    );
    assert.throws(
      () => computeTotals(Array.from({ length: MAX_LINES + 1 }, () => ({ quantityThousandths: 1000, unitPrice: 1, vatRate: 21 as const }))),
      /at most/,
    );
    assert.equal(lineProblems({ quantityThousandths: 0, unitPrice: -0.5, vatRate: 'x' as never }, 2).length, 3);
  });

  it('reads and writes quantities with up to 3 decimals', () => {
    assert.equal(parseQuantity('2.5'), 2500);
    assert.equal(parseQuantity('2,125'), 2125);
    assert.equal(parseQuantity(3), 3000);
    assert.equal(parseQuantity(0.001), 1);
    assert.equal(parseQuantity('-1.25'), -1250);
    for (const bad of ['', '1.2345', 'abc', '1e3', Number.NaN, '1.', '.5']) assert.equal(parseQuantity(bad), null, String(bad));
    assert.equal(formatQuantity(2500), '2.5');
    assert.equal(formatQuantity(1000), '1');
    assert.equal(formatQuantity(-1250), '-1.25');
    assert.equal(formatQuantity(1), '0.001');
  });
});

describe('invoice totals: properties for any lines within the limits', () => {
  const quantity = fc.integer({ min: -MAX_QUANTITY_THOUSANDTHS, max: MAX_QUANTITY_THOUSANDTHS }).filter((q) => q !== 0);
  const price = fc.integer({ min: -MAX_UNIT_PRICE_MINOR, max: MAX_UNIT_PRICE_MINOR });
  const rate = fc.constantFrom(...VAT_RATES);
  const line = fc
    .record({ quantityThousandths: quantity, unitPrice: price, vatRate: rate })
    .filter((l) => Math.abs(Number((BigInt(l.quantityThousandths) * BigInt(l.unitPrice)) / 1000n)) < MAX_LINE_NET_MINOR);
  const lines = fc.array(line, { minLength: 1, maxLength: 40 });

  it('every amount is a safe integer and the sums agree', () => {
    fc.assert(
      fc.property(lines, fc.integer({ min: 0, max: 1e12 }), (ls, paid) => {
        const t = computeTotals(ls, paid);
        for (const v of [t.net, t.vatTotal, t.total, t.due, ...t.lineNets, ...t.vat.flatMap((v) => [v.taxableAmount, v.taxAmount])])
          assert.ok(Number.isSafeInteger(v), `${v} is not a safe integer`);
        assert.equal(
          t.net,
          t.lineNets.reduce((a, b) => a + b, 0),
        );
        assert.equal(
          t.net,
          t.vat.reduce((a, v) => a + v.taxableAmount, 0),
        );
        assert.equal(
          t.vatTotal,
          t.vat.reduce((a, v) => a + v.taxAmount, 0),
        );
        assert.equal(t.total, t.net + t.vatTotal);
        assert.equal(t.due, t.total - paid);
      }),
      { numRuns: RUNS },
    );
  });

  it('each line net and each rate VAT is the exact value rounded half away from zero (checked in BigInt)', () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const t = computeTotals(ls);
        ls.forEach((l, i) => {
          const exactTimes1000 = BigInt(l.quantityThousandths) * BigInt(l.unitPrice);
          // |net − exact| ≤ 1/2, and exactly 1/2 only away from zero
          const diff2000 = BigInt(t.lineNets[i]!) * 2000n - exactTimes1000 * 2n;
          assert.ok(diff2000 <= 1000n && diff2000 >= -1000n);
          if (diff2000 === 1000n) assert.ok(exactTimes1000 > 0n);
          if (diff2000 === -1000n) assert.ok(exactTimes1000 < 0n);
        });
        for (const v of t.vat) {
          const r = v.rate === 'exempt' ? 0n : BigInt(v.rate);
          const diff200 = BigInt(v.taxAmount) * 200n - BigInt(v.taxableAmount) * r * 2n;
          assert.ok(diff200 <= 100n && diff200 >= -100n);
          if (diff200 === 100n) assert.ok(v.taxableAmount > 0);
          if (diff200 === -100n) assert.ok(v.taxableAmount < 0);
        }
        assert.deepEqual(
          t.vat.map((v) => v.rate),
          VAT_RATES.filter((r) => ls.some((l) => l.vatRate === r)),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('the order of the lines does not change the totals, and negating every quantity negates them', () => {
    fc.assert(
      fc.property(lines, (ls) => {
        const t = computeTotals(ls);
        const r = computeTotals([...ls].reverse());
        assert.equal(r.total, t.total);
        assert.deepEqual(r.vat, t.vat);
        const n = computeTotals(ls.map((l) => ({ ...l, quantityThousandths: -l.quantityThousandths })));
        assert.equal(n.total, -t.total || 0);
        assert.deepEqual(
          n.vat.map((v) => v.taxAmount),
          t.vat.map((v) => -v.taxAmount || 0),
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('the largest document within the limits still has safe-integer totals', () => {
    const maxLine = { quantityThousandths: 1_000_000, unitPrice: MAX_UNIT_PRICE_MINOR, vatRate: 21 as const }; // net 10^12
    const t = computeTotals(Array.from({ length: MAX_LINES }, () => maxLine));
    assert.equal(t.net, 500 * MAX_LINE_NET_MINOR);
    assert.equal(t.total, 605_000_000_000_000);
    assert.ok(Number.isSafeInteger(t.total));
  });
});
