import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import type { HubContext } from '../../src/services/context.js';
import {
  createInvoiceDraft,
  createSeries,
  getInvoiceRow,
  InvoiceNotPayable,
  issueInvoice,
  listInvoiceAttempts,
  putInvoiceSettings,
  putSellerProfile,
  startInvoicePayment,
  type InvoiceDraftInput,
} from '../../src/services/invoices/index.js';
import { recordOperationReport } from '../../src/services/ledger/index.js';
import type { ProcessorOutcome } from '../../src/core/transitions.js';
import { inTransaction } from '../../src/services/unit-of-work.js';

/**
 * Card payments of invoices: starting one (the double-payment guard), and the invoices' ledger hook (collections,
 * paid, a proforma's fiscal invoice once, failures, overpayments, refunds), with duplicate, reordered and
 * concurrent statements.
 */

let hub: TestHub;
let ctx: HubContext;
let merchantId = '';
let netopia = '';
let second = '';
let transactions = 0;

const buyer = {
  type: 'person' as const,
  name: 'Maria Ionescu',
  city: 'Cluj-Napoca',
  address: 'Str. Memorandumului 2',
  email: 'maria@example.ro',
  phone: '0722123456',
};
const lines = [{ description: 'Curs de pictură', quantity: 1, unit_price: 10000, vat_rate: 21 as const }]; // 121.00 RON

async function issued(over: Partial<InvoiceDraftInput> = {}) {
  const draft = await inTransaction(ctx, (trx) => createInvoiceDraft(trx, merchantId, { kind: 'invoice', buyer, lines, card_payment: true, ...over }));
  await issueInvoice(ctx, merchantId, draft.id);
  return getInvoiceRow(ctx, merchantId, draft.id);
}

const row = (id: string) => getInvoiceRow(ctx, merchantId, id);

const attemptOf = async (paymentId: string) =>
  (
    await hub.store.db
      .selectFrom('payment_attempts')
      .select(['id', 'status'])
      .where('payment_id', '=', paymentId)
      .orderBy('number', 'desc')
      .executeTakeFirstOrThrow()
  ).id;

/** What the processor says about a payment's latest attempt, applied by the ledger like a notification. */
async function say(paymentId: string, outcome: ProcessorOutcome, key: string, connectionId = netopia) {
  const attemptId = await attemptOf(paymentId);
  return recordOperationReport(ctx, { id: connectionId, provider: 'netopia-v1' }, { id: attemptId, currency: 'RON' }, 'status_check', '{}', {
    outcome,
    dedupeKey: key,
    processorReference: `ref-${key}`,
    summary: { action: outcome.kind },
  });
}

