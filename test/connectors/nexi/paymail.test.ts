import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import { computeMac, payMailMacPairs, backOfficeResponseMacPairs } from '../../../src/connectors/nexi/mac.js';
import type { PaymentRedirectInput } from '../../../src/connectors/types.js';
import { ValidationError } from '../../../src/core/validation.js';
import { ALIAS, MAC_KEY, OTHER_MAC_KEY, REFERENCE, config } from './support.js';

const NOW = new Date('2024-01-15T09:30:00.000Z');

function input(overrides: Partial<PaymentRedirectInput> = {}): PaymentRedirectInput {
  return {
    reference: REFERENCE,
    amount: 10050,
    currency: 'EUR',
    description: 'Ordine 42',
    billing: { first_name: 'Mario', last_name: 'Rossi', email: 'mario.rossi@example.it' },
    metadata: {},
    urls: { notify: 'https://hub.example/notify/nexi/con_1', return: 'https://hub.example/pay/pay_1/return', cancel: 'https://hub.example/pay/pay_1/cancel' },
    expiresAt: new Date(NOW.getTime() + 4 * 3600_000),
    language: 'it',
    now: NOW,
    ...overrides,
  };
}

function body(i = input(), settings: Record<string, unknown> = {}) {
  const request = nexi.start!.request(config(settings), i);
  return { request, json: JSON.parse(request.body!) as Record<string, any> };
}

function answer(payload: Record<string, unknown>, status = 200) {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) };
}

function signedOk(extra: Record<string, unknown> = {}, key = MAC_KEY) {
  const base = { esito: 'OK', idOperazione: '7654321', timeStamp: 1705311000123 };
  return {
    ...base,
    mac: computeMac(backOfficeResponseMacPairs(base), key),
    payMailUrl: 'https://int-ecommerce.nexi.it/ecomm/ecomm/PayMail?token=abc',
    ...extra,
  };
}

describe('richiestaPayMail request (POST ecomm/api/bo/richiestaPayMail, JSON)', () => {
  it('goes to the connection endpoint with the documented path', () => {
    const { request } = body();
    assert.equal(request.method, 'POST');
    assert.equal(request.url, 'http://127.0.0.1:9999/sandbox/nexi/ecomm/api/bo/richiestaPayMail');
    assert.equal(request.headers['content-type'], 'application/json');
  });

  it('sends apiKey = alias, codiceTransazione = the attempt id, importo in minor units, timeStamp in ms, and the MAC over them', () => {
    const { json } = body();
    assert.equal(json.apiKey, ALIAS);
    assert.equal(json.codiceTransazione, REFERENCE);
    assert.equal(json.importo, 10050);
    assert.equal(json.timeStamp, NOW.getTime());
    assert.equal(json.url, 'https://hub.example/pay/pay_1/return');
    assert.equal(json.mac, computeMac(payMailMacPairs({ apiKey: ALIAS, codiceTransazione: REFERENCE, importo: 10050, timeStamp: NOW.getTime() }), MAC_KEY));
  });

  it('puts urlpost, url_back, TCONTAB, mail, nome, cognome, descrizione and languageId among parametriAggiuntivi', () => {
    const { json } = body();
    assert.deepEqual(json.parametriAggiuntivi, {
      urlpost: 'https://hub.example/notify/nexi/con_1',
      url_back: 'https://hub.example/pay/pay_1/cancel',
      TCONTAB: 'C',
      descrizione: 'Ordine 42',
      mail: 'mario.rossi@example.it',
      nome: 'Mario',
      cognome: 'Rossi',
      languageId: 'ITA',
    });
  });

  it("sends the merchant's own order reference as the custom parameter order_reference (codTrans stays the attempt id)", () => {
    const { json } = body(input({ merchantOrderId: ' SHOP-1042 ' }));
    assert.equal(json.parametriAggiuntivi.order_reference, 'SHOP-1042');
    assert.equal(json.codiceTransazione, REFERENCE);
    assert.equal(body(input({ merchantOrderId: 'x'.repeat(256) })).json.parametriAggiuntivi.order_reference, undefined, 'too long: left out, never cut');
  });

  it('sends no divisa for EUR (PayMail implies it) and the alphabetic code otherwise', () => {
    assert.equal(body().json.parametriAggiuntivi.divisa, undefined);
    assert.equal(body(input({ currency: 'GBP', amount: 1999 })).json.parametriAggiuntivi.divisa, 'GBP');
  });

  it('converts amounts exactly: 100,50 EUR is 10050, 1500 JPY (no minor unit) is 1500, 0,01 GBP is 1', () => {
    assert.equal(body(input({ amount: 10050 })).json.importo, 10050);
    assert.equal(body(input({ currency: 'JPY', amount: 1500 })).json.importo, 1500);
    assert.equal(body(input({ currency: 'GBP', amount: 1 })).json.importo, 1);
  });

  it("refuses an amount over XPay's eight digits", () => {
    assert.throws(() => body(input({ amount: 100_000_000 })), RangeError);
  });

  it('derives timeout (hours) from the deadline, rounded up, at least one hour; the setting without a deadline', () => {
    assert.equal(body(input({ expiresAt: new Date(NOW.getTime() + 4 * 3600_000) })).json.timeout, 4);
    assert.equal(body(input({ expiresAt: new Date(NOW.getTime() + 4 * 3600_000 + 1) })).json.timeout, 5);
    assert.equal(body(input({ expiresAt: new Date(NOW.getTime() + 60_000) })).json.timeout, 1);
    assert.equal(body(input({ expiresAt: undefined }), { default_timeout_hours: 48 }).json.timeout, 48);
  });

  it('asks for deferred accounting (TCONTAB=D) when the connection says so', () => {
    assert.equal(body(input(), { accounting: 'D' }).json.parametriAggiuntivi.TCONTAB, 'D');
  });

  it('falls back to the return URL for url_back when the hub has no cancel URL', () => {
    assert.equal(
      body(input({ urls: { notify: 'https://hub.example/n', return: 'https://hub.example/r' } })).json.parametriAggiuntivi.url_back,
      'https://hub.example/r',
    );
  });

  it('refuses a reference that cannot be a codTrans (over 30 characters, or with #)', () => {
    assert.throws(() => body(input({ reference: 'x'.repeat(31) })), ValidationError);
    assert.throws(() => body(input({ reference: 'att#1' })), ValidationError);
  });
});

