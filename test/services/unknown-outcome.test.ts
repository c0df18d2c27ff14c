import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { futureExpiry, postForm } from '../support/emulator-harness.js';
import { LATE_ANSWER_AMOUNT_SUFFIX } from '../../emulators/nexi/back-office.js';
import { Outbound } from '../../src/security/outbound.js';

/**
 * The processor carries out a start and its answer comes after the hub's deadline (the Nexi emulator answers a
 * PayMail for an amount ending in 408 late, having made the link and e-mailed it to the payer). The hub must not
 * take the time-out for "nothing happened": the attempt is `unknown`, the payer is not offered to pay again, and
 * the worker's prompt status check, keyed by the hub's own reference, finds out what the processor did.
 */

let hub: TestHub;
let api: ReturnType<typeof apiClient>;

const START_DEADLINE_MS = 1500;
const BILLING = { first_name: 'Giulia', last_name: 'Bianchi', email: 'giulia@example.it', city: 'Milano' };

before(async () => {
  hub = await startTestHub({ emulators: true });
  // The emulator answers 60 s late; the hub gives up on a start after 1.5 s (instead of the connector's 20 s).
  hub.ctx.processorDeadlinesMs = { start: START_DEADLINE_MS };
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Bottega Unknown' });
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'nexi', provider: 'nexi', environment: 'emulator' });
  assert.equal(c.status, 201, JSON.stringify(c.body));
});
after(() => hub?.close());

async function newPayment(amount: number): Promise<string> {
  const r = await api('POST', '/v1/payments', {
    connection: 'nexi',
    order_id: `ORD-${randomBytes(5).toString('hex')}`,
    amount,
    currency: 'EUR',
    description: 'Risotto',
    billing: BILLING,
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const attemptsOf = async (id: string) =>
  (await api('GET', `/v1/payments/${id}`)).body.attempts as Array<{ id: string; status: string; action: string | null; error_message: string | null }>;
const paidEvents = async (id: string) =>
  Number((await sql<{ n: string }>`SELECT count(*) AS n FROM events WHERE payment_id = ${id} AND type = 'payment.paid'`.execute(hub.store.db)).rows[0]!.n);

/** The payer's page: what it says, and whether it offers a way to pay (again). */
async function payPage(id: string): Promise<{ status: number; text: string; offersPayment: boolean }> {
  const page = await fetch(`${hub.url}/pay/${id}`, { redirect: 'manual' });
  const text = await page.text();
  return {
    status: page.status,
    text,
    offersPayment: page.status === 303 || text.includes(`href="/pay/${id}"`) || /Try again|Pay now|Continue to payment/.test(text),
  };
}

describe('a start whose answer comes after the deadline', () => {
  it('leaves the attempt unknown, refuses a second attempt, and the status check resolves it to paid with exactly one payment.paid', async () => {
    const id = await newPayment(1000 + LATE_ANSWER_AMOUNT_SUFFIX);

    const started = Date.now();
    const first = await payPage(id);
    assert.ok(Date.now() - started >= START_DEADLINE_MS - 50, 'the hub waited for the processor up to its deadline');
    assert.equal(first.status, 200);
    assert.match(first.text, /We are checking with the card processor whether your payment went through\. Please do not pay again\./);
    assert.equal(first.offersPayment, false, first.text);

    const [attempt, ...others] = await attemptsOf(id);
    assert.equal(others.length, 0);
    assert.equal(attempt!.status, 'unknown');
    assert.equal(attempt!.action, 'outcome_unknown');
    const unknownPayment = (await api('GET', `/v1/payments/${id}`)).body;
    assert.equal(unknownPayment.status, 'pending');
    const concluded = unknownPayment.notifications.find((n: { attempt_id: string; status: string }) => n.attempt_id === attempt!.id && n.status === 'applied');
    assert.deepEqual(concluded?.summary, { action: 'outcome_unknown', code: 'timeout', message: 'the processor did not answer within 1.5 s' });

    // The processor did the work: the link exists (PayMail e-mailed it to the payer).
    const link = await sql<{ token: string }>`SELECT token FROM emu_nexi_links WHERE cod_trans = ${attempt!.id}`.execute(hub.store.db);
    assert.equal(link.rows.length, 1, 'the emulator made the link although the hub never read its answer');

    // A second visit neither starts a new attempt nor offers to pay.
    const second = await payPage(id);
    assert.equal(second.offersPayment, false, second.text);
    assert.match(second.text, /Please do not pay again/);
    assert.deepEqual(
      (await attemptsOf(id)).map((a) => a.status),
      ['unknown'],
    );

    // The payer pays from the e-mail, and the result notification is lost on the way (it goes nowhere, and Nexi
    // tries again only a minute later): only the status check can tell the hub.
    await sql`UPDATE emu_nexi_links SET url_post = 'http://127.0.0.1:9/lost' WHERE cod_trans = ${attempt!.id}`.execute(hub.store.db);
    const paid = await postForm(`${hub.url}/sandbox/nexi/ecomm/ecomm/paymail/${link.rows[0]!.token}`, {
      brand: 'VISA',
      card_number: '4539970000000006',
      expiry: futureExpiry(),
      cvv: '123',
    });
    assert.ok(paid.status < 400, `the payer's payment on the link: HTTP ${paid.status}`);
    const paidAt = Date.now();

    await eventually(async () => (await api('GET', `/v1/payments/${id}`)).body.status === 'paid', 15_000, 'the status check to find the payment');
    // Seconds, not the reconciler's ten minutes.
    assert.ok(Date.now() - paidAt < 15_000);
    assert.deepEqual(
      (await attemptsOf(id)).map((a) => a.status),
      ['captured'],
    );
    const inbox = await sql<{
      source: string;
      status: string;
      outcome: string | null;
    }>`SELECT source, status, outcome FROM notifications WHERE attempt_id = ${attempt!.id} ORDER BY received_at, id`.execute(hub.store.db);
    assert.deepEqual(
      inbox.rows.filter((r) => r.status === 'applied').map((r) => [r.source, r.outcome]),
      [
        ['start', 'unknown'],
        ['status_check', 'captured'],
      ],
    );
    assert.equal(await paidEvents(id), 1);

    // Later checks and pages change nothing.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await paidEvents(id), 1);
    const after = await payPage(id);
    assert.doesNotMatch(after.text, /Please do not pay again/);
  });

  it('a start that never reached the processor is not unknown: the payer may try again', async () => {
    const id = await newPayment(2500);
    const outbound = hub.ctx.outbound;
    // The outbound guard refusing the address: the request never left the hub.
    // (The strict guard: loopback, where the emulator listens, is refused.)
    hub.ctx.outbound = new Outbound();
    try {
      const page = await fetch(`${hub.url}/pay/${id}`, { redirect: 'manual' });
      assert.equal(page.status, 503);
      assert.match(await page.text(), /Try again/);
    } finally {
      hub.ctx.outbound = outbound;
    }
    assert.deepEqual(
      (await attemptsOf(id)).map((a) => a.status),
      ['created'],
    );
    const page = await payPage(id);
    assert.equal(page.status, 303, 'the same attempt is opened when the processor is back');
  });
});