const collectionsOf = (invoiceId: string) =>
  hub.store.db
    .selectFrom('invoice_collections')
    .select(['amount', 'method', 'processor', 'processor_reference', 'payment_id', 'reversed_by_id', 'overpayment'])
    .where('invoice_id', '=', invoiceId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();

const invoiceEvents = async (type: string) =>
  (await hub.store.db.selectFrom('events').select('payload').where('merchant_id', '=', merchantId).where('type', '=', type).orderBy('id').execute()).map(
    (e) => (JSON.parse(e.payload) as { data: Record<string, unknown> }).data,
  );

before(async () => {
  hub = await startTestHub({ emulators: false });
  await hub.worker.stop();
  ctx = hub.ctx;
  const admin = apiClient(hub.url, hub.adminKey);
  const m = await admin('POST', '/v1/merchants', { name: 'Atelier SRL' });
  merchantId = m.body.id;
  const api = apiClient(hub.url, m.body.api_key);
  for (const code of ['netopia', 'netopia-2']) {
    const c = await api('POST', '/v1/connections', { code, provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    assert.equal(c.status, 201);
    if (code === 'netopia') netopia = c.body.id;
    else second = c.body.id;
  }
  await putSellerProfile(ctx, merchantId, {
    name: 'Atelier SRL',
    fiscal_code: 'RO18547290',
    address: 'Bd. Independenței 5',
    city: 'Iași',
    iban: 'RO49AAAA1B31007593840000',
    vat_payer: true,
  });
  await createSeries(ctx, merchantId, { kind: 'invoice', prefix: 'ATL', next_number: 1 });
  await createSeries(ctx, merchantId, { kind: 'proforma', prefix: 'PRF', next_number: 1 });
  await putInvoiceSettings(ctx, merchantId, { auto_collection: true, auto_fiscal_from_proforma: true });
  const db = ctx.db;
  const open = db.transaction.bind(db);
  db.transaction = () => {
    transactions++;
    return open();
  };
});
after(() => hub?.close());

describe('starting a payment of an invoice', () => {
  it('creates, through the ledger, a payment of the amount due marked as an invoice payment, linked to the invoice', async () => {
    const inv = await issued();
    const started = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    assert.equal(started.reused, false);
    const p = await hub.store.db.selectFrom('payments').selectAll().where('id', '=', started.paymentId).executeTakeFirstOrThrow();
    assert.deepEqual([p.amount, p.currency, p.order_id, p.surface, p.connection_id], [12100, 'RON', inv.full_number, 'invoice', netopia]);
    const billing = p.billing as Record<string, unknown>;
    assert.deepEqual([billing.email, billing.phone, billing.first_name, billing.last_name], ['maria@example.ro', '0722123456', 'Maria', 'Ionescu']);
    const attempts = await listInvoiceAttempts(ctx, merchantId, inv.id);
    assert.deepEqual(
      attempts.map((a) => [a.payment_id, a.status, a.processor]),
      [[started.paymentId, 'created', 'netopia-v1']],
    );
    // Pressing again (a reload) continues the same payment rather than making a second one.
    const again = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    assert.deepEqual([again.paymentId, again.reused], [started.paymentId, true]);
  });

  it('refuses while another attempt of the invoice is in progress (unknown, processing): the double-payment guard', async () => {
    const inv = await issued();
    const first = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    await say(first.paymentId, { kind: 'unknown', code: 'timeout', message: 'no answer' }, `unk-${first.paymentId}`);
    await assert.rejects(startInvoicePayment(ctx, inv.pay_token!, second), (e) => e instanceof InvoiceNotPayable && e.reason === 'in_progress');
    await assert.rejects(startInvoicePayment(ctx, inv.pay_token!, netopia), (e) => e instanceof InvoiceNotPayable && e.reason === 'in_progress');
    const other = await issued();
    const p = await startInvoicePayment(ctx, other.pay_token!, netopia);
    await say(p.paymentId, { kind: 'pending_review' }, `rev-${p.paymentId}`);
    await assert.rejects(startInvoicePayment(ctx, other.pay_token!, second), (e) => e instanceof InvoiceNotPayable && e.reason === 'in_progress');
  });

  it('refuses an invoice with card payment off, a canceled or paid one, and a connection that is not the merchant’s', async () => {
    const off = await issued({ card_payment: false });
    await assert.rejects(startInvoicePayment(ctx, off.pay_token!, netopia), (e) => e instanceof InvoiceNotPayable && e.reason === 'card_payment_off');
    const inv = await issued();
    await assert.rejects(startInvoicePayment(ctx, inv.pay_token!, 'con_nope'), (e) => e instanceof InvoiceNotPayable && e.reason === 'connection');
    await assert.rejects(startInvoicePayment(ctx, 'no-such-token', netopia), /no such invoice/);
  });
});

describe('the invoices ledger hook', () => {
  it("takes the ledger's locked path for an invoice's payment (every other payment keeps the fast path: ledger-hooks.test.ts)", async () => {
    const inv = await issued();
    const started = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    transactions = 0;
    await say(started.paymentId, { kind: 'informational' }, `info-${started.paymentId}`);
    assert.equal(transactions, 1, "an invoice payment's statement takes the locked path");
  });

  it('a captured payment records a card collection and marks the invoice paid, once, whatever the duplicates', async () => {
    const inv = await issued();
    const { paymentId } = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    assert.equal((await say(paymentId, { kind: 'captured', amount: 12100 }, `cap-${paymentId}`)).status, 'applied');
    assert.equal((await say(paymentId, { kind: 'captured', amount: 12100 }, `cap-${paymentId}`)).status, 'duplicate');
    const paid = await row(inv.id);
    assert.deepEqual([paid.status, paid.amount_paid], ['paid', 12100]);
    assert.ok(paid.paid_at);
    assert.deepEqual(await collectionsOf(inv.id), [
      {
        amount: 12100,
        method: 'card',
        processor: 'netopia-v1',
        processor_reference: `ref-cap-${paymentId}`,
        payment_id: paymentId,
        reversed_by_id: null,
        overpayment: false,
      },
    ]);
    assert.equal((await invoiceEvents('invoice.paid')).filter((e) => e.id === inv.id).length, 1);
    await assert.rejects(startInvoicePayment(ctx, inv.pay_token!, netopia), (e) => e instanceof InvoiceNotPayable && e.reason === 'paid');
  });

  it('a declined attempt tells invoice.payment_failed in the processor’s words; the retry pays on a new attempt', async () => {
    const inv = await issued();
    const { paymentId } = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    await say(paymentId, { kind: 'failed', code: '19', message: 'CVV incorect' }, `fail-${paymentId}`);
    const failed = (await invoiceEvents('invoice.payment_failed')).find((e) => e.id === inv.id);
    assert.ok(failed, 'invoice.payment_failed');
    assert.deepEqual((failed.attempt as { failure: unknown }).failure, { code: '19', message: 'CVV incorect' });
    assert.equal((await row(inv.id)).status, 'issued');
    const retry = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    assert.deepEqual([retry.paymentId, retry.reused], [paymentId, true]);
    const listed = await listInvoiceAttempts(ctx, merchantId, inv.id);
    assert.deepEqual(
      listed.map((a) => [a.status, a.failure]),
      [['failed', { code: '19', message: 'CVV incorect' }]],
    );
  });

  it('a paid proforma gets its fiscal invoice once, with the next number, under duplicate, reordered and concurrent statements', async () => {
    const proforma = await issued({ kind: 'proforma' });
    const { paymentId } = await startInvoicePayment(ctx, proforma.pay_token!, netopia);
    const nextNumber = (await hub.store.db.selectFrom('invoice_series').select('next_number').where('prefix', '=', 'ATL').executeTakeFirstOrThrow())
      .next_number;
    // The same capture said three ways at once (the IPN, its retry, the return page's status check).
    await Promise.all([
      say(paymentId, { kind: 'captured', amount: 12100 }, `ipn-${paymentId}`),
      say(paymentId, { kind: 'captured', amount: 12100 }, `ipn-${paymentId}`),
      say(paymentId, { kind: 'captured', amount: 12100 }, `check-${paymentId}`),
    ]);
    // A late decline of the same attempt, arriving after the capture, changes nothing.
    await say(paymentId, { kind: 'failed', code: '99', message: 'late' }, `late-${paymentId}`);
    const p = await row(proforma.id);
    assert.equal(p.status, 'paid');
    assert.ok(p.related_invoice_id);
    const fiscal = await row(p.related_invoice_id!);
    assert.deepEqual(
      [fiscal.kind, fiscal.status, fiscal.number, fiscal.amount_paid, fiscal.total, fiscal.related_invoice_id],
      ['invoice', 'paid', Number(nextNumber), 12100, 12100, proforma.id],
    );
    const fiscals = await hub.store.db
      .selectFrom('invoices')
      .select('id')
      .where('related_invoice_id', '=', proforma.id)
      .where('kind', '=', 'invoice')
      .execute();
    assert.equal(fiscals.length, 1);
    assert.equal((await collectionsOf(proforma.id)).length, 1);
    const converted = (await invoiceEvents('invoice.converted')).filter((e) => e.id === proforma.id);
    assert.deepEqual(
      converted.map((e) => e.fiscal_invoice_id),
      [fiscal.id],
    );
  });

  it('a second success on a paid invoice (two tabs, two processors) is an overpayment; the invoice is paid once', async () => {
    const inv = await issued();
    const a = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    const b = await startInvoicePayment(ctx, inv.pay_token!, second);
    assert.notEqual(a.paymentId, b.paymentId);
    await say(a.paymentId, { kind: 'captured', amount: 12100 }, `cap-${a.paymentId}`);
    await say(b.paymentId, { kind: 'captured', amount: 12100 }, `cap-${b.paymentId}`, second);
    const paid = await row(inv.id);
    assert.deepEqual([paid.status, paid.amount_paid], ['paid', 12100]);
    assert.deepEqual(
      (await collectionsOf(inv.id)).map((c) => [c.payment_id, c.amount, c.overpayment]),
      [
        [a.paymentId, 12100, false],
        [b.paymentId, 12100, true],
      ],
    );
    assert.equal((await invoiceEvents('invoice.paid')).filter((e) => e.id === inv.id).length, 1);
    assert.deepEqual(
      (await invoiceEvents('invoice.overpaid')).filter((e) => e.id === inv.id).map((e) => [e.payment_id, e.overpaid_amount]),
      [[b.paymentId, 12100]],
    );
  });

  it('a refund reverses the collection and puts the amount due back', async () => {
    const inv = await issued();
    const { paymentId } = await startInvoicePayment(ctx, inv.pay_token!, netopia);
    await say(paymentId, { kind: 'captured', amount: 12100 }, `cap-${paymentId}`);
    await say(paymentId, { kind: 'refunded', totalRefunded: 12100 }, `ref-${paymentId}`);
    await say(paymentId, { kind: 'refunded', totalRefunded: 12100 }, `ref-${paymentId}`);
    const back = await row(inv.id);
    assert.deepEqual([back.status, back.amount_paid, back.paid_at], ['issued', 0, null]);
    const cols = await collectionsOf(inv.id);
    assert.deepEqual(
      cols.map((c) => c.amount),
      [12100, -12100],
    );
    assert.ok(cols[0]!.reversed_by_id, 'the original names its reversal');
  });

  it('with the collection not recorded automatically, a paid card payment records nothing but leaves nothing to pay again', async () => {
    await putInvoiceSettings(ctx, merchantId, { auto_collection: false });
    try {
      const inv = await issued();
      const { paymentId } = await startInvoicePayment(ctx, inv.pay_token!, netopia);
      await say(paymentId, { kind: 'captured', amount: 12100 }, `cap-${paymentId}`);
      const after = await row(inv.id);
      assert.deepEqual([after.status, after.amount_paid], ['issued', 0], 'the merchant records the collection');
      assert.deepEqual(await collectionsOf(inv.id), []);
      await assert.rejects(startInvoicePayment(ctx, inv.pay_token!, second), (e) => e instanceof InvoiceNotPayable && e.reason === 'nothing_due');
    } finally {
      await putInvoiceSettings(ctx, merchantId, { auto_collection: true });
    }
  });
});
