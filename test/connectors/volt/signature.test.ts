import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkVoltSignature, parseVoltTimed, signVoltNotification, voltCheckString } from '../../../src/connectors/volt/signature.js';
import { DOCS_NOW, DOCS_SECRET, DOCS_TIMED, signed } from './fixtures.js';

const fresh = { now: DOCS_NOW, maxAgeSeconds: 3600, maxSkewSeconds: 300 };

describe('Volt signature: "Testing notifications" (docs.volt.io) example values', () => {
  it('test notification: body {} , X-Volt-Timed 1631525064, version 1.0 → ed224943…8009', () => {
    assert.equal(voltCheckString('{}', DOCS_TIMED, '1.0').toString(), '{}|1631525064|1.0');
    assert.equal(signVoltNotification(DOCS_SECRET, '{}', DOCS_TIMED, '1.0'), 'ed22494369277d25cf8c2293d142e5fddb9cecbea1f54e28ac16db0bee3b8009');
  });

  it('notification containing real data, one continuous unformatted string → 9e09fdc9…1019', () => {
    // The body exactly as the page prints it (its payment id has a letter "l" where a UUID has a digit).
    const body =
      '{"payment":"4a96elcb-8ae0-426c-a95e-d34f18fe32ad","reference":"EXAMPLE123","amount":8888,"status":"PENDING","detailedStatus":"BANK_REDIRECT"}';
    assert.equal(signVoltNotification(DOCS_SECRET, body, DOCS_TIMED, '1.0'), '9e09fdc90e8121e9d11f560c226271940b6b1f936ffc7a3f2551956c716b1019');
  });

  it('the documented headers verify: User-Agent Volt/1.0, X-Volt-Timed, X-Volt-Signed', () => {
    const check = checkVoltSignature(
      DOCS_SECRET,
      Buffer.from('{}'),
      { 'user-agent': 'Volt/1.0', 'x-volt-timed': DOCS_TIMED, 'x-volt-signed': 'ed22494369277d25cf8c2293d142e5fddb9cecbea1f54e28ac16db0bee3b8009' },
      fresh,
    );
    assert.deepEqual(check, { ok: true, timed: DOCS_NOW, timedText: DOCS_TIMED, version: '1.0' });
  });

  it('the signature in upper-case hex is the same signature', () => {
    const n = signed('{}');
    const check = checkVoltSignature(DOCS_SECRET, n.body, { ...n.headers, 'x-volt-signed': String(n.headers['x-volt-signed']).toUpperCase() }, fresh);
    assert.equal(check.ok, true);
  });
});

describe('Volt signature: "use the body exactly as we send it; do not expand escaped characters"', () => {
  const escaped = '{"payment":"p","groupName":"Soci\\u00e9t\\u00e9 G\\u00e9n\\u00e9rale"}';
  it('the escaped bytes verify', () => {
    const n = signed(escaped);
    assert.equal(checkVoltSignature(DOCS_SECRET, n.body, n.headers, fresh).ok, true);
  });
  it('the same JSON with the accents decoded does not', () => {
    const n = signed(escaped);
    const decoded = Buffer.from(JSON.stringify(JSON.parse(escaped)), 'utf8');
    assert.notDeepEqual(decoded, n.body);
    const check = checkVoltSignature(DOCS_SECRET, decoded, n.headers, fresh);
    assert.equal(check.ok, false);
    assert.equal(!check.ok && check.problem, 'signature');
  });
});

describe('Volt signature: forged or replayed notifications are refused', () => {
  const body = '{"payment":"292d48f6-90f3-450b-93eb-0b480b8b70dd","reference":"A1","amount":1000,"status":"COMPLETED","detailedStatus":"COMPLETED"}';
  const problem = (n: ReturnType<typeof signed>, secret = DOCS_SECRET, now = DOCS_NOW) => {
    const check = checkVoltSignature(secret, n.body, n.headers, { ...fresh, now });
    return check.ok ? 'ok' : check.problem;
  };

  it('a genuine one passes', () => assert.equal(problem(signed(body)), 'ok'));
  it('a made-up signature', () =>
    assert.equal(problem({ ...signed(body), headers: { ...signed(body).headers, 'x-volt-signed': 'ab'.repeat(32) } }), 'signature'));
  it("signed with another application's notification secret", () => assert.equal(problem(signed(body, { secret: 'another-secret' })), 'signature'));
  it('the body changed after signing (amount 1000 → 100000)', () => {
    const n = signed(body);
    assert.equal(problem({ ...n, body: Buffer.from(body.replace('1000', '100000')) }), 'signature');
  });
  it('a trailing newline added to the body', () => {
    const n = signed(body);
    assert.equal(problem({ ...n, body: Buffer.concat([n.body, Buffer.from('\n')]) }), 'signature');
  });
  it('the version changed (signed for Volt/2.0, sent as Volt/1.0)', () => {
    const n = signed(body, { version: '2.0' });
    assert.equal(problem({ ...n, headers: { ...n.headers, 'user-agent': 'Volt/1.0' } }), 'signature');
  });
  it('X-Volt-Timed changed to look fresh', () => {
    const n = signed(body, { timed: '1631520000' });
    assert.equal(problem({ ...n, headers: { ...n.headers, 'x-volt-timed': DOCS_TIMED } }), 'signature');
  });
  it('an old X-Volt-Timed (a replay) is stale, even with a valid signature', () => {
    assert.equal(problem(signed(body), DOCS_SECRET, new Date(DOCS_NOW.getTime() + 3601_000)), 'stale');
    assert.equal(problem(signed(body), DOCS_SECRET, new Date(DOCS_NOW.getTime() + 3599_000)), 'ok');
  });
  it('a timestamp far in the future', () => assert.equal(problem(signed(body), DOCS_SECRET, new Date(DOCS_NOW.getTime() - 301_000)), 'future'));
  it('missing headers, a User-Agent that is not Volt/<version>, a header sent twice', () => {
    const n = signed(body);
    const { ['x-volt-signed']: _s, ...noSignature } = n.headers;
    assert.equal(problem({ ...n, headers: noSignature }), 'headers');
    assert.equal(problem({ ...n, headers: { ...n.headers, 'user-agent': 'curl/8.0' } }), 'headers');
    assert.equal(problem({ ...n, headers: { ...n.headers, 'x-volt-timed': [DOCS_TIMED, DOCS_TIMED] } }), 'headers');
    assert.equal(problem({ ...n, headers: { ...n.headers, 'x-volt-signed': 'not hex' } }), 'signature');
  });
});

describe('Volt signature: X-Volt-Timed formats', () => {
  it('Unix seconds (the signature test page)', () => assert.equal(parseVoltTimed('1631525064')?.toISOString(), '2021-09-13T09:24:24.000Z'));
  it('YYYYMMDDhhmmss (the refund notification examples), read as UTC', () =>
    assert.equal(parseVoltTimed('20200131123456')?.toISOString(), '2020-01-31T12:34:56.000Z'));
  it('milliseconds', () => assert.equal(parseVoltTimed('1631525064123')?.toISOString(), '2021-09-13T09:24:24.123Z'));
  it('anything else is not a timestamp', () => {
    for (const text of ['', 'yesterday', '20200231123456', '20200131246000', '-1631525064', '1631525064.5', '16315250'])
      assert.equal(parseVoltTimed(text), undefined, text);
  });
});
