import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, futureExpiry, linkView, Merchant, payMailRequest, postForm, postJson, startEmulator, type Account, type Emulator } from './harness.js';

/**
 * The test environment's back-office view of a link (its card tries, with masked PANs, and its urlpost log) is
 * for the terminal's key holder only; and a NUL in any URL of the emulator is a clean 4xx, never a 500.
 */

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let other: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  other = await createAccount(emulator);
});

after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function paidLink(): Promise<string> {
  const body = payMailRequest(account, merchant);
  const { json } = await postJson(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, body);
  assert.equal(json.esito, 'OK', JSON.stringify(json));
  const paid = await postForm(json.payMailUrl, { brand: 'VISA', card_number: '4539970000000006', expiry: futureExpiry(), cvv: '123' });
  assert.equal(paid.status, 303);
  return body.codiceTransazione as string;
}

describe("Nexi emulator: the link inspection is the terminal's own", () => {
  it("anonymous, another terminal's key, or the alias with a wrong key: 401 without the link", async () => {
    const codTrans = await paidLink();
    const url = `${emulator.base}/back-office/links/${account.alias}/${codTrans}`;
    for (const authorization of [
      undefined,
      basic(other.alias, other.mac_key),
      basic(account.alias, other.mac_key),
      basic(account.alias, ''),
      `Bearer ${account.mac_key}`,
    ]) {
      const response = await fetch(url, { headers: authorization ? { authorization } : {} });
      assert.equal(response.status, 401, String(authorization));
      const text = await response.text();
      assert.equal(text.includes('453997'), false);
      assert.equal(text.includes(codTrans), false);
    }
  });

  it("the terminal's alias and MAC key read it", async () => {
    const codTrans = await paidLink();
    const view = await linkView(emulator, account, codTrans);
    assert.equal(view.link.status, 'paid');
    assert.equal(view.payments[0]!.pan, '453997******0006');
  });
});

describe('Nexi emulator: a NUL in the URL is a clean 4xx', () => {
  it('in every kind of path (accounts, inspection, back-office API, link page) and in a query', async () => {
    const codTrans = await paidLink();
    const paths = [
      '/accounts/%00',
      `/accounts/${account.alias}%00`,
      '/back-office/links/%00/x',
      `/back-office/links/${account.alias}/${codTrans}%00`,
      '/ecomm/api/bo/%00',
      '/ecomm/ecomm/paymail/%00',
      '/%00',
      `/accounts/${account.alias}?x=%00`,
    ];
    for (const path of paths) {
      const get = await fetch(emulator.base + path, { headers: { authorization: basic(account.alias, account.mac_key) } });
      assert.ok(get.status >= 400 && get.status < 500, `GET ${path}: ${get.status}`);
      await get.text();
    }
    for (const path of ['/ecomm/api/bo/richiestaPayMail?x=%00', '/ecomm/api/bo/situazioneOrdine%00', '/ecomm/ecomm/paymail/%00']) {
      const post = await fetch(emulator.base + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      assert.ok(post.status >= 400 && post.status < 500, `POST ${path}: ${post.status}`);
      await post.text();
    }
  });

  it('a NUL inside a JSON body is refused by the back-office API without a 500', async () => {
    const body = payMailRequest(account, merchant, { apiKey: `${account.alias}\u0000` });
    const { status, json } = await postJson(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, body);
    assert.notEqual(status, 500);
    assert.equal(json.esito, 'KO');
  });
});
