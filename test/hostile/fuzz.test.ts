import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeBase64Strict,
  EnvelopeError,
  EnvelopeErrorCode,
  loadPrivateKey,
  loadPublicKey,
  openEnvelope,
  sealEnvelope,
  type EnvelopeCipher,
} from '../../src/connectors/netopia-v1/envelope.js';
import { V1XmlError } from '../../src/connectors/netopia-v1/errors.js';
import { buildIpnXml, parseIpnXml, V1_ACTIONS } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { buildOrderXml, parseOrderXml } from '../../src/connectors/netopia-v1/order-xml.js';
import { parseCrcReply } from '../../src/connectors/netopia-v1/crc-reply.js';
import { netopiaV1, type NetopiaV1Credentials, type NetopiaV1Settings } from '../../src/connectors/netopia-v1/connector.js';
import type { ConnectionConfig, NotificationVerdict } from '../../src/connectors/types.js';
import { CURRENCY_EXPONENTS, MoneyError, parseDecimalString, toDecimalString } from '../../src/core/money.js';
import { OUTCOME_KINDS } from '../../src/core/transitions.js';
import { anyString, damage, damageBase64, FUZZ_RUNS, fuzzParameters, headerValue, type Damage } from '../support/fuzz.js';
import { hostileXml, sampleMobilpay, sampleOrder, VALID_CRC_REPLIES, VALID_IPNS, VALID_ORDERS } from '../support/fuzz-xml.js';
import { sandboxCredentials, VANILO_CERT, VANILO_KEY } from '../support/netopia-v1.js';

/**
 * Property-based tests of the pure parsers that read untrusted bytes: whatever they are given, they answer
 * or throw their own error type (never a TypeError, RangeError or a parser's internal error), and the
 * notification verifier always returns a verdict. FUZZ_RUNS (10 000 by default) cases per surface.
 */

const privateKey = loadPrivateKey(VANILO_KEY);
const publicKey = loadPublicKey(VANILO_CERT);
const ENVELOPE_CODES = new Set<number>(Object.values(EnvelopeErrorCode));
const KNOWN_CURRENCIES = Object.keys(CURRENCY_EXPONENTS);

const bytes = (maxLength: number) => fc.uint8Array({ maxLength }).map((b) => Buffer.from(b));
const base64Of = (maxLength: number) => bytes(maxLength).map((b) => b.toString('base64'));
/** Wraps base64 the way PHP's chunk_split does (CRLF every 76 characters), or with LF or tabs. */
const wrapped = (text: string, width: number, sep: string) => text.replace(new RegExp(`(.{${width}})`, 'g'), `$1${sep}`);

interface Fields {
  env_key?: unknown;
  data?: unknown;
  cipher?: unknown;
  iv?: unknown;
}

const SEALED_PLAINTEXT = VALID_IPNS[0]!;

/** A genuine envelope (sealed for the vanilo key) with one or two fields damaged, swapped, dropped or re-typed. */
const damagedEnvelope: fc.Arbitrary<Fields> = fc
  .tuple(
    fc.constantFrom<EnvelopeCipher>('aes-256-cbc', 'rc4'),
    fc.array(
      fc.oneof(
        fc.tuple(fc.constantFrom('env_key', 'data', 'iv'), damageBase64).map(([name, d]) => (f: Fields) => ({
          ...f,
          [name]: typeof f[name as keyof Fields] === 'string' ? damage(f[name as keyof Fields] as string, d) : f[name as keyof Fields],
        })),
        fc.constantFrom('env_key', 'data', 'iv', 'cipher').map((name) => (f: Fields) => ({ ...f, [name]: undefined })),
        fc.tuple(fc.constantFrom('env_key', 'data', 'iv', 'cipher'), fc.anything()).map(([name, value]) => (f: Fields) => ({ ...f, [name]: value })),
        fc
          .constantFrom('RC4', 'AES-256-CBC', 'aes-128-cbc', 'aes-256-gcm', 'des-ede3-cbc', 'rc4 ', ' aes-256-cbc', 'aes-256-cbc\u0000', '', 'null')
          .map((cipher) => (f: Fields) => ({ ...f, cipher })),
        fc.constant((f: Fields) => ({ ...f, env_key: f.data, data: f.env_key })),
      ),
      { minLength: 1, maxLength: 2 },
    ),
  )
  .map(([cipher, damages]) => {
    const sealed = sealEnvelope(SEALED_PLAINTEXT, publicKey, cipher);
    return damages.reduce<Fields>((f, d) => d(f), { ...sealed });
  });

