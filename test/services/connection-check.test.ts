import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectorFor } from '../../src/connectors/registry.js';
import { testConnection } from '../../src/services/connection-check.js';
import { apiClient, freePort, startTestHub, type TestHub } from '../support/hub.js';

/**
 * "Test connection" (services/connection-check.ts, the connectors' `credentialsCheck`): each processor with a
 * harmless authenticated call is asked through the outbound path, here its emulator: the emulator's own account is
 * accepted, wrong credentials are refused (Volt's already at its token request, Nexi's alias unknown), nobody listening is unreachable,
 * and a processor without such a call says so. Nothing is created at the processor.
 */

let hub: TestHub;
let merchant = '';
let api: ReturnType<typeof apiClient>;

const emulatorEndpoint = (provider: string) => connectorFor(provider)!.defaultEndpoint('emulator', hub.url);

async function connect(body: Record<string, unknown>): Promise<string> {
  const r = await api('POST', '/v1/connections', body);
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

before(async () => {
  hub = await startTestHub({ outboundAllow: '127.0.0.1' });
  const m = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Check SRL' });
  merchant = m.body.id;
  api = apiClient(hub.url, m.body.api_key);
});

after(async () => {
  await hub?.close();
});

describe('test connection', () => {
  for (const provider of ['netopia-v2', 'multisafepay', 'volt', 'nexi']) {
    it(`${provider}: the emulator's account is accepted`, async () => {
      const id = await connect({ code: `${provider}-ok`, provider, environment: 'emulator' });
      const verdict = await testConnection(hub.ctx, merchant, id);
      assert.equal(verdict.verdict, 'accepted', verdict.message);
    });
  }

  const wrong: Record<string, Record<string, string>> = {
    'netopia-v2': { api_key: 'not-a-key-netopia-knows', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
    multisafepay: { api_key: 'not-a-key-msp-knows' },
    nexi: { alias: 'ALIAS_WEB_NOBODY', mac_key: 'not-the-mac-key' },
    volt: { client_id: 'nobody', client_secret: 'wrong', username: 'nobody@example.com', password: 'wrong', notification_secret: 'n' },
  };
  for (const [provider, credentials] of Object.entries(wrong)) {
    it(`${provider}: wrong credentials are refused`, async () => {
      const id = await connect({
        code: `${provider}-wrong`,
        provider,
        environment: 'sandbox',
        credentials,
        settings: { endpoint: emulatorEndpoint(provider) },
      });
      const verdict = await testConnection(hub.ctx, merchant, id);
      assert.equal(verdict.verdict, 'refused', verdict.message);
      assert.ok(!verdict.message.includes(Object.values(credentials)[0]!), 'no credential in the message');
    });
  }

  it("nexi: the emulator terminal's alias with a wrong MAC key is refused", async () => {
    const alias = (await api('GET', '/v1/connections/nexi-ok')).body.credentials.alias as string;
    assert.match(alias, /^ALIAS_/);
    const id = await connect({
      code: 'nexi-wrong-mac',
      provider: 'nexi',
      environment: 'sandbox',
      credentials: { alias, mac_key: 'not-the-mac-key' },
      settings: { endpoint: emulatorEndpoint('nexi') },
    });
    const verdict = await testConnection(hub.ctx, merchant, id);
    assert.equal(verdict.verdict, 'refused', verdict.message);
    assert.match(verdict.message, /MAC/);
  });

  it('nobody listening at the endpoint: unreachable', async () => {
    const port = await freePort();
    const id = await connect({
      code: 'msp-nowhere',
      provider: 'multisafepay',
      environment: 'sandbox',
      credentials: { api_key: 'some-api-key-123' },
      settings: { endpoint: `http://127.0.0.1:${port}/v1/json` },
    });
    const verdict = await testConnection(hub.ctx, merchant, id);
    assert.equal(verdict.verdict, 'unreachable', verdict.message);
  });

  it('a processor without a harmless authenticated call (NETOPIA v1): unsupported, nothing sent', async () => {
    const id = await connect({ code: 'v1', provider: 'netopia-v1', environment: 'emulator' });
    assert.equal((await testConnection(hub.ctx, merchant, id)).verdict, 'unsupported');
  });

  it("another merchant's connection is not found", async () => {
    const other = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Other SRL' });
    const id = await connect({ code: 'mine', provider: 'multisafepay', environment: 'emulator' });
    await assert.rejects(testConnection(hub.ctx, other.body.id, id), { name: 'NotFoundError' });
  });
});
