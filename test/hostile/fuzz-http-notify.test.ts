import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { loadPublicKey, sealEnvelope } from '../../src/connectors/netopia-v1/envelope.js';
import { buildIpnXml } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { crcOf, ipnBody, openRequest, sandboxCredentials } from '../support/netopia-v1.js';
import { vectorPath } from '../support/vectors.js';
import {
  anyString,
  contentType,
  damage,
  damageBase64,
  describeFailures,
  describeLogLines,
  errorLogLines,
  extraHeaders,
  FUZZ_HTTP_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  pathSegment,
  percentEncode,
  rawHttpClient,
  type Damage,
  type RawResponse,
} from '../support/fuzz.js';
import { hostileXml, sampleMobilpay, VALID_IPNS } from '../support/fuzz-xml.js';

/**
 * NETOPIA's notification endpoint (`POST /notify/netopia-v1/<connection id>`) under fire: FUZZ_HTTP_RUNS requests
 * with arbitrary bodies, content types, headers and connection ids, plus genuine IPNs the ledger must refuse
 * (wrong amount, unknown order, foreign POS signature, another key), damaged in transit. Every answer must be
 * NETOPIA's protocol — HTTP 200 with a `<crc error_type="1|2">` — never a 5xx or another format, and no payment
 * may change.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let api: ReturnType<typeof apiClient>;
let sandboxId: string;
let emulatorId: string;
const paymentIds: string[] = [];
/** Genuine, correctly sealed IPNs that every ledger check must refuse. */
const refusedIpns: Array<{ name: string; fields: Record<string, string> }> = [];

const formFields = (body: string): Record<string, string> => Object.fromEntries(new URLSearchParams(body));

