import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openStore, type Store } from '../../src/store/store.js';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { freshStoreOptions, TEST_STORE } from '../support/store.js';
import { loginCookie, makeUser, PASSWORD, postForm, setPasswordByLink } from '../support/console.js';

/**
 * The console's doors over plain HTTP: creating users (API and CLI), the session cookie's attributes, CSRF,
 * throttled logins per address, idle and absolute expiry, and a session shared by two hubs on one database.
 */

let hub: TestHub;
let merchant: { id: string; key: string };

before(async () => {
  hub = await startTestHub({ emulators: false, trustProxy: ['127.0.0.1'], console: { loginFailuresPerAddress: 3 } });
  const m = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Magazin' });
  merchant = { id: m.body.id, key: m.body.api_key };
});
after(async () => hub?.close());

describe('creating console users', () => {
  it('the operator creates any user; a merchant its own admins and viewers only; each answer has a one-time link', async () => {
    const admin = apiClient(hub.url, hub.adminKey);
    const asMerchant = apiClient(hub.url, merchant.key);
    const op = await admin('POST', '/v1/users', { email: 'ops@hub.example', role: 'operator' });
    assert.equal(op.status, 201, JSON.stringify(op.body));
    assert.equal(op.body.merchant_id, null);
    assert.match(op.body.set_password_url, new RegExp(`^${hub.url}/console/set-password\\?token=`));
    assert.equal(op.body.password_hash, undefined);
    const mine = await asMerchant('POST', '/v1/merchant/users', { email: 'staff@magazin.ro', role: 'viewer', language: 'ro' });
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    assert.equal(mine.body.merchant_id, merchant.id);
    assert.equal((await asMerchant('POST', '/v1/merchant/users', { email: 'op2@magazin.ro', role: 'operator' })).status, 422);
    assert.equal((await asMerchant('POST', '/v1/users', { email: 'op3@magazin.ro', role: 'operator' })).status, 403);
    assert.equal((await asMerchant('POST', '/v1/merchant/users', { email: 'STAFF@magazin.ro', role: 'admin' })).status, 409, 'e-mails are unique, any case');
    assert.equal((await admin('POST', '/v1/users', { email: 'x@magazin.ro', role: 'admin' })).status, 422, 'an admin needs a merchant');
    assert.equal((await admin('POST', '/v1/users', { email: 'x@magazin.ro', role: 'admin', merchant_id: 'mer_nope' })).status, 422);
    const listed = await asMerchant('GET', '/v1/merchant/users');
    assert.deepEqual(
      listed.body.data.map((u: { email: string }) => u.email),
      ['staff@magazin.ro'],
    );
  });

  it('incasso users create prints the one-time link (operator key or merchant key)', async () => {
    const asOperator = { INCASSO_URL: hub.url, INCASSO_ADMIN_KEY: hub.adminKey };
    const created = await incasso(['users', 'create', '--email', 'cli-admin@magazin.ro', '--role', 'admin', '--merchant', merchant.id], asOperator);
    assert.equal(created.code, 0, created.stderr);
    const link = /(http:\/\/\S+\/console\/set-password\?token=\S+)/.exec(created.stdout)?.[1];
    assert.ok(link, created.stdout);
    await setPasswordByLink(link);
    assert.ok(await loginCookie(hub.url, 'cli-admin@magazin.ro'));
    const noMerchant = await incasso(['users', 'create', '--email', 'y@magazin.ro', '--role', 'viewer'], asOperator);
    assert.equal(noMerchant.code, 2, 'a viewer needs --merchant with the operator key');
    assert.match(noMerchant.stderr, /--merchant ID is required/);
    const asMerchant = { INCASSO_URL: hub.url, INCASSO_DATA_DIR: '/nonexistent', INCASSO_API_KEY: merchant.key };
    const viewer = await incasso(['users', 'create', '--email', 'cli-viewer@magazin.ro', '--role', 'viewer'], asMerchant);
    assert.equal(viewer.code, 0, viewer.stderr);
    assert.equal((await incasso(['users', 'create', '--email', 'z@magazin.ro', '--role', 'operator'], asMerchant)).code, 1);
    const unknown = await incasso(['users', 'delete'], asOperator);
    assert.equal(unknown.code, 2);
    const missing = await incasso(['users', 'create'], asOperator);
    assert.match(missing.stderr, /--email and --role are required/);
  });
});

