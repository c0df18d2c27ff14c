import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient } from '../support/hub.js';
import { HubProcess, stablePort } from '../support/hub-process.js';
import { openPaymentPage } from '../support/netopia-customer.js';
import { crcOf, ipnBody, openRequest, postIpn, sandboxCredentials } from '../support/netopia-v1.js';
import { startRecordingListener, type RecordingListener } from '../support/recording-listener.js';
import { durableHubDatabase, envNumber, FIXED_KEYS, hubEnv, paymentInput, retrying, retryingCall, sleep } from '../support/resilience.js';

/**
 * The webhook outbox across crashes: the hub is SIGKILLed while deliveries are in flight (the merchant's
 * receiver has the request but is slow to answer, so the hub never learns the outcome). After a restart every
 * event must arrive at least once, a redelivery must carry the same webhook-id and a byte-identical body (with a
 * valid signature for its own timestamp), and nothing may be marked delivered that the receiver never got.
 *
 *   INCASSO_OUTBOX_PAYMENTS  payments per round (default 8); INCASSO_OUTBOX_ROUNDS kill rounds (default 2)
 */

const PAYMENTS = envNumber('INCASSO_OUTBOX_PAYMENTS', 8);
const ROUNDS = envNumber('INCASSO_OUTBOX_ROUNDS', 2);
const HALF = Math.floor(PAYMENTS / 2);
const SLOW_MS = 1_500;

let hub: HubProcess;
let listener: RecordingListener;
let slow = true;
let api: ReturnType<typeof apiClient>;
let merchantId = '';
let connectionId = '';
let dropDb: () => Promise<void> = async () => {};

before(async () => {
  const db = await durableHubDatabase('rs_outbox');
  dropDb = db.drop;
  hub = new HubProcess(hubEnv({ port: await stablePort(), database: db.env }), 'outbox-hub');
  [listener] = await Promise.all([startRecordingListener({ delayMs: () => (slow ? SLOW_MS : 0) }), hub.start()]);
  const admin = apiClient(hub.url, FIXED_KEYS.INCASSO_ADMIN_KEY);
  const merchant = await admin('POST', '/v1/merchants', { name: 'Outbox SRL' });
  merchantId = merchant.body.id;
  api = apiClient(hub.url, merchant.body.api_key);
  const c = await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(c.status, 201, JSON.stringify(c.body));
  connectionId = c.body.id;
  const wh = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
  listener.setSecret(wh.body.secret);
});

after(async () => {
  await hub?.stop();
  await listener?.close();
  await dropDb();
});

/** NETOPIA's `confirmed` IPN for a payment's open attempt, sealed like NETOPIA does (vanilo key pair). */
async function confirmedIpnFor(paymentId: string, purchase: string): Promise<string> {
  const page = await retrying('payment page', async () => {
    const p = await openPaymentPage(`${hub.url}/pay/${paymentId}`);
    if (p.kind !== 'handoff') throw new Error(`payment page: ${p.status}`);
    return p.handoff;
  });
  const orderXml = openRequest(page.fields);
  const amount = /<invoice [^>]*amount="([\d.]+)"/.exec(orderXml)?.[1] ?? '10.00';
  return ipnBody(orderXml, { action: 'confirmed', purchase, original_amount: amount, processed_amount: amount });
}

describe('SIGKILL while webhook deliveries are in flight', () => {
  it('redelivers every interrupted event after a restart, same webhook-id, identical body, and loses none', async (t) => {
    const started = Date.now();
    const interrupted = new Set<string>();
    let seen = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // New events: payment.created for every new payment, payment.paid for half of them (NETOPIA's IPN).
      const fresh: string[] = [];
      for (let i = 0; i < PAYMENTS; i++) {
        const r = await retryingCall(api, 'POST', '/v1/payments', paymentInput(`OUTBOX-${round}-${i}`, 1000 + i, listener.shopUrl), {
          'idempotency-key': `outbox-${round}-${i}`,
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        fresh.push(r.body.id);
      }
      for (const [i, id] of fresh.slice(0, HALF).entries()) {
        const reply = await postIpn(`${hub.url}/notify/netopia-v1/${connectionId}`, await confirmedIpnFor(id, String(7_000_000 + round * 100 + i)));
        assert.equal(crcOf(reply.text).errorType, 0, reply.text);
      }
      // Kill once the receiver holds several requests it has not answered yet.
      await retrying(
        'deliveries in flight',
        async () => {
          if (listener.inFlight < Math.min(4, PAYMENTS)) throw new Error(`${listener.inFlight} in flight`);
        },
        30_000,
      );
      await hub.kill('SIGKILL');
      const unanswered = listener.deliveries
        .slice(seen)
        .filter((d) => d.answered === undefined)
        .map((d) => d.id);
      seen = listener.deliveries.length;
      for (const id of unanswered) interrupted.add(id);
      t.diagnostic(`round ${round + 1}: killed with ${unanswered.length} deliveries in flight`);
      await sleep(200);
      await hub.startWithRetries();
    }
    slow = false;

    // Deliveries leased by a killed process wait for the lease (60 s) before they are taken again.
    await retrying(
      'outbox drained',
      async () => {
        const rows = await hub.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status <> 'succeeded'`);
        if (rows[0]!.n > 0) throw new Error(`${rows[0]!.n} deliveries not succeeded`);
      },
      120_000,
    );
    t.diagnostic(`drained ${((Date.now() - started) / 1000).toFixed(1)} s after the first payment; receiver calls ${listener.calls}`);

    const events = await hub.query<{ id: string; type: string; payload: string }>(`SELECT id, type, payload FROM events WHERE merchant_id = '${merchantId}'`);
    assert.equal(events.length, ROUNDS * (PAYMENTS + HALF), 'one event per fact');
    const bodies = listener.bodiesById();
    const problems: string[] = [];
    for (const e of events) {
      const got = bodies.get(e.id);
      if (!got) problems.push(`event ${e.id} (${e.type}) never arrived`);
      else if (got.size !== 1 || !got.has(e.payload))
        problems.push(`event ${e.id} arrived with ${got.size} bodies, ${got.has(e.payload) ? '' : 'none '}equal to the stored one`);
    }
    for (const id of interrupted) {
      const times = listener.deliveries.filter((d) => d.id === id);
      if (times.length < 2) problems.push(`event ${id} was in flight at a kill but was not redelivered (${times.length} deliveries)`);
    }
    for (const d of listener.deliveries) {
      if (!d.validSignature) problems.push(`webhook-id ${d.id}: invalid signature`);
      if (!events.some((e) => e.id === d.id)) problems.push(`webhook-id ${d.id} is not an event of the hub`);
    }
    assert.ok(interrupted.size > 0, 'no delivery was in flight at a kill: the scenario did not happen');
    assert.deepEqual(problems, []);
  });
});