const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 1 },
  { arbitrary: fc.anything(), weight: 2 },
  { arbitrary: anyString(80), weight: 3 },
  { arbitrary: fc.base64String({ maxLength: 400 }), weight: 2 },
  { arbitrary: base64Of(400), weight: 2 },
  // exactly the modulus length: the RSA unwrap runs on random ciphertexts (implicit rejection path)
  { arbitrary: fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64')), weight: 2 },
  { arbitrary: base64Of(400).map((t) => wrapped(t, 76, '\r\n')), weight: 1 },
);

const arbitraryFields: fc.Arbitrary<Fields> = fc.record(
  {
    env_key: fieldValue,
    data: fieldValue,
    cipher: fc.oneof(fc.constantFrom(undefined, '', 'rc4', 'RC4', 'aes-256-cbc', 'Aes-256-Cbc', 'des-ede3'), anyString(20), fc.anything()),
    iv: fc.oneof(
      fc.constantFrom(undefined, ''),
      base64Of(32),
      fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => Buffer.from(b).toString('base64')),
      anyString(30),
      fc.anything(),
    ),
  },
  { requiredKeys: [] },
);

describe('openEnvelope: arbitrary fields only ever give bytes or an EnvelopeError', () => {
  it(`${FUZZ_RUNS} arbitrary and damaged envelopes`, () => {
    fc.assert(
      fc.property(fc.oneof({ arbitrary: arbitraryFields, weight: 3 }, { arbitrary: damagedEnvelope, weight: 2 }), (fields) => {
        let opened: unknown;
        try {
          opened = openEnvelope(fields, privateKey);
        } catch (e) {
          assert.ok(e instanceof EnvelopeError, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          assert.ok(ENVELOPE_CODES.has(e.code), `unknown code ${e.code}`);
          // the failure is never an oracle: one message per code
          if (e.code === EnvelopeErrorCode.CannotOpen) assert.equal(e.message, 'the envelope could not be opened');
          return;
        }
        assert.ok(Buffer.isBuffer(opened));
      }),
      fuzzParameters(),
    );
  });

  it('sealing then opening gives the plaintext back, with either cipher', () => {
    fc.assert(
      fc.property(
        bytes(3000).filter((b) => b.length > 0),
        fc.constantFrom<EnvelopeCipher>('aes-256-cbc', 'rc4'),
        (plaintext, cipher) => {
          const sealed = sealEnvelope(plaintext, publicKey, cipher);
          assert.deepEqual(openEnvelope(sealed, privateKey), plaintext);
        },
      ),
      fuzzParameters(Math.max(100, Math.floor(FUZZ_RUNS / 10))),
    );
  });
});

describe('decodeBase64Strict: canonical base64 or EnvelopeError', () => {
  it(`${FUZZ_RUNS} arbitrary strings: bytes whose canonical encoding is the input, or EnvelopeError 0x300000f5`, () => {
    const text = fc.oneof(
      anyString(120),
      fc.base64String({ maxLength: 200 }),
      base64Of(200),
      fc.tuple(base64Of(300), damageBase64).map(([t, d]) => damage(t, d)),
      fc.string({ unit: fc.constantFrom(...'ABCxyz019+/=-_ \r\n\t%'.split('')), maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, (s) => {
        let decoded: Buffer;
        try {
          decoded = decodeBase64Strict(s);
        } catch (e) {
          assert.ok(e instanceof EnvelopeError, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          assert.equal(e.code, EnvelopeErrorCode.InvalidParameters);
          return;
        }
        assert.ok(Buffer.isBuffer(decoded));
        assert.equal(decoded.toString('base64'), s.replace(/[\r\n\t]/g, ''), 'only the canonical spelling (modulo line breaks) is accepted');
      }),
      fuzzParameters(),
    );
  });

  it(`${FUZZ_RUNS} byte strings survive encoding, also when wrapped at 64 or 76 columns`, () => {
    fc.assert(
      fc.property(bytes(600), fc.constantFrom('', '\r\n', '\n', '\t'), fc.constantFrom(64, 76), (b, sep, width) => {
        const text = sep ? wrapped(b.toString('base64'), width, sep) : b.toString('base64');
        assert.deepEqual(decodeBase64Strict(text), b);
      }),
      fuzzParameters(),
    );
  });
});

/** Hostile XML must be refused: a DOCTYPE or another markup declaration never parses, whatever else the text holds. */
const hasDeclaration = (xml: string) => /<!(?!\[CDATA\[|--)/.test(xml.startsWith('\ufeff') ? xml.slice(1) : xml);

function onlyV1XmlError<T>(parse: () => T, input: string): T | undefined {
  try {
    return parse();
  } catch (e) {
    assert.ok(e instanceof V1XmlError, `threw ${(e as Error)?.name}: ${(e as Error)?.message} for ${JSON.stringify(input.slice(0, 200))}`);
    return undefined;
  }
}

describe('the v1 XML parsers: a result or a V1XmlError, and no entity is ever expanded', () => {
  it('every seed document parses (the mutations start from valid documents)', () => {
    for (const ipn of VALID_IPNS) assert.ok(parseIpnXml(ipn).mobilpay.crc);
    for (const order of VALID_ORDERS) assert.ok(parseOrderXml(order).id);
    for (const crc of VALID_CRC_REPLIES) assert.notEqual(parseCrcReply(crc).message.startsWith('unusable'), true, crc);
  });

  it(`parseIpnXml: ${FUZZ_RUNS} mutated IPNs and arbitrary strings`, () => {
    fc.assert(
      fc.property(hostileXml(VALID_IPNS), (xml) => {
        const ipn = onlyV1XmlError(() => parseIpnXml(xml), xml);
        if (ipn === undefined) return;
        assert.ok(!hasDeclaration(xml), 'a document with a markup declaration was accepted');
        assert.ok(ipn.order.id.length > 0 && ipn.order.signature.length > 0);
        assert.ok(V1_ACTIONS.includes(ipn.mobilpay.action), `action ${ipn.mobilpay.action}`);
        assert.ok(Number.isSafeInteger(ipn.mobilpay.error.code));
        assert.ok(!JSON.stringify(ipn).includes('lollol'), 'an entity was expanded');
      }),
      fuzzParameters(),
    );
  });

  it(`parseOrderXml: ${FUZZ_RUNS} mutated orders and arbitrary strings`, () => {
    fc.assert(
      fc.property(hostileXml([...VALID_ORDERS, ...VALID_IPNS.slice(0, 2)]), (xml) => {
        const order = onlyV1XmlError(() => parseOrderXml(xml), xml);
        if (order === undefined) return;
        assert.ok(!hasDeclaration(xml), 'a document with a markup declaration was accepted');
        assert.ok(order.id.length > 0 && order.id.length <= 64);
        assert.ok(order.invoice.currency && order.invoice.amount && order.url.confirm);
        assert.ok(!JSON.stringify(order).includes('lollol'), 'an entity was expanded');
      }),
      fuzzParameters(),
    );
  });

  it(`parseCrcReply: ${FUZZ_RUNS} mutated replies and arbitrary input, never a throw`, () => {
    const input = fc.oneof({ arbitrary: hostileXml(VALID_CRC_REPLIES), weight: 9 }, { arbitrary: fc.anything(), weight: 1 });
    fc.assert(
      fc.property(input, (xml) => {
        const reply = parseCrcReply(xml as string);
        assert.ok([0, 1, 2].includes(reply.errorType));
        assert.ok(Number.isSafeInteger(reply.errorCode));
        assert.equal(typeof reply.message, 'string');
        if (typeof xml === 'string' && hasDeclaration(xml)) assert.equal(reply.errorType, 1, 'a reply with a DOCTYPE must be unusable');
      }),
      fuzzParameters(),
    );
  });
});

const decimalText = fc.oneof(
  anyString(30),
  fc.stringMatching(/^\s{0,2}-?\d{0,20}(\.\d{0,15})?\s{0,2}$/),
  fc.double().map(String),
  fc.integer().map(String),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.constantFrom(
    '',
    '.',
    '1.',
    '.5',
    '1e3',
    '1E-2',
    '0x1F',
    '0b1',
    '1_000',
    '１２',
    '١٢',
    '12,34',
    '+1',
    '-0',
    '00000000000000001.10',
    '9007199254740991',
    '9007199254740992',
    '90071992547409.92',
    '9999999999999999.99',
    'Infinity',
    'NaN',
  ),
);
const knownCurrency = fc.constantFrom(...KNOWN_CURRENCIES);

describe('money: parseDecimalString and toDecimalString', () => {
  it(`${FUZZ_RUNS} arbitrary strings in a known currency: a non-negative safe integer or a MoneyError`, () => {
    fc.assert(
      fc.property(decimalText, knownCurrency, (text, currency) => {
        let minor: number;
        try {
          minor = parseDecimalString(text, currency);
        } catch (e) {
          assert.ok(e instanceof MoneyError, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          return;
        }
        assert.ok(Number.isSafeInteger(minor) && minor >= 0, `${JSON.stringify(text)} → ${minor}`);
        // the parse is exact: formatting it back gives the same number of minor units
        assert.equal(parseDecimalString(toDecimalString(minor, currency), currency), minor);
      }),
      fuzzParameters(),
    );
  });

  it(`${FUZZ_RUNS} arbitrary numbers: a decimal string with exactly the currency's decimals, or a MoneyError`, () => {
    const amount = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, -Number.MAX_SAFE_INTEGER, -0, 0.1, 1e21, NaN, Infinity, -Infinity, Number.MIN_VALUE),
    );
    fc.assert(
      fc.property(amount, knownCurrency, (n, currency) => {
        let text: string;
        try {
          text = toDecimalString(n, currency);
        } catch (e) {
          assert.ok(e instanceof MoneyError, `threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
          assert.ok(!Number.isSafeInteger(n), `refused the safe integer ${n}`);
          return;
        }
        const exp = CURRENCY_EXPONENTS[currency]!;
        assert.match(text, exp === 0 ? /^-?\d+$/ : new RegExp(`^-?\\d+\\.\\d{${exp}}$`));
      }),
      fuzzParameters(),
    );
  });

  it(`${FUZZ_RUNS} valid amounts round-trip, also with trailing zeros and surrounding blanks`, () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), knownCurrency, fc.nat({ max: 5 }), (minor, currency, zeros) => {
        const exp = CURRENCY_EXPONENTS[currency]!;
        const text = toDecimalString(minor, currency);
        // parseDecimalString allows 16 integer digits; a safe integer in a 0-decimal currency has at most 16
        assert.equal(parseDecimalString(text, currency), minor);
        if (exp > 0) assert.equal(parseDecimalString(`${text}${'0'.repeat(zeros)}`, currency), minor);
        assert.equal(parseDecimalString(` ${text}\n`, currency), minor);
      }),
      fuzzParameters(),
    );
  });

  it(`${FUZZ_RUNS} unknown currency codes are refused with a MoneyError by both functions`, () => {
    const unknown = fc
      .oneof(
        fc.constantFrom(
          'constructor',
          '__proto__',
          'toString',
          'valueOf',
          'hasOwnProperty',
          'isPrototypeOf',
          '__defineGetter__',
          'XXX',
          'ron',
          'Ron',
          'RON ',
          '',
        ),
        fc.stringMatching(/^[A-Z]{3}$/),
        anyString(10),
      )
      .filter((c) => !Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, c));
    fc.assert(
      fc.property(unknown, fc.maxSafeNat(), (currency, minor) => {
        assert.throws(() => toDecimalString(minor, currency), MoneyError, `toDecimalString(${minor}, ${JSON.stringify(currency)})`);
        assert.throws(() => parseDecimalString('12.34', currency), MoneyError, `parseDecimalString("12.34", ${JSON.stringify(currency)})`);
      }),
      fuzzParameters(),
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// netopiaV1.verifyNotification

const config: ConnectionConfig<NetopiaV1Credentials, NetopiaV1Settings> = {
  credentials: netopiaV1.parseCredentials(sandboxCredentials()),
  settings: netopiaV1.parseSettings({}),
  environment: 'sandbox',
  endpoint: 'https://sandboxsecure.mobilpay.ro',
};

function formBody(fields: Record<string, string | undefined>): string {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) form.append(k, v);
  return form.toString();
}

/** An IPN sealed for the connection's key around `xml`, its envelope possibly damaged (sealed when the case runs). */
interface SealedCase {
  xml: string;
  cipher: EnvelopeCipher;
  damage?: { field: 'env_key' | 'data' | 'iv'; how: Damage };
}

const sealedCase = (xml: fc.Arbitrary<string>, damaged = true): fc.Arbitrary<SealedCase> =>
  fc.record(
    {
      xml,
      cipher: fc.constantFrom<EnvelopeCipher>('aes-256-cbc', 'rc4'),
      damage: damaged
        ? fc.option(fc.record({ field: fc.constantFrom('env_key' as const, 'data' as const, 'iv' as const), how: damageBase64 }), { nil: undefined, freq: 2 })
        : fc.constant(undefined),
    },
    { requiredKeys: ['xml', 'cipher'] },
  );

function seal(c: SealedCase): Buffer {
  const sealed = sealEnvelope(c.xml, publicKey, c.cipher) as unknown as Record<string, string | undefined>;
  if (c.damage && sealed[c.damage.field] !== undefined) sealed[c.damage.field] = damage(sealed[c.damage.field]!, c.damage.how);
  return Buffer.from(formBody(sealed), 'latin1');
}

const notificationBody: fc.Arbitrary<Buffer | SealedCase> = fc.oneof(
  { arbitrary: bytes(2048), weight: 2 },
  { arbitrary: anyString(300).map((s) => Buffer.from(s, 'utf8')), weight: 1 },
  {
    arbitrary: fc
      .array(
        fc.tuple(
          fc.oneof(fc.constantFrom('env_key', 'data', 'cipher', 'iv', 'env_key[]', 'Data', 'ENV_KEY'), anyString(12)),
          fc.oneof(
            anyString(60),
            base64Of(300),
            fc.uint8Array({ minLength: 256, maxLength: 256 }).map((b) => Buffer.from(b).toString('base64')),
          ),
        ),
        { maxLength: 6 },
      )
      .map((pairs) =>
        Buffer.from(
          pairs.map(([k, v]) => `${encodeURIComponent(k.replace(/[\ud800-\udfff]/g, ''))}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, ''))}`).join('&'),
          'latin1',
        ),
      ),
    weight: 2,
  },
  {
    arbitrary: fc
      .array(fc.constantFrom('env_key=', 'data=', 'cipher=rc4', 'iv=', '&', '=', '%', '%zz', '+', 'QUJD', '%3D', '\u00ff'), { maxLength: 20 })
      .map((p) => Buffer.from(p.join(''), 'latin1')),
    weight: 1,
  },
  { arbitrary: sealedCase(hostileXml(VALID_IPNS)), weight: 3 },
  { arbitrary: sealedCase(fc.constantFrom(...VALID_IPNS)), weight: 1 },
);

function assertVerdictShape(v: NotificationVerdict): void {
  assert.equal(typeof v, 'object');
  if (v.ok === false) {
    assert.equal(typeof v.permanent, 'boolean');
    assert.ok(Number.isSafeInteger(v.code), `code ${v.code}`);
    assert.equal(typeof v.reason, 'string');
    return;
  }
  assert.equal(v.ok, true);
  assert.ok(typeof v.reference === 'string' && v.reference.length > 0);
  assert.ok(OUTCOME_KINDS.includes(v.outcome.kind));
  assert.equal(typeof v.dedupeKey, 'string');
  assert.ok(v.expected.amount === undefined || (Number.isSafeInteger(v.expected.amount) && v.expected.amount >= 0), `expected amount ${v.expected.amount}`);
  assert.equal(typeof v.expected.currency, 'string');
  assert.equal(typeof v.summary, 'object');
}

describe('netopiaV1.verifyNotification: always a verdict, never a throw', () => {
  it(`${FUZZ_RUNS} arbitrary bodies, damaged envelopes and sealed hostile XML`, () => {
    fc.assert(
      fc.property(notificationBody, fc.option(headerValue(60), { nil: undefined }), (input, contentType) => {
        const body = Buffer.isBuffer(input) ? input : seal(input);
        let verdict: NotificationVerdict;
        try {
          verdict = netopiaV1.verifyNotification(config, { body, contentType, headers: contentType === undefined ? {} : { 'content-type': contentType } });
        } catch (e) {
          assert.fail(`verifyNotification threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        assertVerdictShape(verdict);
        if (verdict.ok) assert.equal(verdict.summary.crc !== undefined, true);
      }),
      fuzzParameters(),
    );
  });

  it('amounts in an accepted IPN become safe integer minor units, or the IPN is refused', () => {
    const decimal = fc.oneof(
      fc.stringMatching(/^\d{1,16}\.\d{2}$/),
      fc.stringMatching(/^\d{1,3}(\.\d{1,2})?$/),
      fc.constantFrom('0.00', '0.01', '1.00', '9999999999999999.99', '90071992547409.91'),
    );
    const ipn = fc.record({
      currency: fc.constantFrom('RON', 'EUR', 'USD', 'GBP', 'MDL', 'JPY', 'KWD'),
      invoiceAmount: decimal,
      original: decimal,
      processed: decimal,
      action: fc.constantFrom(...V1_ACTIONS),
    });
    fc.assert(
      fc.property(ipn, fc.constantFrom<EnvelopeCipher>('aes-256-cbc', 'rc4'), (r, cipher) => {
        const order = buildOrderXml(sampleOrder({}, { currency: r.currency, amount: r.invoiceAmount }));
        const xml = buildIpnXml(order, sampleMobilpay({ action: r.action, original_amount: r.original, processed_amount: r.processed }));
        const verdict = netopiaV1.verifyNotification(config, { body: seal({ xml, cipher }), headers: {} });
        assertVerdictShape(verdict);
        if (!verdict.ok) return;
        const o = verdict.outcome as { amount?: number; totalRefunded?: number };
        for (const value of [o.amount, o.totalRefunded]) {
          if (value !== undefined)
            assert.ok(
              Number.isSafeInteger(value) && value >= 0,
              `outcome ${JSON.stringify(verdict.outcome)} for an invoice of ${verdict.expected.amount} ${verdict.expected.currency} (summary ${JSON.stringify(verdict.summary)})`,
            );
        }
      }),
      fuzzParameters(Math.max(200, Math.floor(FUZZ_RUNS / 5))),
    );
  });
});
