import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nexi } from '../../src/connectors/nexi/connector.js';
import { computeMac, resultMacPairs } from '../../src/connectors/nexi/mac.js';
import {
  anyString,
  contentType,
  describeFailures,
  describeLogLines,
  errorLogLines,
  extraHeaders,
  FUZZ_HTTP_RUNS,
  FUZZ_RUNS,
  FUZZ_SEED,
  fuzzHttp,
  fuzzParameters,
  headerValue,
  percentEncode,
  type RawResponse,
} from '../support/fuzz.js';
import {
  byteDamage,
  damageBytes,
  fuzzNotifications,
  inconsistentPayments,
  notifyFixture,
  notifyPath,
  notifyTarget,
  openPayments,
  wrongJsonValue,
  type ByteDamage,
  type NotifyFixture,
  type NotifyTarget,
  type OpenPayment,
} from '../support/fuzz-notify.js';

/**
 * Nexi XPay's server-to-server result (`POST /notify/nexi/<connection id>`, the `urlpost` of a PayMail link;
 * form fields, or the return URL's query string when the body is empty) under fire: FUZZ_HTTP_RUNS requests with
 * arbitrary bodies, queries and MACs — missing, random hex, computed with another terminal's MAC key, computed with
 * the right key before a MAC-covered field was changed — and genuinely MAC'd results the ledger must refuse. XPay
 * stops resending on HTTP 200: every refusal must be the hub's 200 "KO <code>: …" (never a 5xx), and nothing may
 * change. A second run MACs arbitrary field values correctly: the verified path must answer OK or KO, and keep the
 * ledger consistent.
 */

let f: NotifyFixture;
const OTHER_MAC_KEY = 'Q2W3E4R5T6Y7U8I9O0PASDFGHJKLZXCV';
const MAC_FIELDS = ['codTrans', 'esito', 'importo', 'divisa', 'data', 'orario', 'codAut'] as const;

/** A result as XPay posts it to urlpost for a card payment, MAC'd with `key`. */
function result(codTrans: string, importo: number | string, key: string, over: Record<string, string> = {}): Record<string, string> {
  const fields: Record<string, string> = {
    alias: f.credentials.alias!,
    codTrans,
    esito: 'OK',
    importo: String(importo),
    divisa: 'EUR',
    data: '20250115',
    orario: '103512',
    codAut: 'A1B2C3',
    codiceEsito: '0',
    messaggio: 'Message OK',
    brand: 'VISA',
    nazionalita: 'ITA',
    pan: '453997******0006',
    scadenza_pan: '203012',
    languageId: 'ITA',
    ...over,
  };
  fields.mac = computeMac(
    resultMacPairs({
      codTrans: fields.codTrans!,
      esito: fields.esito!,
      importo: fields.importo!,
      divisa: fields.divisa!,
      data: fields.data!,
      orario: fields.orario!,
      codAut: fields.codAut ?? '',
    }),
    key,
  );
  return fields;
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

let refused: Array<Record<string, string>> = [];

before(async () => {
  f = await notifyFixture('nexi', { currency: 'EUR' });
  const [p0, p1, p2] = f.payments as [OpenPayment, OpenPayment, OpenPayment];
  const key = f.credentials.mac_key!;
  // Each differs from a payable result in a MAC-covered field, so that no edit outside the MAC makes it payable.
  refused = [
    result(p0.attemptId, 9_999_999, key),
    result(p0.attemptId, p0.amount, key, { divisa: 'GBP' }),
    result('att_00000000000000000000000000', p0.amount, key),
    result(p1.attemptId, p2.amount, key),
  ];
  for (const fields of refused) {
    const r = await f.client.request({
      method: 'POST',
      path: notifyPath(f, 'nexi', 'own'),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(fields),
    });
    assert.equal(replyCheck(r), undefined, r.text);
    assert.doesNotMatch(r.text, /MAC/, 'refused by the ledger, not for its MAC');
  }
});

after(async () => {
  f?.client.close();
  await f?.hub.close();
});

/** How a payable result's MAC is made wrong: absent, random, another key's, or the right key's before a covered field changed. */
type Mac = { kind: 'drop' } | { kind: 'text'; value: string } | { kind: 'other-key' } | { kind: 'stale'; field: (typeof MAC_FIELDS)[number]; value: string };
type Edit = { field: string; value: string } | { field: string; drop: true };

type Body =
  | { kind: 'payable'; index: number; esito: string; mac: Mac; edits: Edit[]; damage: ByteDamage | undefined }
  | { kind: 'refused'; index: number; edits: Edit[]; damage: ByteDamage | undefined }
  | { kind: 'form'; pairs: Array<[string, string]> }
  | { kind: 'bytes'; bytes: Buffer }
  | { kind: 'huge'; size: number };

interface Case {
  target: NotifyTarget;
  /** The result travels in the query string with an empty body, as on the return URL. */
  inQuery: boolean;
  contentType: string | undefined;
  headers: Record<string, string>;
  body: Body;
}

const NON_MAC_FIELDS = [
  'alias',
  'codiceEsito',
  'messaggio',
  'brand',
  'nazionalita',
  'pan',
  'scadenza_pan',
  'tipoTransazione',
  'languageId',
  'mac_extra',
  'MAC',
  'Mac',
];
const text = fc.oneof(
  anyString(40),
  fc.constantFrom('', 'OK', 'KO', 'ANNULLO', 'PEN', 'EUR', '978', '0', '00000000', '20251301', '246060', '4539970000000006'),
);
const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ field: fc.constantFrom(...NON_MAC_FIELDS), value: text }),
  fc.record({ field: fc.constantFrom(...NON_MAC_FIELDS), drop: fc.constant(true as const) }),
);
const mac: fc.Arbitrary<Mac> = fc.oneof(
  fc.constant({ kind: 'drop' as const }),
  fc.record({ kind: fc.constant('text' as const), value: fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{40}$/), headerValue(60)) }),
  fc.constant({ kind: 'other-key' as const }),
  fc.record({ kind: fc.constant('stale' as const), field: fc.constantFrom(...MAC_FIELDS), value: text }),
);

