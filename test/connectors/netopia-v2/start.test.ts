import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import { verifyAuthRequest, verifyAuthResponse } from '../../../src/connectors/netopia-v2/start.js';
import type { OperationReport, PaymentRedirectInput, StartResult } from '../../../src/connectors/types.js';
import { POS, configWith, json } from './support.js';

const config = configWith({}, { language: 'ro', email_template: 'confirm' });
const input: PaymentRedirectInput = {
  reference: 'att_01HX',
  amount: 15990,
  currency: 'RON',
  description: 'Cafea boabe 1kg',
  billing: {
    first_name: 'Ana',
    last_name: 'Pop',
    email: 'ana@example.ro',
    phone: '0722000000',
    city: 'Cluj-Napoca',
    county: 'Cluj',
    zip_code: '400001',
    address: 'Str. Memorandumului 1',
    country: 'RO',
  },
  metadata: { cart: '17', count: 3, gift: true, note: 'fragil' },
  urls: { notify: 'https://hub.example/notify/netopia-v2/con_1', return: 'https://hub.example/pay/pay_1/return', cancel: 'https://hub.example/pay/pay_1' },
  now: new Date('2024-05-01T09:30:15.123Z'),
};
const startAnswer = (res: ReturnType<typeof json>, i: PaymentRedirectInput = input): StartResult => netopiaV2.start!.response(config, i, res);

// The three answers of seed 000 ("Netopia Response Examples").
const SEED_SUCCESS = {
  error: { code: '00', message: 'Approved' },
  payment: {
    amount: 200,
    currency: 'RON',
    data: { AuthCode: '24od', BIN: '990000', ISSUER: 'Netopia GB', ISSUER_COUNTRY: '642', RRN: 'hYnY8zpdcNo-' },
    ntpID: '1309088',
    status: 3,
    token: 'MjMyMjqqdx3XTbYC78OoidTk6DTtEvHcrqcz91Pr4PQqXf/u33xoDkdgIlkq226avk1ik8fvLElkbLopnvNbIs8+Ve6L',
  },
};
const SEED_3DS = {
  customerAction: {
    authenticationToken: 'iNPqJWDRoRXsd77StNELrv...',
    formData: { backUrl: 'http://yourdomain.com/example/backUrl.php', paReq: 'AT5ewtLVDsEgB5lcRjeEoSMF...' },
    type: 'Authentication3D',
    url: 'https://secure.sandbox.netopia-payments.com/sandbox/authorize',
  },
  error: { code: '100', message: 'Approved' },
  payment: { amount: 200, currency: 'RON', ntpID: '1310396', status: 15 },
};
const SEED_ERROR = {
  customerAction: {},
  error: { code: '56', message: 'Order closed' },
  payment: { amount: 200, currency: 'RON', ntpID: '1309088', status: 5 },
};
const seedInput = { ...input, amount: 20000 };

