import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { NETOPIA_TEXT } from '../../../emulators/netopia-v1/page-text.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, card, createAccount, formsOf, Merchant, newOrderId, postForm, startBody, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

const call = (path: string, body: unknown) => api(emulator, path, body, account.api_key);
const lastYear = { expMonth: 1, expYear: new Date().getUTCFullYear() - 1, text: '' };

describe('NETOPIA v2 emulator: direct card data, non-3DS sandbox cards (CVV 111, any future expiry)', () => {
  it('9900004810225098 → "00" Approved, status 3, payment.data {AuthCode, BIN, ISSUER, ISSUER_COUNTRY, RRN} and a token', async () => {
    const orderId = newOrderId('direct');
    const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, card: card('9900004810225098') }));
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual(answer.json.customerAction, {});
    assert.deepEqual(answer.json.error, { code: '00', message: 'Approved' });
    const payment = answer.json.payment;
    assert.equal(payment.status, 3);
    assert.equal(payment.amount, 25);
    assert.equal(payment.paymentURL, undefined);
    assert.match(payment.data.AuthCode, /^[A-Za-z0-9]{4}$/);
    assert.equal(payment.data.BIN, '990000');
    assert.equal(payment.data.ISSUER, 'Netopia GB');
    assert.equal(payment.data.ISSUER_COUNTRY, '642');
    assert.match(payment.data.RRN, /^[A-Za-z0-9_-]{12}$/);
    assert.match(payment.token, /^[A-Za-z0-9+/]{88}$/);
    assert.deepEqual(payment.instrument, { panMasked: '9****5098' });
    // One IPN when the payment resolves.
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.equal(ipn!.body.payment.status, 3);
    assert.equal(ipn!.body.payment.ntpID, payment.ntpID);
  });

  const declines: Array<{ name: string; pan: string; cvv?: string; expiry?: typeof lastYear; code: string; message: string }> = [
    { name: 'expired card 9900541631437790', pan: '9900541631437790', code: '19', message: 'Expired card' },
    { name: 'a past expiry date on any card (the accepted one here)', pan: '9900004810225098', expiry: lastYear, code: '19', message: 'Expired card' },
    { name: 'expired card with a past date', pan: '9900541631437790', expiry: lastYear, code: '19', message: 'Expired card' },
    { name: 'insufficient funds 9900518572831942', pan: '9900518572831942', code: '20', message: 'Insufficient funds' },
    { name: 'wrong-CVV card 9900827979991500', pan: '9900827979991500', cvv: '123', code: '21', message: 'Invalid CVV' },
    { name: 'a CVV other than 111 on any test card', pan: '9900004810225098', cvv: '112', code: '21', message: 'Invalid CVV' },
    { name: 'transaction not permitted 9900576270414197', pan: '9900576270414197', code: '34', message: 'Transaction not permitted' },
    { name: 'high-risk/fraud card 9900334791085173 (a decline, not status 13)', pan: '9900334791085173', code: '16', message: 'Card has a risk (stolen card)' },
    { name: 'issuer unavailable 9900130597497640', pan: '9900130597497640', code: '22', message: 'Issuer unavailable' },
    { name: 'an unknown PAN', pan: '4111111111111111', code: '17', message: 'Incorrect card number' },
  ];
  for (const decline of declines) {
    it(`${decline.name} → status 12, code ${decline.code}, and a decline IPN`, async () => {
      const orderId = newOrderId('decline');
      const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, card: card(decline.pan, decline.cvv, decline.expiry) }));
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual(answer.json.error, { code: decline.code, message: decline.message });
      assert.equal(answer.json.payment.status, 12);
      assert.equal(answer.json.payment.token, undefined);
      const [ipn] = await merchant.waitForIpns(orderId, 1);
      assert.equal(ipn!.body.payment.status, 12);
      assert.equal(ipn!.body.payment.code, decline.code);
      assert.equal(ipn!.body.payment.message, decline.message);
      assert.equal(ipn!.body.payment.data.AuthCode, undefined);
    });
  }

  it('a declined order is finished: the same orderID again → "56 Order closed" with status 12', async () => {
    const orderId = newOrderId('retry');
    await call('/payment/card/start', startBody(account, merchant, { orderId, card: card('9900518572831942') }));
    for (const again of [startBody(account, merchant, { orderId, card: card('9900004810225098') }), startBody(account, merchant, { orderId })]) {
      const answer = await call('/payment/card/start', again);
      assert.equal(answer.status, 400, answer.text);
      assert.deepEqual(answer.json.error, { code: '56', message: 'Order closed' });
      assert.equal(answer.json.payment.status, 12);
    }
  });

  it('a paid order is closed too: the same orderID and price → 56 with status 3', async () => {
    const orderId = newOrderId('paid');
    const paid = await call('/payment/card/start', startBody(account, merchant, { orderId, card: card('9900004810225098') }));
    const answer = await call('/payment/card/start', startBody(account, merchant, { orderId }));
    assert.equal(answer.json.error.code, '56', answer.text);
    assert.equal(answer.json.payment.status, 3);
    assert.equal(answer.json.payment.ntpID, paid.json.payment.ntpID);
  });

  it('card data on an order still open on its hosted page charges that order', async () => {
    const orderId = newOrderId('open');
    const hosted = await call('/payment/card/start', startBody(account, merchant, { orderId }));
    const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, card: card('9900004810225098') }));
    assert.equal(answer.json.error.code, '00', answer.text);
    assert.equal(answer.json.payment.ntpID, hosted.json.payment.ntpID);
  });

  it('the token of an approved payment pays a new order like its card (payment.instrument.token)', async () => {
    const first = await call('/payment/card/start', startBody(account, merchant, { card: card('9900004810225098') }));
    const orderId = newOrderId('token');
    const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, token: first.json.payment.token }));
    assert.equal(answer.json.error.code, '00', answer.text);
    assert.equal(answer.json.payment.status, 3);
    assert.deepEqual(answer.json.payment.instrument, { panMasked: '9****5098' });
    const unknown = await call('/payment/card/start', startBody(account, merchant, { token: 'not-a-token-of-ours' }));
    assert.equal(unknown.status, 400);
    assert.deepEqual(
      unknown.json.error.details.map((d: { field: string }) => d.field),
      ['payment.instrument.token'],
    );
  });
});

