import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import { backOfficeResponseMacPairs, computeMac, orderStatusMacPairs } from '../../../src/connectors/nexi/mac.js';
import type { ConnectionConfig, InboundResponse } from '../../../src/connectors/types.js';
import { NEXI_BO_ERRORS } from '../../../emulators/nexi/index.js';
import { createAccount, Merchant, newCodTrans, payMailRequest, postJson, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let other: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator, 'Bottega Rossi');
  other = await createAccount(emulator, 'Altro negozio');
});

after(async () => {
  await merchant?.close();
  await emulator?.stop();
  await store?.close();
});

const payMailUrl = () => `${emulator.base}/ecomm/api/bo/richiestaPayMail`;
const statusUrl = () => `${emulator.base}/ecomm/api/bo/situazioneOrdine`;

function signedBy(json: Record<string, any>, key: string): boolean {
  return json.mac === computeMac(backOfficeResponseMacPairs({ esito: json.esito, idOperazione: json.idOperazione, timeStamp: json.timeStamp }), key);
}

function connection(a: Account): ConnectionConfig<any, any> {
  return {
    credentials: nexi.parseCredentials(nexi.emulator!.credentialsFrom(a)),
    settings: nexi.parseSettings({}),
    environment: 'emulator',
    endpoint: nexi.defaultEndpoint('emulator', emulator.origin),
  };
}

describe('test terminals: POST /accounts', () => {
  it("hands out an alias and a MAC key, in the connector's credential names", async () => {
    assert.match(account.alias, /^ALIAS_WEB_\d{8}$/);
    assert.match(account.mac_key, /^[A-Z0-9]{32}$/);
    assert.notEqual(account.alias, other.alias);
    assert.deepEqual(nexi.emulator!.credentialsFrom(account), { alias: account.alias, mac_key: account.mac_key });
    assert.equal(nexi.emulator!.accountPath, '/sandbox/nexi/accounts');
  });

  it('shows an account without its MAC key', async () => {
    const r = await fetch(`${emulator.base}/accounts/${account.alias}`);
    const json = await r.json();
    assert.equal(json.alias, account.alias);
    assert.equal(json.mac_key, undefined);
  });
});

