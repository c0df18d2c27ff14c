import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { HubProcess, stablePort } from '../support/hub-process.js';
import { auditLedger, quiescent } from '../support/ledger-audit.js';
import { CARDS, openPaymentPage, payAtProcessor, type HandOff } from '../support/netopia-customer.js';
import { startEmulatorServer, type EmulatorServer } from '../support/netopia-emulator-server.js';
import { startRecordingListener, type RecordingListener } from '../support/recording-listener.js';
import {
  durableHubDatabase,
  emulatorDatabase,
  envNumber,
  hubEnv,
  paymentInput,
  retrying,
  retryingCall,
  seededRandom,
  setUpMerchant,
  sleep,
  testSeed,
  type MerchantSetup,
} from '../support/resilience.js';

/**
 * Crash safety. The hub runs as a child process on a durable database (a PostgreSQL schema, or a PGlite data
 * directory) and a fixed port; NETOPIA (the emulator) runs in this process with its own database and keeps
 * sending and retrying IPNs while a killer SIGKILLs the hub at random moments — also while it is starting —
 * and starts it again. Customers pay without a browser (the hub's hand-off form posted to NETOPIA, then the
 * card page's form), with approved, declined and 3-D Secure cards, and the operator credits some orders in
 * NETOPIA's back office. After a stable period everything must agree: the hub's ledger with NETOPIA's orders
 * and IPN delivery log, and the merchant's webhook receiver with the hub's events.
 *
 *   INCASSO_CRASH_ROUNDS    kills (default 10)
 *   INCASSO_CRASH_PAYMENTS  payments driven (default 30)
 *   INCASSO_CRASH_PACE_MS   minimum spacing between payment starts (default 900)
 *   INCASSO_RESILIENCE_SEED seed of the random choices (printed on every run)
 */

const ROUNDS = envNumber('INCASSO_CRASH_ROUNDS', 10);
const PAYMENTS = envNumber('INCASSO_CRASH_PAYMENTS', 30);
const PACE_MS = envNumber('INCASSO_CRASH_PACE_MS', 900);
/**
 * How long a customer keeps reloading the payment page while the hub does not yet know about a decline. NETOPIA
 * doubles its retry delay after every failed IPN attempt, so a long kill series pushes some IPNs far out.
 */
const PAY_PATIENCE_MS = 120_000 + ROUNDS * 6_000;
const SEED = testSeed();
const random = seededRandom(SEED);
const RUN = randomBytes(3).toString('hex');

type Step = { pan: string; threeDs?: 'authorize' | 'fail' };
interface Plan {
  name: string;
  cards: Step[];
  /** Back-office credits (RON) after the payment, in order. */
  credits: string[];
}

const PLANS: Plan[] = [
  { name: 'approved', cards: [{ pan: CARDS.approved }], credits: [] },
  { name: 'declined, then approved', cards: [{ pan: CARDS.insufficientFunds }, { pan: CARDS.approved }], credits: [] },
  { name: 'declined', cards: [{ pan: CARDS.expired }], credits: [] },
  { name: 'approved, credited in part', cards: [{ pan: CARDS.approved }], credits: ['10.00'] },
  { name: '3-D Secure, authorized', cards: [{ pan: CARDS.threeDs, threeDs: 'authorize' }], credits: [] },
  { name: 'approved, credited in two steps', cards: [{ pan: CARDS.approved }], credits: ['15.50', ''] },
];

let emulator: EmulatorServer;
let listener: RecordingListener;
let hub: HubProcess;
let merchant: MerchantSetup;
let dropHubDb: () => Promise<void> = async () => {};
let dropEmuDb: () => Promise<void> = async () => {};
let dbDescription = '';