describe('the session cookie', () => {
  it('is HttpOnly, SameSite=Lax, scoped to /console, with a lifetime; Secure only when the trusted proxy says https', async () => {
    const user = await makeUser(hub.url, hub.adminKey, 'cookie@magazin.ro', 'admin', merchant.id);
    const plain = await postForm(`${hub.url}/console/login`, { email: user.email, password: user.password });
    const attributes = plain.headers.get('set-cookie')!;
    assert.match(attributes, /^incasso_console=[A-Za-z0-9_-]{43}; Path=\/console; HttpOnly; SameSite=Lax; Max-Age=43200$/);
    const proxied = await postForm(
      `${hub.url}/console/login`,
      { email: user.email, password: user.password },
      { headers: { 'x-forwarded-proto': 'https' }, origin: 'https://127.0.0.1:' + new URL(hub.url).port },
    );
    assert.equal(proxied.status, 303);
    assert.match(proxied.headers.get('set-cookie')!, /; Secure$/);
  });

  it('is refused when its session is unknown, and the browser is sent to the login page', async () => {
    const r = await fetch(`${hub.url}/console/payments`, { redirect: 'manual', headers: { cookie: `incasso_console=${'A'.repeat(43)}` } });
    assert.equal(r.status, 303);
    assert.equal(r.headers.get('location'), '/console/login?expired=1&next=%2Fconsole%2Fpayments');
  });
});

describe('CSRF', () => {
  it('a state-changing request needs the session’s token and the console’s own Origin', async () => {
    const user = await makeUser(hub.url, hub.adminKey, 'csrf@magazin.ro', 'admin', merchant.id);
    const cookie = await loginCookie(hub.url, user.email);
    const page = await (await fetch(`${hub.url}/console/payments`, { headers: { cookie } })).text();
    const token = /name="_csrf" value="([^"]+)"/.exec(page)?.[1];
    assert.ok(token);
    const stillIn = async () => (await fetch(`${hub.url}/console/payments`, { redirect: 'manual', headers: { cookie } })).status === 200;
    const noToken = await postForm(`${hub.url}/console/logout`, {}, { cookie });
    assert.equal(noToken.status, 403);
    assert.match(await noToken.text(), /did not come from this console/);
    assert.equal((await postForm(`${hub.url}/console/logout`, { _csrf: 'x'.repeat(43) }, { cookie })).status, 403);
    assert.equal((await postForm(`${hub.url}/console/logout`, { _csrf: token }, { cookie, origin: 'https://evil.example' })).status, 403);
    assert.equal((await postForm(`${hub.url}/console/logout`, { _csrf: token }, { cookie, origin: null })).status, 403, 'neither Origin nor Referer');
    assert.equal((await postForm(`${hub.url}/console/language`, { _csrf: token, language: 'it' }, { cookie, origin: 'https://evil.example' })).status, 403);
    assert.ok(await stillIn(), 'the refused requests changed nothing');
    assert.equal(
      (await postForm(`${hub.url}/console/login`, { email: user.email, password: PASSWORD }, { origin: 'https://evil.example' })).status,
      403,
      'login CSRF',
    );
    const out = await postForm(`${hub.url}/console/logout`, { _csrf: token }, { cookie });
    assert.equal(out.status, 303);
    assert.equal(out.headers.get('location'), '/console/login?bye=1');
    assert.ok(!(await stillIn()), 'logged out: the session is gone from the database');
  });
});

describe('login throttling', () => {
  it('per source address: after 3 failures (any accounts) the address waits, even with a right password', async () => {
    const user = await makeUser(hub.url, hub.adminKey, 'throttle@magazin.ro', 'viewer', merchant.id);
    const from = { headers: { 'x-forwarded-for': '203.0.113.9' } };
    for (const email of ['nobody1@x.ro', 'nobody2@x.ro', 'nobody3@x.ro']) {
      const r = await postForm(`${hub.url}/console/login`, { email, password: 'wrong wrong wrong' }, from);
      assert.equal(r.status, 401);
      assert.match(await r.text(), /The e-mail or the password is not right/);
    }
    const refused = await postForm(`${hub.url}/console/login`, { email: user.email, password: user.password }, from);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    // Another address is not held back.
    const other = await postForm(
      `${hub.url}/console/login`,
      { email: user.email, password: user.password },
      { headers: { 'x-forwarded-for': '203.0.113.10' } },
    );
    assert.equal(other.status, 303);
  });
});

