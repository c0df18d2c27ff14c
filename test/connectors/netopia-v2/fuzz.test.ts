import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import type { InboundNotification, NotificationVerdict, OperationError, OperationReport, StartResult } from '../../../src/connectors/types.js';
import { OUTCOME_KINDS } from '../../../src/core/transitions.js';
import { configWith, rawRs512Token, standardClaims } from './support.js';

const config = configWith();
const seed = process.env.INCASSO_FUZZ_SEED !== undefined ? Number(process.env.INCASSO_FUZZ_SEED) : undefined;
const params = (numRuns: number) => ({ numRuns, ...(seed !== undefined ? { seed } : {}) });

function assertVerdict(v: NotificationVerdict) {
  assert.equal(typeof v, 'object');
  if (v.ok) {
    assert.equal(typeof v.reference, 'string');
    assert.ok(OUTCOME_KINDS.includes(v.outcome.kind));
    if ('amount' in v.outcome) assert.ok(Number.isSafeInteger(v.outcome.amount) && v.outcome.amount >= 0);
    if (v.outcome.kind === 'refunded') assert.ok(Number.isSafeInteger(v.outcome.totalRefunded) && v.outcome.totalRefunded >= 0);
    if (v.expected.amount !== undefined) assert.ok(Number.isSafeInteger(v.expected.amount));
  } else {
    assert.ok(Number.isSafeInteger(v.code));
    // The catch-all exists for safety only: reaching it means a bug this fuzzing should show.
    assert.notEqual(v.reason, 'internal error while verifying the notification');
  }
}

const b64urlJson = fc.jsonValue().map((j) => Buffer.from(JSON.stringify(j) ?? 'null').toString('base64url'));
const tokenLike = fc.oneof(
  fc.string(),
  fc.tuple(b64urlJson, b64urlJson, fc.base64String()).map(([a, b, c]) => `${a}.${b}.${c}`),
  fc
    .tuple(fc.constant('eyJhbGciOiJSUzUxMiIsInR5cCI6IkpXVCJ9'), b64urlJson, fc.uint8Array({ maxLength: 300 }))
    .map(([a, b, c]) => `${a}.${b}.${Buffer.from(c).toString('base64url')}`),
);
const headerValue = fc.oneof(tokenLike, fc.array(tokenLike, { maxLength: 3 }), fc.constant(undefined));
const headers = fc.dictionary(fc.oneof(fc.constantFrom('verification-token', 'Verification-Token', '__proto__', 'constructor'), fc.string()), headerValue, {
  maxKeys: 4,
});

describe('verifyNotification never throws', () => {
  it('on arbitrary bytes and headers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc.jsonValue().map((j) => new TextEncoder().encode(JSON.stringify(j) ?? '')),
        ),
        headers,
        async (body, hdrs) => {
          const n: InboundNotification = { body: Buffer.from(body), headers: hdrs as InboundNotification['headers'] };
          assertVerdict(await netopiaV2.verifyNotification(config, n));
        },
      ),
      params(1000),
    );
  });

  it('on validly signed tokens over arbitrary JSON bodies', async () => {
    const payment = fc.record(
      {
        amount: fc.oneof(fc.double(), fc.integer(), fc.constantFrom(159.9, 0.3, 1e21, -1)),
        currency: fc.constantFrom('RON', 'EUR', 'JPY', 'XXX', ''),
        ntpID: fc.oneof(fc.string(), fc.integer()),
        status: fc.oneof(fc.integer({ min: -2, max: 30 }), fc.string()),
        code: fc.oneof(fc.constantFrom('00', '19', '21', '56'), fc.integer()),
        message: fc.string(),
        data: fc.anything(),
        instrument: fc.anything(),
      },
      { requiredKeys: [] },
    );
    const doc = fc.oneof(
      fc.jsonValue(),
      fc.record({ order: fc.oneof(fc.record({ orderID: fc.oneof(fc.string(), fc.integer()) }), fc.anything()), payment }, { requiredKeys: [] }),
    );
    await fc.assert(
      fc.asyncProperty(doc, async (d) => {
        const body = Buffer.from(JSON.stringify(d) ?? '', 'utf8');
        const token = rawRs512Token({ alg: 'RS512', typ: 'JWT' }, standardClaims(body));
        assertVerdict(await netopiaV2.verifyNotification(config, { body, headers: { 'verification-token': token } }));
      }),
      params(300),
    );
  });
});

describe('answer readers never throw', () => {
  const input = {
    reference: 'att_1',
    amount: 15990,
    currency: 'RON',
    description: 'x',
    billing: { first_name: 'a', last_name: 'b', email: 'a@b.ro' },
    metadata: {},
    urls: { notify: 'https://n', return: 'https://r' },
    now: new Date(),
  };
  const attempt = { reference: 'att_1', processorReference: '1', amount: 15990, currency: 'RON' };
  const answerDoc = fc.record(
    {
      error: fc.oneof(
        fc.record(
          { code: fc.oneof(fc.constantFrom('00', '0', '100', '101', '19', '56', '99'), fc.string(), fc.integer()), message: fc.anything() },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
      payment: fc.oneof(
        fc.record(
          {
            amount: fc.oneof(fc.double(), fc.constantFrom(159.9, 0.3)),
            currency: fc.constantFrom('RON', 'EUR', 'X'),
            ntpID: fc.oneof(fc.string(), fc.integer()),
            status: fc.oneof(fc.integer({ min: 0, max: 25 }), fc.anything()),
            paymentURL: fc.oneof(fc.webUrl(), fc.string()),
            instrument: fc.anything(),
          },
          { requiredKeys: [] },
        ),
        fc.anything(),
      ),
      customerAction: fc.oneof(
        fc.record({ url: fc.oneof(fc.webUrl(), fc.string()), formData: fc.anything(), authenticationToken: fc.anything() }, { requiredKeys: [] }),
        fc.anything(),
      ),
      code: fc.anything(),
    },
    { requiredKeys: [] },
  );
  const response = fc.record({
    status: fc.oneof(fc.constantFrom(200, 201, 400, 401, 403, 404, 429, 500, 502), fc.integer({ min: 0, max: 999 })),
    headers: fc.constant({}),
    body: fc.oneof(
      answerDoc.map((d) => JSON.stringify(d) ?? ''),
      fc.string(),
      fc.jsonValue().map((j) => JSON.stringify(j) ?? ''),
      fc.anything().map((a) => {
        try {
          return JSON.stringify(a) ?? '';
        } catch {
          return '';
        }
      }),
    ),
  });
  const wellFormed = (r: StartResult | OperationReport | OperationError) => {
    if ('kind' in r && r.kind === 'error') assert.ok(['unreachable', 'refused', 'unknown'].includes(r.failure));
    else if ('kind' in r && r.kind === 'redirect') assert.match(r.redirect.url, /^https?:/);
    else {
      const report = 'kind' in r ? (r as { report: OperationReport }).report : (r as OperationReport);
      assert.ok(OUTCOME_KINDS.includes(report.outcome.kind));
      assert.equal(typeof report.dedupeKey, 'string');
    }
  };
  it('start, status and credit answers of any shape', () => {
    fc.assert(
      fc.property(response, (res) => {
        wellFormed(netopiaV2.start!.response(config, input, res));
        wellFormed(netopiaV2.statusCheck!.response(config, attempt, res));
        wellFormed(netopiaV2.refund!.response(config, { ...attempt, refundId: 'r', refundAmount: 100, refundedBefore: 0, now: new Date() }, res));
      }),
      params(1000),
    );
  });
});
