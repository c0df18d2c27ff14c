import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { LATE_ANSWER_AMOUNT_SUFFIX } from '../../../emulators/nexi/back-office.js';
import { createAccount, linkView, Merchant, payMailRequest, postJson, startEmulator, type Account, type Emulator } from './harness.js';

/** The knob for clients' time-outs: a PayMail for an amount ending in 408 is carried out at once and answered late. */

const LATE_MS = 800;
let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store, undefined, LATE_MS);
  merchant = await Merchant.start();
  account = await createAccount(emulator, 'Bottega Lenta');
});
after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

describe('Nexi emulator: a PayMail for an amount ending in 408', () => {
  it('makes the link at once and answers only after lateAnswerMs, with the usual signed OK', async () => {
    const body = payMailRequest(account, merchant, { importo: 1000 + LATE_ANSWER_AMOUNT_SUFFIX });
    const started = Date.now();
    const answer = postJson(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, body);
    // Before the answer comes, the link is there (the work is done; only the answer is late).
    await new Promise((resolve) => setTimeout(resolve, LATE_MS / 2));
    const view = await linkView(emulator, account, body.codiceTransazione as string);
    assert.deepEqual([view.link.status, view.link.importo], ['open', 1408]);
    const { status, json } = await answer;
    assert.ok(Date.now() - started >= LATE_MS - 20, `answered after ${Date.now() - started} ms`);
    assert.equal(status, 200);
    assert.equal(json.esito, 'OK');
    assert.match(json.payMailUrl, /\/ecomm\/ecomm\/paymail\//);
  });

  it('any other amount is answered at once', async () => {
    const started = Date.now();
    const { json } = await postJson(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, payMailRequest(account, merchant, { importo: 1409 }));
    assert.equal(json.esito, 'OK');
    assert.ok(Date.now() - started < LATE_MS, 'not held');
  });

  it('a client that gives up before the answer: the link was made all the same', async () => {
    const body = payMailRequest(account, merchant, { importo: 408 });
    await assert.rejects(
      fetch(`${emulator.base}/ecomm/api/bo/richiestaPayMail`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(100),
      }),
    );
    const view = await linkView(emulator, account, body.codiceTransazione as string);
    assert.equal(view.link.status, 'open', 'the link was made all the same');
  });
});