describe('expiry', () => {
  it('a session idle too long, or older than its absolute lifetime, ends', async () => {
    const short = await startTestHub({ emulators: false, console: { lifetime: { idleMs: 1_000, absoluteMs: 3_000 } } });
    try {
      const m = await apiClient(short.url, short.adminKey)('POST', '/v1/merchants', { name: 'Scurt' });
      const user = await makeUser(short.url, short.adminKey, 'short@x.ro', 'viewer', m.body.id);
      const open = (cookie: string) => fetch(`${short.url}/console/payments`, { redirect: 'manual', headers: { cookie } }).then((r) => r.status);
      // This hub trusts no proxy: a forwarded "https" is not believed, and the cookie is not marked Secure.
      const untrusted = await postForm(
        `${short.url}/console/login`,
        { email: user.email, password: user.password },
        { headers: { 'x-forwarded-proto': 'https' } },
      );
      assert.equal(untrusted.status, 303);
      assert.doesNotMatch(untrusted.headers.get('set-cookie')!, /Secure/);
      const idle = await loginCookie(short.url, user.email);
      assert.equal(await open(idle), 200);
      await new Promise((r) => setTimeout(r, 1_400));
      assert.equal(await open(idle), 303, 'idle for longer than 1 s');
      const busy = await loginCookie(short.url, user.email);
      const started = Date.now();
      while (Date.now() - started < 2_500) {
        assert.equal(await open(busy), 200, 'used every 0.4 s: alive');
        await new Promise((r) => setTimeout(r, 400));
      }
      await new Promise((r) => setTimeout(r, 700));
      assert.equal(await open(busy), 303, 'past 3 s since login, however busy');
    } finally {
      await short.close();
    }
  });
});

describe('several hubs on one database', () => {
  it('a session opened on one hub is valid on the other, and a logout on either ends it on both', async () => {
    let shared: Store | undefined;
    let second: Store | undefined;
    let one: TestHub | undefined;
    let two: TestHub | undefined;
    try {
      // PostgreSQL: two stores (two pools) on one schema, as two processes would have; PGlite: one store, two hubs.
      const options = freshStoreOptions();
      shared = await openStore(options);
      second = TEST_STORE === 'postgres' ? await openStore(options) : shared;
      one = await startTestHub({ emulators: false, store: shared });
      two = await startTestHub({ emulators: false, store: second });
      const m = await apiClient(one.url, one.adminKey)('POST', '/v1/merchants', { name: 'Doi' });
      const user = await makeUser(one.url, one.adminKey, 'two@x.ro', 'admin', m.body.id);
      const cookie = await loginCookie(one.url, user.email);
      const onTwo = await fetch(`${two.url}/console/payments`, { redirect: 'manual', headers: { cookie } });
      assert.equal(onTwo.status, 200);
      const token = /name="_csrf" value="([^"]+)"/.exec(await onTwo.text())![1]!;
      assert.equal((await postForm(`${two.url}/console/logout`, { _csrf: token }, { cookie })).status, 303);
      assert.equal((await fetch(`${one.url}/console/payments`, { redirect: 'manual', headers: { cookie } })).status, 303);
    } finally {
      await one?.close();
      await two?.close();
      if (second && second !== shared) await second.close();
      await shared?.close();
    }
  });
});

describe('the logs', () => {
  it('never hold a password, a session token or a one-time link token', async () => {
    const r = await apiClient(hub.url, hub.adminKey)('POST', '/v1/users', { email: 'logs@magazin.ro', role: 'viewer', merchant_id: merchant.id });
    const linkToken = new URL(r.body.set_password_url).searchParams.get('token')!;
    await fetch(r.body.set_password_url);
    await setPasswordByLink(r.body.set_password_url);
    const cookie = await loginCookie(hub.url, 'logs@magazin.ro');
    await postForm(`${hub.url}/console/login`, { email: 'logs@magazin.ro', password: 'a wrong password typed' });
    const text = hub.rawLogs.join('\n');
    assert.ok(
      hub.rawLogs.some((l) => l.includes('/console/set-password')),
      'the requests were logged',
    );
    for (const secret of [PASSWORD, 'a wrong password typed', linkToken, cookie.split('=')[1]!]) assert.ok(!text.includes(secret), `a secret in the logs`);
  });
});

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));

/** Runs the incasso CLI with only the given environment (and PATH, HOME). */
function incasso(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}
