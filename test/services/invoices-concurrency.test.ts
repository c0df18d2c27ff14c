import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { newId } from '../../src/core/ids.js';
import type { HubContext } from '../../src/services/context.js';
import {
  convertProforma,
  createInvoiceDraft,
  createSeries,
  issueInvoice,
  putInvoiceSettings,
  putSellerProfile,
  startInvoicePayment,
} from '../../src/services/invoices/index.js';
import { createConnection } from '../../src/services/connections.js';
import { recordOperationReport } from '../../src/services/ledger/index.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { inTransaction } from '../../src/services/unit-of-work.js';
import { openStore, type Store } from '../../src/store/store.js';
import { NEEDS_POSTGRES } from '../support/resilience.js';
import { freshStoreOptions } from '../support/store.js';
import { startTestHub, type TestHub } from '../support/hub.js';

/**
 * Gapless numbering under concurrency, on PostgreSQL: three stores (three connection pools, as three hub
 * processes have) on one database issue 50 documents of one series at the same moment. The series' row lock
 * makes them queue: the numbers are 1..50, none skipped, none twice. (PGlite has one connection: nothing to race.)
 */

const STORES = 3;

describe('gapless numbering across connections', { skip: NEEDS_POSTGRES }, () => {
  let hub: TestHub;
  const stores: Store[] = [];
  const ctxs: HubContext[] = [];
  let merchant = '';

  before(async () => {
    const options = freshStoreOptions();
    for (let i = 0; i < STORES; i++) stores.push(await openStore({ ...options, poolSize: 10 }));
    hub = await startTestHub({ emulators: false, store: stores[0] });
    for (const s of stores) ctxs.push({ ...hub.ctx, db: s.db });
    merchant = newId('mer');
    await hub.store.db.insertInto('merchants').values({ id: merchant, name: 'Concurență SRL' }).execute();
    await putSellerProfile(hub.ctx, merchant, {
      name: 'Concurență SRL',
      fiscal_code: 'RO18547290',
      address: 'Str. Mare 1',
      city: 'Cluj-Napoca',
      vat_payer: true,
    });
    await createSeries(hub.ctx, merchant, { kind: 'invoice', prefix: 'CC' });
    await createSeries(hub.ctx, merchant, { kind: 'proforma', prefix: 'PF' });
  });
  after(async () => {
    await hub?.close();
    for (const s of stores) await s.close();
  });

  const draft = (kind: 'invoice' | 'proforma', i: number) =>
    inTransaction(hub.ctx, (trx) =>
      createInvoiceDraft(trx, merchant, {
        kind,
        buyer: { type: 'person', name: `Client ${i}` },
        lines: [{ description: `Produs ${i}`, quantity: 1, unit_price: 1000 + i, vat_rate: 21 }],
      }),
    );

  it('50 invoices issued at once from three pools are numbered 1..50, no gap, no duplicate', async () => {
    const drafts = await Promise.all(Array.from({ length: 50 }, (_, i) => draft('invoice', i)));
    const issued = await Promise.all(drafts.map((d, i) => issueInvoice(ctxs[i % STORES]!, merchant, d.id)));
    const numbers = issued.map((x) => x.number!).sort((a, b) => a - b);
    assert.deepEqual(
      numbers,
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    assert.equal(new Set(issued.map((x) => x.full_number)).size, 50);
    const series = await hub.store.db
      .selectFrom('invoice_series')
      .selectAll()
      .where('merchant_id', '=', merchant)
      .where('prefix', '=', 'CC')
      .executeTakeFirstOrThrow();
    assert.equal(series.next_number, 51);
    assert.equal(series.last_issued_number, 50);
    const events = await hub.store.db.selectFrom('events').select('id').where('merchant_id', '=', merchant).where('type', '=', 'invoice.issued').execute();
    assert.equal(events.length, 50, 'one invoice.issued per document');
  });

  it('20 proformas each converted twice at once from three pools: 20 invoices, numbered on from 51, none twice', async () => {
    const proformas = await Promise.all(Array.from({ length: 20 }, async (_, i) => issueInvoice(hub.ctx, merchant, (await draft('proforma', i)).id)));
    const results = await Promise.allSettled(
      proformas.flatMap((p, i) => [convertProforma(ctxs[i % STORES]!, merchant, p.id), convertProforma(ctxs[(i + 1) % STORES]!, merchant, p.id)]),
    );
    const made = results
      .filter((r) => r.status === 'fulfilled')
      .map((r) => (r as PromiseFulfilledResult<{ number: number | null; related_invoice_id: string | null }>).value);
    assert.equal(made.length, 20, 'one conversion of each proforma went through');
    for (const r of results) if (r.status === 'rejected') assert.match(String(r.reason), /fiscal invoice already|duplicate key/);
    assert.equal(new Set(made.map((m) => m.related_invoice_id)).size, 20);
    assert.deepEqual(
      made.map((m) => m.number!).sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => 51 + i),
    );
  });

  it('series of one kind created at once from three pools: all made, exactly one default', async () => {
    const m = newId('mer');
    await hub.store.db.insertInto('merchants').values({ id: m, name: 'Serii SRL' }).execute();
    const made = await Promise.all(Array.from({ length: 9 }, (_, i) => createSeries(ctxs[i % STORES]!, m, { kind: 'invoice', prefix: `S${i}` })));
    assert.equal(made.length, 9);
    const rows = await hub.store.db.selectFrom('invoice_series').select(['prefix', 'is_default']).where('merchant_id', '=', m).execute();
    assert.equal(rows.length, 9);
    assert.equal(rows.filter((r) => r.is_default).length, 1);
  });

  it('50 proformas paid at once, each capture told twice through three pools: 50 fiscal invoices, consecutive, none twice', async () => {
    await putInvoiceSettings(hub.ctx, merchant, { card_payment_default: true, auto_collection: true, auto_fiscal_from_proforma: true });
    const connection = await createConnection(hub.ctx, merchant, {
      code: 'netopia',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
    });
    const first = Number(
      (
        await hub.store.db
          .selectFrom('invoice_series')
          .select('next_number')
          .where('merchant_id', '=', merchant)
          .where('prefix', '=', 'CC')
          .executeTakeFirstOrThrow()
      ).next_number,
    );
    const proformas = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const d = await inTransaction(hub.ctx, (trx) =>
          createInvoiceDraft(trx, merchant, {
            kind: 'proforma',
            buyer: { type: 'person', name: `Plătitor ${i}`, email: `p${i}@example.ro`, phone: '0722000111', address: 'Str. Mică 2', city: 'Cluj-Napoca' },
            lines: [{ description: `Abonament ${i}`, quantity: 1, unit_price: 2000 + i, vat_rate: 21 }],
          }),
        );
        return issueInvoice(hub.ctx, merchant, d.id);
      }),
    );
    const started = await Promise.all(proformas.map((p, i) => startInvoicePayment(ctxs[i % STORES]!, p.pay_token!, connection.id)));
    const attempts = await hub.store.db
      .selectFrom('payment_attempts')
      .select(['id', 'payment_id', 'amount'])
      .where(
        'payment_id',
        'in',
        started.map((s) => s.paymentId),
      )
      .execute();
    assert.equal(attempts.length, 50);
    // Each capture told twice (the IPN and its retry), by different pools, all at once.
    const told = await Promise.all(
      attempts.flatMap((a, i) =>
        [0, 1].map((k) =>
          recordOperationReport(ctxs[(i + k) % STORES]!, { id: connection.id, provider: 'netopia-v1' }, { id: a.id, currency: 'RON' }, 'status_check', '{}', {
            outcome: { kind: 'captured', amount: Number(a.amount) },
            dedupeKey: `ipn-${a.id}`,
            processorReference: `ref-${a.id}`,
            summary: { action: 'paid' },
          }),
        ),
      ),
    );
    assert.deepEqual(told.map((t) => t.status).sort(), [...Array(50).fill('applied'), ...Array(50).fill('duplicate')]);
    const fiscal = await hub.store.db
      .selectFrom('invoices')
      .select(['number', 'related_invoice_id', 'status'])
      .where(
        'related_invoice_id',
        'in',
        proformas.map((p) => p.id),
      )
      .where('kind', '=', 'invoice')
      .execute();
    assert.equal(fiscal.length, 50, 'one fiscal invoice per proforma');
    assert.ok(fiscal.every((f) => f.status === 'paid'));
    assert.deepEqual(
      fiscal.map((f) => Number(f.number)).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => first + i),
    );
    const collections = await hub.store.db
      .selectFrom('invoice_collections')
      .select('invoice_id')
      .where(
        'invoice_id',
        'in',
        proformas.map((p) => p.id),
      )
      .execute();
    assert.equal(collections.length, 50, 'one collection per proforma');
  });
});
