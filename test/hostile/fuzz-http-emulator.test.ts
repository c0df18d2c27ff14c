import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadPublicKey, sealEnvelope, type EnvelopeCipher } from '../../src/connectors/netopia-v1/envelope.js';
import { buildOrderXml } from '../../src/connectors/netopia-v1/order-xml.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import {
  anyString,
  contentType,
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
} from '../support/fuzz.js';
import { hostileXml, sampleOrder } from '../support/fuzz-xml.js';

/**
 * The NETOPIA emulator's payment endpoint (`POST /sandbox/netopia/v1/` and `/:lang`, what a merchant's page
 * auto-submits) under fire: FUZZ_HTTP_RUNS generated form posts — arbitrary fields, damaged genuine requests sealed
 * by the hub, hostile order XML sealed for the platform key — sixteen in flight. NETOPIA answers every unusable
 * request with its HTML error page (4xx) and a valid one with a 303 to the card page; never a 5xx.
 */

let hub: TestHub;
let client: ReturnType<typeof rawHttpClient>;
let emulatorConnectionId: string;
const genuineRequests: Array<Record<string, string>> = [];
let platformCertificate: string;
let emulatorSignature: string;

before(async () => {
  // Only lines at error level are asserted on; not formatting ~20 000 request lines keeps the run short.
  hub = await startTestHub({ emulators: true, logLevel: 'error' });
  client = rawHttpClient(hub.url, 16);
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Fuzz Emulator SRL' });
  const api = apiClient(hub.url, merchant.body.api_key);
  const emu = await api('POST', '/v1/connections', { code: 'emu', provider: 'netopia-v1', environment: 'emulator' });
  assert.equal(emu.status, 201, JSON.stringify(emu.body));
  emulatorConnectionId = emu.body.id;
  emulatorSignature = emu.body.credentials.signature;
  const account = await apiClient(hub.url)('GET', `/sandbox/netopia/v1/accounts/${emulatorSignature}`);
  assert.equal(account.status, 200);
  platformCertificate = account.body.certificate;
  // Genuine payment requests the hub sealed for the emulator: the fuzz replays and damages them.
  for (let i = 0; i < 4; i++) {
    const p = await api('POST', '/v1/payments', {
      connection: 'emu',
      order_id: `GEN-${i}`,
      amount: 1000 + i,
      currency: i % 2 ? 'EUR' : 'RON',
      description: 'Genuine',
      billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' },
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const attempt = await hub.store.db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', p.body.id).executeTakeFirstOrThrow();
    genuineRequests.push((attempt.redirect as unknown as { fields: Record<string, string> }).fields);
  }
});

after(async () => {
  client?.close();
  await hub?.close();
});

type EmulatorBody =
  | { kind: 'form'; pairs: Array<[string, string]> }
  | { kind: 'raw'; bytes: Buffer }
  | { kind: 'genuine'; index: number; edit?: { field: string; value: string } }
  | { kind: 'sealed'; xml: string; cipher: EnvelopeCipher };

interface EmulatorCase {
  lang: string | undefined;
  contentType: string | undefined;
  accept: string | undefined;
  headers: Record<string, string>;
  body: EmulatorBody;
}

const base64Text = fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString('base64'));

function emulatorOrderSeeds(): string[] {
  const urls = { return: 'https://shop.example/return', confirm: `${hub.url}/notify/netopia-v1/${emulatorConnectionId}` };
  return [
    buildOrderXml(sampleOrder({ id: 'FUZZ-EMU-1', signature: emulatorSignature, url: urls })),
    buildOrderXml(
      sampleOrder({ id: 'FUZZ-EMU-2', signature: emulatorSignature, url: urls, ipn_cipher: 'rc4' }, { currency: 'EUR', amount: '12.30', items: undefined }),
    ),
  ];
}

const emulatorCase = (seeds: string[]): fc.Arbitrary<EmulatorCase> =>
  fc.record({
    // `/:lang` only: `accounts` is another route (account creation), and segments over 100 characters are the router's 414
    lang: fc.option(
      fc.oneof(
        fc.constantFrom('en', 'ro', 'de', 'EN', 'xx', 'eng', 'e', 'card', 'orders', '3ds'),
        pathSegment(8).filter((s) => s.length <= 60 && s.toLowerCase() !== 'accounts'),
      ),
      { nil: undefined, freq: 2 },
    ),
    contentType: contentType(['application/x-www-form-urlencoded']),
    accept: fc.option(fc.constantFrom('text/html', 'application/json', '*/*', 'application/json, text/html'), { nil: undefined }),
    headers: extraHeaders(2),
    body: fc.oneof(
      {
        arbitrary: fc.record({
          kind: fc.constant('form' as const),
          pairs: fc.array(
            fc.tuple(
              fc.oneof(fc.constantFrom('env_key', 'data', 'cipher', 'iv', '__proto__', 'constructor', 'env_key[]'), anyString(10)),
              fc.oneof(
                anyString(80),
                base64Text,
                fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64')),
                fc.constantFrom('rc4', 'aes-256-cbc', 'AES-256-CBC', 'des'),
              ),
            ),
            { maxLength: 6 },
          ),
        }),
        weight: 4,
      },
      { arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 1000 }).map((b) => Buffer.from(b)) }), weight: 1 },
      {
        arbitrary: fc.record(
          {
            kind: fc.constant('genuine' as const),
            index: fc.nat(),
            edit: fc.record({
              field: fc.constantFrom('env_key', 'data', 'cipher', 'iv', 'extra'),
              value: fc.oneof(anyString(40), base64Text, fc.constant('')),
            }),
          },
          { requiredKeys: ['kind', 'index'] },
        ),
        weight: 2,
      },
      {
        arbitrary: fc.record({ kind: fc.constant('sealed' as const), xml: hostileXml(seeds), cipher: fc.constantFrom<EnvelopeCipher>('aes-256-cbc', 'rc4') }),
        weight: 3,
      },
    ),
  });