describe('POST /payment/card/start: the StartRequest of §2.4 in hosted-page mode', () => {
  const req = netopiaV2.start!.request(config, input);
  const body = JSON.parse(req.body!);

  it('posts JSON to {endpoint}/payment/card/start with the raw API key in Authorization', () => {
    assert.equal(req.method, 'POST');
    assert.equal(req.url, 'https://secure.sandbox.netopia-payments.com/payment/card/start');
    assert.equal(req.headers.authorization, 'ntp-test-api-key-0001');
    assert.equal(req.headers['content-type'], 'application/json');
  });

  it('sends no card data: instrument is {type:"card"}', () => {
    assert.deepEqual(body.payment.instrument, { type: 'card' });
    assert.ok(!/account|secretCode|expMonth/.test(req.body!));
  });

  it('fills config from the attempt and the settings', () => {
    assert.deepEqual(body.config, {
      emailTemplate: 'confirm',
      emailSubject: '',
      cancelUrl: input.urls.cancel,
      notifyUrl: input.urls.notify,
      redirectUrl: input.urls.return,
      language: 'ro',
    });
    const other = JSON.parse(
      netopiaV2.start!.request(config, { ...input, language: 'EN', urls: { notify: 'https://n.example', return: 'https://r.example' } }).body!,
    );
    assert.equal(other.config.language, 'en');
    assert.equal(other.config.cancelUrl, 'https://r.example');
  });

  it('order: orderID = attempt id, posSignature, RFC 3339 dateTime, the amount as an exact major-unit number', () => {
    assert.equal(body.order.orderID, 'att_01HX');
    assert.equal(body.order.ntpID, '');
    assert.equal(body.order.posSignature, POS);
    assert.equal(body.order.dateTime, '2024-05-01T09:30:15Z');
    assert.equal(body.order.currency, 'RON');
    assert.equal(body.order.description, 'Cafea boabe 1kg');
    assert.match(req.body!, /"amount":159\.9,/);
    assert.match(netopiaV2.start!.request(config, { ...input, amount: 30 }).body!, /"amount":0\.3,/);
  });

  it('billing with numeric country and its name; shipping copies billing when absent', () => {
    assert.deepEqual(body.order.billing, {
      email: 'ana@example.ro',
      phone: '0722000000',
      firstName: 'Ana',
      lastName: 'Pop',
      city: 'Cluj-Napoca',
      country: 642,
      countryName: 'Romania',
      state: 'Cluj',
      postalCode: '400001',
      details: 'Str. Memorandumului 1',
    });
    assert.deepEqual(body.order.shipping, body.order.billing);
  });

  it('maps other countries, and defaults to 642 Romania when none (or an unknown one) is given', () => {
    const shipping = { first_name: 'Jan', last_name: 'Novak', email: 'jan@example.de', country: 'DE' };
    const b = JSON.parse(netopiaV2.start!.request(config, { ...input, billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' }, shipping }).body!);
    assert.equal(b.order.billing.country, 642);
    assert.equal(b.order.billing.countryName, 'Romania');
    assert.equal(b.order.shipping.country, 276);
    assert.equal(b.order.shipping.countryName, 'Germany');
    const unknown = JSON.parse(netopiaV2.start!.request(config, { ...input, billing: { ...input.billing, country: 'XX' } }).body!);
    assert.equal(unknown.order.billing.country, 642);
  });

  it('order.data carries the metadata string values', () => {
    assert.deepEqual(body.order.data, { cart: '17', note: 'fragil' });
  });
});

describe('the start answer (§2.5, seed 000)', () => {
  it('"101" + paymentURL: redirect the customer there (GET); not an error', () => {
    const r = startAnswer(
      json(200, {
        error: { code: '101', message: 'Redirect user to payment page' },
        payment: { ntpID: '1400001', status: 1, amount: 159.9, currency: 'RON', paymentURL: 'https://secure.sandbox.netopia-payments.com/ui/card?p=ABC' },
      }),
    );
    assert.deepEqual(r, {
      kind: 'redirect',
      redirect: { method: 'GET', url: 'https://secure.sandbox.netopia-payments.com/ui/card?p=ABC', fields: {} },
      processorReference: '1400001',
    });
  });

  it('"101" without a usable paymentURL: the order was opened but the payer cannot be sent to it, unknown', () => {
    for (const paymentURL of [undefined, '', 'javascript:alert(1)', 42]) {
      const r = startAnswer(json(200, { error: { code: '101', message: 'x' }, payment: { ntpID: '1', status: 1, paymentURL } }));
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.equal(r.failure, 'unknown');
    }
  });

  it('seed "Standard Success (Non-3DS)": 00 + status 3 is resolved as captured, its document kept as is', () => {
    const r = startAnswer(json(200, SEED_SUCCESS), seedInput);
    assert.equal(r.kind, 'resolved');
    const report = (r as { report: OperationReport }).report;
    assert.deepEqual(report.outcome, { kind: 'captured', amount: 20000 });
    assert.equal(report.dedupeKey, '1309088:3');
    assert.equal(report.processorReference, '1309088');
    assert.equal(JSON.stringify(report.summary.processor_response), JSON.stringify(SEED_SUCCESS));
    assert.equal(report.summary.action, 'paid');
  });

  it('seed "3D Secure (3DS) Redirect": 100 + status 15 posts formData to customerAction.url, keeping authenticationToken and ntpID', () => {
    const r = startAnswer(json(200, SEED_3DS), seedInput);
    assert.equal(r.kind, 'redirect');
    if (r.kind !== 'redirect') return;
    assert.deepEqual(r.redirect, {
      method: 'POST',
      url: 'https://secure.sandbox.netopia-payments.com/sandbox/authorize',
      fields: { backUrl: 'http://yourdomain.com/example/backUrl.php', paReq: 'AT5ewtLVDsEgB5lcRjeEoSMF...' },
    });
    assert.equal(r.processorReference, '1310396');
    assert.deepEqual(r.report?.outcome, { kind: 'informational' });
    assert.equal(r.report?.dedupeKey, '1310396:15');
    assert.equal(r.report?.summary.authentication_token, 'iNPqJWDRoRXsd77StNELrv...');
    assert.equal(r.report?.summary.ntp_id, '1310396');
    assert.equal(r.report?.summary.action, '3ds_required');
    assert.deepEqual(r.report?.summary.processor_response, { error: SEED_3DS.error, payment: SEED_3DS.payment });
  });

  it('seed "Payment Transaction Error": 56 Order closed is a failed attempt, keyed apart from the capture of status 5', () => {
    const r = startAnswer(json(200, SEED_ERROR), seedInput);
    assert.equal(r.kind, 'resolved');
    const report = (r as { report: OperationReport }).report;
    assert.deepEqual(report.outcome, { kind: 'failed', code: '56', message: 'Order closed' });
    assert.equal(report.dedupeKey, '1309088:5:56');
    assert.deepEqual(report.summary.processor_response, { error: SEED_ERROR.error, payment: SEED_ERROR.payment });
  });

  it('"99" (same orderID, other price) and card declines are failed attempts with their code', () => {
    const other = startAnswer(
      json(200, {
        error: { code: '99', message: 'Another order with the same ID and a different price' },
        payment: { ntpID: '5', status: 1, amount: 1, currency: 'RON' },
      }),
    );
    assert.deepEqual((other as { report: OperationReport }).report.outcome, {
      kind: 'failed',
      code: '99',
      message: 'Another order with the same ID and a different price',
    });
    for (const [code, status] of [
      ['19', 1],
      ['20', 12],
      ['21', 12],
      ['22', 12],
      ['34', 12],
      ['17', 12],
    ] as const) {
      const r = startAnswer(json(200, { error: { code, message: `decline ${code}` }, payment: { ntpID: '9', status, amount: 159.9, currency: 'RON' } }));
      assert.equal(r.kind, 'resolved', code);
      const report = (r as { report: OperationReport }).report;
      assert.deepEqual(report.outcome, { kind: 'failed', code, message: `decline ${code}` });
      assert.equal(report.dedupeKey, status === 12 ? '9:12' : `9:${status}:${code}`);
    }
  });

  it('HTTP 401/403 and a flat {code, message} are refusals', () => {
    for (const res of [
      json(401, { code: '401', message: 'Unauthorized' }),
      json(403, ''),
      json(200, { code: '11', message: 'Invalid API key' }),
      json(400, { error: { code: '12', message: 'invalid posSignature' } }),
    ]) {
      const r = startAnswer(res);
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.equal(r.failure, 'refused', res.body);
    }
    const flat = startAnswer(json(401, { code: '401', message: 'Unauthorized' }));
    assert.deepEqual(flat, { kind: 'error', failure: 'refused', code: '401', message: 'Unauthorized' });
  });

  it('5xx and bodies that are not JSON may have been carried out: unknown; 429 was turned away: unreachable', () => {
    for (const res of [
      json(500, { error: { code: '99', message: 'x' } }),
      json(502, '<html>Bad gateway</html>'),
      json(503, ''),
      json(200, 'not json'),
      json(200, '[1,2]'),
      json(200, 'null'),
    ]) {
      const r = startAnswer(res);
      assert.equal(r.kind, 'error');
      if (r.kind === 'error') assert.equal(r.failure, 'unknown', `${res.status} ${res.body}`);
    }
    const throttled = startAnswer(json(429, {}));
    assert.equal(throttled.kind === 'error' && throttled.failure, 'unreachable');
  });

  it('other answers are read sensibly: 00 + status 2 authorized, an unreadable amount refused, no page no redirect', () => {
    const auth = startAnswer(json(200, { error: { code: '00', message: 'Approved' }, payment: { ntpID: '3', status: 2, amount: 159.9, currency: 'RON' } }));
    assert.deepEqual((auth as { report: OperationReport }).report.outcome, { kind: 'authorized', amount: 15990 });
    const bad = startAnswer(json(200, { error: { code: '00' }, payment: { ntpID: '3', status: 3, amount: 159.901, currency: 'RON' } }));
    assert.equal(bad.kind, 'error');
    const nowhere = startAnswer(json(200, { error: { code: '00' }, payment: { ntpID: '3', status: 1 } }));
    assert.equal(nowhere.kind, 'error');
    const pending = startAnswer(json(200, { error: { code: '00' }, payment: { ntpID: '3', status: 13 } }));
    assert.deepEqual((pending as { report: OperationReport }).report.outcome, { kind: 'pending_review' });
  });
});

describe('POST /payment/card/verify-auth after 3-D Secure', () => {
  it('sends authenticationToken, ntpID and the fields the bank posted back', () => {
    const req = verifyAuthRequest(config, { authenticationToken: 'tok', ntpID: '1310396', formData: { paRes: 'PARES' } });
    assert.equal(req.url, 'https://secure.sandbox.netopia-payments.com/payment/card/verify-auth');
    assert.equal(req.headers.authorization, 'ntp-test-api-key-0001');
    assert.deepEqual(JSON.parse(req.body!), { authenticationToken: 'tok', ntpID: '1310396', formData: { paRes: 'PARES' } });
  });

  it('reads the answer like a start answer', () => {
    const paid = verifyAuthResponse(json(200, { ...SEED_SUCCESS, payment: { ...SEED_SUCCESS.payment, ntpID: '1310396' } }), seedInput);
    assert.deepEqual((paid as { report: OperationReport }).report.outcome, { kind: 'captured', amount: 20000 });
    assert.equal((paid as { report: OperationReport }).report.dedupeKey, '1310396:3');
    const declined = verifyAuthResponse(
      json(200, { error: { code: '21', message: 'Invalid CVV' }, payment: { ntpID: '1310396', status: 12, amount: 200, currency: 'RON' } }),
      seedInput,
    );
    assert.deepEqual((declined as { report: OperationReport }).report.outcome, { kind: 'failed', code: '21', message: 'Invalid CVV' });
  });
});
