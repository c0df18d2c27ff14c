import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/core/ids.js';
import { ValidationError } from '../../src/core/validation.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../../src/services/context.js';
import {
  ANONYMOUS_CNP,
  cancelInvoice,
  convertProforma,
  createInvoiceDraft,
  createSeries,
  deleteInvoiceDraft,
  getInvoice,
  getInvoiceSettings,
  getSellerProfile,
  isCnp,
  isIban,
  isRomanianFiscalCode,
  issueInvoice,
  listInvoices,
  putInvoiceSettings,
  putSellerProfile,
  stornoInvoice,
  todayInRomania,
  updateInvoiceDraft,
  updateSeriesSettings,
  type InvoiceDraftInput,
} from '../../src/services/invoices/index.js';
import { inTransaction } from '../../src/services/unit-of-work.js';
import { startTestHub, type TestHub } from '../support/hub.js';

/** The invoicing module's documents: drafts, issuing and its numbering, storno, proforma → invoice, settings. */

let hub: TestHub;
let ctx: HubContext;
let merchant = '';
let other = '';

const seller = {
  name: 'Prăjituri de Casă SRL',
  fiscal_code: 'RO18547290',
  trade_register: 'J22/345/2019',
  address: 'Bd. Independenței 5',
  city: 'Iași',
  county: 'Iași',
  iban: 'RO49AAAA1B31007593840000',
  vat_payer: true,
};

const draftInput = (over: Partial<InvoiceDraftInput> = {}): InvoiceDraftInput => ({
  kind: 'invoice',
  buyer: { type: 'company', name: 'Cafeaua Bună SRL', fiscal_code: 'RO14080700', city: 'București', email: 'contabilitate@cafeauabuna.ro' },
  lines: [
    { description: 'Tort de ciocolată', quantity: 2, unit: 'buc', unit_price: 12000, vat_rate: 11 },
    { description: 'Livrare', quantity: 1, unit_price: 2500, vat_rate: 21 },
  ],
  ...over,
});

const draft = (merchantId: string, over: Partial<InvoiceDraftInput> = {}) => inTransaction(ctx, (trx) => createInvoiceDraft(trx, merchantId, draftInput(over)));

async function newMerchant(name: string): Promise<string> {
  const id = newId('mer');
  await hub.store.db.insertInto('merchants').values({ id, name }).execute();
  return id;
}

before(async () => {
  hub = await startTestHub({ emulators: false });
  ctx = hub.ctx;
  merchant = await newMerchant('Prăjituri de Casă');
  other = await newMerchant('Alt Comerciant');
  await putSellerProfile(ctx, merchant, seller);
});
after(() => hub?.close());

describe('Romanian identifiers', () => {
  it('checks the CUI control digit, the CNP control digit and the IBAN check digits', () => {
    assert.ok(isRomanianFiscalCode('RO18547290'));
    assert.ok(isRomanianFiscalCode('14080700'));
    assert.ok(!isRomanianFiscalCode('RO18547291'));
    assert.ok(!isRomanianFiscalCode('RO1'));
    assert.ok(isCnp('1980101123452'));
    assert.ok(!isCnp('1980101123453'));
    assert.ok(isCnp(ANONYMOUS_CNP));
    assert.ok(isIban('RO49AAAA1B31007593840000'));
    assert.ok(isIban('RO49 AAAA 1B31 0075 9384 0000'));
    assert.ok(!isIban('RO49AAAA1B31007593840001'));
  });
});

describe('seller profile and settings', () => {
  it('stores the seller profile and refuses a bad CUI or IBAN with the field named', async () => {
    const p = await getSellerProfile(ctx, merchant);
    assert.equal(p.fiscal_code, 'RO18547290');
    assert.equal(p.vat_payer, true);
    await assert.rejects(getSellerProfile(ctx, other), NotFoundError);
    await assert.rejects(putSellerProfile(ctx, other, { ...seller, fiscal_code: 'RO18547291', iban: 'RO00' }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(e.errors.map((x) => x.field).sort(), ['fiscal_code', 'iban']);
      return true;
    });
  });

  it('the three settings are off until set, and each changes alone', async () => {
    assert.deepEqual(
      (({ card_payment_default, auto_fiscal_from_proforma, auto_collection }) => ({ card_payment_default, auto_fiscal_from_proforma, auto_collection }))(
        await getInvoiceSettings(ctx, other),
      ),
      { card_payment_default: false, auto_fiscal_from_proforma: false, auto_collection: false },
    );
    await putInvoiceSettings(ctx, other, { card_payment_default: true });
    const s = await putInvoiceSettings(ctx, other, { auto_collection: true });
    assert.equal(s.card_payment_default, true);
    assert.equal(s.auto_collection, true);
    assert.equal(s.auto_fiscal_from_proforma, false);
  });
});

