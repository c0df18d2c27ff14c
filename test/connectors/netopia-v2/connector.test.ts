import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import { defaultNotifyKeys } from '../../../src/connectors/netopia-v2/config.js';
import { NETOPIA_PLATFORM_KEY_SHA256 } from '../../../src/connectors/netopia-v2/platform-key.js';
import { ValidationError } from '../../../src/core/validation.js';
import { NETOPIA_TEST_KEY, POS, newKey, vectorPem } from './support.js';

function fieldsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ValidationError, String(e));
    return e.errors.map((x) => x.field);
  }
  assert.fail('expected a ValidationError');
}

describe('credentials: api_key, pos_signature, notify_public_keys', () => {
  const good = { api_key: 'ntp-test-api-key-0001', pos_signature: POS };

  it('defaults the trusted key to NETOPIA platform key (the one in the official plugin)', () => {
    const c = netopiaV2.parseCredentials(good);
    assert.equal(c.notifyKeys.length, 1);
    const spki = c.notifyKeys[0]!.export({ type: 'spki', format: 'der' });
    assert.equal(createHash('sha256').update(spki).digest('hex'), NETOPIA_PLATFORM_KEY_SHA256);
    assert.equal(String(c.notifyKeys[0]!.export({ type: 'spki', format: 'pem' })).trim(), vectorPem('netopia_ipn_jwt_pubkey.pem').trim());
    assert.equal(defaultNotifyKeys(), defaultNotifyKeys());
  });

  it('accepts one PEM text, several keys in one text, or an array; certificates too', () => {
    assert.equal(netopiaV2.parseCredentials({ ...good, notify_public_keys: NETOPIA_TEST_KEY.publicPem }).notifyKeys.length, 1);
    assert.equal(
      netopiaV2.parseCredentials({ ...good, notify_public_keys: NETOPIA_TEST_KEY.publicPem + '\n' + vectorPem('pysdk_test_pub.pem') }).notifyKeys.length,
      2,
    );
    assert.equal(
      netopiaV2.parseCredentials({ ...good, notify_public_keys: [NETOPIA_TEST_KEY.publicPem, vectorPem('vanilo_server.crt')] }).notifyKeys.length,
      2,
    );
    assert.equal(netopiaV2.parseCredentials({ ...good, notify_public_keys: newKey(1024).publicPem }).notifyKeys.length, 1);
  });

  it('works from the stored JSON alone (verification threads rebuild it)', () => {
    const raw = { ...good, notify_public_keys: [NETOPIA_TEST_KEY.publicPem] };
    const c = netopiaV2.parseCredentials(JSON.parse(JSON.stringify(raw)));
    assert.equal(c.pos_signature, POS);
    assert.equal(c.api_key.reveal(), 'ntp-test-api-key-0001');
  });

  it('normalizes the POS signature and never prints the API key', () => {
    const c = netopiaV2.parseCredentials({ api_key: '  ntp-test-api-key-0001 ', pos_signature: ' aaaa-bbbb-cccc-dddd-eeee ' });
    assert.equal(c.pos_signature, POS);
    assert.ok(!JSON.stringify(c).includes('ntp-test-api-key'));
    assert.ok(!String(c.api_key).includes('ntp-test-api-key'));
    assert.deepEqual(netopiaV2.publicCredentialFields(c), { pos_signature: POS });
  });

  it('names every wrong field as credentials.<field>', () => {
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({})),
      ['credentials.api_key', 'credentials.pos_signature'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials(null)),
      ['credentials.api_key', 'credentials.pos_signature'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, api_key: 'key with\nnewline' })),
      ['credentials.api_key'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, pos_signature: 'NOT-A-SIGNATURE' })),
      ['credentials.pos_signature'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: 'not a pem' })),
      ['credentials.notify_public_keys'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: [] })),
      ['credentials.notify_public_keys'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: [NETOPIA_TEST_KEY.publicPem, 42] })),
      ['credentials.notify_public_keys[1]'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: vectorPem('vanilo_server.key') })),
      ['credentials.notify_public_keys'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: '-----BEGIN PUBLIC KEY-----\nAAAA' })),
      ['credentials.notify_public_keys'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })),
      ['credentials.notify_public_keys'],
    );
  });

  it('refuses keys that cannot verify RS512 (EC, RSA under 1024 bits)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: ec })),
      ['credentials.notify_public_keys'],
    );
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseCredentials({ ...good, notify_public_keys: newKey(512).publicPem })),
      ['credentials.notify_public_keys'],
    );
  });
});

