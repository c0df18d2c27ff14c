import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createHash } from 'node:crypto';
import { SignJWT } from 'jose';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { ipnBody, openRequest, sandboxCredentials } from '../support/netopia-v1.js';
import { computeMac, resultMacPairs } from '../../src/connectors/nexi/mac.js';
import { signNotification } from '../../src/connectors/multisafepay/auth-header.js';
import { signVoltNotification } from '../../src/connectors/volt/signature.js';
import { uniqueReferenceFor } from '../../src/connectors/volt/references.js';

/**
 * The verification threads must judge exactly what the main thread judges: the same notification, sent to a hub
 * that verifies on its main thread (INCASSO_VERIFY_THREADS=0) and to one that verifies on threads, gets the same
 * answer, is stored with the same status and error, and moves its payment the same way. The threads were once
 * given the body and headers only: a Nexi result sent in the URL's query string was refused with threads on.
 */

const BILLING = {
  first_name: 'Giulia',
  last_name: 'Rossi',
  email: 'giulia@example.it',
  phone: '+393331234567',
  address: 'Via Roma 1',
  city: 'Milano',
  country: 'IT',
};
const NEXI = { alias: 'ALIAS_WEB_00012345', mac_key: 'JW7O76VCXA01QF1GUIUBNNSTI2IZSK2S' };
const MSP = { api_key: 'msp-test-api-key-0123456789' };
const VOLT = {
  client_id: 'volt-client',
  client_secret: 'volt-client-secret',
  username: 'api-user',
  password: 'api-password',
  notification_secret: 'volt-notification-secret',
};
const V2_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 });
const V2 = {
  api_key: 'ntp-test-api-key-0001',
  pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE',
  notify_public_keys: V2_KEY.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
};

interface Side {
  hub: TestHub;
  api: ReturnType<typeof apiClient>;
  connections: Record<string, string>;
}

async function side(verifyThreads: number): Promise<Side> {
  const hub = await startTestHub({ emulators: false, verifyThreads, logLevel: 'warn' });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: `Threads ${verifyThreads} SRL` });
  const api = apiClient(hub.url, merchant.body.api_key);
  const connections: Record<string, string> = {};
  for (const [provider, credentials] of Object.entries({ nexi: NEXI, multisafepay: MSP, volt: VOLT, 'netopia-v2': V2, 'netopia-v1': sandboxCredentials() })) {
    const c = await api('POST', '/v1/connections', { code: provider, provider, environment: 'sandbox', credentials });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    connections[provider] = c.body.id;
  }
  return { hub, api, connections };
}

let threads0: Side;
let threadsOn: Side;
before(async () => {
  [threads0, threadsOn] = await Promise.all([side(0), side(2)]);
});
after(async () => {
  await Promise.all([threads0?.hub.close(), threadsOn?.hub.close()]);
});

async function newPayment(s: Side, provider: string, currency: string, amount: number) {
  const p = await s.api('POST', '/v1/payments', {
    connection: provider,
    order_id: `ORD-${Math.random().toString(36).slice(2, 10)}`,
    amount,
    currency,
    description: 'Caffe e cornetto',
    billing: BILLING,
  });
  assert.equal(p.status, 201, JSON.stringify(p.body));
  const attempt = await s.hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
  return { paymentId: p.body.id as string, attempt };
}

/** A notification as a processor sends it: what follows `/notify/<provider>/<connection>`, headers and body. */
interface Sent {
  query?: string;
  headers: Record<string, string>;
  body: string;
}

type Attempt = Awaited<ReturnType<typeof newPayment>>['attempt'];

