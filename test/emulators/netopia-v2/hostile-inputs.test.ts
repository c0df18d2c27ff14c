import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { api, card, createAccount, Merchant, startBody, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;
let ntpID: string;
let paymentURL: string;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
  merchant.trust(account.notify_public_key_pem, account.pos_signature);
  const paid = await api(emulator, '/payment/card/start', startBody(account, merchant, { card: card('9900009184214768') }), account.api_key);
  ntpID = paid.json.payment.ntpID;
  paymentURL = (await api(emulator, '/payment/card/start', startBody(account, merchant), account.api_key)).json.payment.paymentURL;
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

const RUNS = Number(process.env.INCASSO_FUZZ_RUNS ?? 150);

/** Replaces the value at a random path of `base` with `value` (or deletes it). */
function mutate(base: Record<string, any>, path: string[], value: unknown, remove: boolean): Record<string, any> {
  const copy = structuredClone(base);
  let node: any = copy;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) return copy;
    node = node[key];
  }
  const last = path.at(-1)!;
  if (remove) delete node[last];
  else node[last] = value;
  return copy;
}

const startPaths = [
  ['order'],
  ['order', 'amount'],
  ['order', 'currency'],
  ['order', 'orderID'],
  ['order', 'posSignature'],
  ['order', 'billing'],
  ['order', 'billing', 'country'],
  ['order', 'billing', 'email'],
  ['order', 'data'],
  ['order', 'dateTime'],
  ['config'],
  ['config', 'notifyUrl'],
  ['config', 'redirectUrl'],
  ['config', 'language'],
  ['config', 'cancelUrl'],
  ['payment'],
  ['payment', 'instrument'],
  ['payment', 'instrument', 'account'],
  ['payment', 'instrument', 'expYear'],
  ['payment', 'instrument', 'token'],
];

function expectApiShape(status: number, json: any, text: string): void {
  assert.ok(status < 500, `HTTP ${status}: ${text}`);
  assert.ok(json && typeof json === 'object', `a JSON answer: ${text}`);
  if (status >= 400 && status !== 401) assert.equal(typeof json.error?.code, 'string', text);
}

describe("NETOPIA v2 emulator: hostile API input gets NETOPIA's error body (4xx), never a 500", () => {
  it(`start requests with one field replaced by anything (${RUNS} cases)`, async () => {
    await fc.assert(
      // 'binary' strings include NUL and lone surrogates, which JSON carries and no database stores.
      fc.asyncProperty(
        fc.constantFrom(...startPaths),
        fc.jsonValue({ stringUnit: 'binary' }),
        fc.boolean(),
        fc.boolean(),
        async (path, value, remove, withCard) => {
          const base = startBody(account, merchant, withCard ? { card: card('9900004810225098') } : {});
          const answer = await api(emulator, '/payment/card/start', mutate(base, path, value, remove), account.api_key);
          expectApiShape(answer.status, answer.json, answer.text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`verify-auth, status and credit with arbitrary JSON (${RUNS} cases each)`, async () => {
    const endpoints = ['/payment/card/verify-auth', '/operation/status', '/operation/credit'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...endpoints),
        fc.record(
          {
            ntpID: fc.oneof(fc.constant(ntpID), fc.jsonValue()),
            amount: fc.jsonValue(),
            posID: fc.oneof(fc.constant(account.pos_signature), fc.jsonValue()),
            orderID: fc.jsonValue({ stringUnit: 'binary' }),
            authenticationToken: fc.jsonValue({ stringUnit: 'binary' }),
            formData: fc.jsonValue({ stringUnit: 'binary' }),
          },
          { requiredKeys: [] },
        ),
        async (path, body) => {
          const answer = await api(emulator, path, body, account.api_key);
          expectApiShape(answer.status, answer.json, answer.text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('raw bodies of any content type, and odd methods, on every API path', async () => {
    const paths = ['/payment/card/start', '/payment/card/verify-auth', '/operation/status', '/operation/credit', '/accounts'];
    const bodies: Array<[string | undefined, string]> = [
      [undefined, '{"a":1}'],
      ['text/plain', 'hello'],
      ['application/json', ''],
      ['application/json', '{"order":{"amount":1e999}}'],
      ['application/xml', '<a/>'],
      ['application/json; charset=latin1', '\u00ff'],
    ];
    for (const path of paths) {
      for (const [type, body] of bodies) {
        const response = await fetch(emulator.base + path, {
          method: 'POST',
          headers: { authorization: account.api_key, ...(type ? { 'content-type': type } : {}) },
          body,
        });
        const text = await response.text();
        assert.ok(response.status < 500, `${path} ${type}: ${response.status} ${text}`);
        assert.doesNotThrow(() => JSON.parse(text), `${path} answers JSON`);
      }
      for (const method of ['GET', 'PUT', 'DELETE']) {
        const response = await fetch(emulator.base + path, { method });
        assert.equal(response.status, 404, `${method} ${path}`);
        assert.equal(((await response.json()) as any).error.code, '48');
      }
    }
  });
});

describe('NETOPIA v2 emulator: hostile page input gets an HTML error page, never a 500', () => {
  it(`card forms and authorize forms with arbitrary fields (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('card_number', 'expiry', 'cvv', 'paReq', 'backUrl', 'result', 'x'), fc.string({ unit: 'binary' })),
        fc.constantFrom('card', 'authorize'),
        async (fields, target) => {
          const url = target === 'card' ? paymentURL : `${emulator.base}/sandbox/authorize`;
          const response = await fetch(url, {
            method: 'POST',
            redirect: 'manual',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams(fields).toString(),
          });
          assert.ok(response.status < 500, `${response.status} for ${JSON.stringify(fields)}`);
          if (response.status >= 400) assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