describe('drafts', () => {
  it('a draft has no number, its totals computed per VAT rate, a person buyer gets the 13-zero CNP', async () => {
    const d = await draft(merchant, { kind: 'proforma', buyer: { type: 'person', name: 'Ana Pop', email: 'ana@example.ro' } });
    assert.equal(d.status, 'draft');
    assert.equal(d.number, null);
    assert.equal(d.full_number, null);
    assert.equal(d.buyer.cnp, ANONYMOUS_CNP);
    // 2 × 120.00 at 11 % → VAT 26.40; 25.00 at 21 % → 5.25
    assert.equal(d.net, 26500);
    assert.equal(d.vat_total, 2640 + 525);
    assert.equal(d.total, 26500 + 3165);
    const view = await getInvoice(ctx, merchant, d.id);
    assert.equal(view.lines!.length, 2);
    assert.equal(view.lines![0]!.quantity, '2');
    assert.deepEqual(view.totals.vat, [
      { rate: 21, taxable_amount: 2500, tax_amount: 525 },
      { rate: 11, taxable_amount: 24000, tax_amount: 2640 },
    ]);
  });

  it('refuses bad input with every field named', async () => {
    await assert.rejects(
      draft(merchant, {
        buyer: { type: 'company', name: '', fiscal_code: 'RO123' },
        lines: [{ description: '', quantity: '1.2345', unit_price: 1.5, vat_rate: 19 as never }],
        due_date: '2026-02-30',
      }),
      (e: unknown) => {
        assert.ok(e instanceof ValidationError);
        const fields = e.errors.map((x) => x.field).sort();
        assert.deepEqual(fields, [
          'buyer.fiscal_code',
          'buyer.name',
          'due_date',
          'lines[0].description',
          'lines[0].quantity',
          'lines[0].unit_price',
          'lines[0].vat_rate',
        ]);
        return true;
      },
    );
  });

  it('a draft changes and is deleted; another merchant sees nothing of it', async () => {
    const d = await draft(merchant);
    const changed = await updateInvoiceDraft(ctx, merchant, d.id, {
      lines: [{ description: 'Fursecuri', quantity: '1.5', unit: 'kg', unit_price: 4000, vat_rate: 11 }],
      card_payment: false,
    });
    assert.equal(changed.net, 6000);
    assert.equal(changed.total, 6660);
    assert.equal(changed.card_payment, false);
    await assert.rejects(getInvoice(ctx, other, d.id), NotFoundError);
    await assert.rejects(updateInvoiceDraft(ctx, other, d.id, { notes: 'x' }), NotFoundError);
    await assert.rejects(deleteInvoiceDraft(ctx, other, d.id), NotFoundError);
    await deleteInvoiceDraft(ctx, merchant, d.id);
    await assert.rejects(getInvoice(ctx, merchant, d.id), NotFoundError);
  });
});