const body: fc.Arbitrary<Body> = fc.oneof(
  {
    arbitrary: fc.record({
      kind: fc.constant('payable' as const),
      index: fc.nat(),
      esito: fc.constantFrom('OK', 'KO', 'ANNULLO', 'ERRORE', 'PEN'),
      mac,
      edits: fc.array(edit, { maxLength: 2 }),
      damage: fc.option(byteDamage, { nil: undefined }),
    }),
    weight: 40,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('refused' as const),
      index: fc.nat(),
      edits: fc.array(edit, { maxLength: 2 }),
      damage: fc.option(byteDamage, { nil: undefined }),
    }),
    weight: 25,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('form' as const),
      pairs: fc.array(fc.tuple(fc.oneof(fc.constantFrom(...MAC_FIELDS, 'mac', 'alias'), anyString(10)), text), { maxLength: 10 }),
    }),
    weight: 20,
  },
  { arbitrary: fc.record({ kind: fc.constant('bytes' as const), bytes: fc.uint8Array({ maxLength: 1024 }).map((b) => Buffer.from(b)) }), weight: 10 },
  { arbitrary: fc.record({ kind: fc.constant('huge' as const), size: fc.constantFrom(256 * 1024 + 1, 400_000) }), weight: 1 },
);

const cases: fc.Arbitrary<Case> = fc.record({
  target: notifyTarget,
  inQuery: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
  contentType: contentType(['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=UTF-8']),
  headers: extraHeaders(3),
  body,
});

function applyEdits(fields: Record<string, string>, edits: Edit[]): Record<string, string> {
  const out = { ...fields };
  for (const e of edits) {
    if ('drop' in e) delete out[e.field];
    else out[e.field] = e.value;
  }
  return out;
}

function bytesOf(b: Body): Buffer {
  switch (b.kind) {
    case 'payable': {
      const p = f.payments[b.index % f.payments.length]!;
      let fields = result(p.attemptId, p.amount, b.mac.kind === 'other-key' ? OTHER_MAC_KEY : f.credentials.mac_key!, { esito: b.esito });
      if (b.mac.kind === 'drop') delete fields.mac;
      if (b.mac.kind === 'text') fields.mac = b.mac.value;
      // The right key's MAC over the values before a covered field changed (to something else).
      if (b.mac.kind === 'stale') fields[b.mac.field] = b.mac.value === fields[b.mac.field] ? `${b.mac.value}0` : b.mac.value;
      fields = applyEdits(
        fields,
        b.edits.filter((e) => e.field !== 'mac'),
      );
      const raw = Buffer.from(form(fields));
      // Damage only on top of a MAC that stays wrong (a stale MAC's changed field could be damaged back).
      return b.damage && b.mac.kind !== 'stale' ? damageBytes(raw, b.damage) : raw;
    }
    case 'refused': {
      const raw = Buffer.from(form(applyEdits(refused[b.index % refused.length]!, b.edits)));
      return b.damage ? damageBytes(raw, b.damage) : raw;
    }
    case 'form':
      return Buffer.from(b.pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'));
    case 'bytes':
      return b.bytes;
    case 'huge':
      return Buffer.alloc(b.size, 'a');
  }
}

/** The hub's refusal in XPay's terms: HTTP 200 (stop resending) with "KO <code>: <reason>". */
function replyCheck(r: RawResponse, allowOk = false): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status !== 200) return `HTTP ${r.status} ${String(r.headers['content-type'] ?? '')}`;
  if (!/^text\/plain/.test(String(r.headers['content-type'] ?? ''))) return `HTTP 200 with ${r.headers['content-type']}`;
  if (allowOk && r.text === 'OK') return undefined;
  if (!/^KO \d+: ./.test(r.text)) return `body ${JSON.stringify(r.text.slice(0, 80))}`;
  return undefined;
}

