import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, startEmulator, type Emulator } from './harness.js';

describe('NETOPIA v1 emulator: seller accounts, as the admin console hands them out', () => {
  let store: Store;
  let emulator: Emulator;
  before(async () => {
    store = await openTestStore();
    emulator = await startEmulator(store);
  });
  after(async () => {
    await emulator.stop();
    await store.close();
  });

  it("creates an account with a signature, NETOPIA's certificate and a new private key for IPNs", async () => {
    const account = await createAccount(emulator, { name: 'Ceainăria Test' });
    assert.match(account.signature, /^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/);
    assert.equal(account.name, 'Ceainăria Test');
    assert.equal(account.capture, 'auto');
    assert.equal(account.payment_url, `${emulator.base}/`);

    const certificate = new X509Certificate(account.certificate);
    assert.match(certificate.subject, /CN=sandboxsecure\.mobilpay\.ro emulator/);
    assert.equal(certificate.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(account.private_key, /^-----BEGIN PRIVATE KEY-----/);
    const ipnKey = createPrivateKey(account.private_key);
    assert.equal(ipnKey.asymmetricKeyDetails?.modulusLength, 2048);
    // The two files play different roles and are not one key pair.
    const ipnPublic = createPublicKey(ipnKey).export({ type: 'spki', format: 'der' });
    assert.notDeepEqual(ipnPublic, certificate.publicKey.export({ type: 'spki', format: 'der' }));
  });

  it('gives every account the same platform certificate and its own IPN key', async () => {
    const a = await createAccount(emulator);
    const b = await createAccount(emulator, { capture: 'manual' });
    assert.equal(a.certificate, b.certificate);
    assert.notEqual(a.private_key, b.private_key);
    assert.notEqual(a.signature, b.signature);
    assert.equal(b.capture, 'manual');
  });

  it('shows an account without its private key, and 404 for an unknown signature', async () => {
    const account = await createAccount(emulator, { capture: 'manual' });
    const response = await fetch(`${emulator.base}/accounts/${account.signature}`);
    assert.equal(response.status, 200);
    const shown = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(shown).sort(), ['capture', 'certificate', 'name', 'payment_url', 'signature']);
    assert.equal(shown.capture, 'manual');

    const unknown = await fetch(`${emulator.base}/accounts/AAAA-BBBB-CCCC-DDDD-EEEE`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { ok: boolean }).ok, false);
  });

  it('refuses invalid account settings with a JSON error, never a 500', async () => {
    for (const body of ['{"capture":"later"}', '{"name":""}', '[1]', '{"name":', '"text"']) {
      const response = await fetch(`${emulator.base}/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(response.status, 400, body);
      const json = (await response.json()) as { ok: boolean; error: { code: number } };
      assert.equal(json.ok, false);
    }
  });

  it('keeps the platform key in the database: a second emulator over the same store hands out the same certificate', async () => {
    const first = await createAccount(emulator);
    const second = await startEmulator(store);
    try {
      const other = await createAccount(second);
      assert.equal(other.certificate, first.certificate);
      const shown = await fetch(`${second.base}/accounts/${first.signature}`);
      assert.equal(shown.status, 200);
    } finally {
      await second.stop();
    }
  });
});
