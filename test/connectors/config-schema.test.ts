import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { generateKeyPairSync } from 'node:crypto';
import { CONNECTORS } from '../../src/connectors/registry.js';
import { formOf, readConfig, secretFields, Text, SecretText } from '../../src/connectors/config-schema.js';
import { Secret } from '../../src/security/secret.js';
import { ValidationError } from '../../src/core/validation.js';
import { Type } from '@sinclair/typebox';
import { sandboxCredentials } from '../support/netopia-v1.js';

const V2_PEM = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** Valid credentials of each provider, with the secret values a leak would show. */
const VALID: Record<string, Record<string, string>> = {
  'netopia-v1': sandboxCredentials(),
  'netopia-v2': { api_key: 'ntp-secret-api-key-0001', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE', notify_public_keys: V2_PEM },
  multisafepay: { api_key: 'msp-secret-api-key-0123456789' },
  nexi: { alias: 'ALIAS_WEB_00012345', mac_key: 'NEXI-SECRET-MAC-KEY-0123456789' },
  volt: {
    client_id: 'volt-client',
    client_secret: 'volt-secret-client',
    username: 'api-user',
    password: 'volt-secret-password',
    notification_secret: 'volt-secret-notification',
  },
};

const SECRETS: Record<string, string[]> = {
  'netopia-v1': ['private_key'],
  'netopia-v2': ['api_key'],
  multisafepay: ['api_key'],
  nexi: ['mac_key'],
  volt: ['client_secret', 'password', 'notification_secret'],
};

describe('credentials declared once, secret fields marked', () => {
  it('every connector names its secrets in its schema, netopia-v1 private_key and multisafepay api_key among them', () => {
    assert.deepEqual(Object.keys(CONNECTORS).sort(), Object.keys(SECRETS).sort());
    for (const [provider, connector] of Object.entries(CONNECTORS)) {
      assert.deepEqual(secretFields(connector.schemas.credentials), SECRETS[provider], provider);
      for (const name of SECRETS[provider]!) {
        const field = connector.schemas.credentials.properties[name] as Record<string, unknown>;
        assert.equal(field.writeOnly, true, `${provider}.${name} is writeOnly`);
        assert.equal(field['x-secret'], true, `${provider}.${name} is x-secret`);
      }
    }
  });

  it('every secret is read into a Secret: never in JSON, util.inspect, String() or a template, nor among the public fields', () => {
    for (const [provider, connector] of Object.entries(CONNECTORS)) {
      const credentials = connector.parseCredentials(VALID[provider]) as Record<string, unknown>;
      for (const name of SECRETS[provider]!) {
        const value = credentials[name];
        assert.ok(value instanceof Secret, `${provider}.${name} is a Secret`);
        assert.equal(value.reveal().trim(), VALID[provider]![name]!.trim());
        const raw = VALID[provider]![name]!;
        const shown = [
          JSON.stringify(credentials),
          inspect(credentials, { depth: 5 }),
          String(value),
          `${value}`,
          JSON.stringify(connector.publicCredentialFields(credentials)),
        ];
        // A PEM is long; its body line is what would leak.
        const needle = raw.includes('-----BEGIN') ? raw.split('\n')[1]! : raw;
        for (const text of shown) assert.ok(!text.includes(needle), `${provider}.${name} leaks through ${text.slice(0, 80)}`);
      }
    }
  });

  it('the public credential fields are the schema fields marked x-public, as the API showed them before', () => {
    assert.deepEqual(CONNECTORS['netopia-v1']!.publicCredentialFields(CONNECTORS['netopia-v1']!.parseCredentials(VALID['netopia-v1'])), {
      signature: 'TEST-ABCD-1234-EFGH-5678',
    });
    assert.deepEqual(CONNECTORS['netopia-v2']!.publicCredentialFields(CONNECTORS['netopia-v2']!.parseCredentials(VALID['netopia-v2'])), {
      pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE',
    });
    assert.deepEqual(CONNECTORS.multisafepay!.publicCredentialFields(CONNECTORS.multisafepay!.parseCredentials(VALID.multisafepay)), {});
    assert.deepEqual(CONNECTORS.nexi!.publicCredentialFields(CONNECTORS.nexi!.parseCredentials(VALID.nexi)), { alias: 'ALIAS_WEB_00012345' });
    assert.deepEqual(CONNECTORS.volt!.publicCredentialFields(CONNECTORS.volt!.parseCredentials(VALID.volt)), {
      client_id: 'volt-client',
      username: 'api-user',
    });
  });
});

describe('readConfig', () => {
  const schema = Type.Object({
    name: Text({ minLength: 1, maxLength: 5, 'x-trim': true, 'x-case': 'upper', 'x-error': 'must be a short name', 'x-error-absent': 'is required' }),
    key: SecretText({ minLength: 8, 'x-error': 'must be a key of 8 characters or more' }),
    size: Type.Integer({ minimum: 1, maximum: 9, default: 3, 'x-error': 'must be 1 to 9' }),
    note: Type.Optional(Text({ maxLength: 3, 'x-error': 'must be short' })),
  });
  const errorsOf = (raw: unknown) => {
    try {
      readConfig(schema, raw, 'settings');
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      return e.errors.map((x) => `${x.field}: ${x.message}`);
    }
    return [];
  };

  it('normalizes, applies defaults (null counts as left out), wraps secrets and drops unknown fields', () => {
    const out = readConfig(schema, { name: ' abc ', key: 'k'.repeat(8), size: null, extra: 1 }, 'settings');
    assert.equal(out.name, 'ABC');
    assert.ok(out.key instanceof Secret);
    assert.equal(out.size, 3);
    assert.deepEqual(Object.keys(out).sort(), ['key', 'name', 'size']);
  });

  it('reports every refused field in schema order, missing and blank values with their own message', () => {
    assert.deepEqual(errorsOf(null), ['settings.name: is required', 'settings.key: must be a key of 8 characters or more']);
    assert.deepEqual(errorsOf({ name: '   ', key: 'short', size: 10, note: 'long' }), [
      'settings.name: is required',
      'settings.key: must be a key of 8 characters or more',
      'settings.size: must be 1 to 9',
      'settings.note: must be short',
    ]);
    assert.deepEqual(errorsOf({ name: 'toolong', key: 'k'.repeat(8), size: 1.5 }), ['settings.name: must be a short name', 'settings.size: must be 1 to 9']);
  });

  it('refuses items of an array at their index (netopia-v2 notify_public_keys)', () => {
    assert.throws(
      () => CONNECTORS['netopia-v2']!.parseCredentials({ ...VALID['netopia-v2'], notify_public_keys: [V2_PEM, 'not a pem', 42] }),
      (e: unknown) => e instanceof ValidationError && JSON.stringify(e.errors.map((x) => x.field)) === JSON.stringify(['credentials.notify_public_keys[2]']),
    );
    assert.throws(
      () => CONNECTORS['netopia-v2']!.parseCredentials({ ...VALID['netopia-v2'], notify_public_keys: [V2_PEM, 'not a pem', 'nor this'] }),
      (e: unknown) =>
        e instanceof ValidationError &&
        JSON.stringify(e.errors.map((x) => x.field)) === JSON.stringify(['credentials.notify_public_keys[1]', 'credentials.notify_public_keys[2]']),
    );
  });
});

describe('the connection form, from the same schemas', () => {
  it('describes each field: kind, required, default, options; secrets ask anew and are never shown back', () => {
    const volt = formOf(CONNECTORS.volt!.schemas.credentials, 'credentials');
    assert.deepEqual(
      volt.map((f) => [f.name, f.kind, f.required, f.shownBack]),
      [
        ['client_id', 'text', true, true],
        ['client_secret', 'secret', true, false],
        ['username', 'text', true, true],
        ['password', 'secret', true, false],
        ['notification_secret', 'secret', true, false],
      ],
    );
    const v1 = formOf(CONNECTORS['netopia-v1']!.schemas.credentials, 'credentials');
    assert.deepEqual(
      v1.map((f) => [f.name, f.kind, f.shownBack]),
      [
        ['signature', 'text', true],
        ['certificate', 'pem', false],
        ['private_key', 'pem', false],
      ],
    );
    const nexi = formOf(CONNECTORS.nexi!.schemas.settings, 'settings');
    assert.deepEqual(
      nexi.find((f) => f.name === 'accounting'),
      {
        name: 'accounting',
        kind: 'choice',
        label: 'Accounting (TCONTAB)',
        required: false,
        shownBack: true,
        description: "C: immediate capture; D: authorization only, captured later in XPay's back office",
        default: 'C',
        options: ['C', 'D'],
      },
    );
    assert.deepEqual(
      nexi.find((f) => f.name === 'default_timeout_hours'),
      {
        name: 'default_timeout_hours',
        kind: 'number',
        label: 'Link life (hours)',
        required: false,
        shownBack: true,
        description: 'how long a payment link lives when the payment has no deadline',
        default: 24,
        minimum: 1,
        maximum: 8760,
      },
    );
    for (const c of Object.values(CONNECTORS))
      assert.ok(
        formOf(c.schemas.settings, 'settings').some((f) => f.name === 'endpoint' && !f.required),
        c.provider,
      );
  });
});