describe('issuing and numbering', () => {
  it('refuses to issue without a series, then numbers consecutively in the default series', async () => {
    const d = await draft(merchant);
    await assert.rejects(issueInvoice(ctx, merchant, d.id), (e: unknown) => e instanceof UnprocessableError && /series/.test(e.message));
    const series = await createSeries(ctx, merchant, { kind: 'invoice', prefix: 'PRJ', next_number: 41, padding: 4 });
    assert.equal(series.is_default, true);
    const first = await issueInvoice(ctx, merchant, d.id);
    assert.equal(first.status, 'issued');
    assert.equal(first.number, 41);
    assert.equal(first.full_number, 'PRJ0041');
    assert.equal(first.issue_date, todayInRomania());
    assert.equal((first.seller as { fiscal_code: string }).fiscal_code, 'RO18547290');
    assert.match(first.pay_token!, /^[A-Za-z0-9_-]{32}$/);
    const second = await issueInvoice(ctx, merchant, (await draft(merchant)).id);
    assert.equal(second.full_number, 'PRJ0042');
    // issuing twice is refused; the number stays
    await assert.rejects(issueInvoice(ctx, merchant, d.id), ConflictError);
    const events = await hub.store.db
      .selectFrom('events')
      .select(['type', 'payload'])
      .where('merchant_id', '=', merchant)
      .where('type', '=', 'invoice.issued')
      .execute();
    assert.ok(events.some((e) => JSON.parse(e.payload).data.number === 'PRJ0041'));
  });

  it('a failed issue takes no number (no gap)', async () => {
    const noLines = await draft(merchant);
    await hub.store.db.deleteFrom('invoice_lines').where('invoice_id', '=', noLines.id).execute();
    await assert.rejects(issueInvoice(ctx, merchant, noLines.id), UnprocessableError);
    const next = await issueInvoice(ctx, merchant, (await draft(merchant)).id);
    assert.equal(next.full_number, 'PRJ0043');
  });

  it('refuses an issue date before the latest of the series (numbers follow the dates)', async () => {
    await assert.rejects(issueInvoice(ctx, merchant, (await draft(merchant)).id, { issue_date: '2020-01-01' }), /may not be earlier/);
  });

  it('a series once used moves only forward, keeps its prefix; a proforma series is separate', async () => {
    const list = await hub.store.db.selectFrom('invoice_series').selectAll().where('merchant_id', '=', merchant).execute();
    const prj = list.find((s) => s.prefix === 'PRJ')!;
    await assert.rejects(updateSeriesSettings(ctx, merchant, prj.id, { next_number: 10 }), /only move forward/);
    await assert.rejects(updateSeriesSettings(ctx, merchant, prj.id, { prefix: 'X' }), /prefix cannot change/);
    const moved = await updateSeriesSettings(ctx, merchant, prj.id, { next_number: 100 });
    assert.equal(moved.next_number, 100);
    await assert.rejects(createSeries(ctx, merchant, { kind: 'invoice', prefix: 'PRJ' }), ConflictError);
    await assert.rejects(updateSeriesSettings(ctx, other, prj.id, { next_number: 200 }), NotFoundError);
    const pf = await createSeries(ctx, merchant, { kind: 'proforma', prefix: 'PF' });
    assert.equal(pf.is_default, true);
    await assert.rejects(draft(merchant, { series_id: pf.id }), /is a proforma series; this document is an invoice/);
  });

  it('a seller who is not a VAT payer issues only at 0 or exempt', async () => {
    const m = await newMerchant('Fără TVA');
    await putSellerProfile(ctx, m, { ...seller, fiscal_code: '14080700', vat_payer: false });
    await createSeries(ctx, m, { kind: 'invoice', prefix: 'NV' });
    await assert.rejects(issueInvoice(ctx, m, (await draft(m)).id), /not a VAT payer/);
    const ok = await issueInvoice(ctx, m, (await draft(m, { lines: [{ description: 'Consultanță', quantity: 1, unit_price: 50000, vat_rate: 'exempt' }] })).id);
    assert.equal(ok.total, 50000);
  });
});