describe('settings: default_currency, language, email_template, endpoint', () => {
  it('defaults to RON, ro and no email template', () => {
    assert.deepEqual(netopiaV2.parseSettings(undefined), { default_currency: 'RON', language: 'ro', email_template: '' });
    assert.deepEqual(
      netopiaV2.parseSettings({ default_currency: 'EUR', language: 'EN', email_template: 'confirm', endpoint: 'https://secure-sandbox.netopia-payments.com/' }),
      {
        default_currency: 'EUR',
        language: 'en',
        email_template: 'confirm',
        endpoint: 'https://secure-sandbox.netopia-payments.com',
      },
    );
  });

  it('re-reads what it produced (settings are stored parsed)', () => {
    const once = netopiaV2.parseSettings({ default_currency: 'GBP', endpoint: 'http://127.0.0.1:8080/sandbox/netopia/v2' });
    assert.deepEqual(netopiaV2.parseSettings(JSON.parse(JSON.stringify(once))), once);
  });

  it('names every wrong field as settings.<field>', () => {
    assert.deepEqual(
      fieldsOf(() => netopiaV2.parseSettings({ default_currency: 'JPY', language: 'rom', email_template: 5, endpoint: 'ftp://x' })),
      ['settings.default_currency', 'settings.language', 'settings.email_template', 'settings.endpoint'],
    );
    for (const endpoint of ['secure.mobilpay.ro/pay', 'https://user:pw@x.example', 'https://x.example/?a=1', 'https://x .example', '']) {
      assert.deepEqual(
        fieldsOf(() => netopiaV2.parseSettings({ endpoint })),
        ['settings.endpoint'],
        endpoint,
      );
    }
  });
});

describe('connector declarations', () => {
  it('provider netopia-v2; opened by an API start (hosted page); refunds, partial too; no manual capture', () => {
    assert.equal(netopiaV2.provider, 'netopia-v2');
    assert.deepEqual(netopiaV2.capabilities, {
      currencies: ['RON', 'EUR', 'USD', 'GBP'],
      minAmountMinor: 1,
      maxAmountMinor: 9_999_999_999,
      requiredPayerFields: ['billing.first_name', 'billing.last_name', 'billing.email', 'billing.city'],
      refunds: 'partial',
      manualCapture: false,
      flows: ['api_start'],
    });
    assert.equal(netopiaV2.createRedirect, undefined);
    assert.ok(netopiaV2.start && netopiaV2.statusCheck && netopiaV2.refund);
  });

  it('default endpoints: the documented bases (§2.1) and the emulator', () => {
    assert.equal(netopiaV2.defaultEndpoint('live', 'http://hub'), 'https://secure.mobilpay.ro/pay');
    assert.equal(netopiaV2.defaultEndpoint('sandbox', 'http://hub'), 'https://secure.sandbox.netopia-payments.com');
    assert.equal(netopiaV2.defaultEndpoint('emulator', 'http://127.0.0.1:8080'), 'http://127.0.0.1:8080/sandbox/netopia/v2');
  });

  it('an emulator account becomes credentials the connector accepts', () => {
    assert.equal(netopiaV2.emulator?.accountPath, '/sandbox/netopia/v2/accounts');
    const creds = netopiaV2.emulator!.credentialsFrom({
      api_key: 'emu_key_0123456789',
      pos_signature: 'EMU1-2345-6789-ABCD-EF01',
      notify_public_key_pem: NETOPIA_TEST_KEY.publicPem,
      name: 'x',
    });
    assert.deepEqual(creds, { api_key: 'emu_key_0123456789', pos_signature: 'EMU1-2345-6789-ABCD-EF01', notify_public_keys: NETOPIA_TEST_KEY.publicPem });
    assert.equal(netopiaV2.parseCredentials(creds).notifyKeys.length, 1);
  });
});