before(async () => {
  // The hub's database, the emulator's and the listener come up side by side (a fresh PGlite directory alone
  // takes several seconds to initialise).
  const [emuDb, db] = await Promise.all([emulatorDatabase('rs_crash_emu'), durableHubDatabase('rs_crash')]);
  dropEmuDb = emuDb.drop;
  dropHubDb = db.drop;
  dbDescription = db.describe;
  hub = new HubProcess(hubEnv({ port: await stablePort(), database: db.env }), 'crash-hub');
  [emulator, listener] = await Promise.all([
    // NETOPIA retries quickly here (150 ms, doubling) so a run stays short; the schedule is the real one otherwise.
    startEmulatorServer({ storeOptions: emuDb.storeOptions, ipnRetry: { baseDelayMs: 150, maxAttempts: 40, timeoutMs: 5_000, pollMs: 50 } }),
    startRecordingListener(),
    hub.start(),
  ]);
  merchant = await setUpMerchant(hub.url, emulator, listener.url);
  listener.setSecret(merchant.secret);
});

after(async () => {
  await hub?.stop();
  await emulator?.close();
  await listener?.close();
  await dropHubDb();
  await dropEmuDb();
});

/** What NETOPIA knows about a payment's orders and their IPNs (for failure messages). */
async function netopiaView(paymentId: string): Promise<string> {
  const attempts = await hub.query<{ id: string; status: string }>(`SELECT id, status FROM payment_attempts WHERE payment_id = '${paymentId}' ORDER BY number`);
  const out: string[] = [];
  for (const a of attempts) {
    const row = (
      await sql<{ purchase: string }>`SELECT purchase::text AS purchase FROM emu_netopia_v1_orders WHERE order_id = ${a.id}`.execute(emulator.store.db)
    ).rows[0];
    if (!row) {
      out.push(`attempt ${a.id} (${a.status}): no NETOPIA order`);
      continue;
    }
    const v = await emulator.order(row.purchase);
    out.push(
      `attempt ${a.id} (${a.status}) = order ${row.purchase} ${v.order.status}; IPNs: ${JSON.stringify(v.deliveries.map((d) => ({ action: d.action, status: d.status, attempts: d.attempts, next: d.next_attempt_at, last: d.log.at(-1) })))}`,
    );
  }
  return out.join('\n');
}

/** One customer's journey through crashes; returns the NETOPIA purchase ids it paid. */
async function drive(i: number, plan: Plan): Promise<string[]> {
  const created = await retryingCall(merchant.api, 'POST', '/v1/payments', paymentInput(`CRASH-${RUN}-${i}`, 4990 + i, listener.shopUrl), {
    'idempotency-key': `crash-${RUN}-${i}`,
  });
  assert.equal(created.status, 201, `payment ${i}: ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  const purchases: string[] = [];
  let previous: string | undefined;
  for (const card of plan.cards) {
    // The hub shows a new attempt only once it knows the previous one was declined (its IPN may still be in
    // NETOPIA's retry queue while the hub is down): the customer reloads until then.
    const result = await retrying(
      `paying ${id}`,
      async () => {
        const page = await openPaymentPage(`${hub.url}/pay/${id}`);
        if (page.kind !== 'handoff') throw new Error(`payment page of ${id}: HTTP ${page.status}`);
        const handoff: HandOff = page.handoff;
        if (handoff.fields.data === previous) throw new Error(`the hub still shows the declined attempt of ${id}`);
        const paid = await payAtProcessor(handoff, card);
        if (paid.kind !== 'returned') throw new Error(`NETOPIA says ${id}'s order was already processed`);
        previous = handoff.fields.data;
        return paid;
      },
      PAY_PATIENCE_MS,
    ).catch(async (e: Error) => {
      throw new Error(`${e.message}\nNETOPIA's side: ${await netopiaView(id).catch((x: Error) => x.message)}`);
    });
    purchases.push(result.purchase);
  }
  const last = purchases.at(-1)!;
  for (const amount of plan.credits) {
    const r = await emulator.operate(last, 'credit', amount);
    assert.equal(r.status, 200, `credit ${amount || 'rest'} of ${last}: ${JSON.stringify(r.body)}`);
  }
  return purchases;
}