/** Starts a 3-D Secure payment and goes through the sandbox ACS like a browser, choosing `button`. */
async function threeDs(button: 'Authorize' | 'Fail authentication'): Promise<{ orderId: string; start: any; paRes: string }> {
  const orderId = newOrderId('3ds');
  const body = startBody(account, merchant, { orderId, card: card('9900009184214768') });
  body.config.redirectUrl = `${merchant.url}/back`;
  const start = await call('/payment/card/start', body);
  assert.equal(start.status, 200, start.text);
  const page = await postForm(start.json.customerAction.url, start.json.customerAction.formData);
  assert.equal(page.status, 200);
  // The order speaks Romanian (the harness's default): the buttons carry the catalogue's Romanian words.
  const label = button === 'Authorize' ? NETOPIA_TEXT.ro.authorize : NETOPIA_TEXT.ro.failAuthentication;
  const form = formsOf(await page.text()).find((f) => f.button === label);
  assert.ok(form, `the authentication page offers "${button}"`);
  assert.equal(form.action, `${merchant.url}/back`, 'the ACS posts back to backUrl');
  const back = await postForm(form.action, form.fields);
  assert.equal(back.status, 200);
  const paRes = merchant.backPosts.at(-1)?.paRes;
  assert.ok(paRes, 'backUrl received paRes');
  return { orderId, start: start.json, paRes };
}