describe('cancel, storno, proforma → invoice', () => {
  it('a fiscal invoice is never canceled or deleted; its storno negates it, once', async () => {
    const inv = await issueInvoice(ctx, merchant, (await draft(merchant)).id);
    await assert.rejects(cancelInvoice(ctx, merchant, inv.id), /storno/);
    await assert.rejects(deleteInvoiceDraft(ctx, merchant, inv.id), ConflictError);
    const storno = await stornoInvoice(ctx, merchant, inv.id);
    assert.equal(storno.status, 'issued');
    assert.equal(storno.storno_of_id, inv.id);
    assert.equal(storno.total, -inv.total);
    assert.equal(storno.series_id, inv.series_id);
    assert.equal(storno.number, inv.number! + 1);
    await assert.rejects(stornoInvoice(ctx, merchant, inv.id), /storno already/);
    await assert.rejects(stornoInvoice(ctx, merchant, storno.id), /itself a storno/);
  });

  it('a draft and an issued proforma are canceled; canceling again changes nothing', async () => {
    const d = await draft(merchant, { kind: 'proforma' });
    assert.equal((await cancelInvoice(ctx, merchant, d.id)).status, 'canceled');
    const p = await issueInvoice(ctx, merchant, (await draft(merchant, { kind: 'proforma' })).id);
    const canceled = await cancelInvoice(ctx, merchant, p.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.full_number, p.full_number);
    assert.equal((await cancelInvoice(ctx, merchant, p.id)).status, 'canceled');
    const events = await hub.store.db
      .selectFrom('events')
      .select('payload')
      .where('merchant_id', '=', merchant)
      .where('type', '=', 'invoice.canceled')
      .execute();
    assert.deepEqual(
      events.map((e) => JSON.parse(e.payload).data.id),
      [p.id],
    );
    await assert.rejects(convertProforma(ctx, merchant, p.id), /canceled/);
  });

  it('a proforma becomes one fiscal invoice, buyer and lines copied, both linked; a second is refused', async () => {
    const p = await issueInvoice(
      ctx,
      merchant,
      (await draft(merchant, { kind: 'proforma', buyer: { type: 'person', name: 'Ion Ionescu', cnp: '1980101123452' } })).id,
    );
    assert.match(p.full_number!, /^PF\d+$/);
    const inv = await convertProforma(ctx, merchant, p.id);
    assert.equal(inv.kind, 'invoice');
    assert.equal(inv.status, 'issued');
    assert.equal(inv.related_invoice_id, p.id);
    assert.equal(inv.total, p.total);
    assert.deepEqual(inv.buyer, p.buyer);
    const view = await getInvoice(ctx, merchant, p.id);
    assert.equal(view.related_invoice_id, inv.id);
    assert.deepEqual(
      (await getInvoice(ctx, merchant, inv.id)).lines!.map((l) => [l.description, l.quantity, l.unit_price, l.vat_rate]),
      view.lines!.map((l) => [l.description, l.quantity, l.unit_price, l.vat_rate]),
    );
    await assert.rejects(convertProforma(ctx, merchant, p.id), /fiscal invoice already/);
    await assert.rejects(convertProforma(ctx, merchant, inv.id), /not a proforma/);
    await assert.rejects(convertProforma(ctx, other, p.id), NotFoundError);
  });

  it("a paid proforma's fiscal invoice is issued paid, and its invoice.issued says so", async () => {
    const p = await issueInvoice(ctx, merchant, (await draft(merchant, { kind: 'proforma' })).id);
    // What the next step's ledger hook will do when the card payment settles; set here directly.
    const paidAt = new Date('2026-03-02T10:00:00Z');
    await hub.store.db.updateTable('invoices').set({ status: 'paid', amount_paid: p.total, paid_at: paidAt }).where('id', '=', p.id).execute();
    const inv = await convertProforma(ctx, merchant, p.id);
    assert.equal(inv.status, 'paid');
    assert.equal(inv.amount_paid, p.total);
    assert.equal(new Date(inv.paid_at!).toISOString(), paidAt.toISOString());
    const event = await hub.store.db
      .selectFrom('events')
      .select('payload')
      .where('merchant_id', '=', merchant)
      .where('type', '=', 'invoice.issued')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    const data = JSON.parse(event.payload).data;
    assert.equal(data.id, inv.id);
    assert.equal(data.status, 'paid');
    assert.equal(data.totals.amount_due, 0);
  });

  it('two conversions of one proforma at once make one invoice', async () => {
    const p = await issueInvoice(ctx, merchant, (await draft(merchant, { kind: 'proforma' })).id);
    const results = await Promise.allSettled([convertProforma(ctx, merchant, p.id), convertProforma(ctx, merchant, p.id)]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const made = await hub.store.db.selectFrom('invoices').select('id').where('related_invoice_id', '=', p.id).where('kind', '=', 'invoice').execute();
    assert.equal(made.length, 1);
  });
});

describe('the list', () => {
  it('filters by status, kind, buyer (name beginning or fiscal code) and period, a page at a time', async () => {
    const m = await newMerchant('Listă');
    await putSellerProfile(ctx, m, seller);
    await createSeries(ctx, m, { kind: 'invoice', prefix: 'L' });
    const a = await issueInvoice(ctx, m, (await draft(m)).id, { issue_date: '2026-01-10' });
    const b = await issueInvoice(ctx, m, (await draft(m, { buyer: { type: 'company', name: 'Zâmbet SRL', fiscal_code: '18547290' } })).id, {
      issue_date: '2026-02-10',
    });
    const c = await draft(m, { buyer: { type: 'person', name: 'Ana Pop' } });
    const ids = async (f: Parameters<typeof listInvoices>[2]) => (await listInvoices(ctx, m, f)).data.map((x) => x.id);
    assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
    assert.deepEqual(await ids({ status: 'issued' }), [b.id, a.id]);
    assert.deepEqual(await ids({ status: 'draft' }), [c.id]);
    assert.deepEqual(await ids({ buyer: 'cafeaua' }), [a.id]);
    assert.deepEqual(await ids({ buyer: '18547290' }), [b.id]);
    assert.deepEqual(await ids({ buyer: '%' }), []);
    assert.deepEqual(await ids({ issued_from: '2026-02-01', issued_to: '2026-02-28' }), [b.id]);
    assert.deepEqual(await ids({ kind: 'proforma' }), []);
    const page1 = await listInvoices(ctx, m, { limit: 2 });
    assert.equal(page1.has_more, true);
    const page2 = await listInvoices(ctx, m, { limit: 2, starting_after: page1.next_cursor! });
    assert.deepEqual(
      page2.data.map((x) => x.id),
      [a.id],
    );
    assert.deepEqual(
      (await listInvoices(ctx, other, {})).data.filter((x) => [a.id, b.id, c.id].includes(x.id)),
      [],
    );
    await assert.rejects(listInvoices(ctx, m, { issued_from: '2026-13-01' }), ValidationError);
  });
});
