import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword, needsRehash, verifyPassword } from '../../src/security/passwords.js';
import { maskCardNumbers, redactBody } from '../../src/services/redact.js';
import { createUser, login, newPasswordLink, passwordLinkOwner, purgeExpiredSessions, sessionOf, setPasswordWithLink } from '../../src/services/users.js';
import { createMerchant } from '../../src/services/merchants.js';
import { ConflictError } from '../../src/services/context.js';
import { ValidationError } from '../../src/core/validation.js';
import { catalogue, languageFromHeader } from '../../src/http/console/i18n.js';
import { openTestStore } from '../support/store.js';
import type { Store } from '../../src/store/store.js';

/** The console's users, passwords, sessions and the redaction of notification bodies, below HTTP. */

describe('passwords', () => {
  it('are scrypt hashes that carry their parameters, verified in constant time; a wrong or malformed one is refused', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    assert.notEqual(stored, await hashPassword('correct horse battery'), 'salted');
    assert.equal(await verifyPassword('correct horse battery', stored), true);
    assert.equal(await verifyPassword('correct horse batterx', stored), false);
    assert.equal(await verifyPassword('correct horse battery', 'scrypt$99$8$1$abcdefgh$abcdefghabcdefghabcdefgh'), false, 'N not a power of two');
    assert.equal(await verifyPassword('correct horse battery', null), false);
    assert.equal(needsRehash(stored), false);
    assert.equal(needsRehash(stored.replace('$32768$', '$16384$')), true, 'weaker parameters are rehashed at the next login');
  });
});

describe('redacting a notification body', () => {
  it('JSON: secret fields and card numbers', () => {
    const body = JSON.stringify({
      signature: 'abc',
      order: { id: 'O-1', card: { number: '4111 1111 1111 1111', cvv: '123' } },
      note: 'pan 5555555555554444 here',
      amount: 1050,
    });
    const text = redactBody('application/json', Buffer.from(body));
    const back = JSON.parse(text);
    assert.equal(back.signature, '[redacted]');
    assert.equal(back.order.card.number, '[redacted]');
    assert.equal(back.order.card.cvv, '[redacted]');
    assert.equal(back.note, 'pan ****4444 here');
    assert.equal(back.order.id, 'O-1');
    assert.equal(back.amount, 1050);
  });
  it('forms and XML: by field name and element, and Luhn-valid digit runs anywhere', () => {
    assert.equal(
      redactBody('application/x-www-form-urlencoded', Buffer.from('env_key=SECRET&data=abc&token=t')),
      'env_key=[redacted]\ndata=abc\ntoken=[redacted]',
    );
    const xml = redactBody(
      'text/xml',
      Buffer.from('<order><signature>XYZ</signature><pan_full>4111111111111111</pan_full><ref>12345</ref><x api_key="k1"/></order>'),
    );
    assert.match(xml, /<signature>\[redacted\]<\/signature>/);
    assert.doesNotMatch(xml, /4111111111111111/);
    assert.match(xml, /<ref>12345<\/ref>/);
    assert.match(xml, /api_key="\[redacted\]"/);
    assert.equal(maskCardNumbers('order 1234567890123 ref'), 'order 1234567890123 ref', 'digits that fail the Luhn check are kept');
  });
});