describe('NETOPIA v2 emulator: 3-D Secure card 9900009184214768 — "100", status 15, /sandbox/authorize, verify-auth', () => {
  it('start answers 100/status 15 with customerAction {type: Authentication3D, url, authenticationToken, formData {backUrl, paReq}} and sends no IPN', async () => {
    const orderId = newOrderId('3ds-start');
    const answer = await call('/payment/card/start', startBody(account, merchant, { orderId, card: card('9900009184214768') }));
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json.error.code, '100');
    assert.equal(answer.json.payment.status, 15);
    assert.equal(answer.json.payment.data, undefined);
    const action = answer.json.customerAction;
    assert.equal(action.type, 'Authentication3D');
    assert.equal(action.url, `${emulator.base}/sandbox/authorize`);
    assert.ok(action.authenticationToken.length >= 64);
    assert.equal(action.formData.backUrl, `${merchant.url}/return?shop=1`);
    assert.ok(action.formData.paReq.length >= 32);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal(merchant.ipnsFor(orderId).length, 0);
  });

  it('"Authorize" → paRes to backUrl → verify-auth {authenticationToken, ntpID, formData:{paRes}} → "00", status 3, then the IPN', async () => {
    const { orderId, start, paRes } = await threeDs('Authorize');
    const verify = await call('/payment/card/verify-auth', {
      authenticationToken: start.customerAction.authenticationToken,
      ntpID: start.payment.ntpID,
      formData: { paRes },
    });
    assert.equal(verify.status, 200, verify.text);
    assert.deepEqual(verify.json.error, { code: '00', message: 'Approved' });
    assert.equal(verify.json.payment.status, 3);
    assert.equal(verify.json.payment.data.BIN, '990000');
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.equal(ipn!.body.payment.status, 3);
    // verify-auth again: the order is closed, with its state.
    const again = await call('/payment/card/verify-auth', {
      authenticationToken: start.customerAction.authenticationToken,
      ntpID: start.payment.ntpID,
      formData: { paRes },
    });
    assert.equal(again.status, 400);
    assert.equal(again.json.error.code, '56');
    assert.equal(again.json.payment.status, 3);
  });

  it('"Fail authentication" → verify-auth declines: status 12, code 38', async () => {
    const { orderId, start, paRes } = await threeDs('Fail authentication');
    const verify = await call('/payment/card/verify-auth', {
      authenticationToken: start.customerAction.authenticationToken,
      ntpID: start.payment.ntpID,
      formData: { paRes },
    });
    assert.equal(verify.json.error.code, '38', verify.text);
    assert.equal(verify.json.payment.status, 12);
    const [ipn] = await merchant.waitForIpns(orderId, 1);
    assert.equal(ipn!.body.payment.code, '38');
  });

  it('verify-auth refuses a wrong authenticationToken, a forged paRes, missing fields and unknown ntpIDs', async () => {
    const { start, paRes } = await threeDs('Authorize');
    const ntpID = start.payment.ntpID;
    const token = start.customerAction.authenticationToken;
    const wrongToken = await call('/payment/card/verify-auth', { authenticationToken: token.slice(1) + 'A', ntpID, formData: { paRes } });
    assert.deepEqual([wrongToken.status, wrongToken.json.error.details[0].field], [400, 'authenticationToken']);
    const forged = await call('/payment/card/verify-auth', { authenticationToken: token, ntpID, formData: { paRes: 'forged' } });
    assert.deepEqual([forged.status, forged.json.error.details[0].field], [400, 'formData.paRes']);
    const missing = await call('/payment/card/verify-auth', {});
    assert.deepEqual(missing.json.error.details.map((d: { field: string }) => d.field).sort(), ['authenticationToken', 'formData.paRes', 'ntpID']);
    const unknown = await call('/payment/card/verify-auth', { authenticationToken: token, ntpID: '999999999', formData: { paRes } });
    assert.equal(unknown.status, 404);
    // The order is still waiting: the right answer still completes it.
    const ok = await call('/payment/card/verify-auth', { authenticationToken: token, ntpID, formData: { paRes } });
    assert.equal(ok.json.error.code, '00', ok.text);
  });

  it('/sandbox/authorize without a pending paReq shows an HTML error page', async () => {
    const response = await postForm(`${emulator.base}/sandbox/authorize`, { paReq: 'x'.repeat(40), backUrl: `${merchant.url}/back` });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    const bad = await postForm(`${emulator.base}/sandbox/authorize`, {});
    assert.equal(bad.status, 400);
  });
});