before(async () => {
  // Only lines at error level are asserted on; not formatting ~20 000 request lines keeps the run short.
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz Notify SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
  const sbx = await api('POST', '/v1/connections', { code: 'sbx', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(sbx.status, 201, JSON.stringify(sbx.body));
  sandboxId = sbx.body.id;
  const emu = await api('POST', '/v1/connections', { code: 'emu', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(emu.status, 201, JSON.stringify(emu.body));
  emulatorId = emu.body.id;

  const orders: string[] = [];
  for (let i = 0; i < 3; i++) {
    const p = await api('POST', '/v1/payments', {
      connection: 'sbx',
      order_id: `NTF-${i}`,
      amount: 1000,
      currency: 'RON',
      description: 'Ceai verde',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' },
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    paymentIds.push(p.body.id);
    const attempt = await hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
    orders.push(openRequest((attempt.redirect as unknown as { fields: Record<string, string> }).fields));
  }
  const order = orders[0]!;
  assert.match(order, /<invoice currency="RON" amount="10.00"/);
  const confirmed = { action: 'confirmed' as const, original_amount: '10.00', processed_amount: '10.00' };
  // Each differs from a payable IPN in several bytes, so that no single damaged byte can make it acceptable.
  refusedIpns.push(
    {
      name: 'amount mismatch',
      fields: formFields(
        ipnBody(order.replace('amount="10.00"', 'amount="99999.99"'), { ...confirmed, original_amount: '99999.99', processed_amount: '99999.99' }),
      ),
    },
    { name: 'currency mismatch', fields: formFields(ipnBody(order.replace('currency="RON"', 'currency="EUR"'), confirmed, 'rc4')) },
    { name: 'unknown order', fields: formFields(ipnBody(order.replace(/ id="att_[0-9a-z]+"/, ' id="ORDER-THAT-DOES-NOT-EXIST-0000000"'), confirmed)) },
    {
      name: 'foreign POS signature',
      fields: formFields(ipnBody(order.replace(/<signature>[^<]+<\/signature>/, '<signature>ZZZZ-YYYY-XXXX-WWWW-VVVV</signature>'), confirmed)),
    },
  );
  // NETOPIA's Python SDK test key: an RSA key that is not the connection's
  const otherKey = loadPublicKey(readFileSync(vectorPath('pysdk_test_pub.pem'), 'utf8'));
  const foreign = sealEnvelope(buildIpnXml(order, sampleMobilpay(confirmed)), otherKey, 'aes-256-cbc');
  refusedIpns.push({ name: 'sealed for another key', fields: { env_key: foreign.env_key, data: foreign.data, cipher: foreign.cipher, iv: foreign.iv! } });
  // Sanity: each of them is refused permanently as it is.
  for (const r of refusedIpns) {
    const reply = await client.request({
      method: 'POST',
      path: `/notify/netopia-v1/${sandboxId}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(r.fields).toString(),
    });
    assert.equal(reply.status, 200, r.name);
    assert.equal(crcOf(reply.text).errorType, 2, `${r.name}: ${reply.text}`);
  }
});

after(async () => {
  client?.close();
  await hub?.close();
});

type FieldEdit = { field: string; how: Damage } | { field: string; drop: true } | { field: string; set: string };

type NotifyBody =
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'form'; pairs: Array<[string, string]> }
  | { kind: 'soup'; parts: string[] }
  | { kind: 'refused'; index: number; edits: FieldEdit[]; plus: boolean }
  | { kind: 'xml'; xml: string }
  | { kind: 'json'; text: string }
  | { kind: 'huge'; size: number };

interface NotifyCase {
  /** Which connection id the URL names. */
  target: 'sandbox' | 'emulator' | { segment: string };
  contentType: string | undefined;
  headers: Record<string, string>;
  chunked: boolean;
  body: NotifyBody;
}

const base64Text = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('base64'));
const FIELD_NAMES = ['env_key', 'data', 'cipher', 'iv'];

const fieldEdit: fc.Arbitrary<FieldEdit> = fc.oneof(
  fc.record({ field: fc.constantFrom('env_key', 'data', 'iv'), how: damageBase64 }),
  fc.record({ field: fc.constantFrom(...FIELD_NAMES), drop: fc.constant(true as const) }),
  fc.record({
    field: fc.oneof(fc.constantFrom(...FIELD_NAMES), fc.constantFrom('env_key[]', 'ENV_KEY', 'extra', '__proto__')),
    set: fc.oneof(anyString(40), base64Text, fc.constantFrom('', 'rc4', 'RC4', 'aes-256-cbc', 'aes-128-cbc', 'des-ede3')),
  }),
);

const notifyBody: fc.Arbitrary<NotifyBody> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)) }), weight: 20 },
  {
    arbitrary: fc.record({
      kind: fc.constant('form' as const),
      pairs: fc.array(
        fc.tuple(
          fc.oneof(fc.constantFrom(...FIELD_NAMES, 'Data', 'env_key[]', '__proto__'), anyString(12)),
          fc.oneof(
            anyString(60),
            base64Text,
            fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64')),
          ),
        ),
        { maxLength: 6 },
      ),
    }),
    weight: 30,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('soup' as const),
      parts: fc.array(
        fc.constantFrom('env_key=', 'data=', 'cipher=rc4', 'cipher=aes-256-cbc', 'iv=', '&', '=', '%', '%zz', '%00', '+', 'QUJD', '%3D', '\u00ff', '&&&'),
        { maxLength: 24 },
      ),
    }),
    weight: 10,
  },
  {
    arbitrary: fc.record({ kind: fc.constant('refused' as const), index: fc.nat(), edits: fc.array(fieldEdit, { maxLength: 2 }), plus: fc.boolean() }),
    weight: 40,
  },
  { arbitrary: fc.record({ kind: fc.constant('xml' as const), xml: hostileXml(VALID_IPNS) }), weight: 10 },
  { arbitrary: fc.record({ kind: fc.constant('json' as const), text: fc.json() }), weight: 10 },
  { arbitrary: fc.record({ kind: fc.constant('huge' as const), size: fc.constantFrom(256 * 1024 + 1, 300_000, 1_100_000) }), weight: 1 },
);

const notifyCase: fc.Arbitrary<NotifyCase> = fc.record({
  target: fc.oneof(
    { arbitrary: fc.constant('sandbox' as const), weight: 7 },
    { arbitrary: fc.constant('emulator' as const), weight: 1 },
    // any other id the router can route (the router's own limit is 100 characters; see the test below for longer ones)
    {
      arbitrary: pathSegment(40)
        .filter((s) => s.length > 0 && s.length <= 100)
        .map((segment) => ({ segment })),
      weight: 2,
    },
  ),
  contentType: contentType(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8']),
  headers: extraHeaders(4),
  chunked: fc.boolean(),
  body: notifyBody,
});

function formOf(pairs: Array<[string, string]>): string {
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

function bodyOf(b: NotifyBody): Buffer | string {
  switch (b.kind) {
    case 'bytes':
      return b.bytes;
    case 'form':
      return formOf(b.pairs);
    case 'soup':
      return Buffer.from(b.parts.join(''), 'latin1');
    case 'refused': {
      const fields: Record<string, string> = { ...refusedIpns[b.index % refusedIpns.length]!.fields };
      for (const e of b.edits) {
        if ('how' in e) fields[e.field] = damage(fields[e.field] ?? '', e.how);
        else if ('drop' in e) delete fields[e.field];
        else fields[e.field] = e.set;
      }
      const form = new URLSearchParams(fields).toString();
      // PHP-style clients send base64 with raw '+' (which decodes as a space); others percent-encode it
      return b.plus ? form.replace(/%2B/g, '+') : form;
    }
    case 'xml':
      return b.xml;
    case 'json':
      return b.text;
    case 'huge':
      return Buffer.alloc(b.size, 'a');
  }
}

function crcCheck(r: RawResponse): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status !== 200) return `HTTP ${r.status} ${String(r.headers['content-type'] ?? '')}`;
  if (!/^application\/xml/.test(String(r.headers['content-type'] ?? ''))) return `HTTP 200 with ${r.headers['content-type']}`;
  let crc: ReturnType<typeof crcOf>;
  try {
    crc = crcOf(r.text);
  } catch {
    return 'not a <crc> reply';
  }
  if (crc.errorType !== 1 && crc.errorType !== 2) return `crc error_type=${crc.errorType} (${crc.message.slice(0, 60)})`;
  if (!Number.isSafeInteger(crc.errorCode) || crc.errorCode === 0) return `crc error_code=${crc.errorCode}`;
  return undefined;
}

describe('POST /notify/netopia-v1/<connection>: always HTTP 200 with a <crc error_type="1|2"> reply, and nothing changes', () => {
  it(`${FUZZ_HTTP_RUNS} generated notifications (arbitrary bodies, content types, headers, ids; refused IPNs damaged in transit)`, async (t) => {
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: notifyCase,
      send: (c) =>
        client.request({
          method: 'POST',
          path: `/notify/netopia-v1/${c.target === 'sandbox' ? sandboxId : c.target === 'emulator' ? emulatorId : c.target.segment}`,
          headers: { ...c.headers, ...(c.contentType !== undefined ? { 'content-type': c.contentType } : {}) },
          body: bodyOf(c.body),
          chunked: c.chunked,
        }),
      check: (_c, r) => crcCheck(r),
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);

    // No fuzz case may have moved money: every payment is still pending, every notification was refused.
    const payments = await hub.store.db
      .selectFrom('payments')
      .select(['id', 'status', 'amount_authorized', 'amount_captured'])
      .where('id', 'in', paymentIds)
      .execute();
    assert.deepEqual(
      payments.map((p) => [p.status, p.amount_authorized, p.amount_captured]),
      paymentIds.map(() => ['pending', 0, 0]),
    );
    const attempts = await hub.store.db.selectFrom('payment_attempts').select('status').where('payment_id', 'in', paymentIds).execute();
    assert.ok(
      attempts.every((a) => a.status === 'created'),
      JSON.stringify(attempts),
    );
    const statuses = await hub.store.db
      .selectFrom('notifications')
      .select('status')
      .select((eb) => eb.fn.countAll().as('n'))
      .groupBy('status')
      .execute();
    assert.deepEqual(
      statuses.map((s) => s.status).filter((s) => s !== 'rejected' && s !== 'received'),
      [],
      `notifications by status: ${JSON.stringify(statuses)}`,
    );

    assert.equal(result.failures.length, 0, `${describeFailures('POST /notify/netopia-v1/…', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });

  it('a connection id with a NUL byte is an unknown connection (error_type 2), not a storage failure to retry', async () => {
    const logsFrom = hub.logs.length;
    for (const id of ['%00', `${sandboxId}%00`, 'a%00b']) {
      const r = await client.request({
        method: 'POST',
        path: `/notify/netopia-v1/${id}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'env_key=QUJD&data=QUJD',
      });
      assert.equal(crcCheck(r), undefined, `${id}: ${r.status} ${r.text}`);
      assert.equal(crcOf(r.text).errorType, 2, `${id}: NETOPIA would retry an IPN that can never be recorded: ${r.text}`);
    }
    const errors = errorLogLines(hub, logsFrom);
    assert.equal(errors.length, 0, `error lines for a hostile URL:\n${describeLogLines(errors)}`);
  });

  it('a notification URL the router cannot decode or match still gets a <crc> reply, not a problem document', async () => {
    const paths = [
      '/notify/netopia-v1/%zz',
      '/notify/netopia-v1/%C0%80',
      '/notify/netopia-v1/%ED%A0%80',
      `/notify/netopia-v1/${'x'.repeat(120)}`,
      `/notify/netopia-v1/${sandboxId}%`,
    ];
    const wrong: string[] = [];
    for (const path of paths) {
      const r = await client.request({
        method: 'POST',
        path,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(refusedIpns[0]!.fields).toString(),
      });
      const problem = crcCheck(r);
      if (problem) wrong.push(`${path.slice(0, 60)} → ${problem}: ${r.text.slice(0, 120)}`);
    }
    assert.deepEqual(wrong, []);
  });
});
