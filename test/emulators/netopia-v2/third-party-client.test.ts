import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import netopiaCard from 'netopia-card';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, Merchant, newOrderId, startEmulator, type Account, type Emulator } from './harness.js';

/**
 * "Any NETOPIA v2 client pointed at it must work": a published client library, chesscoders' `netopia-card`
 * (npm, 2.1.1, the one its notes describe), talks to the emulator exactly as it talks to NETOPIA's sandbox. The
 * library hard-codes NETOPIA's hosts, so pointing it at the emulator means setting its `baseUrl`.
 */

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, { name: 'Librăria Veche' });
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
});
after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

function client() {
  const netopia = new netopiaCard.Netopia({
    apiKey: account.api_key,
    posSignature: account.pos_signature,
    notifyUrl: merchant.notifyUrl,
    redirectUrl: `${merchant.url}/return`,
    sandbox: true,
  });
  (netopia as unknown as { baseUrl: string }).baseUrl = emulator.base;
  return netopia;
}

const billing = { email: 'ion@example.ro', firstName: 'Ion', lastName: 'Popescu', phone: '0722000111', city: 'Iași', details: 'Str. Lăpușneanu 12' };

describe('netopia-card (npm) against the emulator', () => {
  it("hosted page: startPayment answers 101 with the paymentURL, as the library's own sandbox test expects", async () => {
    const netopia = client();
    netopia.setOrderData({ amount: 159.9, billing, orderID: newOrderId('npm-hosted'), description: 'Carte' });
    const answer = await netopia.startPayment();
    assert.equal(answer.error.code, '101');
    assert.ok(answer.payment.paymentURL.startsWith(emulator.base), answer.payment.paymentURL);
    assert.equal(answer.payment.amount, 159.9);
  });

  it('card data: the success card is approved at once (00, status 3) and the signed IPN reaches the shop', async () => {
    const netopia = client();
    const orderID = newOrderId('npm-card');
    netopia.setOrderData({ amount: 25.5, billing, orderID });
    netopia.setPaymentData({ account: '9900004810225098', expMonth: 12, expYear: new Date().getFullYear() + 2, secretCode: '111' });
    netopia.setBrowserData(
      {
        BROWSER_COLOR_DEPTH: '24',
        BROWSER_LANGUAGE: 'ro-RO',
        BROWSER_SCREEN_HEIGHT: '1080',
        BROWSER_SCREEN_WIDTH: '1920',
        BROWSER_TZ: 'Europe/Bucharest',
        BROWSER_USER_AGENT: 'Mozilla/5.0',
        MOBILE: 'false',
      },
      '10.0.0.7',
    );
    const answer = await netopia.startPayment();
    assert.deepEqual([answer.error.code, answer.payment.status], ['00', 3]);
    assert.equal(netopiaCard.isPaymentError(answer.error.code), false);
    const [ipn] = await merchant.waitForIpns(orderID, 1);
    assert.ok(ipn!.verified.ok, JSON.stringify(ipn!.verified));
    assert.deepEqual([ipn!.body.payment.status, ipn!.body.payment.amount], [3, 25.5]);
  });

  it('a wrong CVV is a decline the library reports as a payment error (21)', async () => {
    const netopia = client();
    netopia.setOrderData({ amount: 10, billing, orderID: newOrderId('npm-cvv') });
    netopia.setPaymentData({ account: '9900004810225098', expMonth: 12, expYear: new Date().getFullYear() + 2, secretCode: '999' });
    const answer = await netopia.startPayment();
    assert.equal(answer.error.code, '21');
    assert.equal(netopiaCard.isPaymentError(answer.error.code), true);
  });

  it('a wrong API key fails the way the library reports gateway errors (a thrown Error with the message)', async () => {
    const netopia = client();
    (netopia as unknown as { apiKey: string }).apiKey = 'not-a-key';
    netopia.setOrderData({ amount: 10, billing, orderID: newOrderId('npm-key') });
    await assert.rejects(() => netopia.startPayment(), /Unauthorized/);
  });
});