/** The headers a case sends, names lower-cased (the extra headers may name Accept too; the explicit one wins). */
function headersOf(c: EmulatorCase): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(c.headers)) headers[k.toLowerCase()] = v;
  if (c.contentType !== undefined) headers['content-type'] = c.contentType;
  if (c.accept !== undefined) headers.accept = c.accept;
  return headers;
}

function formOf(pairs: Array<[string, string]>): string {
  // URLSearchParams encodes lone surrogates as U+FFFD; percentEncode does the same byte by byte.
  return pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
}

function emulatorBody(b: EmulatorBody, platformKey: ReturnType<typeof loadPublicKey>): string | Buffer {
  switch (b.kind) {
    case 'form':
      return formOf(b.pairs);
    case 'raw':
      return b.bytes;
    case 'genuine': {
      const fields: Record<string, string> = { ...genuineRequests[b.index % genuineRequests.length]! };
      if (b.edit) fields[b.edit.field] = b.edit.value;
      return formOf(Object.entries(fields));
    }
    case 'sealed': {
      const sealed = sealEnvelope(b.xml, platformKey, b.cipher);
      return formOf(Object.entries(sealed).filter((e): e is [string, string] => typeof e[1] === 'string'));
    }
  }
}

describe("POST /sandbox/netopia/v1/: NETOPIA's HTML error page (4xx) or a 303 to the card page, never a 5xx", () => {
  it(`${FUZZ_HTTP_RUNS} generated payment requests (forms, damaged genuine requests, sealed hostile orders)`, async (t) => {
    const platformKey = loadPublicKey(platformCertificate);
    const logsFrom = hub.logs.length;
    const result = await fuzzHttp({
      arbitrary: emulatorCase(emulatorOrderSeeds()),
      send: (c) =>
        client.request({
          method: 'POST',
          path: `/sandbox/netopia/v1/${c.lang ?? ''}`,
          headers: headersOf(c),
          body: emulatorBody(c.body, platformKey),
        }),
      check: (c, r) => {
        if (r.error) return `no HTTP response (${r.error})`;
        if (r.status === 303)
          return /\/sandbox\/netopia\/v1\/(card|3ds)\/\d+\?t=[\w-]{43}$/.test(String(r.headers.location ?? '')) ? undefined : `303 to ${r.headers.location}`;
        if (r.status >= 500) return `HTTP ${r.status}`;
        if (r.status < 400) return `unexpected HTTP ${r.status}`;
        const type = String(r.headers['content-type'] ?? '');
        if (/^text\/html/.test(type)) return /<h1>[^<]+<\/h1>/.test(r.text) ? undefined : 'HTML error page without a heading';
        // The emulator answers scripts (Accept or Content-Type naming JSON) in JSON, as documented in replies.ts.
        const sent = headersOf(c);
        const wantsJson = (sent.accept ?? '').includes('application/json') || (sent['content-type'] ?? '').includes('json');
        if (wantsJson && /^application\/json/.test(type)) return /"ok":false/.test(r.text) ? undefined : 'JSON error without ok:false';
        return `HTTP ${r.status} answered with ${type}`;
      },
    });
    t.diagnostic(`${result.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result.statuses)}`);
    const errors = errorLogLines(hub, logsFrom);
    assert.ok(result.statuses['303'], `no case was a valid payment request: ${JSON.stringify(result.statuses)}`);
    assert.equal(result.failures.length, 0, `${describeFailures('POST /sandbox/netopia/v1/', result)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `the fuzz made the hub log ${errors.length} error lines:\n${describeLogLines(errors)}`);
  });
});
