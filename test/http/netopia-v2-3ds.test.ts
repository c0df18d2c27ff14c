import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';

/**
 * NETOPIA v2 answering a start with `100` / status 15 and a `customerAction` (the seed's "3D Secure (3DS)
 * Redirect" example): the hub sends the browser to the bank with `formData`, the bank posts its result (paRes) to
 * `backUrl`, the hub's return page, and the hub finishes with `/payment/card/verify-auth`. The built-in emulator
 * answers hosted starts with `101`, so NETOPIA is played here by a server that answers with the seed's documents.
 */

let hub: TestHub;
let netopia: Server;
let base = '';
const seen: Array<{ path: string; body: any; authorization?: string }> = [];

function json(res: import('node:http').ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

before(async () => {
  netopia = createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = req.headers['content-type']?.includes('json') && raw ? JSON.parse(raw) : Object.fromEntries(new URLSearchParams(raw));
      seen.push({ path: req.url ?? '', body, authorization: req.headers.authorization });
      if (req.url === '/payment/card/start' && body.order?.description === 'Unstorable') {
        // A decline whose message holds what PostgreSQL text cannot (U+0000) and UTF-8 cannot encode (a lone surrogate).
        return json(res, 200, {
          error: { code: '19', message: 'Expired\u0000 card \uD800' },
          payment: { amount: body.order.amount, currency: body.order.currency, ntpID: '1310397', status: 12 },
        });
      }
      if (req.url === '/payment/card/start') {
        // The seed's 3DS example, with this test's URLs.
        return json(res, 200, {
          customerAction: {
            authenticationToken: 'iNPqJWDRoRXsd77StNELrv',
            formData: { backUrl: body.config.redirectUrl, paReq: 'AT5ewtLVDsEgB5lcRjeEoSMF' },
            type: 'Authentication3D',
            url: `${base}/sandbox/authorize`,
          },
          error: { code: '100', message: 'Approved' },
          payment: { amount: body.order.amount, currency: body.order.currency, ntpID: '1310396', status: 15 },
        });
      }
      if (req.url === '/sandbox/authorize') {
        // The bank: it would show its challenge; here it approves at once and hands back paRes.
        return json(res, 200, { paRes: `PARES-for-${body.paReq}`, backUrl: body.backUrl });
      }
      if (req.url === '/payment/card/verify-auth') {
        const ok =
          body.authenticationToken === 'iNPqJWDRoRXsd77StNELrv' && body.ntpID === '1310396' && body.formData?.paRes === 'PARES-for-AT5ewtLVDsEgB5lcRjeEoSMF';
        return json(
          res,
          200,
          ok
            ? {
                error: { code: '00', message: 'Approved' },
                payment: {
                  amount: 200,
                  currency: 'RON',
                  ntpID: '1310396',
                  status: 3,
                  token: 'tok',
                  data: { AuthCode: '24od', BIN: '990000', ISSUER: 'Netopia GB', ISSUER_COUNTRY: '642', RRN: 'hYnY8zpdcNo-' },
                },
              }
            : { error: { code: '38', message: 'Authentication failed' }, payment: { amount: 200, currency: 'RON', ntpID: '1310396', status: 12 } },
        );
      }
      json(res, 404, { code: '404', message: 'not found' });
    });
  });
  await new Promise<void>((r) => netopia.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(netopia.address() as { port: number }).port}`;
  // NETOPIA is played by a server on 127.0.0.1: the operator's allow-list lets the hub call it.
  hub = await startTestHub({ emulators: false, outboundAllow: '127.0.0.1' });
});
after(async () => {
  await hub?.close();
  await new Promise((r) => netopia.close(r));
});

describe('3-D Secure after a 100 / status 15 start answer', () => {
  it('hands the browser to the bank with formData, then finishes with verify-auth when the bank posts back', async () => {
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: '3DS SRL' });
    const api = apiClient(hub.url, merchant.body.api_key);
    const c = await api('POST', '/v1/connections', {
      code: 'v2',
      provider: 'netopia-v2',
      environment: 'sandbox',
      credentials: { api_key: 'test-api-key-0123456789', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
      settings: { endpoint: base },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const p = await api('POST', '/v1/payments', {
      connection: 'v2',
      order_id: '3DS-1',
      amount: 20000,
      currency: 'RON',
      description: 'Abonament',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Iași' },
      return_url: 'https://shop.example.ro/thanks',
    });
    assert.equal(p.status, 201);

    // The hand-off: a form posting NETOPIA's formData to the bank.
    const handoff = await (await fetch(p.body.payment_url)).text();
    assert.match(handoff, new RegExp(`<form id="handoff" method="post" action="${base}/sandbox/authorize">`));
    const fields = Object.fromEntries([...handoff.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]));
    assert.equal(fields.paReq, 'AT5ewtLVDsEgB5lcRjeEoSMF');
    assert.equal(fields.backUrl, `${hub.url}/pay/${p.body.id}/return`);
    assert.equal(seen.find((s) => s.path === '/payment/card/start')?.authorization, 'test-api-key-0123456789');

    // The browser posts to the bank, and the bank posts its result back to backUrl.
    const bank = await (await fetch(`${base}/sandbox/authorize`, { method: 'POST', body: new URLSearchParams(fields) })).json();
    const back = await fetch(bank.backUrl, { method: 'POST', body: new URLSearchParams({ paRes: bank.paRes }), redirect: 'manual' });
    assert.equal(back.status, 303);
    assert.match(back.headers.get('location') ?? '', /^https:\/\/shop\.example\.ro\/thanks\?payment_id=.*status=paid/);
    assert.deepEqual(seen.find((s) => s.path === '/payment/card/verify-auth')?.body, {
      authenticationToken: 'iNPqJWDRoRXsd77StNELrv',
      ntpID: '1310396',
      formData: { paRes: 'PARES-for-AT5ewtLVDsEgB5lcRjeEoSMF' },
    });

    const payment = (await api('GET', `/v1/payments/${p.body.id}`)).body;
    assert.deepEqual(
      [payment.status, payment.amount_captured, payment.attempts[0].status, payment.attempts[0].processor_reference],
      ['paid', 20000, 'captured', '1310396'],
    );
  });

  it('a bank result that does not authenticate fails the attempt; the payment stays payable', async () => {
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: '3DS Fail SRL' });
    const api = apiClient(hub.url, merchant.body.api_key);
    await api('POST', '/v1/connections', {
      code: 'v2',
      provider: 'netopia-v2',
      environment: 'sandbox',
      credentials: { api_key: 'test-api-key-0123456789', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
      settings: { endpoint: base },
    });
    const p = await api('POST', '/v1/payments', {
      connection: 'v2',
      order_id: '3DS-2',
      amount: 20000,
      currency: 'RON',
      description: 'Abonament',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Iași' },
    });
    await fetch(p.body.payment_url);
    const back = await fetch(`${hub.url}/pay/${p.body.id}/return`, { method: 'POST', body: new URLSearchParams({ paRes: 'forged' }) });
    assert.equal(back.status, 200);
    assert.match(await back.text(), /declined/);
    const payment = (await api('GET', `/v1/payments/${p.body.id}`)).body;
    assert.deepEqual([payment.status, payment.attempts[0].status, payment.attempts[0].error_code], ['pending', 'failed', '38']);
  });

  it('a start answer holding text the database cannot store is recorded with U+FFFD in its place, not lost', async () => {
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Unstorable SRL' });
    const api = apiClient(hub.url, merchant.body.api_key);
    await api('POST', '/v1/connections', {
      code: 'v2',
      provider: 'netopia-v2',
      environment: 'sandbox',
      credentials: { api_key: 'test-api-key-0123456789', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
      settings: { endpoint: base },
    });
    const p = await api('POST', '/v1/payments', {
      connection: 'v2',
      order_id: 'NUL-1',
      amount: 20000,
      currency: 'RON',
      description: 'Unstorable',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Iași' },
    });
    const page = await fetch(p.body.payment_url);
    assert.equal(page.status, 200);
    // The endpoint is not one of NETOPIA's hosts (a double the operator allowed): its words stay off the payer's page.
    const text = await page.text();
    assert.match(text, /could not be started: the payment processor refused it\./);
    assert.doesNotMatch(text, /Expired/);
    const payment = (await api('GET', `/v1/payments/${p.body.id}`)).body;
    assert.deepEqual(
      [payment.status, payment.attempts[0].status, payment.attempts[0].error_code, payment.attempts[0].error_message],
      ['pending', 'failed', '19', 'Expired\uFFFD card \uFFFD'],
    );
    const start = payment.notifications.find((n: { status: string }) => n.status === 'applied');
    assert.ok(start, JSON.stringify(payment.notifications));
  });
});
