import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { CONNECTORS } from '../../src/connectors/registry.js';

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

before(async () => {
  hub = await startTestHub({ emulators: false, logLevel: 'debug' });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Schema SRL' });
  api = apiClient(hub.url, merchant.body.api_key);
});
after(async () => {
  await hub?.close();
});

describe('the connections API in the OpenAPI document (/docs/json), per provider', () => {
  it('names each provider’s credentials and settings schemas, secret credentials writeOnly', async () => {
    const doc = (await fetch(`${hub.url}/docs/json`).then((r) => r.json())) as Record<string, any>;
    const schemas = doc.components.schemas;
    for (const provider of Object.keys(CONNECTORS)) {
      assert.equal(schemas[`${provider}.credentials`]?.type, 'object', provider);
      assert.equal(schemas[`${provider}.settings`]?.type, 'object', provider);
      assert.equal(schemas[`${provider}.connection`]?.properties.provider.const, provider);
    }
    assert.equal(schemas['multisafepay.credentials'].properties.api_key.writeOnly, true);
    assert.equal(schemas['multisafepay.credentials'].properties.api_key['x-secret'], true);
    assert.equal(schemas['netopia-v1.credentials'].properties.private_key.writeOnly, true);
    assert.equal(schemas['netopia-v1.credentials'].properties.certificate.writeOnly, undefined);
    assert.deepEqual(schemas['netopia-v1.credentials'].required, ['signature', 'certificate', 'private_key']);
    assert.deepEqual(
      schemas['nexi.settings'].properties.accounting.anyOf.map((v: { const: string }) => v.const),
      ['C', 'D'],
    );
    assert.equal(schemas['nexi.settings'].properties.default_timeout_hours.default, 24);
    assert.equal(schemas['nexi.settings'].required, undefined, 'settings with defaults are not required');
    assert.equal(schemas['volt.credentials'].properties.notification_secret.writeOnly, true);

    const create = doc.paths['/v1/connections'].post.requestBody.content['application/json'].schema;
    assert.equal(create.discriminator.propertyName, 'provider');
    assert.deepEqual(Object.keys(create.discriminator.mapping).sort(), Object.keys(CONNECTORS).sort());
    assert.equal(create.oneOf.length, Object.keys(CONNECTORS).length);
    const update = doc.paths['/v1/connections/{id}'].patch.requestBody.content['application/json'].schema;
    assert.equal(update.properties.credentials.oneOf.length, Object.keys(CONNECTORS).length);
  });

  it('the documented bodies do not change what the API answers: field errors stay the connector’s own', async () => {
    const r = await api('POST', '/v1/connections', {
      code: 'bad',
      provider: 'multisafepay',
      environment: 'sandbox',
      credentials: { api_key: 'short' },
      settings: { locale: 'xx' },
    });
    assert.equal(r.status, 422);
    assert.deepEqual(r.body.errors, [{ field: 'settings.locale', message: 'must be a locale such as en_US or it_IT' }]);
    const c = await api('POST', '/v1/connections', { code: 'bad', provider: 'multisafepay', environment: 'sandbox', credentials: { api_key: 'short' } });
    assert.deepEqual(c.body.errors, [{ field: 'credentials.api_key', message: 'must be the website API key from the MultiSafepay dashboard' }]);
  });
});

describe('netopia-v1 private_key and multisafepay api_key are secrets like the others', () => {
  it('never echoed back by the API, nor written to the log, when connections are made, read, used and updated', async () => {
    const mspKey = 'msp-never-shown-0123456789abcdef';
    const v1 = sandboxCredentials();
    const keyLine = v1.private_key.split('\n')[1]!;
    const answers: string[] = [];
    const record = (r: { body: unknown }) => answers.push(JSON.stringify(r.body));
    record(await api('POST', '/v1/connections', { code: 'msp', provider: 'multisafepay', environment: 'sandbox', credentials: { api_key: mspKey } }));
    record(await api('POST', '/v1/connections', { code: 'v1', provider: 'netopia-v1', environment: 'sandbox', credentials: v1 }));
    record(await api('GET', '/v1/connections'));
    record(await api('GET', '/v1/connections/msp'));
    record(await api('PATCH', '/v1/connections/msp', { credentials: { api_key: `${mspKey}-2` }, settings: { locale: 'it_IT' } }));
    record(await api('PATCH', '/v1/connections/v1', { credentials: v1, settings: { language: 'en' } }));
    // A payment loads both connections' keys (v1 seals its form with them at creation).
    const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Iasi', country: 'RO' };
    record(await api('POST', '/v1/payments', { connection: 'v1', order_id: 'S-1', amount: 1000, currency: 'RON', description: 'Ceai', billing }));
    record(await api('POST', '/v1/payments', { connection: 'msp', order_id: 'S-2', amount: 1000, currency: 'EUR', description: 'Ceai', billing }));
    assert.ok(
      answers.every((a) => !a.includes(mspKey) && !a.includes(keyLine)),
      'an API answer showed a secret',
    );
    assert.ok(hub.rawLogs.length > 0);
    const leaked = hub.rawLogs.filter((l) => l.includes(mspKey) || l.includes(keyLine) || l.includes(keyLine.slice(0, 40)));
    assert.deepEqual(leaked, []);
  });
});