describe('users and sessions', () => {
  let store: Store;
  let merchantId: string;
  const ctx = () => ({ db: store.db, publicUrl: 'https://hub.example' });
  before(async () => {
    store = await openTestStore();
    merchantId = (await createMerchant({ db: store.db }, 'Shop')).merchant.id;
  });
  after(async () => store?.close());

  it('a merchant creates only its own admins and viewers; e-mails are unique and checked', async () => {
    await assert.rejects(createUser(ctx(), { kind: 'merchant', merchantId }, { email: 'op@shop.ro', role: 'operator' }), ValidationError);
    await assert.rejects(createUser(ctx(), { kind: 'merchant', merchantId }, { email: 'x@shop.ro', role: 'admin', merchant_id: 'mer_other' }), ValidationError);
    await assert.rejects(createUser(ctx(), { kind: 'operator' }, { email: 'not-an-email', role: 'operator' }), ValidationError);
    await assert.rejects(createUser(ctx(), { kind: 'operator' }, { email: 'v@shop.ro', role: 'viewer' }), ValidationError, 'a viewer needs a merchant');
    const made = await createUser(ctx(), { kind: 'merchant', merchantId }, { email: 'Admin@Shop.ro', role: 'admin' });
    assert.equal(made.user.email, 'admin@shop.ro');
    assert.equal(made.user.merchant_id, merchantId);
    assert.match(made.setPasswordUrl, /^https:\/\/hub\.example\/console\/set-password\?token=[A-Za-z0-9_-]{43}$/);
    await assert.rejects(createUser(ctx(), { kind: 'operator' }, { email: 'admin@shop.ro', role: 'operator' }), ConflictError);
  });

  it('a link sets the password once; login opens a session; five failures in a row make the account wait', async () => {
    const made = await createUser(ctx(), { kind: 'operator' }, { email: 'ops@hub.ro', role: 'operator', language: 'it' });
    const token = new URL(made.setPasswordUrl).searchParams.get('token')!;
    assert.deepEqual(await login(ctx(), 'ops@hub.ro', '', { idleMs: 60_000, absoluteMs: 60_000 }), { kind: 'refused' }, 'no password yet');
    assert.equal((await setPasswordWithLink(ctx(), token, 'short')).kind, 'weak');
    assert.equal((await setPasswordWithLink(ctx(), token, 'a long enough secret')).kind, 'set');
    assert.equal((await setPasswordWithLink(ctx(), token, 'another long secret')).kind, 'invalid_link', 'used once');
    const lifetime = { idleMs: 60_000, absoluteMs: 60_000 };
    const ok = await login(ctx(), 'OPS@hub.ro', 'a long enough secret', lifetime);
    assert.equal(ok.kind, 'ok');
    const session = await sessionOf(ctx(), (ok as { token: string }).token, lifetime);
    assert.equal(session?.role, 'operator');
    assert.equal(session?.language, 'it');
    assert.equal(session?.merchantId, null);
    assert.equal(await sessionOf(ctx(), 'x'.repeat(43), lifetime), undefined);
    for (let i = 0; i < 5; i++) assert.equal((await login(ctx(), 'ops@hub.ro', 'wrong password!', lifetime)).kind, 'refused');
    const blocked = await login(ctx(), 'ops@hub.ro', 'a long enough secret', lifetime);
    assert.equal(blocked.kind, 'blocked', 'the right password waits too');
    assert.ok((blocked as { retryAfterS: number }).retryAfterS > 20 && (blocked as { retryAfterS: number }).retryAfterS <= 30);
  });

  it("a new link ends the user's older unused links (not another user's); the newest one sets the password", async () => {
    const tokenOf = (url: string) => new URL(url).searchParams.get('token')!;
    const made = await createUser(ctx(), { kind: 'merchant', merchantId }, { email: 'links@shop.ro', role: 'viewer' });
    const other = await createUser(ctx(), { kind: 'merchant', merchantId }, { email: 'other@shop.ro', role: 'viewer' });
    const first = tokenOf(made.setPasswordUrl);
    assert.equal((await passwordLinkOwner(ctx(), first))?.email, 'links@shop.ro', 'the first link works until another is issued');
    const second = tokenOf((await newPasswordLink(ctx(), made.user.id)).setPasswordUrl);
    const third = tokenOf((await newPasswordLink(ctx(), made.user.id)).setPasswordUrl);
    assert.equal(await passwordLinkOwner(ctx(), first), undefined, 'the first link no longer opens the form');
    assert.equal(await passwordLinkOwner(ctx(), second), undefined, 'nor the second');
    assert.equal((await setPasswordWithLink(ctx(), first, 'a long enough secret')).kind, 'invalid_link');
    assert.equal((await setPasswordWithLink(ctx(), second, 'a long enough secret')).kind, 'invalid_link');
    assert.equal((await passwordLinkOwner(ctx(), tokenOf(other.setPasswordUrl)))?.email, 'other@shop.ro', "another user's link is untouched");
    assert.equal((await setPasswordWithLink(ctx(), third, 'the newest link works')).kind, 'set');
    const lifetime = { idleMs: 60_000, absoluteMs: 60_000 };
    assert.equal((await login(ctx(), 'links@shop.ro', 'the newest link works', lifetime)).kind, 'ok');
    // A link issued inside a caller's transaction (as the first start does) ends the older ones too.
    const fourth = await store.db.transaction().execute((trx) => newPasswordLink({ db: trx, publicUrl: 'https://hub.example' }, other.user.id));
    assert.equal(await passwordLinkOwner(ctx(), tokenOf(other.setPasswordUrl)), undefined);
    assert.equal((await passwordLinkOwner(ctx(), tokenOf(fourth.setPasswordUrl)))?.email, 'other@shop.ro');
  });
});

describe('the session janitor', () => {
  it('deletes sessions past their absolute expiry and keeps live ones', async () => {
    const store = await openTestStore();
    try {
      const ctx = { db: store.db, publicUrl: 'https://hub.example' };
      const made = await createUser(ctx, { kind: 'operator' }, { email: 'janitor@hub.ro', role: 'operator' });
      await setPasswordWithLink(ctx, new URL(made.setPasswordUrl).searchParams.get('token')!, 'a long enough secret');
      const expired = await login(ctx, 'janitor@hub.ro', 'a long enough secret', { idleMs: 60_000, absoluteMs: 1 });
      const live = await login(ctx, 'janitor@hub.ro', 'a long enough secret', { idleMs: 60_000, absoluteMs: 60_000 });
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(await purgeExpiredSessions(ctx), 1);
      const count = await store.db
        .selectFrom('user_sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1);
      assert.ok(expired.kind === 'ok' && live.kind === 'ok');
      assert.ok(await sessionOf(ctx, live.token, { idleMs: 60_000, absoluteMs: 60_000 }));
    } finally {
      await store.close();
    }
  });
});

describe('catalogues', () => {
  it('fill placeholders, and the browser’s language picks one of ours', () => {
    const c = catalogue({ en: { hi: 'Hello {name}' }, ro: { hi: 'Salut {name}' }, it: { hi: 'Ciao {name}' } });
    assert.equal(c.in('ro')('hi', { name: 'Ana' }), 'Salut Ana');
    assert.equal(languageFromHeader('de-DE,it;q=0.8,ro;q=0.9'), 'ro');
    assert.equal(languageFromHeader('it-IT'), 'it');
    assert.equal(languageFromHeader('fr'), 'en');
    assert.equal(languageFromHeader(undefined), 'en');
  });
  it('refuse a missing or an unknown key (checked by the type checker)', () => {
    // @ts-expect-error: Romanian lacks `bye`
    catalogue({ en: { hi: 'Hello', bye: 'Bye' }, ro: { hi: 'Salut' }, it: { hi: 'Ciao', bye: 'Ciao' } });
    // @ts-expect-error: Italian has a key English does not
    catalogue({ en: { hi: 'Hello' }, ro: { hi: 'Salut' }, it: { hi: 'Ciao', extra: 'x' } });
  });
});