describe('richiestaPayMail response', () => {
  it('esito OK with a valid response MAC → redirect to payMailUrl, idOperazione as the processor reference', () => {
    const r = nexi.start!.response(config(), input(), answer(signedOk()));
    assert.equal(r.kind, 'redirect');
    if (r.kind !== 'redirect') return;
    assert.deepEqual(r.redirect, { method: 'GET', url: 'https://int-ecommerce.nexi.it/ecomm/ecomm/PayMail?token=abc', fields: {} });
    assert.equal(r.processorReference, '7654321');
  });

  it('esito KO with errore {codice, messaggio} → a refusal', () => {
    const r = nexi.start!.response(
      config(),
      input(),
      answer({ esito: 'KO', idOperazione: '1', timeStamp: 1, mac: 'x', errore: { codice: 3, messaggio: 'Parametri errati o mancanti' } }),
    );
    assert.deepEqual(r, { kind: 'error', failure: 'refused', code: 'nexi_3', message: 'Parametri errati o mancanti' });
  });

  it('an OK signed with another key is not taken (the answer is not from Nexi for this terminal; the link may exist: unknown)', () => {
    const r = nexi.start!.response(config(), input(), answer(signedOk({}, OTHER_MAC_KEY)));
    assert.equal(r.kind, 'error');
    if (r.kind === 'error') assert.deepEqual([r.failure, r.code], ['unknown', 'response_mac_mismatch']);
  });

  it('an OK without payMailUrl, or with a non-http link, is unusable', () => {
    for (const payMailUrl of [undefined, 'javascript:alert(1)']) {
      const r = nexi.start!.response(config(), input(), answer(signedOk({ payMailUrl })));
      assert.equal(r.kind === 'error' && r.failure, 'unknown');
    }
  });

  it('HTTP 5xx and an unreadable 200 may have been carried out (unknown); 429 and a 4xx page were turned away (unreachable)', () => {
    for (const status of [500, 502, 503]) {
      const r = nexi.start!.response(config(), input(), { status, headers: {}, body: '<html>busy</html>' });
      assert.equal(r.kind === 'error' && r.failure, 'unknown', `HTTP ${status}`);
    }
    for (const status of [429, 404]) {
      const r = nexi.start!.response(config(), input(), { status, headers: {}, body: '<html>busy</html>' });
      assert.equal(r.kind === 'error' && r.failure, 'unreachable', `HTTP ${status}`);
    }
    const r = nexi.start!.response(config(), input(), { status: 200, headers: {}, body: 'not json' });
    assert.equal(r.kind === 'error' && r.failure, 'unknown');
  });
});

describe('credentials and settings', () => {
  it('needs alias and mac_key, and never shows the MAC key', () => {
    assert.throws(
      () => nexi.parseCredentials({}),
      (e: unknown) => e instanceof ValidationError && e.errors.map((x) => x.field).join() === 'credentials.alias,credentials.mac_key',
    );
    const c = nexi.parseCredentials({ alias: ` ${ALIAS} `, mac_key: MAC_KEY });
    assert.equal(c.alias, ALIAS);
    assert.deepEqual(nexi.publicCredentialFields(c), { alias: ALIAS });
    assert.equal(JSON.stringify(c).includes(MAC_KEY), false);
  });

  it('validates accounting and default_timeout_hours', () => {
    assert.deepEqual(nexi.parseSettings(undefined), { accounting: 'C', default_timeout_hours: 24 });
    assert.throws(() => nexi.parseSettings({ accounting: 'X' }), ValidationError);
    assert.throws(() => nexi.parseSettings({ default_timeout_hours: 0 }), ValidationError);
    assert.throws(() => nexi.parseSettings({ endpoint: 'ftp://x' }), ValidationError);
  });

  it("defaults to Nexi's production and test hosts, and to the emulator under /sandbox/nexi", () => {
    assert.equal(nexi.defaultEndpoint('live', 'http://h'), 'https://ecommerce.nexi.it');
    assert.equal(nexi.defaultEndpoint('sandbox', 'http://h'), 'https://int-ecommerce.nexi.it');
    assert.equal(nexi.defaultEndpoint('emulator', 'http://127.0.0.1:8080'), 'http://127.0.0.1:8080/sandbox/nexi');
  });

  it('declares the currencies of the OnPay table for Nexi', () => {
    for (const c of ['EUR', 'GBP', 'USD', 'JPY', 'KRW', 'ISK', 'CLP', 'THB', 'VEF']) assert.ok(nexi.capabilities.currencies.includes(c), c);
    assert.equal(nexi.capabilities.currencies.length, 37);
  });
});
