import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import Fastify from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { ensureEmulatorSchema } from '../../emulators/netopia-v1/index.js';
import { registerWebhookInbox } from '../../emulators/webhook-inbox/index.js';
import { openStore } from '../../src/store/store.js';
import { apiClient } from '../support/hub.js';
import { forward, startBalancer, type Balancer, type BufferedRequest, type ProxiedResponse } from '../support/http-balancer.js';
import { HubProcess, stablePort } from '../support/hub-process.js';
import { auditLedger, quiescent, type HubQuery } from '../support/ledger-audit.js';
import { CARDS, openPaymentPage, payAtProcessor, type CardResult } from '../support/netopia-customer.js';
import { startEmulatorServer, type EmulatorServer } from '../support/netopia-emulator-server.js';
import { crcOf } from '../support/netopia-v1.js';
import { startRecordingListener, type RecordingListener } from '../support/recording-listener.js';
import {
  createPgSchema,
  emulatorDatabase,
  hubEnv,
  NEEDS_POSTGRES,
  paymentInput,
  retrying,
  setUpMerchant,
  sleep,
  type MerchantSetup,
} from '../support/resilience.js';

/**
 * Scale-out: three hub processes on ONE PostgreSQL database behind a round-robin load balancer, which is also
 * the URL NETOPIA (the emulator, in this process) calls back. Whatever process receives a request, and however
 * many receive the same IPN at the same moment, every fact is applied once, every event is queued once per
 * endpoint and delivered once, and no answer depends on the memory of one process.
 */

const HUBS = 3;

