import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { generateApiKey } from '../../src/security/api-keys.js';
import { NotFoundError } from '../../src/services/context.js';
import { HubCaches } from '../../src/services/hub-caches.js';
import {
  createApiKey,
  createMerchant,
  findMerchantByApiKey,
  listApiKeys,
  revokeApiKey,
  rotateMerchantKey,
  KEY_TOUCH_INTERVAL_MS,
} from '../../src/services/merchants.js';
import {
  changeUserRole,
  createUser,
  disableUser,
  enableUser,
  getMerchantUser,
  LastAdminError,
  login,
  newMerchantUserPasswordLink,
  sessionOf,
  setPasswordWithLink,
  DEFAULT_SESSION_LIFETIME,
} from '../../src/services/users.js';
import { migrate, MIGRATIONS } from '../../src/store/migrations.js';
import { openStore, type Store } from '../../src/store/store.js';
import { apiClient, eventually, startTestHub } from '../support/hub.js';
import { freshStoreOptions, openTestStore } from '../support/store.js';

/**
 * A merchant's API keys (several, named; created shown once, revoked at once, the last use written at most once a
 * minute), the migration of the single key of before, rotation, and the team's user changes (role, disable, links),
 * below HTTP and through the API, on the test run's store.
 */

let store: Store;
let ctx: { db: Store['db']; caches: HubCaches; publicUrl: string };
before(async () => {
  store = await openTestStore();
  ctx = { db: store.db, caches: new HubCaches(store.db), publicUrl: 'http://127.0.0.1:1' };
});
after(() => store?.close());