describe(`the hub is SIGKILLed ${ROUNDS} times while ${PAYMENTS} payments go through NETOPIA`, () => {
  it('ends with a ledger equal to NETOPIA, every acknowledged IPN applied, every event delivered with one body per webhook-id', async (t) => {
    t.diagnostic(`seed ${SEED} (INCASSO_RESILIENCE_SEED), hub on ${dbDescription}, ${ROUNDS} kills, ${PAYMENTS} payments`);
    const started = Date.now();
    let driving = true;
    const killsDuringStartup: number[] = [];

    const killer = (async () => {
      while (hub.kills < ROUNDS) {
        // Up for a random while (longer once the customers are done, so that the traffic is caught in flight).
        await sleep(250 + random() * (driving ? 1750 : 1000));
        await hub.kill('SIGKILL');
        await sleep(random() * 400);
        if (random() < 0.3 && hub.kills < ROUNDS) {
          // Killed again while starting: during migrations, the store opening or the first worker pass.
          let ready = false;
          const starting = hub.start().then(
            () => (ready = true),
            () => false,
          );
          await sleep(150 + random() * 3500);
          if (!ready) killsDuringStartup.push(hub.kills + 1);
          await hub.kill('SIGKILL');
          await starting;
          await sleep(random() * 300);
        }
        await hub.startWithRetries();
      }
    })();

    const driver = (async () => {
      const results: Array<Promise<string[]>> = [];
      const queue = Array.from({ length: PAYMENTS }, (_, i) => i);
      const workers = Array.from({ length: 3 }, async () => {
        for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
          const due = started + i * PACE_MS;
          if (Date.now() < due) await sleep(due - Date.now());
          const p = drive(i, PLANS[i % PLANS.length]!);
          results.push(p);
          await p;
        }
      });
      await Promise.all(workers);
      return Promise.all(results);
    })().finally(() => {
      driving = false;
    });

    const [purchases] = await Promise.all([driver, killer]);
    const trafficDone = Date.now();
    const startTimes: number[] = [];
    for (let k = 0; k < hub.history.length; k++) {
      const e = hub.history[k]!;
      if (e.what !== 'ready') continue;
      const start = hub.history
        .slice(0, k)
        .reverse()
        .find((x) => x.what === 'start' && x.pid === e.pid);
      if (start) startTimes.push(e.at - start.at);
    }
    t.diagnostic(`start-up times (ms): ${startTimes.join(', ')}`);
    t.diagnostic(
      `traffic and ${hub.kills} kills (${killsDuringStartup.length} during start-up) done in ${((trafficDone - started) / 1000).toFixed(1)} s; ${purchases.flat().length} card payments`,
    );
    if (!hub.running) await hub.startWithRetries();

    // The stable period: NETOPIA's retries and the hub's outbox drain. A delivery leased by a killed process
    // waits for its lease (60 s) before another pass takes it.
    const settled = await retrying(
      'settling',
      async () => {
        const state = await quiescent((text) => hub.query(text), emulator, merchant.merchantId);
        if (state.ipnsPending || state.webhooksPending)
          throw new Error(`${state.ipnsPending} IPNs and ${state.webhooksPending} webhook deliveries still pending`);
        return state;
      },
      150_000 + ROUNDS * 6_000,
    ).catch((e: Error) => e);
    t.diagnostic(
      `settled ${((Date.now() - trafficDone) / 1000).toFixed(1)} s after the traffic${settled instanceof Error ? ` — NOT: ${settled.message}` : ''}`,
    );

    const audit = await auditLedger({
      query: (text) => hub.query(text),
      emulator,
      listener,
      merchantId: merchant.merchantId,
      endpointIds: [merchant.endpointId],
    });
    t.diagnostic(`stats ${JSON.stringify(audit.stats)}`);
    for (const note of audit.notes) t.diagnostic(`note: ${note}`);
    assert.ok(hub.kills >= ROUNDS, `only ${hub.kills} kills`);
    assert.equal(audit.stats.payments, PAYMENTS);
    assert.deepEqual(
      audit.problems,
      [],
      `${audit.problems.length} problems after ${hub.kills} kills (seed ${SEED}):\n${audit.problems.slice(0, 60).join('\n')}`,
    );
    assert.ok(!(settled instanceof Error), settled instanceof Error ? settled.message : '');
  });
});