describe('three hub processes on one database behind a round-robin balancer', { skip: NEEDS_POSTGRES }, () => {
  let hubs: HubProcess[] = [];
  let balancer: Balancer;
  let emulator: EmulatorServer;
  let listener: RecordingListener;
  /** A second receiver of the same merchant (subscribed through another process): one delivery per event × endpoint. */
  let second: RecordingListener;
  let secondEndpointId = '';
  let merchant: MerchantSetup;
  let pool: pg.Pool;
  let query: HubQuery;
  let drops: Array<() => Promise<void>> = [];
  /** Every reply a hub process gave to a fanned-out IPN copy. */
  const ipnReplies: ProxiedResponse[] = [];
  let ipnMode: 'forward' | 'fanout' | 'hold' = 'forward';
  const held: Array<{ request: BufferedRequest; release: (r: ProxiedResponse) => void }> = [];

  /** The same IPN bytes to every process, twice, all at once; the processor gets one of the answers. */
  const fanOut = async (request: BufferedRequest): Promise<ProxiedResponse> => {
    const copies = await Promise.all(hubs.flatMap((h) => [forward(h.url, request), forward(h.url, request)]));
    ipnReplies.push(...copies);
    return copies[Math.floor(Math.random() * copies.length)]!;
  };

  before(async () => {
    const schema = await createPgSchema('rs_scale');
    const emuDb = await emulatorDatabase('rs_scale_emu');
    drops = [schema.drop, emuDb.drop];
    pool = new pg.Pool({ connectionString: schema.url, max: 3 });
    query = async (text) => (await pool.query(text)).rows;
    balancer = await startBalancer();
    balancer.intercept = async (request) => {
      if (request.method !== 'POST' || !request.url.startsWith('/notify/') || ipnMode === 'forward') return undefined;
      if (ipnMode === 'fanout') return fanOut(request);
      return new Promise<ProxiedResponse>((release) => held.push({ request, release }));
    };
    const ports = await Promise.all(Array.from({ length: HUBS }, () => stablePort()));
    // Production settings: the built-in emulators are off (their own concurrent start-up is tested below).
    hubs = ports.map(
      (port, i) =>
        new HubProcess(hubEnv({ port, publicUrl: balancer.url, database: { DATABASE_URL: schema.url }, extra: { INCASSO_EMULATORS: '0' } }), `hub-${i + 1}`),
    );
    // All three start at once on the empty database: migrations must be applied exactly once.
    await Promise.all(hubs.map((h) => h.start()));
    balancer.backends = hubs.map((h) => h.url);
    emulator = await startEmulatorServer({ storeOptions: emuDb.storeOptions, ipnRetry: { baseDelayMs: 200, maxAttempts: 20, timeoutMs: 10_000, pollMs: 50 } });
    listener = await startRecordingListener();
    merchant = await setUpMerchant(balancer.url, emulator, listener.url, 'Scale Out SRL');
    listener.setSecret(merchant.secret);
    second = await startRecordingListener();
    const endpoint = await apiClient(hubs[2]!.url, merchant.apiKey)('POST', '/v1/webhook-endpoints', { url: second.url });
    assert.equal(endpoint.status, 201, JSON.stringify(endpoint.body));
    secondEndpointId = endpoint.body.id;
    second.setSecret(endpoint.body.secret);
  });

  after(async () => {
    await Promise.all(hubs.map((h) => h.stop()));
    await emulator?.close();
    await listener?.close();
    await second?.close();
    await balancer?.close();
    await pool?.end();
    for (const drop of drops) await drop();
  });

  const apiOf = (i: number) => apiClient(hubs[i]!.url, merchant.apiKey);

  async function pay(
    paymentId: string,
    card: { pan: string; threeDs?: 'authorize' | 'fail' },
    previous?: string,
  ): Promise<{ result: CardResult; data: string }> {
    return retrying(
      `paying ${paymentId}`,
      async () => {
        const page = await openPaymentPage(`${balancer.url}/pay/${paymentId}`);
        if (page.kind !== 'handoff') throw new Error(`payment page ${page.status}`);
        if (page.handoff.fields.data === previous) throw new Error('the hub still shows the previous attempt');
        const result = await payAtProcessor(page.handoff, card);
        if (result.kind !== 'returned') throw new Error('already processed');
        return { result, data: page.handoff.fields.data! };
      },
      30_000,
    );
  }

  it('started three processes together on an empty database: all up, every migration applied once', async () => {
    assert.ok(hubs.every((h) => h.running));
    const rows = await query(`SELECT id FROM schema_migrations ORDER BY id`);
    assert.ok(rows.length > 0);
    assert.equal(new Set(rows.map((r) => r.id)).size, rows.length);
    assert.deepEqual(
      hubs.flatMap((h) => h.errorLines),
      [],
      'no process logged an error while starting',
    );
  });

  it('starts several processes together with the built-in emulators on (their tables are created once, without a race)', async () => {
    // What every hub process with INCASSO_EMULATORS on (the default) runs at start, six at once, each on its own
    // connection to a fresh schema, five times over: the NETOPIA emulator's tables and the webhook inbox's.
    const failures: string[] = [];
    for (let round = 0; round < 5; round++) {
      const fresh = await createPgSchema('rs_scale_boot');
      const stores = await Promise.all(Array.from({ length: 6 }, () => openStore({ databaseUrl: fresh.url, migrate: false, poolSize: 1 })));
      try {
        const results = await Promise.allSettled(
          stores.map(async (s) => {
            await ensureEmulatorSchema(s.db);
            await registerWebhookInbox(Fastify({ logger: false }), { db: s.db });
          }),
        );
        for (const r of results) if (r.status === 'rejected') failures.push(`round ${round + 1}: ${(r.reason as Error).message}`);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
        await fresh.drop();
      }
    }
    assert.deepEqual(
      failures,
      [],
      'a process that loses this race fails to start ("hub failed to start: duplicate key value violates unique constraint pg_type_typname_nsp_index")',
    );
  });

  it('serves any request from any process: created on 1, paid through the balancer, read on 3', async () => {
    const created = await apiOf(0)('POST', '/v1/payments', paymentInput('SCALE-ANY', 2500, listener.shopUrl));
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { result } = await pay(created.body.id, { pan: CARDS.approved });
    assert.equal(result.kind, 'returned');
    const read = await apiOf(2)('GET', `/v1/payments/${created.body.id}`);
    assert.equal(read.status, 200);
    assert.equal(read.body.status, 'paid');
    assert.equal(read.body.attempts[0].status, 'captured');
    const viaTwo = await apiOf(1)('GET', `/v1/payments/${created.body.id}`);
    assert.deepEqual(viaTwo.body, read.body);
    // The pay page and the IPN went through the balancer, so more than one process took part.
    assert.ok(new Set(balancer.log.map((l) => l.backend)).size >= 2, JSON.stringify(balancer.log));
  });

  it('creates one payment for one Idempotency-Key sent to all three processes at once', async () => {
    const body = paymentInput('SCALE-IDEM', 3100, listener.shopUrl);
    const replies = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => apiOf(i)('POST', '/v1/payments', body, { 'idempotency-key': 'scale-idem-1' })));
    const ok = replies.filter((r) => r.status === 201);
    // A duplicate may be told to retry while the first is still running (422), never given a second payment.
    for (const r of replies)
      assert.ok(r.status === 201 || (r.status === 422 && /in progress/.test(JSON.stringify(r.body))), `${r.status} ${JSON.stringify(r.body)}`);
    assert.ok(ok.length >= 1);
    assert.equal(new Set(ok.map((r) => r.body.id)).size, 1, 'one payment id for one key');
    const rows = await query(`SELECT count(*)::int AS n FROM payments WHERE order_id = 'SCALE-IDEM'`);
    assert.equal(rows[0]!.n, 1);
  });

  it('sees a connection disabled through one process at once in the others (no per-process cache)', async () => {
    const off = await apiOf(0)('PATCH', '/v1/connections/netopia', { status: 'disabled' });
    assert.equal(off.status, 200, JSON.stringify(off.body));
    for (const i of [1, 2]) {
      const r = await apiOf(i)('POST', '/v1/payments', paymentInput(`SCALE-OFF-${i}`, 100, listener.shopUrl));
      assert.equal(r.status, 422, `process ${i + 1} still accepted a payment on a disabled connection: ${JSON.stringify(r.body)}`);
    }
    const on = await apiOf(2)('PATCH', '/v1/connections/netopia', { status: 'active' });
    assert.equal(on.status, 200);
    const r = await apiOf(1)('POST', '/v1/payments', paymentInput('SCALE-ON', 100, listener.shopUrl));
    assert.equal(r.status, 201, JSON.stringify(r.body));
  });

  it('applies an IPN once when six copies reach the three processes at the same moment', async () => {
    ipnMode = 'fanout';
    try {
      const plans = [
        [{ pan: CARDS.approved }],
        [{ pan: CARDS.insufficientFunds }, { pan: CARDS.approved }],
        [{ pan: CARDS.expired }],
        [{ pan: CARDS.threeDs, threeDs: 'authorize' as const }],
      ];
      const purchases: string[][] = plans.map(() => []);
      const ids: string[] = [];
      await Promise.all(
        plans.map(async (cards, i) => {
          const created = await apiOf(i % HUBS)('POST', '/v1/payments', paymentInput(`SCALE-FAN-${i}`, 4000 + i, listener.shopUrl));
          assert.equal(created.status, 201);
          ids.push(created.body.id);
          let previous: string | undefined;
          for (const card of cards) {
            const { result, data } = await pay(created.body.id, card, previous);
            previous = data;
            if (result.kind === 'returned') purchases[i]!.push(result.purchase);
          }
        }),
      );
      // Credits, and NETOPIA's "resend" (same facts, new crc) pressed three times at once.
      const approved = purchases[0]![0]!;
      assert.equal((await emulator.operate(approved, 'credit', '5.00')).status, 200);
      const resends = await Promise.all([1, 2, 3].map(() => emulator.operate(approved, 'resend')));
      for (const r of resends) assert.equal(r.status, 200, JSON.stringify(r.body));
      const ipnErrors = ipnReplies.filter((r) => r.status !== 200 || crcOf(r.body.toString('utf8')).errorType !== 0);
      assert.deepEqual(
        ipnErrors.map((r) => `${r.backend} ${r.status} ${r.body.toString('utf8')}`),
        [],
        'every copy of an IPN is acknowledged (the first applies it, the others are duplicates)',
      );
      assert.ok(ipnReplies.length >= 6 * 8, `${ipnReplies.length} IPN copies`);
      const inList = ids.map((id) => `'${id}'`).join(',');
      const applied = await query(
        `SELECT dedupe_key, count(*)::int AS applied FROM notifications WHERE status = 'applied' AND payment_id IN (${inList}) GROUP BY dedupe_key HAVING count(*) > 1 ORDER BY 1`,
      );
      const declines = await query(
        `SELECT p.order_id, (SELECT count(*)::int FROM payment_attempts a WHERE a.payment_id = p.id AND a.status = 'failed') AS declined,
           (SELECT count(*)::int FROM events e WHERE e.payment_id = p.id AND e.type = 'payment.attempt_failed') AS events
         FROM payments p WHERE p.id IN (${inList}) ORDER BY p.order_id`,
      );
      assert.deepEqual(applied, [], 'one applied notification per distinct IPN; the other copies are duplicates');
      assert.deepEqual(
        declines.filter((d) => d.declined !== d.events),
        [],
        'one payment.attempt_failed event per declined attempt',
      );
    } finally {
      ipnMode = 'forward';
    }
  });

  it('applies a capture and a credit of one order that reach different processes at the same moment', async () => {
    // NETOPIA's capture IPN is held back until the operator has credited the order; then both IPNs (each
    // to every process, twice) are released together.
    const ROUNDS = 8;
    for (let round = 0; round < ROUNDS; round++) {
      ipnMode = 'hold';
      const created = await apiOf(round % HUBS)('POST', '/v1/payments', paymentInput(`SCALE-RACE-${round}`, 6000 + round, listener.shopUrl));
      assert.equal(created.status, 201);
      const customer = pay(created.body.id, { pan: CARDS.approved });
      await retrying('capture IPN held', async () => assert.equal(held.length, 1), 10_000);
      // NETOPIA's order for the attempt (its order_id is the hub's attempt id) names the purchase to credit.
      const attemptId = (await query(`SELECT id FROM payment_attempts WHERE payment_id = '${created.body.id}'`))[0]!.id as string;
      const order = (
        await sql<{ purchase: string }>`SELECT purchase::text AS purchase FROM emu_netopia_v1_orders WHERE order_id = ${attemptId}`.execute(emulator.store.db)
      ).rows[0]!;
      const credit = emulator.operate(order.purchase, 'credit', '20.00');
      await retrying('credit IPN held', async () => assert.equal(held.length, 2), 10_000);
      ipnMode = 'forward';
      // Held in arrival order: [capture, credit]. Every other round the credit goes first and the capture a
      // moment later, while the credit still holds the payment's lock.
      const [capture, credit2] = held.splice(0);
      const release = async (h: (typeof held)[number]) => h.release(await fanOut(h.request));
      if (round % 2 === 0) await Promise.all([release(credit2!), sleep(3).then(() => release(capture!))]);
      else await Promise.all([release(capture!), release(credit2!)]);
      await customer;
      assert.equal((await credit).status, 200);
    }
    const attempts = await query(
      `SELECT a.status, p.status AS payment_status, p.amount_refunded FROM payment_attempts a JOIN payments p ON p.id = a.payment_id WHERE p.order_id LIKE 'SCALE-RACE-%' ORDER BY p.order_id`,
    );
    assert.deepEqual(
      attempts.map((a) => [a.payment_status, a.status]),
      Array.from({ length: ROUNDS }, () => ['partially_refunded', 'partially_refunded']),
      'payment and attempt agree with NETOPIA (captured, then credited 20.00)',
    );
  });

  it('keeps every payment going when one process is SIGKILLed, and takes it back when it returns', async () => {
    await hubs[1]!.kill('SIGKILL');
    const pay2 = async (order: string, pan: string) => {
      const created = await retrying('create', async () => {
        const r = await apiClient(balancer.url, merchant.apiKey)('POST', '/v1/payments', paymentInput(order, 5100, listener.shopUrl), {
          'idempotency-key': order,
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        return r.body as { id: string };
      });
      await pay(created.id, { pan });
      return created.id;
    };
    const whileDown = await Promise.all([pay2('SCALE-DOWN-1', CARDS.approved), pay2('SCALE-DOWN-2', CARDS.wrongCvv)]);
    await hubs[1]!.start();
    const afterReturn = await pay2('SCALE-BACK-1', CARDS.approved);
    for (const id of [...whileDown, afterReturn]) {
      const read = await apiOf(1)('GET', `/v1/payments/${id}`);
      assert.equal(read.status, 200);
      assert.ok(read.body.status === 'paid' || (read.body.status === 'pending' && read.body.attempts[0].status === 'failed'), JSON.stringify(read.body));
    }
  });

  it('ends with one applied notification per distinct IPN, one delivery per event and endpoint, each webhook received exactly once', async () => {
    await retrying(
      'quiet',
      async () => {
        const q = await quiescent(query, emulator, merchant.merchantId);
        if (q.ipnsPending || q.webhooksPending) throw new Error(JSON.stringify(q));
      },
      60_000,
    );
    await sleep(500);
    const audit = await auditLedger({ query, emulator, listener, merchantId: merchant.merchantId, endpointIds: [merchant.endpointId, secondEndpointId] });
    const events = await query(`SELECT id FROM events WHERE merchant_id = '${merchant.merchantId}'`);
    const secondIds = second.deliveries.map((d) => d.id);
    const secondProblems = [
      ...events.filter((e) => !secondIds.includes(e.id)).map((e) => `event ${e.id} never reached the second endpoint`),
      ...second.deliveries.filter((d) => !d.validSignature).map((d) => `second endpoint: invalid signature on ${d.id}`),
    ];
    assert.deepEqual([...audit.problems, ...secondProblems], []);
    assert.equal(secondIds.length, new Set(secondIds).size, 'the second endpoint also receives each webhook-id exactly once');
    const duplicates = listener.deliveries.length - new Set(listener.deliveries.map((d) => d.id)).size;
    assert.equal(duplicates, 0, 'every receiver answer was 200, so each webhook-id must arrive exactly once');
    const applied = await query(`SELECT dedupe_key, count(*)::int AS n FROM notifications WHERE status = 'applied' GROUP BY dedupe_key HAVING count(*) > 1`);
    assert.deepEqual(applied, []);
    const served = new Set(balancer.log.map((l) => l.backend));
    assert.equal(served.size, HUBS, 'every process served requests');
  });
});
