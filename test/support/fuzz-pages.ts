import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { apiClient, eventually, startTestHub, type TestHub } from './hub.js';
import { crcOf, ipnBody, openRequest, postIpn, sandboxCredentials } from './netopia-v1.js';
import {
  describeFailures,
  describeLogLines,
  errorLogLines,
  extraHeaders,
  FUZZ_HTTP_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  pathSegment,
  rawHttpClient,
  type RawResponse,
} from './fuzz.js';
import type { V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';

/**
 * The customer-facing payment pages (`GET /pay/<id>` and `GET /pay/<id>/return`) under fire: FUZZ_HTTP_RUNS
 * generated links, mixing real payments in every status with damaged and arbitrary ids, query strings and
 * headers. A customer's browser must always get a page (or a redirect), never a 5xx. One suite per page, each in
 * its own test file (test/hostile/fuzz-http-pay*.test.ts) so that each file stays well under a minute on PGlite.
 */
export function payPageFuzzSuite(suffix: '' | '/return'): void {
  let hub: TestHub;
  let client: ReturnType<typeof rawHttpClient>;
  /** Real payments, one per interesting state. */
  const real: Array<{ name: string; id: string }> = [];

  const billing = { first_name: 'Ioana', last_name: 'Dumitrescu', email: 'ioana@example.ro' };

  before(async () => {
    // Only lines at error level are asserted on; not formatting ~20 000 request lines keeps the run short.
    hub = await startTestHub({ emulators: true, logLevel: 'error' });
    client = rawHttpClient(hub.url, 16);
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz Pages SRL' });
    const api = apiClient(hub.url, merchant.body.api_key);
    const sbx = await api('POST', '/v1/connections', { code: 'sbx', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
    assert.equal(sbx.status, 201, JSON.stringify(sbx.body));
    const notifyUrl: string = sbx.body.notification_url;
    assert.equal((await api('POST', '/v1/connections', { code: 'emu', provider: 'netopia-v1', environment: 'emulator' })).status, 201);
    assert.equal(
      (await api('POST', '/v1/connections', { code: 'tmp', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
      201,
    );

    const create = async (name: string, extra: Record<string, unknown> = {}, connection = 'sbx') => {
      const p = await api('POST', '/v1/payments', {
        connection,
        order_id: `PG-${name}`,
        amount: 1000,
        currency: 'RON',
        description: `Plata <${name}> & "co"`,
        billing,
        ...extra,
      });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      real.push({ name, id: p.body.id });
      const attempt = await hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
      return {
        id: p.body.id as string,
        orderXml: connection === 'emu' ? '' : openRequest((attempt.redirect as unknown as { fields: Record<string, string> }).fields),
      };
    };
    const notify = async (orderXml: string, mobilpay: Partial<V1Mobilpay> & Pick<V1Mobilpay, 'action'>, expectedType = 0) => {
      const r = await postIpn(notifyUrl, ipnBody(orderXml, mobilpay));
      assert.equal(crcOf(r.text).errorType, expectedType, r.text);
    };

    await create('pending');
    await create('pending-emulator', {}, 'emu');
    const paidBack = await create('paid-with-return-url', { return_url: 'https://shop.example/thanks?x=1' });
    await notify(paidBack.orderXml, { action: 'confirmed' });
    const paid = await create('paid');
    await notify(paid.orderXml, { action: 'confirmed' });
    const declined = await create('declined', { return_url: 'https://shop.example/back' });
    await notify(declined.orderXml, { action: 'paid', error: { code: 20, message: 'Fonduri insuficiente <b>' } });
    const processing = await create('processing');
    await notify(processing.orderXml, { action: 'paid_pending' });
    const canceled = await create('canceled');
    await notify(canceled.orderXml, { action: 'canceled' });
    const refunded = await create('partially-refunded');
    await notify(refunded.orderXml, { action: 'confirmed' });
    await notify(refunded.orderXml, { action: 'credit', processed_amount: '4.00', purchase: '1203860' });
    const authorized = await create('authorized');
    await notify(authorized.orderXml, { action: 'paid' });
    await create('connection-disabled', {}, 'tmp');
    assert.equal((await api('POST', '/v1/connections/tmp/disable')).status, 200);
    const expiring = await create('expired', { expires_at: new Date(Date.now() + 1500).toISOString() });
    await eventually(async () => (await api('GET', `/v1/payments/${expiring.id}`)).body.status === 'expired', 15_000, 'the payment to expire');
  });

  after(async () => {
    client?.close();
    await hub?.close();
  });

  type IdSpec =
    | { kind: 'real'; index: number }
    | { kind: 'damaged'; index: number; how: 'upper' | 'append' | 'truncate' | 'prefix' | 'space' | 'nul' | 'dot'; at: number }
    | { kind: 'segment'; segment: string };

  interface PageCase {
    id: IdSpec;
    query: string | undefined;
    method: 'GET' | 'HEAD';
    headers: Record<string, string>;
  }

  const pageCase: fc.Arbitrary<PageCase> = fc.record({
    id: fc.oneof(
      { arbitrary: fc.record({ kind: fc.constant('real' as const), index: fc.nat() }), weight: 3 },
      {
        arbitrary: fc.record({
          kind: fc.constant('damaged' as const),
          index: fc.nat(),
          how: fc.constantFrom('upper' as const, 'append' as const, 'truncate' as const, 'prefix' as const, 'space' as const, 'nul' as const, 'dot' as const),
          at: fc.nat(),
        }),
        weight: 2,
      },
      { arbitrary: pathSegment(90).map((segment) => ({ kind: 'segment' as const, segment })), weight: 5 },
      {
        arbitrary: fc
          .constantFrom('%zz', '%C0%80', '%ED%A0%80', '%', 'x'.repeat(101), 'pay_%FF', '%2F..%2F..%2Fetc%2Fpasswd')
          .map((segment) => ({ kind: 'segment' as const, segment })),
        weight: 1,
      },
    ),
    query: fc.option(
      fc.oneof(fc.constantFrom('status=paid', 'payment_id=pay_x', 'a=%00', 'x=%zz', '&&', '=', 'redirect=https://evil.example'), pathSegment(30)),
      { nil: undefined, freq: 3 },
    ),
    method: fc.constantFrom('GET' as const, 'GET' as const, 'GET' as const, 'HEAD' as const),
    headers: extraHeaders(3),
  });

  function idOf(spec: IdSpec): string {
    if (spec.kind === 'segment') return spec.segment;
    const id = real[spec.index % real.length]!.id;
    if (spec.kind === 'real') return id;
    const at = spec.at % (id.length + 1);
    switch (spec.how) {
      case 'upper':
        return id.toUpperCase();
      case 'append':
        return `${id}x`;
      case 'truncate':
        return id.slice(0, at);
      case 'prefix':
        return `%20${id}`;
      case 'space':
        return `${id.slice(0, at)}%20${id.slice(at)}`;
      case 'nul':
        return `${id.slice(0, at)}%00${id.slice(at)}`;
      case 'dot':
        return `${id}.`;
    }
  }

  function pageCheck(c: PageCase, r: RawResponse): string | undefined {
    if (r.error) return `no HTTP response (${r.error})`;
    if (r.status >= 500) return `HTTP ${r.status}`;
    const type = String(r.headers['content-type'] ?? '');
    if (c.id.kind === 'real' && (r.status === 404 || r.status >= 400)) return `a real payment link answered ${r.status}`;
    if (r.status === 200) {
      if (!/^text\/html/.test(type)) return `200 with ${type}`;
      if (c.method === 'GET' && !/<h1>/.test(r.text)) return '200 page without a heading';
      return undefined;
    }
    if (r.status === 303) return r.headers.location ? undefined : '303 without Location';
    if (r.status >= 400) return /^(text\/html|application\/problem\+json)/.test(type) ? undefined : `HTTP ${r.status} with ${type}`;
    return `unexpected HTTP ${r.status}`;
  }

  describe(`GET /pay/<id>${suffix}: a page or a redirect, never a 5xx`, () => {
    it(`${FUZZ_HTTP_RUNS} generated links (real payments in every status, damaged and arbitrary ids, queries, headers)`, async (t) => {
      const logsFrom = hub.logs.length;
      const result = await fuzzHttp({
        arbitrary: pageCase,
        // the two pages get different cases from the same seed
        seed: suffix ? FUZZ_SEED + 1 : FUZZ_SEED,
        send: (c) => client.request({ method: c.method, path: `/pay/${idOf(c.id)}${suffix}${c.query === undefined ? '' : `?${c.query}`}`, headers: c.headers }),
        check: pageCheck,
      });
      t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
      const errors = errorLogLines(hub, logsFrom);
      assert.ok((result.statuses['200'] ?? 0) > FUZZ_HTTP_RUNS / 10, `too few cases reached a real payment: ${JSON.stringify(result.statuses)}`);
      assert.equal(result.failures.length, 0, `${describeFailures(`GET /pay/<id>${suffix}`, result)}\nerror log lines:\n${describeLogLines(errors)}`);
      assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
    });
  });

  describe('payment links PostgreSQL cannot look up: a page, never a 500', () => {
    it(`/pay/%00${suffix} answers 404 "Payment not found"`, async () => {
      const wrong: string[] = [];
      for (const path of [`/pay/%00${suffix}`, `/pay/${real[0]!.id}%00${suffix}`, `/pay/a%00b${suffix}`]) {
        const r = await client.request({ method: 'GET', path });
        if (r.status !== 404 || !/^text\/html/.test(String(r.headers['content-type'])))
          wrong.push(`${path} → ${r.status} ${String(r.headers['content-type'])} ${r.text.slice(0, 100)}`);
      }
      assert.deepEqual(wrong, []);
    });
  });
}
