import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { HubProcess, stablePort } from '../support/hub-process.js';
import { auditLedger, quiescent } from '../support/ledger-audit.js';
import { CARDS, openPaymentPage, payAtProcessor, type HandOff } from '../support/netopia-customer.js';
import { startEmulatorServer, type EmulatorServer } from '../support/netopia-emulator-server.js';
import { crcOf } from '../support/netopia-v1.js';
import { startRecordingListener, type RecordingListener } from '../support/recording-listener.js';
import {
  createPgSchema,
  emulatorDatabase,
  envNumber,
  hubEnv,
  NEEDS_POSTGRES,
  paymentInput,
  retrying,
  retryingCall,
  setUpMerchant,
  sleep,
  type MerchantSetup,
} from '../support/resilience.js';
import { startTcpProxy, type CutMode, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * The database goes away under a running hub, then comes back. The hub reaches PostgreSQL through a TCP proxy
 * in this test (the real server is shared with other tests and keeps running); NETOPIA (the emulator, with its
 * own direct database connection) keeps paying, crediting and retrying meanwhile. The database goes away while
 * requests are using connections, as it does in real life.
 *
 * While the database is away the hub must answer every IPN with `<crc error_type="1">` in bounded time
 * (NETOPIA retries) — never error_type 2 (NETOPIA would give up: a lost payment), never a 5xx, never a success
 * for something it could not commit — and /readyz must say 503. When the database is back the same process
 * must recover by itself and NETOPIA's retries must be applied: nothing lost.
 *
 * Three ways to lose a database:
 *   server down     connections reset, new ones refused (restart, crash, failover with RST)
 *   partition       connections black-holed, reset when the network heals
 *   vanished host   connections black-holed for good while a new server takes over at the same address
 *
 *   INCASSO_OUTAGE_MS     how long each outage lasts at least (default 8000)
 *   INCASSO_OUTAGE_MODES  which scenarios to run (default refuse,partition,vanished)
 */

const OUTAGE_MS = envNumber('INCASSO_OUTAGE_MS', 8_000);
/** Longest acceptable answer (readiness, API, IPN) while the database is away. */
const ANSWER_WITHIN_MS = 15_000;
/** Longest acceptable time to be ready again once a database answers again. */
const RECOVER_WITHIN_MS = 30_000;

type Answer = { status: number; text: string; ms: number } | { error: string; ms: number };

async function timed(url: string, init: RequestInit = {}, timeoutMs = ANSWER_WITHIN_MS + 5_000): Promise<Answer> {
  const started = Date.now();
  try {
    const r = await fetch(url, { ...init, signal: AbortSignal.timeout(Math.max(1, timeoutMs)) });
    return { status: r.status, text: await r.text(), ms: Date.now() - started };
  } catch (e) {
    return { error: (e as Error).name === 'TimeoutError' ? `no answer within ${Date.now() - started} ms` : (e as Error).message, ms: Date.now() - started };
  }
}

const show = (a: Answer) => ('status' in a ? `${a.status} in ${a.ms} ms` : `${a.error} (${a.ms} ms)`);

interface Scenario {
  name: string;
  label: string;
  cut: CutMode;
  heal: 'reset' | 'resume' | 'abandon';
  /** A known gap of the hub in this scenario: the test still runs and reports, but does not fail the suite. */
  knownGap?: string;
}

const SCENARIOS: Record<string, Scenario> = {
  refuse: { name: 'server down (connections reset, new ones refused)', label: 'DOWN', cut: 'refuse', heal: 'reset' },
  // (The successes once seen here were answers to IPNs that waited for a pooled connection across the restore
  // and committed after it; they are no longer judged as answers given during the outage.)
  partition: { name: 'network partition (connections black-holed, reset when the network heals)', label: 'PART', cut: 'blackhole', heal: 'reset' },
  vanished: {
    name: 'vanished host (connections black-holed for good, a new server answers at the same address)',
    label: 'GONE',
    cut: 'blackhole',
    heal: 'abandon',
  },
};

describe('the database becomes unreachable under a running hub, then comes back', { skip: NEEDS_POSTGRES }, () => {
  let proxy: TcpProxy;
  let hub: HubProcess;
  let emulator: EmulatorServer;
  let listener: RecordingListener;
  let merchant: MerchantSetup;
  let drops: Array<() => Promise<void>> = [];

  before(async () => {
    const schema = await createPgSchema('rs_outage');
    const emuDb = await emulatorDatabase('rs_outage_emu');
    drops = [schema.drop, emuDb.drop];
    const pgUrl = new URL(schema.url);
    proxy = await startTcpProxy({ host: pgUrl.hostname, port: Number(pgUrl.port || 5432) });
    hub = new HubProcess(
      hubEnv({ port: await stablePort(), database: { DATABASE_URL: proxy.rewrite(schema.url) }, extra: { INCASSO_DB_POOL_SIZE: '4' } }),
      'outage-hub',
    );
    await hub.start();
    // NETOPIA retries every IPN after 300 ms, doubling, and waits up to 20 s for an answer.
    emulator = await startEmulatorServer({ storeOptions: emuDb.storeOptions, ipnRetry: { baseDelayMs: 300, maxAttempts: 30, timeoutMs: 20_000, pollMs: 50 } });
    listener = await startRecordingListener();
    merchant = await setUpMerchant(hub.url, emulator, listener.url, 'Outage SRL');
    listener.setSecret(merchant.secret);
  });

  after(async () => {
    proxy?.restore('reset');
    await hub?.stop();
    await emulator?.close();
    await listener?.close();
    await proxy?.close();
    for (const drop of drops) await drop();
  });

  const hubQuery = (text: string) => hub.query(text);
  const auth = () => ({ headers: { authorization: `Bearer ${merchant.apiKey}` } });

  async function handOffFor(orderId: string, amount: number): Promise<{ id: string; handoff: HandOff }> {
    const created = await retryingCall(merchant.api, 'POST', '/v1/payments', paymentInput(orderId, amount, listener.shopUrl), { 'idempotency-key': orderId });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const page = await openPaymentPage(`${hub.url}/pay/${created.body.id}`);
    assert.equal(page.kind, 'handoff');
    return { id: created.body.id, handoff: (page as { handoff: HandOff }).handoff };
  }

  /** Every attempt NETOPIA made to the hub that started between two instants, with the hub's answer. */
  async function attemptsBetween(from: number, to: number) {
    const purchases = (await sql<{ purchase: string }>`SELECT purchase::text AS purchase FROM emu_netopia_v1_orders`.execute(emulator.store.db)).rows;
    const views = await Promise.all(purchases.map((r) => emulator.order(r.purchase)));
    return views.flatMap((v) =>
      v.deliveries.flatMap((d) =>
        d.log
          .filter((a) => Date.parse(a.started_at) >= from && Date.parse(a.started_at) < to)
          .map((a) => ({ purchase: v.order.purchase, action: d.action, ...a })),
      ),
    );
  }

  /** One outage from start to finish; returns every problem seen, as text. */
  async function outage(t: { diagnostic(m: string): void }, scenario: Scenario): Promise<string[]> {
    const { label } = scenario;
    const problems: string[] = [];
    const firstLine = hub.lines.length;
    const pid = hub.pid;
    const deathNote = () => {
      const exit = hub.history.filter((e) => e.what === 'exit').at(-1);
      const lines = hub.lines
        .slice(firstLine)
        .filter((l) => !l.startsWith('{'))
        .slice(-20);
      return `the hub process died (${exit?.detail ?? '?'}) when the database went away; its last lines:\n${(lines.length ? lines : hub.lines.slice(-10)).join('\n')}`;
    };

    // Before: payments waiting at NETOPIA's card page, and paid ones the operator will credit.
    const waiting = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => handOffFor(`${label}-W${i}`, 2000 + i)));
    const paid = await Promise.all([0, 1].map((i) => handOffFor(`${label}-P${i}`, 3000 + i)));
    const paidPurchases: string[] = [];
    for (const p of paid) {
      const r = await payAtProcessor(p.handoff, { pan: CARDS.approved });
      assert.equal(r.kind, 'returned');
      paidPurchases.push((r as { purchase: string }).purchase);
    }
    await retrying(
      'paid before the outage',
      async () => {
        for (const p of paid) assert.equal((await merchant.api('GET', `/v1/payments/${p.id}`)).body.status, 'paid');
      },
      20_000,
    );

    // The database goes away under load: requests are using connections at that moment.
    let loading = true;
    const loadAnswers = new Map<string, number>();
    const load = Promise.all(
      Array.from({ length: 6 }, async (_, i) => {
        while (loading) {
          const r = await timed(i % 2 === 0 ? `${hub.url}/v1/payments?limit=5` : `${hub.url}/v1/payments/${paid[i % paid.length]!.id}`, auth(), 3_000);
          const key = 'status' in r ? String(r.status) : r.error.replace(/\d+ ms/, 'N ms');
          loadAnswers.set(key, (loadAnswers.get(key) ?? 0) + 1);
          if (!('status' in r)) await sleep(50);
        }
      }),
    );
    await sleep(300);
    const cutAt = Date.now();
    proxy.cut(scenario.cut);
    await sleep(300);
    loading = false;
    await load;
    t.diagnostic(`${label}: database cut (${scenario.cut}) under load; API answers around the cut: ${JSON.stringify(Object.fromEntries(loadAnswers))}`);

    // Readiness says 503 in bounded time, liveness stays up, the API fails cleanly in bounded time.
    if (hub.running) {
      const answers: Answer[] = [];
      let notReadyAfter: number | undefined;
      while (Date.now() < cutAt + ANSWER_WITHIN_MS && hub.running) {
        const r = await timed(`${hub.url}/readyz`, {}, cutAt + ANSWER_WITHIN_MS - Date.now());
        answers.push(r);
        if ('status' in r && r.status === 200) problems.push(`/readyz said 200 ${Date.now() - cutAt} ms after the database went away`);
        if ('status' in r && r.status === 503) {
          notReadyAfter = Date.now() - cutAt;
          break;
        }
        await sleep(200);
      }
      t.diagnostic(`${label}: /readyz answers after the cut: ${answers.map(show).join(', ')}`);
      if (notReadyAfter === undefined && hub.running)
        problems.push(`/readyz did not say 503 within ${ANSWER_WITHIN_MS} ms of the database going away (${answers.map(show).join(', ')})`);
      const health = await timed(`${hub.url}/healthz`, {}, 5_000);
      if (hub.running && (!('status' in health) || health.status !== 200)) problems.push(`/healthz during the outage: ${show(health)}`);
    }

    // Customers pay (approved, declined and 3-D Secure cards) and the operator credits, while the hub cannot write.
    const cards = [CARDS.approved, CARDS.insufficientFunds, CARDS.approved, CARDS.expired, CARDS.threeDs, CARDS.approved];
    const paying = waiting.map((w, i) => payAtProcessor(w.handoff, { pan: cards[i]!, threeDs: 'authorize' }));
    const crediting = paidPurchases.map((p, i) => emulator.operate(p, 'credit', i === 0 ? '' : '7.00'));
    for (const r of await Promise.all(paying)) assert.equal(r.kind, 'returned');
    for (const c of await Promise.all(crediting)) assert.equal(c.status, 200, JSON.stringify(c.body));
    if (hub.running) {
      const apiDuring = await timed(`${hub.url}/v1/payments?limit=1`, auth());
      t.diagnostic(`${label}: customers and operator done ${Date.now() - cutAt} ms after the cut; the API meanwhile: ${show(apiDuring)}`);
      if (hub.running) {
        if (!('status' in apiDuring)) problems.push(`the merchant API did not answer during the outage: ${show(apiDuring)}`);
        else if (apiDuring.status < 500) problems.push(`the merchant API answered ${apiDuring.status} during the outage`);
      }
    }

    const remaining = cutAt + OUTAGE_MS - Date.now();
    if (remaining > 0) await sleep(remaining);
    const restoreAt = Date.now();
    proxy.restore(scenario.heal);
    t.diagnostic(`${label}: a database answers again ${restoreAt - cutAt} ms after the cut (stalled connections: ${scenario.heal})`);

    // The same process recovers by itself.
    if (hub.running && hub.pid === pid) {
      const answers: Answer[] = [];
      let readyAfter: number | undefined;
      while (Date.now() < restoreAt + RECOVER_WITHIN_MS && hub.running) {
        const r = await timed(`${hub.url}/readyz`, {}, Math.min(5_000, restoreAt + RECOVER_WITHIN_MS - Date.now()));
        answers.push(r);
        if ('status' in r && r.status === 200) {
          readyAfter = Date.now() - restoreAt;
          break;
        }
        await sleep(250);
      }
      const summary = answers.length > 6 ? [...answers.slice(0, 3).map(show), '…', ...answers.slice(-3).map(show)] : answers.map(show);
      t.diagnostic(`${label}: /readyz after the database came back: ${summary.join(', ')}`);
      if (readyAfter === undefined && hub.running)
        problems.push(`the hub did not become ready again within ${RECOVER_WITHIN_MS} ms of the database coming back (/readyz: ${summary.join(', ')})`);
    }
    const died = !hub.running || hub.pid !== pid;
    if (died) {
      problems.push(deathNote());
      // A supervisor would restart it; do so, to check that at least nothing is lost.
      if (!hub.running) await hub.startWithRetries();
      t.diagnostic(`${label}: the hub died; restarted it as a supervisor would`);
    } else if (problems.some((p) => p.startsWith('the hub did not become ready'))) {
      // Stuck: only a restart helps. Do it (the proxy resets the stalled connections), so the ledger can be checked.
      await hub.kill('SIGKILL');
      proxy.restore('reset');
      await hub.startWithRetries();
      t.diagnostic(`${label}: the hub stayed stuck; restarted it`);
    }

    const drained = await retrying(
      'NETOPIA retries and webhooks drained',
      async () => {
        const q = await quiescent(hubQuery, emulator, merchant.merchantId);
        if (q.ipnsPending || q.webhooksPending) throw new Error(JSON.stringify(q));
      },
      90_000,
    ).catch((e: Error) => e);
    if (drained instanceof Error) problems.push(`never drained: ${drained.message}`);

    // Judged: the attempts NETOPIA started AND got an answer to while the database was away. An attempt that
    // was still waiting (for a pooled connection) when the database came back may rightly end in success: it
    // then committed after the restore, which the ledger audit below checks.
    const started = await attemptsBetween(cutAt, restoreAt);
    const finishedBy = (a: (typeof started)[number]) => Date.parse(a.started_at) + a.duration_ms;
    const during = started.filter((a) => finishedBy(a) < restoreAt);
    const straddling = started.filter((a) => finishedBy(a) >= restoreAt);
    const describe = (a: (typeof started)[number]) => `${a.action}:${a.http_status ?? a.error}:${a.duration_ms}ms`;
    t.diagnostic(`${label}: ${during.length} IPN attempts answered while the database was away: ${during.map(describe).join(' ')}`);
    if (straddling.length)
      t.diagnostic(`${label}: ${straddling.length} more started during the outage and were answered after it: ${straddling.map(describe).join(' ')}`);
    if (during.length === 0) problems.push('NETOPIA made no attempt during the outage: the scenario did not happen');
    const unanswered = during.filter((a) => a.http_status === null);
    if (died && unanswered.length)
      problems.push(
        `${unanswered.length} of NETOPIA's ${during.length} IPN attempts during the outage got no answer (${[...new Set(unanswered.map((a) => a.error))].join(', ')}): the process was dead`,
      );
    const crcType = (reply: string): number | undefined => {
      try {
        return crcOf(reply).errorType;
      } catch {
        return undefined;
      }
    };
    for (const a of during) {
      const where = `during the outage, NETOPIA's ${a.action} IPN of purchase ${a.purchase} (attempt ${a.attempt})`;
      if (a.http_status === null) {
        if (!died) problems.push(`${where} got no answer after ${a.duration_ms} ms: ${a.error}`);
      } else if (a.http_status !== 200 || !a.reply) problems.push(`${where} got HTTP ${a.http_status}: ${a.reply}`);
      else {
        const type = crcType(a.reply);
        if (type !== 1)
          problems.push(`${where} was answered ${type === 0 ? 'with SUCCESS' : type === 2 ? 'with a PERMANENT error' : 'unreadably'}: ${a.reply}`);
        else if (a.duration_ms > ANSWER_WITHIN_MS) problems.push(`${where} was answered only after ${a.duration_ms} ms`);
      }
    }
    for (const a of straddling) {
      const where = `NETOPIA's ${a.action} IPN of purchase ${a.purchase} (attempt ${a.attempt}, answered just after the outage)`;
      if (a.http_status !== null && (a.http_status !== 200 || !a.reply || crcType(a.reply) === 2 || crcType(a.reply) === undefined))
        problems.push(`${where} got HTTP ${a.http_status}: ${a.reply}`);
    }
    const audit = await auditLedger({ query: hubQuery, emulator, listener, merchantId: merchant.merchantId, endpointIds: [merchant.endpointId] });
    t.diagnostic(`${label}: stats ${JSON.stringify(audit.stats)}`);
    problems.push(...audit.problems);
    return problems;
  }

  const modes = (process.env.INCASSO_OUTAGE_MODES ?? 'refuse,partition,vanished').split(',');
  for (const mode of modes) {
    const scenario = SCENARIOS[mode];
    if (!scenario) throw new Error(`INCASSO_OUTAGE_MODES: unknown mode ${mode} (${Object.keys(SCENARIOS).join(', ')})`);
    it(`${scenario.name}: error_type 1 meanwhile, recovery by itself, nothing lost`, { todo: scenario.knownGap }, async (t) => {
      assert.deepEqual(await outage(t, scenario), []);
    });
  }
});