const keyRow = (id: string) => store.db.selectFrom('merchant_api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

describe('API keys', () => {
  it('a created key works at once, is listed by name and prefix (never its hash), and stops working the moment it is revoked', async () => {
    const { merchant, apiKey } = await createMerchant(ctx, 'Keys SRL');
    const created = await createApiKey(ctx, merchant.id, { name: '  shop  ' });
    assert.match(created.secret, /^sk_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.key.name, 'shop');
    assert.equal(created.secret.slice(0, created.key.prefix.length), created.key.prefix);
    assert.equal((await findMerchantByApiKey(ctx, created.secret))?.id, merchant.id);
    const listed = await listApiKeys(ctx, merchant.id);
    assert.deepEqual(
      listed.map((k) => [k.name, k.revoked_at]),
      [
        ['default', null],
        ['shop', null],
      ],
    );
    assert.ok(!JSON.stringify(listed).includes(created.secret) && !JSON.stringify(listed).includes(apiKey));
    assert.ok(listed.every((k) => !('key_hash' in k)));

    const revoked = await revokeApiKey(ctx, merchant.id, created.key.id);
    assert.ok(revoked.key.revoked_at);
    assert.equal(revoked.liveKeys, 1);
    assert.equal(await findMerchantByApiKey(ctx, created.secret), undefined, 'a revoked key is refused at once');
    assert.equal((await findMerchantByApiKey(ctx, apiKey))?.id, merchant.id, 'the other key still works');
    // Revoking again changes nothing (the time of revocation stays).
    assert.deepEqual((await revokeApiKey(ctx, merchant.id, created.key.id)).key.revoked_at, revoked.key.revoked_at);
  });

  it("another merchant's key cannot be revoked (it answers like a key that does not exist)", async () => {
    const a = await createMerchant(ctx, 'A');
    const b = await createMerchant(ctx, 'B');
    const [aKey] = await listApiKeys(ctx, a.merchant.id);
    await assert.rejects(revokeApiKey(ctx, b.merchant.id, aKey!.id), NotFoundError);
    await assert.rejects(revokeApiKey(ctx, b.merchant.id, 'key_00000000000000000000000000'), NotFoundError);
    assert.equal((await findMerchantByApiKey(ctx, a.apiKey))?.id, a.merchant.id);
  });

  it('the last key may be revoked: the merchant is then without API access', async () => {
    const m = await createMerchant(ctx, 'Last');
    const [only] = await listApiKeys(ctx, m.merchant.id);
    const r = await revokeApiKey(ctx, m.merchant.id, only!.id);
    assert.equal(r.liveKeys, 0);
    assert.equal(await findMerchantByApiKey(ctx, m.apiKey), undefined);
  });

  it('a name is required and at most 100 characters', async () => {
    const m = await createMerchant(ctx, 'Names');
    for (const name of ['', '   ', 'x'.repeat(101), 42, undefined]) await assert.rejects(createApiKey(ctx, m.merchant.id, { name }), /name/);
    await assert.rejects(createApiKey(ctx, 'mer_00000000000000000000000000', { name: 'x' }), NotFoundError);
  });

  it('rotation creates one new key and revokes every other one at once', async () => {
    const m = await createMerchant(ctx, 'Rotor');
    const extra = await createApiKey(ctx, m.merchant.id, { name: 'extra' });
    const rotated = await rotateMerchantKey(ctx, m.merchant.id);
    assert.ok(rotated);
    assert.equal(await findMerchantByApiKey(ctx, m.apiKey), undefined);
    assert.equal(await findMerchantByApiKey(ctx, extra.secret), undefined);
    assert.equal((await findMerchantByApiKey(ctx, rotated))?.id, m.merchant.id);
    assert.deepEqual(
      (await listApiKeys(ctx, m.merchant.id)).map((k) => [k.name, k.revoked_at === null]),
      [
        ['default', false],
        ['extra', false],
        ['rotated', true],
      ],
    );
    assert.equal(await rotateMerchantKey(ctx, 'mer_00000000000000000000000000'), null);
  });

  it('the last use is written after a lookup, then not again for a minute, then again', async () => {
    const m = await createMerchant(ctx, 'Touch');
    const [k] = await listApiKeys(ctx, m.merchant.id);
    assert.equal(k!.last_used_at, null);
    await findMerchantByApiKey(ctx, m.apiKey);
    const first = await eventually(async () => (await keyRow(k!.id)).last_used_at, 5_000, 'last_used_at written');
    // Within the minute (as another process might see it): no new write, even from a fresh process memory.
    const recent = new Date(Date.now() - 10_000);
    await store.db.updateTable('merchant_api_keys').set({ last_used_at: recent }).where('id', '=', k!.id).execute();
    const fresh = { ...ctx, caches: new HubCaches(store.db) };
    for (let i = 0; i < 5; i++) await findMerchantByApiKey(fresh, m.apiKey);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(new Date((await keyRow(k!.id)).last_used_at!).getTime(), recent.getTime(), 'not written again within a minute');
    // Older than a minute: written again on the next use.
    const old = new Date(Date.now() - KEY_TOUCH_INTERVAL_MS - 5_000);
    await store.db.updateTable('merchant_api_keys').set({ last_used_at: old }).where('id', '=', k!.id).execute();
    await findMerchantByApiKey({ ...ctx, caches: new HubCaches(store.db) }, m.apiKey);
    await eventually(async () => new Date((await keyRow(k!.id)).last_used_at!).getTime() > old.getTime() + 60_000, 5_000, 'written again');
    assert.ok(first);
  });
});

describe('the single key of before migration 008', () => {
  it('moves into merchant_api_keys as "default" and keeps working, through the API too', async () => {
    const old = await openStore({ ...freshStoreOptions(), migrate: false });
    try {
      // The schema as it was before merchant_api_keys: every migration before 008_merchant_api_keys, and a merchant with its key.
      await sql`CREATE TABLE schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`.execute(old.db);
      for (const m of MIGRATIONS.slice(
        0,
        MIGRATIONS.findIndex((x) => x.id === '008_merchant_api_keys_user_logins'),
      )) {
        for (const statement of m.sql
          .split(/;\s*\n/)
          .map((s) => s.trim())
          .filter(Boolean))
          await sql.raw(statement).execute(old.db);
        await sql`INSERT INTO schema_migrations (id) VALUES (${m.id})`.execute(old.db);
      }
      const { key, hash, prefix } = generateApiKey('sk');
      await sql`INSERT INTO merchants (id, name, api_key_hash, api_key_prefix) VALUES ('mer_old', 'Veche SRL', ${hash}, ${prefix})`.execute(old.db);
      assert.ok((await migrate(old.db)).includes('008_merchant_api_keys_user_logins'));
      const rows = await old.db.selectFrom('merchant_api_keys').selectAll().execute();
      assert.deepEqual(
        rows.map((r) => [r.merchant_id, r.name, r.prefix, r.key_hash, r.revoked_at]),
        [['mer_old', 'default', prefix, hash, null]],
      );
      assert.match(rows[0]!.id, /^key_[0-9a-z]{26}$/);
      const columns = await sql<{
        column_name: string;
      }>`SELECT column_name FROM information_schema.columns WHERE table_name = 'merchants' AND table_schema = current_schema()`.execute(old.db);
      assert.ok(!columns.rows.some((c) => c.column_name.startsWith('api_key')), 'the key columns left merchants');
      const hub = await startTestHub({ emulators: false, store: old });
      try {
        const asOld = apiClient(hub.url, key);
        assert.equal((await asOld('GET', '/v1/merchant')).body.id, 'mer_old');
        assert.equal((await asOld('GET', '/v1/merchant/api-keys')).body.data[0].name, 'default');
      } finally {
        await hub.close();
      }
    } finally {
      await old.close();
    }
  });
});

describe('API keys through the API', () => {
  it('create (shown once), list, use, revoke (401 at once here and in another hub process on the same database), rotate', async () => {
    const hub = await startTestHub({ emulators: false });
    const other = await startTestHub({ emulators: false, store: hub.store });
    try {
      const admin = apiClient(hub.url, hub.adminKey);
      const m = await admin('POST', '/v1/merchants', { name: 'Api Keys SRL' });
      assert.equal(m.status, 201);
      const api = apiClient(hub.url, m.body.api_key);
      const created = await api('POST', '/v1/merchant/api-keys', { name: 'mobile app' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.equal(created.body.object, 'api_key');
      assert.match(created.body.api_key, /^sk_/);
      assert.ok(created.body.api_key.startsWith(created.body.prefix));
      const list = await api('GET', '/v1/merchant/api-keys');
      assert.deepEqual(
        list.body.data.map((k: { name: string }) => k.name),
        ['default', 'mobile app'],
      );
      assert.ok(!JSON.stringify(list.body).includes(created.body.api_key), 'a key is shown only when created');
      assert.ok(list.body.data.every((k: Record<string, unknown>) => !('api_key' in k) && !('key_hash' in k)));
      const viaNew = [apiClient(hub.url, created.body.api_key), apiClient(other.url, created.body.api_key)];
      for (const client of viaNew) assert.equal((await client('GET', '/v1/merchant')).status, 200);
      const revoked = await api('DELETE', `/v1/merchant/api-keys/${created.body.id}`);
      assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
      assert.ok(revoked.body.revoked_at);
      assert.equal(revoked.body.live_keys_left, 1);
      for (const client of viaNew) assert.equal((await client('GET', '/v1/merchant')).status, 401, 'refused at once, in both processes');
      assert.equal((await api('POST', '/v1/merchant/api-keys', { name: '' })).status, 422);
      assert.equal((await api('DELETE', '/v1/merchant/api-keys/key_00000000000000000000000000')).status, 404);
      const rotated = await admin('POST', `/v1/merchants/${m.body.id}/rotate-key`);
      assert.equal(rotated.status, 200);
      assert.equal((await api('GET', '/v1/merchant')).status, 401);
      assert.equal((await apiClient(other.url, m.body.api_key)('GET', '/v1/merchant')).status, 401);
      assert.equal((await apiClient(other.url, rotated.body.api_key)('GET', '/v1/merchant')).body.id, m.body.id);
    } finally {
      await other.close();
      await hub.close();
    }
  });
});

describe("a merchant's team", () => {
  async function team() {
    const { merchant } = await createMerchant(ctx, `Team ${Math.random()}`);
    const creator = { kind: 'merchant' as const, merchantId: merchant.id };
    const mk = async (role: 'admin' | 'viewer') => {
      const made = await createUser(ctx, creator, { email: `${role}-${Math.random().toString(36).slice(2)}@team.example`, role });
      const token = new URL(made.setPasswordUrl).searchParams.get('token')!;
      assert.equal((await setPasswordWithLink(ctx, token, 'a long team password')).kind, 'set');
      return made.user;
    };
    return { merchant, mk };
  }

  it('the last enabled admin can be neither demoted nor disabled; with a second admin, both work', async () => {
    const { merchant, mk } = await team();
    const admin = await mk('admin');
    await assert.rejects(changeUserRole(ctx, merchant.id, admin.id, 'viewer'), LastAdminError);
    await assert.rejects(disableUser(ctx, merchant.id, admin.id), LastAdminError);
    const second = await mk('viewer');
    await assert.rejects(changeUserRole(ctx, merchant.id, admin.id, 'viewer'), LastAdminError, 'a viewer does not count');
    assert.equal((await changeUserRole(ctx, merchant.id, second.id, 'admin')).role, 'admin');
    assert.equal((await changeUserRole(ctx, merchant.id, admin.id, 'viewer')).role, 'viewer');
    await assert.rejects(disableUser(ctx, merchant.id, second.id), LastAdminError);
    await assert.rejects(changeUserRole(ctx, merchant.id, second.id, 'operator'), /role/);
  });

  it('a disabled admin does not count; disabling ends the sessions at once and refuses logins and links; enabling lets them back', async () => {
    const { merchant, mk } = await team();
    const a1 = await mk('admin');
    const a2 = await mk('admin');
    const logged = await login(ctx, a2.email, 'a long team password', DEFAULT_SESSION_LIFETIME);
    assert.equal(logged.kind, 'ok');
    const token = logged.kind === 'ok' ? logged.token : '';
    assert.ok((await getMerchantUser(ctx, merchant.id, a2.id)).last_login_at, 'the login is recorded');
    assert.ok(await sessionOf(ctx, token, DEFAULT_SESSION_LIFETIME));
    assert.ok((await disableUser(ctx, merchant.id, a2.id)).disabled_at);
    assert.equal(await sessionOf(ctx, token, DEFAULT_SESSION_LIFETIME), undefined, 'the session ended');
    assert.equal((await store.db.selectFrom('user_sessions').select('token_hash').where('user_id', '=', a2.id).execute()).length, 0);
    assert.equal((await login(ctx, a2.email, 'a long team password', DEFAULT_SESSION_LIFETIME)).kind, 'refused');
    await assert.rejects(newMerchantUserPasswordLink(ctx, merchant.id, a2.id), /disabled/);
    await assert.rejects(disableUser(ctx, merchant.id, a1.id), LastAdminError, 'the disabled admin does not count');
    await enableUser(ctx, merchant.id, a2.id);
    assert.equal((await login(ctx, a2.email, 'a long team password', DEFAULT_SESSION_LIFETIME)).kind, 'ok');
    const link = await newMerchantUserPasswordLink(ctx, merchant.id, a2.id);
    assert.equal((await setPasswordWithLink(ctx, new URL(link.setPasswordUrl).searchParams.get('token')!, 'another long password')).kind, 'set');
  });

  it("another merchant's user answers like one that does not exist, for every change", async () => {
    const one = await team();
    const two = await team();
    const stranger = await one.mk('viewer');
    await two.mk('admin');
    for (const attempt of [
      () => getMerchantUser(ctx, two.merchant.id, stranger.id),
      () => changeUserRole(ctx, two.merchant.id, stranger.id, 'admin'),
      () => disableUser(ctx, two.merchant.id, stranger.id),
      () => enableUser(ctx, two.merchant.id, stranger.id),
      () => newMerchantUserPasswordLink(ctx, two.merchant.id, stranger.id),
    ])
      await assert.rejects(attempt(), NotFoundError);
    assert.equal((await getMerchantUser(ctx, one.merchant.id, stranger.id)).role, 'viewer');
    assert.equal((await getMerchantUser(ctx, one.merchant.id, stranger.id)).disabled_at, null);
  });
});
