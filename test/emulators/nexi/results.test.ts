import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import type { ConnectionConfig, InboundNotification, VerifiedNotification } from '../../../src/connectors/types.js';
import {
  createAccount,
  eventually,
  futureExpiry,
  linkView,
  Merchant,
  newCodTrans,
  payMailRequest,
  postForm,
  postJson,
  startEmulator,
  type Account,
  type Emulator,
} from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
});

after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

function connection(settings: Record<string, unknown> = {}): ConnectionConfig<any, any> {
  return {
    credentials: nexi.parseCredentials(nexi.emulator!.credentialsFrom(account)),
    settings: nexi.parseSettings(settings),
    environment: 'emulator',
    endpoint: emulator.base,
  };
}

async function newLink(overrides: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Promise<{ codTrans: string; url: string }> {
  const body = payMailRequest(account, merchant, overrides, extra);
  const { json } = await postJson(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, body);
  assert.equal(json.esito, 'OK', JSON.stringify(json));
  return { codTrans: body.codiceTransazione as string, url: json.payMailUrl };
}

async function pay(url: string, brand: string, pan: string, cvv = '123'): Promise<Response> {
  return postForm(url, { brand, card_number: pan, expiry: futureExpiry(), cvv });
}

function verify(n: InboundNotification, settings: Record<string, unknown> = {}): VerifiedNotification {
  const v = nexi.verifyNotification(connection(settings), n);
  assert.equal(v.ok, true, v.ok ? '' : v.reason);
  return v as VerifiedNotification;
}

const fromBody = (body: string): InboundNotification => ({ body: Buffer.from(body), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
const fromReturn = (location: string): InboundNotification => ({ body: Buffer.alloc(0), headers: {}, query: new URL(location).search.slice(1) });

describe('paying on the link: the result goes to urlpost and the browser to url, both signed', () => {
  it('an approved VISA test card: esito OK to urlpost (verified by the connector as a capture) and to url', async () => {
    const { codTrans, url } = await newLink();
    const paid = await pay(url, 'VISA', '4539970000000006');
    assert.equal(paid.status, 303);
    const location = paid.headers.get('location')!;
    assert.ok(location.startsWith(`${merchant.url}/esito?shop=1&`), location);
    const back = verify(fromReturn(location));
    assert.equal(back.reference, codTrans);
    assert.deepEqual(back.outcome, { kind: 'captured', amount: 5000 });
    const posted = merchant.resultsFor(codTrans);
    assert.equal(posted.length, 1, 'urlpost is called before the browser is sent back');
    const s2s = verify(fromBody(posted[0]!.body));
    assert.equal(s2s.dedupeKey, back.dedupeKey);
    assert.equal(s2s.summary.payment_method, 'VISA');
    assert.equal(s2s.summary.pan, '453997******0006');
    assert.equal(posted[0]!.fields.alias, account.alias);
    assert.match(posted[0]!.fields.codAut!, /^[A-Z0-9]{6}$/);
    assert.equal((await linkView(emulator, account, codTrans)).notifications[0]!.status, 'delivered');
  });

  it('the link cannot be paid twice', async () => {
    const { url } = await newLink();
    await pay(url, 'MasterCard', '5255000000000001');
    assert.equal((await fetch(url)).status, 409);
    assert.equal((await pay(url, 'MasterCard', '5255000000000001')).status, 409);
  });

  it('a declined card: esito KO (empty codAut) to urlpost and url; the codTrans keeps two more tries, then closes', async () => {
    const { codTrans, url } = await newLink();
    for (let i = 1; i <= 3; i++) {
      const r = await pay(url, 'VISA', '4539970000000022');
      assert.equal(r.status, 303);
      const v = verify(fromReturn(r.headers.get('location')!));
      assert.deepEqual(v.outcome, { kind: 'failed', code: 'KO:116', message: 'Insufficient funds' });
    }
    assert.equal(merchant.resultsFor(codTrans).length, 3);
    assert.equal(merchant.resultsFor(codTrans)[0]!.fields.codAut, '');
    const view = await linkView(emulator, account, codTrans);
    assert.equal(view.link.status, 'declined');
    assert.equal((await fetch(url)).status, 409);
  });

  it('Cancel: esito ANNULLO to urlpost and the browser to url_back', async () => {
    const { codTrans, url } = await newLink();
    const r = await postForm(`${url}/cancel`, {});
    assert.equal(r.status, 303);
    const location = r.headers.get('location')!;
    assert.ok(location.startsWith(`${merchant.url}/annullo?`), location);
    assert.equal(verify(fromReturn(location)).outcome.kind, 'failed');
    assert.equal(merchant.resultsFor(codTrans)[0]!.fields.esito, 'ANNULLO');
  });

  it('GBP with deferred accounting (TCONTAB=D): divisa GBP, an authorization for the connector set to D', async () => {
    const { codTrans, url } = await newLink({ importo: 1999 }, { divisa: 'GBP', TCONTAB: 'D' });
    await pay(url, 'Maestro', '6759000000000000');
    const v = verify(fromBody(merchant.resultsFor(codTrans)[0]!.body), { accounting: 'D' });
    assert.deepEqual(v.outcome, { kind: 'authorized', amount: 1999 });
    assert.deepEqual(v.expected, { amount: 1999, currency: 'GBP' });
    assert.equal(v.summary.payment_method, 'Maestro');
  });

  it('a card of another brand than the one chosen, a bad Luhn digit or a past expiry are sent back to the form', async () => {
    const { codTrans, url } = await newLink();
    const forms: Array<Record<string, string>> = [
      { brand: 'VISA', card_number: '5255000000000001', expiry: futureExpiry(), cvv: '123' },
      { brand: 'VISA', card_number: '4539970000000007', expiry: futureExpiry(), cvv: '123' },
      { brand: 'VISA', card_number: '4539970000000006', expiry: '01/20', cvv: '123' },
      { brand: 'Amex', card_number: '371600000000008', expiry: futureExpiry(), cvv: '123' },
      { card_number: '4539970000000006', expiry: futureExpiry(), cvv: '123' },
    ];
    for (const fields of forms) {
      const r = await postForm(url, fields);
      assert.equal(r.status, 400, JSON.stringify(fields));
      assert.match(await r.text(), /role="alert"/);
    }
    assert.equal(merchant.resultsFor(codTrans).length, 0);
  });
});

describe('the link expires', () => {
  it('"Let the link expire" closes it: the page says so (410) and it takes no payment; nothing is sent', async () => {
    const { codTrans, url } = await newLink();
    const r = await postForm(`${url}/expire`, {});
    assert.equal(r.status, 303);
    assert.equal((await fetch(url)).status, 410);
    assert.equal((await pay(url, 'VISA', '4539970000000006')).status, 410);
    assert.equal(merchant.resultsFor(codTrans).length, 0);
  });

  it('after `timeout` hours the link is expired', async () => {
    const { codTrans, url } = await newLink({ timeout: 1 });
    assert.equal((await fetch(url)).status, 200);
    // An hour passes (moved on in the emulator's own table rather than waited for).
    await sql`UPDATE emu_nexi_links SET expires_at = now() - interval '1 second' WHERE cod_trans = ${codTrans}`.execute(store.db);
    assert.equal((await fetch(url)).status, 410);
    assert.equal((await linkView(emulator, account, codTrans)).link.status, 'expired');
  });
});

describe('urlpost is retried until the merchant answers HTTP 200', () => {
  it('HTTP 500, 404 and a hang are tried again; the 200 ends it; the log keeps every attempt', async () => {
    const codTrans = newCodTrans();
    merchant.script(codTrans, [500, 404, 'hang', 200]);
    const { url } = await newLink({ codiceTransazione: codTrans });
    await pay(url, 'VISA', '4539970000000006');
    const view = await eventually(
      async () => {
        const v = await linkView(emulator, account, codTrans);
        return v.notifications[0]?.status === 'delivered' ? v : undefined;
      },
      15_000,
      'delivery',
    );
    assert.deepEqual(
      view.notifications[0]!.log.map((l) => l.outcome),
      ['retry', 'retry', 'retry', 'delivered'],
    );
    assert.deepEqual(
      view.notifications[0]!.log.map((l) => l.http_status),
      [500, 404, null, 200],
    );
    const bodies = merchant.resultsFor(codTrans).map((r) => r.body);
    assert.equal(new Set(bodies).size, 1, 'every attempt posts the same signed result');
  });

  it('gives up after maxAttempts', async () => {
    const codTrans = newCodTrans();
    merchant.script(codTrans, [500, 500, 500, 500, 500, 500]);
    const { url } = await newLink({ codiceTransazione: codTrans });
    await pay(url, 'VISA', '4539970000000006');
    const view = await eventually(
      async () => {
        const v = await linkView(emulator, account, codTrans);
        return v.notifications[0]?.status === 'failed' ? v : undefined;
      },
      15_000,
      'giving up',
    );
    assert.equal(view.notifications[0]!.attempts, 5);
    assert.equal(view.notifications[0]!.log.at(-1)!.outcome, 'gave_up');
  });

  it('a pending result survives a restart of the emulator and is delivered by the next one', async () => {
    const codTrans = newCodTrans();
    merchant.script(codTrans, [500]);
    const slow = await startEmulator(store, { baseDelayMs: 60_000, pollMs: 20, timeoutMs: 2000, maxAttempts: 5 });
    const { json } = await postJson(`${slow.base}/ecomm/api/bo/richiestaPayMail`, payMailRequest(account, merchant, { codiceTransazione: codTrans }));
    await pay(json.payMailUrl, 'VISA', '4539970000000006');
    await slow.stop();
    assert.equal(merchant.resultsFor(codTrans).length, 1);
    // The next process finds it due (its retry time moved up, as if a minute had passed).
    await sql`UPDATE emu_nexi_notifications SET next_attempt_at = now() WHERE status = 'pending' AND fields->>'codTrans' = ${codTrans}`.execute(store.db);
    await merchant.waitFor(() => merchant.resultsFor(codTrans).length === 2);
    const view = await eventually(
      async () => {
        const v = await linkView(emulator, account, codTrans);
        return v.notifications[0]?.status === 'delivered' ? v : undefined;
      },
      10_000,
      'delivery after restart',
    );
    assert.equal(view.notifications[0]!.attempts, 2);
  });
});

describe('situazioneOrdine answers from the same state', () => {
  it('a paid order is Contabilizzato, read by the connector as the same capture as the urlpost result', async () => {
    const { codTrans, url } = await newLink();
    await pay(url, 'MasterCard', '5255000000000001');
    const s2s = verify(fromBody(merchant.resultsFor(codTrans)[0]!.body));
    const attempt = { reference: codTrans, processorReference: null, amount: 5000, currency: 'EUR' };
    const request = nexi.statusCheck!.request(connection(), attempt);
    const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
    const report = nexi.statusCheck!.response(connection(), attempt, { status: response.status, headers: {}, body: await response.text() });
    assert.ok(!('kind' in report), JSON.stringify(report));
    if ('kind' in report) return;
    assert.deepEqual(report.outcome, { kind: 'captured', amount: 5000 });
    assert.equal(report.dedupeKey, s2s.dedupeKey);
    assert.equal(report.summary.processor_status, 'Contabilizzato');
    assert.equal(report.summary.payment_method, 'MasterCard');
  });

  it('a declined order is Autor. Negata; one the customer only canceled has no transaction yet', async () => {
    const declined = await newLink();
    await pay(declined.url, 'MasterCard', '5255000000000019');
    const canceled = await newLink();
    await postForm(`${canceled.url}/cancel`, {});
    for (const [link, kind] of [
      [declined, 'failed'],
      [canceled, 'informational'],
    ] as const) {
      const attempt = { reference: link.codTrans, processorReference: null, amount: 5000, currency: 'EUR' };
      const request = nexi.statusCheck!.request(connection(), attempt);
      const response = await fetch(request.url, { method: 'POST', headers: request.headers, body: request.body });
      const report = nexi.statusCheck!.response(connection(), attempt, { status: response.status, headers: {}, body: await response.text() });
      assert.equal('outcome' in report && report.outcome.kind, kind);
    }
  });
});