function send(c: Case) {
  const raw = bytesOf(c.body);
  // In the query: the bytes as a query string (only what a URL can carry: Node's parser refuses request heads over
  // 16 KiB before the hub sees them), and no body.
  const inQuery = c.inQuery && raw.length <= 4096;
  const query = inQuery
    ? raw.toString('latin1').replace(/[^\x21-\x7e]|#/g, (ch) => `%${ch.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`)
    : undefined;
  const headers: Record<string, string> = { ...c.headers, ...(c.contentType ? { 'content-type': c.contentType } : {}) };
  return f.client.request({ method: 'POST', path: notifyPath(f, 'nexi', c.target, query), headers, body: inQuery ? Buffer.alloc(0) : raw });
}

describe('POST /notify/nexi/<connection>: XPay\'s 200 "KO", and the ledger does not move', () => {
  it(`${FUZZ_HTTP_RUNS} generated results (arbitrary bodies and queries; payable results with a missing, random, foreign or stale MAC; MAC'd results the ledger refuses)`, async (t) => {
    const statuses = await fuzzNotifications(f, 'POST /notify/nexi/…', { arbitrary: cases, send, check: (_c, r) => replyCheck(r) }, (m) => t.diagnostic(m));
    assert.deepEqual(Object.keys(statuses), ['200']);
  });
});

// ---------------------------------------------------------------------------------------------------
// Correctly MAC'd results with arbitrary values: past verification, into the ledger

/** A value as form text (objects without a prototype have no String()). */
const asText = (v: unknown) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'));
const mutation = fc.record({ field: fc.constantFrom(...MAC_FIELDS, ...NON_MAC_FIELDS), value: fc.oneof(text, wrongJsonValue.map(asText)) });

describe("correctly MAC'd results with arbitrary values: OK or KO, never a 5xx; the ledger stays consistent", () => {
  const runs = Math.max(100, Math.floor(FUZZ_HTTP_RUNS / 20));
  let sacrificial: OpenPayment[] = [];
  before(async () => {
    sacrificial = await openPayments(f, 4, 'SIGNED', 'EUR');
  });

  it(`${runs} MAC'd results with one to three fields changed`, async (t) => {
    const logsFrom = f.hub.logs.length;
    const result_ = await fuzzHttp({
      arbitrary: fc.record({ index: fc.nat(), esito: fc.constantFrom('OK', 'KO', 'ANNULLO'), changes: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
      runs,
      send: (c) => {
        const p = sacrificial[c.index % sacrificial.length]!;
        const base = result(p.attemptId, p.amount, f.credentials.mac_key!, { esito: c.esito });
        const changed = Object.fromEntries(Object.entries(base).filter(([k]) => k !== 'mac'));
        for (const m of c.changes) changed[m.field] = m.value;
        const fields = result(changed.codTrans!, changed.importo!, f.credentials.mac_key!, changed);
        return f.client.request({
          method: 'POST',
          path: notifyPath(f, 'nexi', 'own'),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: form(fields),
        });
      },
      check: (_c, r) => replyCheck(r, true),
    });
    t.diagnostic(`${result_.cases} cases, INCASSO_FUZZ_SEED=${FUZZ_SEED}, answers by HTTP status ${JSON.stringify(result_.statuses)}`);
    const errors = errorLogLines(f.hub, logsFrom);
    assert.equal(result_.failures.length, 0, `${describeFailures("MAC'd results", result_)}\nerror log lines:\n${describeLogLines(errors)}`);
    assert.equal(errors.length, 0, `error lines:\n${describeLogLines(errors)}`);
    assert.deepEqual(await inconsistentPayments(f.hub), []);
  });
});

// ---------------------------------------------------------------------------------------------------
// The verifier alone (no HTTP): it never throws, whatever the fields

describe('verifyNotification (pure): a verdict for any bytes, query and headers, never an exception', () => {
  it(`${FUZZ_RUNS} arbitrary results, MAC'd or not`, () => {
    const config = {
      credentials: { alias: 'ALIAS_WEB_00012345', mac_key: { reveal: () => 'K' } },
      settings: { accounting: 'C', default_timeout_hours: 24 },
      endpoint: 'https://int-ecommerce.nexi.it',
    } as unknown as Parameters<typeof nexi.verifyNotification>[0];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 600 }).map((b) => Buffer.from(b)),
          fc.dictionary(fc.oneof(fc.constantFrom(...MAC_FIELDS, 'mac', 'alias'), anyString(8)), text).map((d) => Buffer.from(form(d))),
        ),
        fc.option(anyString(200), { nil: undefined }),
        (b, query) => {
          const verdict = nexi.verifyNotification(config, { body: b, contentType: undefined, headers: {}, query });
          assert.equal(typeof verdict.ok, 'boolean');
          if (!verdict.ok) assert.ok(Number.isSafeInteger(verdict.code));
        },
      ),
      fuzzParameters(),
    );
  });
});