/** What one hub made of a notification: the reply, the stored row's verdict, the payment's status. */
async function outcome(s: Side, provider: string, paymentId: string, sent: Sent) {
  const before = await s.hub.store.db.selectFrom('notifications').select('id').execute();
  const url = `${s.hub.url}/notify/${provider}/${s.connections[provider]}${sent.query === undefined ? '' : `?${sent.query}`}`;
  const response = await fetch(url, { method: 'POST', headers: sent.headers, body: sent.body });
  const reply = await response.text();
  const known = new Set(before.map((r) => r.id));
  const rows = (await s.hub.store.db.selectFrom('notifications').select(['id', 'status', 'error']).execute()).filter((r) => !known.has(r.id));
  const payment = await s.hub.store.db.selectFrom('payments').select('status').where('id', '=', paymentId).executeTakeFirstOrThrow();
  return { status: response.status, reply, stored: rows.map((r) => ({ status: r.status, error: r.error })), payment: payment.status };
}

/**
 * Sends the notification `make` builds for each hub (references are each hub's own attempt ids) to both hubs and
 * asserts they agree; returns the threads' outcome for the case's own expectations.
 */
async function same(provider: string, currency: string, amount: number, make: (attempt: Attempt) => Sent | Promise<Sent>) {
  const [a, b] = await Promise.all(
    [threads0, threadsOn].map(async (s) => {
      const { paymentId, attempt } = await newPayment(s, provider, currency, amount);
      const o = await outcome(s, provider, paymentId, await make(attempt));
      // Replies quote the hub's own ids at most; put a placeholder in their place before comparing.
      return { ...o, reply: o.reply.split(attempt.id).join('<attempt>') };
    }),
  );
  assert.deepEqual(b, a, `verification threads ${JSON.stringify(b)}\nmain thread ${JSON.stringify(a)}`);
  return b!;
}

function nexiResult(reference: string, amount: number, key = NEXI.mac_key): Record<string, string> {
  const fields: Record<string, string> = {
    alias: NEXI.alias,
    codTrans: reference,
    esito: 'OK',
    importo: String(amount),
    divisa: 'EUR',
    data: '20261207',
    orario: '103512',
    codAut: 'A1B2C3',
    codiceEsito: '0',
    messaggio: 'Message OK',
    brand: 'VISA',
  };
  fields.mac = computeMac(
    resultMacPairs({
      codTrans: reference,
      esito: 'OK',
      importo: String(amount),
      divisa: 'EUR',
      data: fields.data!,
      orario: fields.orario!,
      codAut: fields.codAut!,
    }),
    key,
  );
  return fields;
}