describe('richiestaPayMail (POST /ecomm/api/bo/richiestaPayMail)', () => {
  it("Nexi's sample request gets esito OK, idOperazione, timeStamp, a MAC over them and the payMailUrl", async () => {
    const { status, json } = await postJson(payMailUrl(), payMailRequest(account, merchant));
    assert.equal(status, 200);
    assert.equal(json.esito, 'OK');
    assert.match(json.idOperazione, /^\d+$/);
    assert.ok(signedBy(json, account.mac_key));
    assert.ok(json.payMailUrl.startsWith(`${emulator.base}/ecomm/ecomm/paymail/`));
    const page = await fetch(json.payMailUrl);
    assert.equal(page.status, 200);
    const text = await page.text();
    assert.match(text, /<label for="card_number">Card number<\/label>/);
    assert.match(text, /50\.00 EUR/);
  });

  it("the connector's own request, sent to the emulator, comes back as a redirect to the link", async () => {
    const config = connection(account);
    const input = {
      reference: `att_${newCodTrans('c').padEnd(26, '0').slice(0, 26)}`,
      amount: 1999,
      currency: 'GBP',
      description: 'Tè verde',
      metadata: {},
      billing: { first_name: 'Anna', last_name: 'Bianchi', email: 'anna@example.it' },
      urls: { notify: `${merchant.url}/notify`, return: `${merchant.url}/return`, cancel: `${merchant.url}/cancel` },
      expiresAt: new Date(Date.now() + 2 * 3600_000),
      now: new Date(),
    };
    const request = nexi.start!.request(config, input);
    const response = await fetch(request.url, { method: request.method, headers: request.headers, body: request.body });
    const res: InboundResponse = { status: response.status, headers: {}, body: await response.text() };
    const result = nexi.start!.response(config, input, res);
    assert.equal(result.kind, 'redirect', JSON.stringify(result));
    if (result.kind !== 'redirect') return;
    const page = await (await fetch(result.redirect.url)).text();
    assert.match(page, /19\.99 GBP/);
    assert.match(page, /Tè verde/);
  });

  it("a wrong MAC is refused with Nexi's KO envelope, signed with the terminal's key", async () => {
    const body = payMailRequest(account, merchant, { mac: '0'.repeat(40) });
    const { status, json } = await postJson(payMailUrl(), body);
    assert.equal(status, 200);
    assert.equal(json.esito, 'KO');
    assert.deepEqual(json.errore, NEXI_BO_ERRORS.wrongMac);
    assert.ok(signedBy(json, account.mac_key));
    const seen = nexi.start!.response(connection(account), {} as any, { status, headers: {}, body: JSON.stringify(json) });
    assert.deepEqual(seen, { kind: 'error', failure: 'refused', code: `nexi_${NEXI_BO_ERRORS.wrongMac.codice}`, message: NEXI_BO_ERRORS.wrongMac.messaggio });
  });

  it("a request signed with another terminal's MAC key is a wrong MAC", async () => {
    const body = payMailRequest({ ...account, mac_key: other.mac_key }, merchant);
    const { json } = await postJson(payMailUrl(), body);
    assert.deepEqual(json.errore, NEXI_BO_ERRORS.wrongMac);
  });

  it('an unknown alias is refused, unsigned (there is no key to sign with)', async () => {
    const body = payMailRequest({ ...account, alias: 'ALIAS_WEB_00000000' }, merchant);
    const { json } = await postJson(payMailUrl(), body);
    assert.equal(json.esito, 'KO');
    assert.deepEqual(json.errore, NEXI_BO_ERRORS.unknownAlias);
    assert.equal(json.mac, '');
  });

  it('the same codiceTransazione twice is refused', async () => {
    const codiceTransazione = newCodTrans();
    assert.equal((await postJson(payMailUrl(), payMailRequest(account, merchant, { codiceTransazione }))).json.esito, 'OK');
    const { json } = await postJson(payMailUrl(), payMailRequest(account, merchant, { codiceTransazione, timeStamp: Date.now() + 1 }));
    assert.deepEqual(json.errore, NEXI_BO_ERRORS.duplicateCodTrans);
  });

  it('bad parameters get KO "Parametri errati o mancanti", never a 500', async () => {
    const cases: Array<[string, unknown]> = [
      ['not JSON', '{"apiKey":'],
      ['an array', [1, 2]],
      ['no importo', { ...payMailRequest(account, merchant), importo: undefined }],
      ['importo as text', payMailRequest(account, merchant, { importo: 'cinquanta' })],
      ['timeout 0', payMailRequest(account, merchant, { timeout: 0 })],
      ['url not http', payMailRequest(account, merchant, { url: 'javascript:alert(1)' })],
      ['codTrans with #', payMailRequest(account, merchant, { codiceTransazione: 'abc#1' })],
      ['codTrans of 31 characters', payMailRequest(account, merchant, { codiceTransazione: 'x'.repeat(31) })],
      ['parametriAggiuntivi not an object', payMailRequest(account, merchant, { parametriAggiuntivi: ['x'] })],
      ['unknown divisa', payMailRequest(account, merchant, {}, { divisa: 'XBT' })],
      ['TCONTAB X', payMailRequest(account, merchant, {}, { TCONTAB: 'X' })],
    ];
    for (const [what, body] of cases) {
      const { status, json } = await postJson(payMailUrl(), body);
      assert.equal(status, 200, what);
      assert.equal(json.esito, 'KO', what);
      assert.ok(
        [NEXI_BO_ERRORS.invalidParameters.codice, NEXI_BO_ERRORS.wrongMac.codice].includes(json.errore.codice),
        `${what}: ${JSON.stringify(json.errore)}`,
      );
    }
  });

  it('another content type, or an unknown service, gets a KO too', async () => {
    const r = await fetch(payMailUrl(), { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).esito, 'KO');
    const unknown = await postJson(`${emulator.base}/ecomm/api/bo/nonEsiste`, {});
    assert.equal(unknown.status, 404);
    assert.equal(unknown.json.esito, 'KO');
  });
});

describe('situazioneOrdine (POST /ecomm/api/bo/situazioneOrdine)', () => {
  it('an order nobody has paid yet has an empty report', async () => {
    const codiceTransazione = newCodTrans();
    await postJson(payMailUrl(), payMailRequest(account, merchant, { codiceTransazione }));
    const timeStamp = Date.now();
    const { json } = await postJson(statusUrl(), {
      apiKey: account.alias,
      codiceTransazione,
      timeStamp,
      mac: computeMac(orderStatusMacPairs({ apiKey: account.alias, codiceTransazione, timeStamp }), account.mac_key),
    });
    assert.equal(json.esito, 'OK');
    assert.ok(signedBy(json, account.mac_key));
    assert.deepEqual(json.report, []);
  });

  it('refuses a wrong MAC', async () => {
    const { json } = await postJson(statusUrl(), { apiKey: account.alias, codiceTransazione: 'x1', timeStamp: Date.now(), mac: 'f'.repeat(40) });
    assert.deepEqual(json.errore, NEXI_BO_ERRORS.wrongMac);
  });
});