describe('the verification threads judge as the main thread does (INCASSO_VERIFY_THREADS=0 and 2)', () => {
  it('Nexi: a result in the URL query is recorded on both (it was refused with threads on)', async () => {
    const o = await same('nexi', 'EUR', 5000, (a) => ({ query: new URLSearchParams(nexiResult(a.id, 5000)).toString(), headers: {}, body: '' }));
    assert.equal(o.status, 200);
    assert.deepEqual(o.stored, [{ status: 'applied', error: null }]);
    assert.equal(o.payment, 'paid');
  });

  it('Nexi: a forged result in the URL query, a result posted in the body, a forged one in the body', async () => {
    const forged = await same('nexi', 'EUR', 5000, (a) => ({
      query: new URLSearchParams(nexiResult(a.id, 5000, 'Q2W3E4R5T6Y7U8I9O0PASDFGHJKLZXCV')).toString(),
      headers: {},
      body: '',
    }));
    assert.equal(forged.stored[0]?.status, 'rejected');
    assert.equal(forged.payment, 'pending');
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const posted = await same('nexi', 'EUR', 5000, (a) => ({ headers: form, body: new URLSearchParams(nexiResult(a.id, 5000)).toString() }));
    assert.equal(posted.payment, 'paid');
    const bad = await same('nexi', 'EUR', 5000, (a) => ({ headers: form, body: new URLSearchParams({ ...nexiResult(a.id, 5000), importo: '1' }).toString() }));
    assert.equal(bad.stored[0]?.status, 'rejected');
  });

  it('MultiSafepay: a signed order, and one signed with another key', async () => {
    const order = (a: Attempt) => JSON.stringify({ order_id: a.id, status: 'completed', amount: 2500, currency: 'EUR', transaction_id: 4051823 });
    const signed = await same('multisafepay', 'EUR', 2500, (a) => ({
      headers: { 'content-type': 'application/json', auth: signNotification(MSP.api_key, order(a), Date.now() / 1000) },
      body: order(a),
    }));
    assert.equal(signed.payment, 'paid');
    const forged = await same('multisafepay', 'EUR', 2500, (a) => ({
      headers: { 'content-type': 'application/json', auth: signNotification('another-key-0123456789', order(a), Date.now() / 1000) },
      body: order(a),
    }));
    assert.equal(forged.stored[0]?.status, 'rejected');
  });

  it('Volt: a signed notification, and one whose signature does not match', async () => {
    const body = (a: Attempt) =>
      JSON.stringify({
        payment: '5a5b2d3c-1f2e-4d5c-8b7a-6f5e4d3c2b1a',
        reference: uniqueReferenceFor(a.id),
        merchantInternalReference: a.id,
        amount: 1999,
        status: 'COMPLETED',
        detailedStatus: 'COMPLETED',
      });
    const headers = (text: string, secret: string) => {
      const timed = String(Math.floor(Date.now() / 1000));
      return {
        'content-type': 'application/json',
        'user-agent': 'Volt/2.0',
        'x-volt-timed': timed,
        'x-volt-signed': signVoltNotification(secret, text, timed, '2.0'),
      };
    };
    const signed = await same('volt', 'EUR', 1999, (a) => ({ headers: headers(body(a), VOLT.notification_secret), body: body(a) }));
    assert.equal(signed.payment, 'paid');
    const forged = await same('volt', 'EUR', 1999, (a) => ({ headers: headers(body(a), 'not-the-secret'), body: body(a) }));
    assert.equal(forged.stored[0]?.status, 'rejected');
  });

  it('NETOPIA v2: an IPN under a token of the configured key (checked with jose, async), and under another key', async () => {
    const ipn = (a: Attempt) =>
      JSON.stringify({
        order: { orderID: a.id },
        payment: { method: 1, ntpID: '1234567', status: 3, amount: 159.9, currency: 'RON', code: '00', message: 'Approved' },
      });
    const token = (text: string, key = V2_KEY.privateKey) =>
      new SignJWT({
        iss: 'NETOPIA Payments',
        aud: V2.pos_signature,
        iat: Math.floor(Date.now() / 1000),
        sub: createHash('sha512').update(text).digest('base64'),
      })
        .setProtectedHeader({ alg: 'RS512', typ: 'JWT' })
        .sign(key);
    const signed = await same('netopia-v2', 'RON', 15990, async (a) => ({ headers: { 'verification-token': await token(ipn(a)) }, body: ipn(a) }));
    assert.equal(signed.payment, 'paid');
    const forged = await same('netopia-v2', 'RON', 15990, async (a) => ({
      headers: { 'verification-token': await token(ipn(a), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey) },
      body: ipn(a),
    }));
    assert.equal(forged.stored[0]?.status, 'rejected');
  });

  it('NETOPIA v1: a sealed IPN (RSA and XML on the threads), and one sealed for another merchant', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const orderXml = (a: Attempt) => openRequest((a.redirect as unknown as { fields: Record<string, string> }).fields);
    const confirmed = { action: 'confirmed' as const, original_amount: '10.00', processed_amount: '10.00', crc: 'c0ffee00c0ffee00c0ffee00c0ffee00' };
    const signed = await same('netopia-v1', 'RON', 1000, (a) => ({ headers: form, body: ipnBody(orderXml(a), confirmed) }));
    assert.equal(signed.payment, 'paid');
    const foreign = await same('netopia-v1', 'RON', 1000, (a) => ({
      headers: form,
      body: ipnBody(orderXml(a).replace(/<signature>[^<]+<\/signature>/, '<signature>ZZZZ-YYYY-XXXX-WWWW-VVVV</signature>'), confirmed),
    }));
    assert.equal(foreign.stored[0]?.status, 'rejected');
  });
});
